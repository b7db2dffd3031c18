"""Two responses side by side: parameters with differences marked, instructions as a line
diff, items aligned by position and type (tool calls by call id), the texts of changed items
as a word diff, usage and cost deltas.

Pure functions over schemas; pages.compare_page reads the two responses from the store.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any

from . import listing
from .anchors import item_anchor
from .schemas import Response
from .schemas.base import Schema, type_of
from .schemas.items import MessageItem
from .schemas.tools import CustomTool, FunctionTool, McpTool

#: Response fields compared as parameters, in the order the page shows them.
PARAMETERS = (
    "model",
    "status",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "text",
    "temperature",
    "top_p",
    "top_logprobs",
    "max_output_tokens",
    "max_tool_calls",
    "truncation",
    "service_tier",
    "background",
    "store",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "user",
    "metadata",
)

#: Keys that differ between any two runs and say nothing about what an item did.
IDENTITY_KEYS = frozenset({"id", "call_id", "approval_request_id", "encrypted_content"})

#: Item types whose `name` tells two calls of the same type apart.
NAMED_TYPES = frozenset({"function_call", "custom_tool_call", "mcp_call", "mcp_approval_request"})

#: How many input items of each response the page aligns.
INPUT_LIMIT = 200


def value_text(value: Any) -> str:
    """A parameter's value as the page shows it; "" for absent (None)."""
    if hasattr(value, "wire"):
        value = value.wire
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return json.dumps(value)


@dataclass(frozen=True)
class Param:
    name: str
    left: str
    right: str

    @property
    def same(self) -> bool:
        return self.left == self.right


def parameters(a: Response, b: Response) -> list[Param]:
    return [
        Param(name, value_text(getattr(a, name, None)), value_text(getattr(b, name, None)))
        for name in PARAMETERS
    ]


def tool_key(tool: Schema) -> str:
    """What names a tool across two responses: function / custom name, MCP server, else type."""
    match tool:
        case FunctionTool() | CustomTool() if tool.name:
            return f"{tool.type} {tool.name}"
        case McpTool() if tool.server_label:
            return f"mcp {tool.server_label}"
    return str(type_of(tool) or "tool")


def tools(a: Sequence[Schema], b: Sequence[Schema]) -> list[Param]:
    """One row per tool key, in the order first seen (left, then right's new ones)."""
    left = {tool_key(t): value_text(t) for t in a}
    right = {tool_key(t): value_text(t) for t in b}
    keys = list(dict.fromkeys([*left, *right]))
    return [Param(key, left.get(key, ""), right.get(key, "")) for key in keys]


def instructions_text(instructions: Any) -> str:
    """Instructions as text: a string as is, a list of messages as `role: text` blocks."""
    if instructions is None:
        return ""
    if isinstance(instructions, str):
        return instructions
    blocks = []
    for item in instructions:
        role = getattr(item, "role", None) or type_of(item) or "item"
        blocks.append(f"{role}: " + "\n".join(listing.item_texts(item)))
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "removed", "added"
    left_number: int | None
    right_number: int | None
    text: str


