"""Pairing tool calls with their outputs and MCP approval requests with their answers.

Pure functions over schema items (spec §7.10). A pairing key names the answer's type and the
value that links the two, so a function call never pairs with a shell output that happens to
share its `call_id`. `Pairs` only holds dicts keyed that way: a later chain view can feed the
items of several turns into one `Pairs` (or merge several) and pair across turns unchanged.

Entries can be anything that carries an item (a page row, a (turn, item) tuple ...):
`item_of` reads the item out of one, and lookups return the entry, so callers keep their
context (position, anchor) with no second lookup.
"""

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import jsonschema_rs

from . import scrub
from .anchors import item_anchor
from .schemas.base import Schema, type_name, type_names, type_of
from .schemas.content import (
    ComputerScreenshotPart,
    InputFilePart,
    InputImagePart,
    InputTextPart,
    OutputTextPart,
    ReasoningTextPart,
    SummaryTextPart,
)
from .schemas.items import (
    BORROWED_ID_TYPES,
    ApplyPatchCallItem,
    ApplyPatchCallOutputItem,
    CodeInterpreterCallItem,
    ComputerCallItem,
    ComputerCallOutputItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FileSearchCallItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ImageGenerationCallItem,
    ItemReferenceItem,
    LocalShellCallItem,
    LocalShellCallOutputItem,
    McpApprovalRequestItem,
    McpApprovalResponseItem,
    McpCallItem,
    ProgramItem,
    ProgramOutputItem,
    ShellCallItem,
    ShellCallOutputItem,
    ShellOutputChunk,
    ToolSearchCallItem,
    ToolSearchOutputItem,
    WebSearchCallItem,
    item_class,
)
from .schemas.response import Response, Usage
from .schemas.tools import FunctionTool


@dataclass(frozen=True)
class Link:
    """A call type, the type of the item that answers it, the call's fields an answer may
    carry (in order) and the answer's field that carries one."""

    call: str
    answer: str
    call_fields: tuple[str, ...]
    answer_field: str


#: (call class, answer class, the call's fields an answer may carry, the answer's field),
#: spec §7.10. local_shell_call_output has no call_id: its `id` carries the call's. The
#: spec reads that as the call's `id`, real payloads put the call's `call_id` there, so
#: both are keys. An MCP approval request is answered by its own `id` (spec §3.14).
_LINKED: tuple[tuple[type[Schema], type[Schema], tuple[str, ...], str], ...] = (
    (FunctionCallItem, FunctionCallOutputItem, ("call_id",), "call_id"),
    (CustomToolCallItem, CustomToolCallOutputItem, ("call_id",), "call_id"),
    (ComputerCallItem, ComputerCallOutputItem, ("call_id",), "call_id"),
    (ShellCallItem, ShellCallOutputItem, ("call_id",), "call_id"),
    (ApplyPatchCallItem, ApplyPatchCallOutputItem, ("call_id",), "call_id"),
    (LocalShellCallItem, LocalShellCallOutputItem, ("call_id", "id"), "id"),
    (McpApprovalRequestItem, McpApprovalResponseItem, ("id",), "approval_request_id"),
    (ToolSearchCallItem, ToolSearchOutputItem, ("call_id",), "call_id"),
    (ProgramItem, ProgramOutputItem, ("call_id",), "call_id"),
)
#: Each call class's link, and each answer class's.
LINKS: dict[type[Schema], Link] = {
    call: Link(type_name(call), type_name(answer), fields, field_name)
    for call, answer, fields, field_name in _LINKED
}
ANSWERED: dict[type[Schema], Link] = {answer: LINKS[call] for call, answer, _, _ in _LINKED}
#: call type -> the type of the item that answers it.
ANSWER_TYPE: dict[str, str] = {link.call: link.answer for link in LINKS.values()}
CALL_TYPES = frozenset(ANSWER_TYPE)
ANSWER_TYPES = frozenset(ANSWER_TYPE.values())

