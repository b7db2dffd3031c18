"""Pairing tool calls with their outputs and MCP approval requests with their answers.

Pure functions over schema items (spec §7.10). A pairing key names the answer's type and the
value that links the two, so a function call never pairs with a shell output that happens to
share its `call_id`. `Pairs` only holds dicts keyed that way: a later chain view can feed the
items of several turns into one `Pairs` (or merge several) and pair across turns unchanged.

Entries can be anything that carries an item (a page row, a (turn, item) tuple ...):
`item_of` reads the item out of one, and lookups return the entry, so callers keep their
context (position, anchor) with no second lookup.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: call type -> the type of the item that answers it.
ANSWER_TYPE: dict[str, str] = {
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
    "computer_call": "computer_call_output",
    "shell_call": "shell_call_output",
    "apply_patch_call": "apply_patch_call_output",
    "local_shell_call": "local_shell_call_output",
    "mcp_approval_request": "mcp_approval_response",
}
CALL_TYPES = frozenset(ANSWER_TYPE)
ANSWER_TYPES = frozenset(ANSWER_TYPE.values())
#: Types whose `id` is another item's id (spec §4.1 row 26, §7.10), so never their own.
BORROWED_ID_TYPES = frozenset({"item_reference", "local_shell_call_output"})

Key = tuple[str, str]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def call_keys(item: Any) -> list[Key]:
    """The keys an answer to `item` would carry; empty if `item` is not a call.

    local_shell_call_output has no call_id: its `id` carries the call's id. The spec reads
    that as the call's `id`, real payloads put the call's `call_id` there, so both are keys.
    An MCP approval request is answered by its own `id` (spec §3.14).
    """
    kind = getattr(item, "type", None)
    answer = ANSWER_TYPE.get(kind) if isinstance(kind, str) else None
    if answer is None:
        return []
    if kind == "mcp_approval_request":
        values = [getattr(item, "id", None)]
    elif kind == "local_shell_call":
        values = [getattr(item, "call_id", None), getattr(item, "id", None)]
    else:
        values = [getattr(item, "call_id", None)]
    keys: list[Key] = []
    for value in values:
        if (text := _text(value)) and (answer, text) not in keys:
            keys.append((answer, text))
    return keys


def answer_key(item: Any) -> Key | None:
    """The key an answer item carries, or None if `item` answers nothing."""
    kind = getattr(item, "type", None)
    if kind not in ANSWER_TYPES:
        return None
    if kind == "local_shell_call_output":
        value = getattr(item, "id", None)
    elif kind == "mcp_approval_response":
        value = getattr(item, "approval_request_id", None)
    else:
        value = getattr(item, "call_id", None)
    text = _text(value)
    return (str(kind), text) if text else None


def _identity(entry: Any) -> Any:
    return entry


@dataclass
class Pairs:
    """Calls and answers by key; the first of each key wins (a replayed call keeps its first)."""

    item_of: Callable[[Any], Any] = _identity
    calls: dict[Key, Any] = field(default_factory=dict)
    answers: dict[Key, Any] = field(default_factory=dict)
    #: MCP approval requests by id, for mcp_call.approval_request_id.
    requests: dict[str, Any] = field(default_factory=dict)
    #: Items by their own id, for item_reference.
    by_id: dict[str, Any] = field(default_factory=dict)

    def add(self, entries: Iterable[Any]) -> "Pairs":
        for entry in entries:
            item = self.item_of(entry)
            for key in call_keys(item):
                self.calls.setdefault(key, entry)
            if (key := answer_key(item)) is not None:
                self.answers.setdefault(key, entry)
            kind = getattr(item, "type", None)
            own_id = _text(getattr(item, "id", None))
            if kind == "mcp_approval_request" and own_id:
                self.requests.setdefault(own_id, entry)
            if own_id and kind not in BORROWED_ID_TYPES:
                self.by_id.setdefault(own_id, entry)
        return self

    def merge(self, other: "Pairs") -> "Pairs":
        for key, entry in other.calls.items():
            self.calls.setdefault(key, entry)
        for key, entry in other.answers.items():
            self.answers.setdefault(key, entry)
        for request_id, entry in other.requests.items():
            self.requests.setdefault(request_id, entry)
        for item_id, entry in other.by_id.items():
            self.by_id.setdefault(item_id, entry)
        return self

    def answer_to(self, call: Any) -> Any | None:
        """The entry that answers `call`, or None (unanswered, or not a call)."""
        for key in call_keys(call):
            if key in self.answers:
                return self.answers[key]
        return None

    def call_of(self, answer: Any) -> Any | None:
        """The entry of the call that `answer` answers, or None."""
        key = answer_key(answer)
        return self.calls.get(key) if key is not None else None

    def approval_request_of(self, mcp_call: Any) -> Any | None:
        """The approval request an approved mcp_call went through, or None."""
        request_id = _text(getattr(mcp_call, "approval_request_id", None))
        return self.requests.get(request_id) if request_id else None

    def referenced(self, reference: Any) -> Any | None:
        """The entry an item_reference points at, or None if it is not among the entries."""
        if getattr(reference, "type", None) != "item_reference":
            return None
        item_id = _text(getattr(reference, "id", None))
        return self.by_id.get(item_id) if item_id else None


def pair(entries: Iterable[Any], item_of: Callable[[Any], Any] = _identity) -> Pairs:
    """Pair every call with its answer among `entries` (in any order)."""
    return Pairs(item_of=item_of).add(entries)


@dataclass(frozen=True)
class Wanted:
    """What to look up elsewhere (e.g. in the stored input items) to pair `items` fully.

    `call_ids` match a `call_id` field, `ids` match an item's `id`, `approval_ids` match an
    `approval_request_id` field; `types` limits those three to items that can take part.
    `reference_ids` are ids of items of any type that an item_reference points at.
    """

    call_ids: frozenset[str]
    ids: frozenset[str]
    approval_ids: frozenset[str]
    types: frozenset[str]
    reference_ids: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.call_ids or self.ids or self.approval_ids or self.reference_ids)


def wanted(items: Iterable[Any], have: Pairs | None = None) -> Wanted:
    """The counterparts `items` still miss, given what `have` already pairs.

    Also asks for the approval requests that mcp_calls and approval responses name.
    """
    call_ids: set[str] = set()
    ids: set[str] = set()
    approval_ids: set[str] = set()
    types: set[str] = set()
    reference_ids: set[str] = set()
    have = have or Pairs()
    for item in items:
        kind = getattr(item, "type", None)
        keys = call_keys(item)
        if keys and have.answer_to(item) is None:
            types.add(keys[0][0])
            for answer, value in keys:
                if answer == "local_shell_call_output":
                    ids.add(value)
                elif answer == "mcp_approval_response":
                    approval_ids.add(value)
                else:
                    call_ids.add(value)
        key = answer_key(item)
        if key is not None and have.call_of(item) is None:
            answer, value = key
            calls = [c for c, a in ANSWER_TYPE.items() if a == answer]
            types.update(calls)
            if answer == "local_shell_call_output":
                call_ids.add(value)
                ids.add(value)
            elif answer == "mcp_approval_response":
                ids.add(value)
            else:
                call_ids.add(value)
        request_id = _text(getattr(item, "approval_request_id", None))
        if kind == "mcp_call" and request_id and have.approval_request_of(item) is None:
            ids.add(request_id)
            types.add("mcp_approval_request")
        reference = _text(getattr(item, "id", None))
        if kind == "item_reference" and reference and have.referenced(item) is None:
            reference_ids.add(reference)
    return Wanted(
        frozenset(call_ids),
        frozenset(ids),
        frozenset(approval_ids),
        frozenset(types),
        frozenset(reference_ids),
    )