def text_diff(a: str, b: str) -> list[DiffLine]:
    """A line diff of a against b: every line once, marked same, removed or added."""
    left, right = a.splitlines(), b.splitlines()
    out: list[DiffLine] = []
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [
                DiffLine("same", i + 1, j + 1, left[i])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        out += [DiffLine("removed", i + 1, None, left[i]) for i in range(i1, i2)]
        out += [DiffLine("added", None, j + 1, right[j]) for j in range(j1, j2)]
    return out


#: Words (with their spaces and punctuation) of one changed stretch of lines that a word diff
#: matches at most, each side: matching costs more than linear time in them (1,000 take
#: 0.05-0.3 s). A longer stretch is shown as removed and added whole.
WORD_DIFF_MAX = 1_000
#: Characters of each side's text a word diff goes to at most (the page shows this much of it).
WORD_DIFF_TEXT_MAX = 20_000
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    kind: str  # "same", "removed", "added"
    text: str


@dataclass
class WordDiff:
    """Two texts as one run of segments, and how many words only one side has."""

    segments: list[Segment] = field(default_factory=list)
    removed: int = 0
    added: int = 0

    def put(self, kind: str, words: Sequence[str]) -> None:
        if not words:
            return
        text = "".join(words)
        if kind != "same":
            count = sum(not w.isspace() for w in words)
            setattr(self, kind, getattr(self, kind) + count)
        if self.segments and self.segments[-1].kind == kind:
            text = self.segments.pop().text + text
        self.segments.append(Segment(kind, text))


def word_diff(a: str, b: str) -> WordDiff:
    """a against b word by word: what both say, what only a says, what only b says.

    Lines are matched first (fast: lines rarely repeat) and the words of each changed
    stretch of lines then, as `git diff --word-diff` does, so a long answer costs about
    its length, not its length squared.
    """
    diff = WordDiff()
    left, right = a.splitlines(keepends=True), b.splitlines(keepends=True)
    lines = SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag == "equal":
            diff.put("same", left[i1:i2])
            continue
        old, new = _WORDS.findall("".join(left[i1:i2])), _WORDS.findall("".join(right[j1:j2]))
        if max(len(old), len(new)) > WORD_DIFF_MAX:
            diff.put("removed", old)
            diff.put("added", new)
            continue
        words = SequenceMatcher(None, old, new, autojunk=False)
        for kind, k1, k2, m1, m2 in words.get_opcodes():
            if kind == "equal":
                diff.put("same", old[k1:k2])
            else:
                diff.put("removed", old[k1:k2])
                diff.put("added", new[m1:m2])
    return diff


# --- items --------------------------------------------------------------------------------


def signature(item: Any) -> str:
    """An item without what differs between any two runs (ids), for "is it the same"."""
    wire = item.wire if hasattr(item, "wire") else item
    if isinstance(wire, dict):
        wire = {k: v for k, v in wire.items() if k not in IDENTITY_KEYS}
    return json.dumps(wire, sort_keys=True, default=str)


def _call_id(item: Any) -> str | None:
    value = getattr(item, "call_id", None)
    return value if isinstance(value, str) and value else None


def _key(item: Any, shared: set[tuple[str, str]]) -> tuple[str, ...]:
    kind = str(type_of(item) or "")
    call_id = _call_id(item)
    if call_id and (kind, call_id) in shared:
        return (kind, "call_id", call_id)
    if kind in NAMED_TYPES:
        return (kind, "name", str(getattr(item, "name", "")))
    if kind == "message":
        return (kind, "role", str(getattr(item, "role", "")))
    return (kind,)


@dataclass(frozen=True)
class Aligned:
    left_position: int | None
    left: Any
    right_position: int | None
    right: Any

    @property
    def kind(self) -> str:
        """ "same", "changed", "removed" (left only) or "added" (right only)."""
        if self.right_position is None:
            return "removed"
        if self.left_position is None:
            return "added"
        return "same" if signature(self.left) == signature(self.right) else "changed"


def _pair_by_type(left: Sequence[Any], right: Sequence[Any], i0: int, j0: int) -> list[Aligned]:
    """Within a stretch that did not match on keys: same types side by side, in order."""
    out: list[Aligned] = []
    types_l = [type_of(x) for x in left]
    types_r = [type_of(x) for x in right]
    matcher = SequenceMatcher(None, types_l, types_r, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [
                Aligned(i0 + i, left[i], j0 + j, right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        out += [Aligned(i0 + i, left[i], None, None) for i in range(i1, i2)]
        out += [Aligned(None, None, j0 + j, right[j]) for j in range(j1, j2)]
    return out


def _align_keys(
    left: Sequence[Any],
    right: Sequence[Any],
    keys_l: Sequence[tuple[str, ...]],
    keys_r: Sequence[tuple[str, ...]],
    i0: int,
    j0: int,
) -> list[Aligned]:
    out: list[Aligned] = []
    matcher = SequenceMatcher(None, keys_l, keys_r, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [
                Aligned(i0 + i, left[i], j0 + j, right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
        else:
            out += _pair_by_type(left[i1:i2], right[j1:j2], i0 + i1, j0 + j1)
    return out


def align(left: Sequence[Any], right: Sequence[Any]) -> list[Aligned]:
    """Items of two responses aligned: tool calls and outputs sharing a call id pair up
    first; between them, items pair by position and type (calls also by name, messages by
    role), with insertions and removals kept in place rather than shifting what follows.
    """
    ids_l = {(str(type_of(x)), c) for x in left if (c := _call_id(x))}
    ids_r = {(str(type_of(x)), c) for x in right if (c := _call_id(x))}
    shared = ids_l & ids_r
    keys_l = [_key(x, shared) for x in left]
    keys_r = [_key(x, shared) for x in right]
    # 1. Anchors: the items whose call id both sides have, in an order both sides keep.
    linked_l = [i for i, key in enumerate(keys_l) if key[1:2] == ("call_id",)]
    linked_r = [j for j, key in enumerate(keys_r) if key[1:2] == ("call_id",)]
    matcher = SequenceMatcher(
        None, [keys_l[i] for i in linked_l], [keys_r[j] for j in linked_r], autojunk=False
    )
    anchors = [
        (linked_l[a + k], linked_r[b + k])
        for a, b, size in matcher.get_matching_blocks()
        for k in range(size)
    ]
    # 2. Between anchors, align the rest on their keys.
    out: list[Aligned] = []
    i0 = j0 = 0
    for i, j in [*anchors, (len(left), len(right))]:
        out += _align_keys(left[i0:i], right[j0:j], keys_l[i0:i], keys_r[j0:j], i0, j0)
        if i < len(left) and j < len(right):
            out.append(Aligned(i, left[i], j, right[j]))
        i0, j0 = i + 1, j + 1
    return out


def _part_text(part: Any) -> str:
    for attribute in ("text", "refusal", "stdout", "stderr"):
        value = getattr(part, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""


def item_summary(item: Any) -> str:
    """What an item said or did, as text: message and summary text, arguments, outputs."""
    if item is None:
        return ""
    if isinstance(item, MessageItem):
        return "\n".join(t for t in listing.item_texts(item) if t)
    texts: list[str] = []
    for attribute in ("summary", "arguments", "input", "code", "queries", "output", "error"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts += [v if isinstance(v, str) else _part_text(v) for v in value]
        elif isinstance(value, dict):
            texts.append(value_text(value))
        elif value is not None:
            # A content part (e.g. a screenshot): its text if any, never its image data.
            texts.append(_part_text(value))
    action = getattr(item, "action", None)
    commands = getattr(action, "commands", None) or getattr(action, "command", None)
    if isinstance(commands, list):
        texts.append(" ".join(str(c) for c in commands))
    return "\n".join(t for t in texts if t)


# --- usage and cost -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    label: str
    left: int | Decimal | None
    right: int | Decimal | None
    is_money: bool = False

    @property
    def change(self) -> int | Decimal | None:
        if self.left is None or self.right is None:
            return None
        return self.right - self.left

    @property
    def percent(self) -> Decimal | None:
        """The change as a share of the left value, rounded to one decimal."""
        change = self.change
        if change is None or not self.left:
            return None
        return (Decimal(change) * 100 / Decimal(self.left)).quantize(Decimal("0.1"))


def usage_deltas(a: Response, b: Response) -> list[Delta]:
    def read(response: Response, path: str) -> int | None:
        value: Any = response.usage
        for part in path.split("."):
            value = getattr(value, part, None)
        return value if isinstance(value, int) else None

    rows = [
        ("input tokens", "input_tokens"),
        ("cached input tokens", "input_tokens_details.cached_tokens"),
        ("output tokens", "output_tokens"),
        ("reasoning tokens", "output_tokens_details.reasoning_tokens"),
        ("total tokens", "total_tokens"),
    ]
    deltas = [Delta(label, read(a, path), read(b, path)) for label, path in rows]
    deltas.append(Delta("cost", listing.response_cost(a), listing.response_cost(b), True))
    return deltas


# --- the page's rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignedRow:
    """An aligned pair as the page shows it: with each side's anchor on its response page,
    its text, whether that text is a message's (shown as Markdown), and for a changed pair
    whose texts differ, their word diff."""

    pair: Aligned
    left_anchor: str
    right_anchor: str
    left_text: str
    right_text: str
    left_markdown: bool = False
    right_markdown: bool = False
    words: WordDiff | None = None


def aligned_rows(
    left: Sequence[Any], right: Sequence[Any], section: str, left_id: str, right_id: str
) -> list[AlignedRow]:
    """`align(left, right)` as rows, for items of `section` of the responses `left_id` and
    `right_id`."""

    def anchor(item: Any, position: int | None, response_id: str) -> str:
        return "" if position is None else item_anchor(item, section, position)

    out = []
    for p in align(left, right):
        left_text, right_text = item_summary(p.left), item_summary(p.right)
        differs = (
            p.kind == "changed"
            and left_text != right_text
            and 0 < len(left_text) <= WORD_DIFF_TEXT_MAX
            and 0 < len(right_text) <= WORD_DIFF_TEXT_MAX
        )
        out.append(
            AlignedRow(
                p,
                anchor(p.left, p.left_position, left_id),
                anchor(p.right, p.right_position, right_id),
                left_text,
                right_text,
                isinstance(p.left, MessageItem),
                isinstance(p.right, MessageItem),
                word_diff(left_text, right_text) if differs else None,
            )
        )
    return out