Key = tuple[str, str]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _link_of(item: object, links: dict[type[Schema], Link]) -> Link | None:
    """The link of `item`'s class in `links`. An item that did not fit its class still links
    by the type it was sent as (schemas.items.item_class), its fields read as sent."""
    cls = item_class(item)
    return links.get(cls) if cls is not None else None


def call_keys(item: object) -> list[Key]:
    """The keys an answer to `item` would carry; empty if `item` is not a call."""
    link = _link_of(item, LINKS)
    if link is None:
        return []
    keys: list[Key] = []
    for name in link.call_fields:
        if (text := _text(getattr(item, name, None))) and (link.answer, text) not in keys:
            keys.append((link.answer, text))
    return keys


def answer_key(item: object) -> Key | None:
    """The key an answer item carries, or None if `item` answers nothing."""
    link = _link_of(item, ANSWERED)
    text = _text(getattr(item, link.answer_field, None)) if link else None
    return (link.answer, text) if link and text else None


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
    #: Server-run tool searches: call id <-> output id (see `server_search_pair`).
    server_answers: dict[str, Any] = field(default_factory=dict)
    server_calls: dict[str, Any] = field(default_factory=dict)
    _previous: Any = field(default=None, repr=False)

    def add(self, entries: Iterable[Any]) -> "Pairs":
        for entry in entries:
            item = self.item_of(entry)
            previous = None if self._previous is None else self.item_of(self._previous)
            if (ids := server_search_pair(previous, item)) is not None:
                self.server_answers.setdefault(ids[0], entry)
                self.server_calls.setdefault(ids[1], self._previous)
            self._previous = entry
            for key in call_keys(item):
                self.calls.setdefault(key, entry)
            if (answer := answer_key(item)) is not None:
                self.answers.setdefault(answer, entry)
            own_id = _text(getattr(item, "id", None))
            if own_id and item_class(item) is McpApprovalRequestItem:
                self.requests.setdefault(own_id, entry)
            if own_id and type_of(item) not in BORROWED_ID_TYPES:
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
        for item_id, entry in other.server_answers.items():
            self.server_answers.setdefault(item_id, entry)
        for item_id, entry in other.server_calls.items():
            self.server_calls.setdefault(item_id, entry)
        return self

    def answer_to(self, call: object) -> Any | None:
        """The entry that answers `call`, or None (unanswered, or not a call)."""
        for key in call_keys(call):
            if key in self.answers:
                return self.answers[key]
        return self.server_answers.get(_server_search_id(call, ToolSearchCallItem) or "")

    def call_of(self, answer: object) -> Any | None:
        """The entry of the call that `answer` answers, or None."""
        key = answer_key(answer)
        if key is None:
            return self.server_calls.get(_server_search_id(answer, ToolSearchOutputItem) or "")
        return self.calls.get(key)

    def approval_request_of(self, mcp_call: object) -> Any | None:
        """The approval request an approved mcp_call went through, or None."""
        request_id = _text(getattr(mcp_call, "approval_request_id", None))
        return self.requests.get(request_id) if request_id else None

    def referenced(self, reference: object) -> Any | None:
        """The entry an item_reference points at, or None if it is not among the entries."""
        if item_class(reference) is not ItemReferenceItem:
            return None
        item_id = _text(getattr(reference, "id", None))
        return self.by_id.get(item_id) if item_id else None


def _server_search_id(item: object, cls: type[Schema]) -> str | None:
    """The id of a tool search item of class `cls` the server ran (no call_id), else None."""
    if not isinstance(item, cls) or _text(getattr(item, "call_id", None)):
        return None
    return _text(getattr(item, "id", None))


def server_search_pair(previous: object, item: object) -> tuple[str, str] | None:
    """(call id, output id) when `item` is the output of the server-run tool search just
    before it: the API runs it at once and sends both with a null call_id, output right
    after call, so only their order pairs them."""
    call_id = _server_search_id(previous, ToolSearchCallItem)
    output_id = _server_search_id(item, ToolSearchOutputItem)
    return (call_id, output_id) if call_id and output_id else None


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


def wanted(items: Iterable[object], have: Pairs | None = None) -> Wanted:
    """The counterparts `items` still miss, given what `have` already pairs.

    Also asks for the approval requests that mcp_calls and approval responses name.
    """
    #: The values each Wanted column is asked for, by the field of an item it matches.
    columns: dict[str, set[str]] = {"call_id": set(), "id": set(), "approval_request_id": set()}
    types: set[str] = set()
    reference_ids: set[str] = set()
    have = have or Pairs()
    for item in items:
        link = _link_of(item, LINKS)
        if link is not None and (keys := call_keys(item)) and have.answer_to(item) is None:
            types.add(link.answer)
            columns[link.answer_field].update(value for _, value in keys)
        link = _link_of(item, ANSWERED)
        key = answer_key(item)
        if link is not None and key is not None and have.call_of(item) is None:
            types.add(link.call)
            for name in link.call_fields:
                columns[name].add(key[1])
        cls = item_class(item)
        request_id = _text(getattr(item, "approval_request_id", None))
        if cls is McpCallItem and request_id and have.approval_request_of(item) is None:
            columns["id"].add(request_id)
            types.add(type_name(McpApprovalRequestItem))
        reference = _text(getattr(item, "id", None))
        if cls is ItemReferenceItem and reference and have.referenced(item) is None:
            reference_ids.add(reference)
    return Wanted(
        frozenset(columns["call_id"]),
        frozenset(columns["id"]),
        frozenset(columns["approval_request_id"]),
        frozenset(types),
        frozenset(reference_ids),
    )


# --- traces: turns of a chain, repeated context, usage per turn, the tool-call audit -------
#
# A trace is the turns of one agent run in order: the responses linked by
# previous_response_id (or sharing a conversation), each with the input items new in it and
# its output items. Calls are paired with their answers across turns by the keys above.

#: Every item type the audit counts as a tool call: the answerable calls above, plus the
#: hosted ones whose result sits inside the call item itself.
AUDITED_TYPES = CALL_TYPES | frozenset(
    type_names(
        [
            McpCallItem,
            WebSearchCallItem,
            FileSearchCallItem,
            CodeInterpreterCallItem,
            ImageGenerationCallItem,
        ]
    )
)

#: Audit flags, in display order: (flag, label).
FLAGS: tuple[tuple[str, str], ...] = (
    ("no-output", "no output"),
    ("bad-json", "arguments not valid JSON"),
    ("schema", "arguments break the tool's schema"),
    ("undeclared", "tool not declared"),
    ("failed", "failed or errored"),
    ("approval", "needed approval"),
    ("denied", "approval denied"),
)
FLAG_LABELS = dict(FLAGS)
#: Items whose arguments are a JSON string (spec §7.1); custom tool input is free text.
JSON_ARGUMENT_TYPES = frozenset(type_names([FunctionCallItem, McpCallItem, McpApprovalRequestItem]))
#: How much of a turn's new input the trace shows; the response page has the rest.
TURN_INPUT_LIMIT = 200


@dataclass(eq=False)
class Entry:
    """One item of one turn: where it sits, and (after pairing) the item it pairs with."""

    turn: int
    where: str  # "input" or "output"
    position: int
    item: Schema
    #: "call" or "answer" when the item takes part in a pairing, else "".
    role: str = ""
    #: The entry this one pairs with (the answer of a call, the call of an answer), or None.
    #: Turn 0: an answer from outside the trace, in a response stored after it.
    partner: "Entry | None" = None
    response_id: str = ""

    @cached_property
    def anchor(self) -> str:
        """The item's anchor as the response page writes it, so a note written on the
        trace lands on the same item.

        Repeated items are collapsed, so ids are unique on a trace page; two id-less items
        at the same position of different turns share an anchor (imported data only: the
        API gives every stored item an id)."""
        return item_anchor(self.item, self.where, self.position)

    # The item templates read a row of the response page (rendering.Row); an entry can
    # stand in for one, with an anchor unique across the turns of a trace (its full view,
    # "show all", is the response page's: items/_item.html builds the link).
    @property
    def section(self) -> str:
        return self.where

    @property
    def label(self) -> str:
        return f"turn {self.turn}, {self.where} item {self.position + 1}"

    @property
    def unanswered(self) -> bool:
        return self.role == "call" and self.partner is None

    @property
    def beside(self) -> bool:
        """An answer whose call the trace shows: it is shown beside the call there."""
        return self.role == "answer" and self.partner is not None

    @property
    def number(self) -> int:
        return self.position + 1


def _entry_item(entry: Entry) -> Schema:
    return entry.item


def fingerprint(item: Schema) -> str:
    """What makes two items the same for spotting resent context: the id, else the body."""
    item_id = _text(getattr(item, "id", None))
    if item_id:
        return f"id:{item_id}"
    wire = getattr(item, "wire", item)
    return "body:" + json.dumps(wire, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class UsageRow:
    """Tokens and cost of one turn, and the chain's running total up to it."""

    turn: int
    input_tokens: int | None = None
    #: Input tokens more than the previous turn's (None on the first turn / no usage).
    growth: int | None = None
    cached_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    #: Input that was context already read in earlier turns: the cached tokens, or the
    #: previous turn's input + output carried into this one (capped), whichever is larger.
    reread_tokens: int | None = None
    cost: Decimal | None = None
    running_cost: Decimal = Decimal(0)
    #: True when an earlier or this turn had no known price, so the total is a lower bound.
    running_partial: bool = False

    @property
    def cached_share(self) -> float | None:
        return _share(self.cached_tokens, self.input_tokens)

    @property
    def reread_share(self) -> float | None:
        return _share(self.reread_tokens, self.input_tokens)


def _share(part: int | None, whole: int | None) -> float | None:
    # usage may be null or zero on queued / in-progress responses (spec §7.19).
    if part is None or not whole:
        return None
    return part / whole


PriceFn = Callable[..., Any]


def usage_rows(responses: Sequence[Response], price: PriceFn | None = None) -> list[UsageRow]:
    """One UsageRow per response, priced as of each response's creation."""
    if price is None:
        from .pricing import price as default_price

        price = default_price
    rows: list[UsageRow] = []
    running = Decimal(0)
    partial = False
    previous: Usage | None = None
    for number, response in enumerate(responses, start=1):
        usage = response.usage
        row = UsageRow(turn=number)
        if usage is not None:
            row.input_tokens = usage.input_tokens
            row.cached_tokens = usage.input_tokens_details.cached_tokens
            row.output_tokens = usage.output_tokens
            row.reasoning_tokens = usage.output_tokens_details.reasoning_tokens
            carried = 0
            if previous is not None:
                row.growth = usage.input_tokens - previous.input_tokens
                carried = min(usage.input_tokens, previous.input_tokens + previous.output_tokens)
            row.reread_tokens = max(row.cached_tokens, carried)
            cost = price(
                response.model,
                input_tokens=usage.input_tokens,
                cached_tokens=usage.input_tokens_details.cached_tokens,
                output_tokens=usage.output_tokens,
                when=response.created,
            )
            row.cost = cost.total if cost is not None else None
        if row.cost is None:
            partial = True
        else:
            running += row.cost
        row.running_cost = running
        row.running_partial = partial
        previous = usage
        rows.append(row)
    return rows


# --- the audit of one call ---------------------------------------------------------------


def _json_text(value: object) -> str:
    wire = getattr(value, "wire", value)
    return json.dumps(wire, ensure_ascii=False, default=str)


def parts_text(value: object) -> str:
    """A string output as is; content parts as their text, files and images by name."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    texts: list[str] = []
    for part in value if isinstance(value, list) else [value]:
        match part:
            case InputTextPart() | OutputTextPart() | SummaryTextPart() | ReasoningTextPart():
                texts.append(part.text)
            case InputImagePart() | ComputerScreenshotPart():
                url = part.image_url or part.file_id or ""
                shown = url if not url.startswith("data:") else f"data URL, {len(url)} chars"
                texts.append(f"[{part.type}: {shown}]")
            case InputFilePart():
                texts.append(f"[input_file: {part.filename or part.file_id or ''}]")
            case _:  # a refusal, or a part of a type this dashboard does not know
                text = getattr(part, "text", None)
                texts.append(text if isinstance(text, str) else _json_text(part))
    return "\n".join(texts)


def call_name(item: object) -> str:
    """The tool's name: function / custom / MCP names, else the type without `_call`."""
    name = getattr(item, "name", None)
    if isinstance(name, str) and name:
        return name
    return str(getattr(item, "type", "") or "").removesuffix("_call")


def call_arguments(item: object) -> str:
    """What the call asked for, as text (JSON strings stay exactly as sent)."""
    match item:
        case FunctionCallItem() | McpCallItem() | McpApprovalRequestItem():
            return item.arguments
        case CustomToolCallItem():
            return item.input
        case LocalShellCallItem():
            return " ".join(item.action.command) if item.action else ""
        case ShellCallItem():
            return "\n".join(item.action.commands) if item.action else ""
        case FileSearchCallItem():
            return "\n".join(item.queries)
        case CodeInterpreterCallItem() | ProgramItem():
            return item.code or ""
        case ToolSearchCallItem():
            return _json_text(item.arguments)
    # Computer and web search actions, patch operations; the same of an item of an unknown type.
    for field_name in ("action", "operation"):
        value = getattr(item, field_name, None)
        if value is not None:
            return _json_text(value)
    return ""


def _chunk_text(chunk: ShellOutputChunk) -> str:
    kind = chunk.outcome.type if chunk.outcome else "exit"
    code = chunk.outcome.exit_code if chunk.outcome else None
    ending = f"[{kind}{'' if code is None else f' {code}'}]"
    return "\n".join(t for t in (chunk.stdout, chunk.stderr, ending) if t)


def error_text(error: Any) -> str:
    """An error that is a string or an object (MCP errors grew from one to the other)."""
    if error is None or error == "":
        return ""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        texts = [
            str(part.get("text"))
            for part in error.get("content") or []
            if isinstance(part, dict) and part.get("text")
        ]
        message = error.get("message")
        head = " ".join(filter(None, [str(error.get("type") or ""), str(message or "")])).strip()
        if texts:
            return (head + ": " if head else "") + " ".join(texts)
        if head:
            return head
    return json.dumps(error, ensure_ascii=False, default=str)


def answer_text(item: object) -> str:
    """What came back, as text: an answer item's output, or a hosted call's own result."""
    match item:
        case None:
            return ""
        case McpApprovalResponseItem():
            verdict = "approved" if item.approve else "denied"
            return f"{verdict}: {item.reason}" if item.reason else verdict
        case ShellCallOutputItem():
            return "\n".join(_chunk_text(chunk) for chunk in item.output)
        case McpCallItem():
            return f"error: {error_text(item.error)}" if item.error else item.output or ""
        case FileSearchCallItem():
            results = item.results
            return "" if results is None else f"{len(results)} result{'s' * (len(results) != 1)}"
        case CodeInterpreterCallItem():
            outputs = item.outputs or []
            return "\n".join(str(o.logs if o.logs is not None else o.url or "") for o in outputs)
        case ImageGenerationCallItem():
            return f"image, {len(item.result)} base64 chars" if item.result else ""
        case WebSearchCallItem():
            return ""
        case ProgramOutputItem():
            return item.result
        case ToolSearchOutputItem():
            names = [str(getattr(t, "name", None) or type_of(t)) for t in item.tools]
            return "loaded: " + (", ".join(names) or "no tools")
    return parts_text(getattr(item, "output", None))


@dataclass(frozen=True)
class ShellResult:
    """local_shell_call_output.output: a JSON string, usually {"output", "metadata"} (§7.2)."""

    text: str
    exit_code: Any = None
    duration: Any = None
    parsed: bool = False


def local_shell_result(output: Any) -> ShellResult:
    text = "" if output is None else str(output)
    try:
        data = scrub.loads(text)
    except ValueError:
        return ShellResult(text)
    if not isinstance(data, dict) or not isinstance(data.get("output"), str):
        return ShellResult(text)
    meta: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    return ShellResult(
        data["output"], meta.get("exit_code"), meta.get("duration_seconds"), parsed=True
    )


#: The calls that run commands: their outcome is an exit code or a timeout (shell_status).
SHELL_TYPES = frozenset(type_names([ShellCallItem, LocalShellCallItem]))


def shell_status(answer: object) -> str:
    """How the commands of a shell output ended: "timed out", "exit 1" (the first non-zero
    code), "exit 0"; "" when `answer` is no shell output or says nothing of it (§3.12, §7.2)."""
    match answer:
        case ShellCallOutputItem():
            outcomes = [chunk.outcome for chunk in answer.output if chunk.outcome is not None]
            if any(outcome.type == "timeout" for outcome in outcomes):
                return "timed out"
            codes = [o.exit_code for o in outcomes if o.type == "exit" and o.exit_code is not None]
        case LocalShellCallOutputItem():
            code = local_shell_result(answer.output).exit_code
            codes = [code] if isinstance(code, int) and not isinstance(code, bool) else []
        case _:
            return ""
    failing = [code for code in codes if code != 0]
    return f"exit {(failing or codes)[0]}" if codes else ""


def is_failed(item: object) -> bool:
    """Whether a call or an answer failed: status "failed", an MCP error, a shell command
    that timed out or exited non-zero."""
    if item is None:
        return False
    if getattr(item, "status", None) == "failed":
        return True
    match item:
        case McpCallItem():
            return bool(item.error)
        case ShellCallOutputItem() | LocalShellCallOutputItem():
            status = shell_status(item)
            return bool(status) and status != "exit 0"
    return False


def strict_schema(schema: Any) -> Any:
    """The schema as OpenAI's strict mode reads it: every object closed, every property required."""
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict_schema(value) for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: strict_schema(v) for k, v in schema["properties"].items()}
        out["required"] = list(schema["properties"])
        out["additionalProperties"] = False
    elif schema.get("type") == "object" and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


#: Backtracking steps a `pattern` may take on one string before it fails with a message; a
#: hostile pattern like `^(a+)+$` would otherwise take hours on 40 characters.
PATTERN_BACKTRACK_LIMIT = 100_000


class SchemaProblem(ValueError):
    """The declared schema is not valid JSON Schema (never cached: see _validator)."""


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str) -> Any:
    """A validator for a schema (given as sorted JSON), built once: every call of a tool, in
    every response, shares its tool's schema.

    jsonschema-rs: the dialect the schema names, else 2020-12; formats not asserted; nothing
    retrieved (`offline`: a `$ref` to a URL or a file fails, it is never fetched); patterns
    with a bounded backtracking (PATTERN_BACKTRACK_LIMIT). Raises SchemaProblem for a schema
    that is not JSON Schema, ValueError (jsonschema_rs.ValidationError) for one that cannot
    be built, e.g. an unresolvable `$ref`.
    """
    schema = json.loads(schema_text)
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as problem:
        raise SchemaProblem(problem.message) from None
    return jsonschema_rs.validator_for(
        schema,
        validate_formats=False,
        offline=True,
        pattern_options=jsonschema_rs.FancyRegexOptions(backtrack_limit=PATTERN_BACKTRACK_LIMIT),
    )


#: (id of a parameters object, strict) -> (that object, its schema's sorted JSON), for the
#: schemas seen last: every call of a tool in a response shares its parameters object.
_schema_texts: dict[tuple[int, bool], tuple[Any, str]] = {}


def _schema_text(parameters: dict[str, Any], strict: bool) -> str:
    """The sorted JSON of the schema `parameters` declare (as strict mode reads it)."""
    known = _schema_texts.get((id(parameters), strict))
    if known is not None and known[0] is parameters:
        return known[1]
    text = json.dumps(strict_schema(parameters) if strict else parameters, sort_keys=True)
    if len(_schema_texts) >= 256:
        _schema_texts.clear()
    _schema_texts[(id(parameters), strict)] = (parameters, text)
    return text


def schema_violation(arguments: Any, parameters: Any, strict: bool | None) -> str | None:
    """Why parsed `arguments` break the function's JSON Schema, or None if they fit.

    Checked with jsonschema-rs (_validator says how); the first error is reported, with
    where in the arguments it is. A schema that is itself invalid is reported as such.
    """
    if not isinstance(parameters, dict) or not parameters:
        return None
    try:
        validator = _validator(_schema_text(parameters, bool(strict)))
        error = next(iter(validator.iter_errors(arguments)), None)
    except SchemaProblem as problem:
        return f"the declared schema is not valid JSON Schema: {problem}"
    except Exception as problem:  # an unresolvable $ref and the like: say so, never crash.
        first = str(problem).strip().splitlines() or [type(problem).__name__]
        return f"the declared schema could not be checked: {first[0]}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.instance_path)
    return f"{where}: {error.message}" if where else error.message


@dataclass
class CallAudit:
    """One tool call as the audit table shows it."""

    entry: Entry
    type: str
    name: str
    call_id: str
    status: str
    arguments: str
    output: str
    answer: Entry | None
    flags: list[str]
    schema_error: str = ""
    #: For MCP approvals: "approved", "denied", "pending", or "" when none was needed.
    approval: str = ""

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        return [(flag, FLAG_LABELS[flag]) for flag in self.flags]


def declared_functions(tools: Iterable[Schema]) -> dict[str, FunctionTool]:
    """Function tools by name (the first of a name wins)."""
    found: dict[str, FunctionTool] = {}
    for tool in tools or []:
        if isinstance(tool, FunctionTool) and tool.name:
            found.setdefault(tool.name, tool)
    return found


def audit_call(
    entry: Entry,
    answer: Entry | None,
    functions: dict[str, FunctionTool],
    approval: Schema | None = None,
) -> CallAudit:
    """Audit one call. `answer` pairs with it; `approval` is the mcp_approval_response that
    answered the approval request an mcp_call went through (or answers a request item)."""
    item = entry.item
    kind = str(type_of(item) or "")
    arguments = call_arguments(item)
    flags: list[str] = []
    schema_error = ""
    answerable = kind in CALL_TYPES
    answer_item = answer.item if answer is not None else None
    if answerable and answer_item is None:
        flags.append("no-output")
    if kind in JSON_ARGUMENT_TYPES:
        try:
            parsed = scrub.loads(arguments)
        except ValueError:
            flags.append("bad-json")
        else:
            if item_class(item) is FunctionCallItem:
                tool = functions.get(call_name(item))
                if tool is None:
                    flags.append("undeclared")
                else:
                    problem = schema_violation(parsed, tool.parameters, tool.strict)
                    if problem:
                        flags.append("schema")
                        schema_error = problem
    if is_failed(item) or is_failed(answer_item):
        flags.append("failed")
    verdict = ""
    is_request = item_class(item) is McpApprovalRequestItem
    if is_request:
        approval = answer_item
    if is_request or _text(getattr(item, "approval_request_id", None)):
        flags.append("approval")
        if approval is None:
            verdict = "pending"
        else:
            verdict = "approved" if getattr(approval, "approve", False) else "denied"
            if verdict == "denied":
                flags.append("denied")
    output = answer_text(answer_item) if answerable else answer_text(item)
    return CallAudit(
        entry=entry,
        type=kind,
        name=call_name(item),
        call_id=str(getattr(item, "call_id", None) or getattr(item, "id", None) or ""),
        status=shell_status(answer_item)
        or str(getattr(answer_item, "status", None) or getattr(item, "status", None) or ""),
        arguments=arguments,
        output=output,
        answer=answer,
        flags=[flag for flag, _ in FLAGS if flag in flags],
        schema_error=schema_error,
        approval=verdict,
    )


# --- a whole trace -----------------------------------------------------------------------


@dataclass
class Turn:
    number: int
    response: Response
    #: Whatever the caller keeps with the response (the stored row); passed through.
    source: Any
    new_inputs: list[Entry]
    #: Input items this turn resent: (this turn's entry, the entry where it was first seen).
    repeated: list[tuple[Entry, Entry]]
    outputs: list[Entry]
    #: New input items past TURN_INPUT_LIMIT, not shown on the trace page.
    hidden_inputs: int
    usage: UsageRow


@dataclass
class Trace:
    turns: list[Turn]
    calls: list[CallAudit]
    pairs: Pairs

    @property
    def unanswered(self) -> int:
        return sum(1 for call in self.calls if "no-output" in call.flags)

    @property
    def total(self) -> UsageRow | None:
        return self.turns[-1].usage if self.turns else None

    @property
    def max_input_tokens(self) -> int:
        """The largest input of any turn: the scale of the usage strip's bars."""
        return max((t.usage.input_tokens or 0 for t in self.turns), default=0)


def answer_later(built: Trace, outside: Iterable[Entry]) -> None:
    """Pair the calls `built` leaves unanswered with answers from outside the trace (entries
    of turn 0: the input of a response stored after it), and audit those calls again."""
    outside = list(outside)
    found = pair(outside, item_of=_entry_item)
    built.pairs.add(outside)  # the pages show a call's answer beside it by these pairs
    for n, call in enumerate(built.calls):
        entry = call.entry
        answer = (
            found.answer_to(entry.item) if entry.role == "call" and entry.partner is None else None
        )
        if answer is None:
            continue
        entry.partner = answer
        functions = declared_functions(built.turns[entry.turn - 1].response.tools)
        approval = answer.item if type_of(answer.item) == "mcp_approval_response" else None
        built.calls[n] = audit_call(entry, answer, functions, approval)


def build_trace(
    turns: Sequence[tuple[Response, Any, Sequence[Schema]]], price: PriceFn | None = None
) -> Trace:
    """A trace from (response, source, input items) per turn, oldest first.

    Input items already seen in an earlier turn (same id, or the same body for items without
    an id: a client resending its whole history) are set aside as repeated. Calls pair with
    their answers across every turn; the first occurrence of each item is the one that pairs.
    """
    seen: dict[str, Entry] = {}
    built: list[Turn] = []
    fresh: list[Entry] = []
    rows = usage_rows([response for response, _, _ in turns], price)
    for number, ((response, source, inputs), usage) in enumerate(zip(turns, rows, strict=True), 1):
        new_inputs: list[Entry] = []
        repeated: list[tuple[Entry, Entry]] = []
        for position, item in enumerate(inputs):
            entry = Entry(number, "input", position, item, response_id=response.id)
            first = seen.get(key := fingerprint(item))
            if first is not None:
                repeated.append((entry, first))
                continue
            seen[key] = entry
            new_inputs.append(entry)
        outputs = [
            Entry(number, "output", p, item, response_id=response.id)
            for p, item in enumerate(response.output)
        ]
        for entry in outputs:
            seen.setdefault(fingerprint(entry.item), entry)
        fresh += new_inputs + outputs
        built.append(
            Turn(
                number=number,
                response=response,
                source=source,
                new_inputs=new_inputs[:TURN_INPUT_LIMIT],
                repeated=repeated,
                outputs=outputs,
                hidden_inputs=max(0, len(new_inputs) - TURN_INPUT_LIMIT),
                usage=usage,
            )
        )
    pairs = pair(fresh, item_of=_entry_item)
    calls: list[CallAudit] = []
    for entry in fresh:
        if call_keys(entry.item):
            entry.role = "call"
            entry.partner = pairs.answer_to(entry.item)
        elif answer_key(entry.item) is not None:
            entry.role = "answer"
            entry.partner = pairs.call_of(entry.item)
        if type_of(entry.item) in AUDITED_TYPES:
            request_id = _text(getattr(entry.item, "approval_request_id", None))
            approval = pairs.answers.get(("mcp_approval_response", request_id or ""))
            functions = declared_functions(built[entry.turn - 1].response.tools)
            calls.append(
                audit_call(
                    entry,
                    entry.partner,
                    functions,
                    approval.item if approval is not None else None,
                )
            )
    return Trace(turns=built, calls=calls, pairs=pairs)
