"""Server-sent events of a background response (spec §1.1, §6): read exactly, then explained.

Pure functions: an SSE parser over chunks of bytes or text (the WHATWG event-stream rules, as
the official SDK applies them), typed events, and what the timeline page computes from them:
counts per type, gaps in sequence numbers, texts rebuilt from their deltas and checked against
the `.done` events and the final response, and when live following should stop.
"""

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from . import nesting, redaction
from .schemas.events import (
    DONE_VALUE_FIELDS,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    LifecycleEvent,
    OutputItemEvent,
    PartialImageEvent,
    UnknownEvent,
    event_adapter,
)
from .schemas.events import TERMINAL_TYPES as TERMINAL_TYPES
from .schemas.response import Response

# --- the SSE wire format ----------------------------------------------------------------

_LINE_END = re.compile(rb"\r|\n")
DONE_SENTINEL = "[DONE]"


@dataclass(frozen=True)
class SSEMessage:
    """One dispatched event: its joined `data:` lines, `event:` name and last `id:`.

    `terminated` is False for a final event the stream ended inside (no blank line after it):
    a server may simply omit the blank line, or the connection dropped mid-event.
    """

    data: str
    event: str | None = None
    id: str | None = None
    terminated: bool = True


class SSEParser:
    """Incremental: feed chunks as they arrive, then `finish()` at the end of the stream.

    Lines end at CR, LF or CRLF, even when a CRLF is split across two chunks; bytes are
    decoded per line, so a UTF-8 character split across chunks survives. Comment lines
    (`:` first, the usual keep-alive) are counted and otherwise ignored, as are unknown
    fields; `retry:` is kept on the parser, `id:` on each message.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skip_lf = False
        self._started = False
        self._data: list[str] = []
        self._event: str | None = None
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes | str) -> list[SSEMessage]:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        messages: list[SSEMessage] = []
        start = 0
        for match in _LINE_END.finditer(chunk):
            end = match.start()
            if self._skip_lf and end == start and chunk[end : end + 1] == b"\n":
                # The LF of a CRLF whose CR ended the previous chunk's last line.
                self._skip_lf = False
                start = end + 1
                continue
            self._buffer += chunk[start:end]
            line = bytes(self._buffer)
            self._buffer.clear()
            self._skip_lf = chunk[end : end + 1] == b"\r"
            start = end + 1
            if (message := self._line(line)) is not None:
                messages.append(message)
        if start < len(chunk):
            self._skip_lf = False
            self._buffer += chunk[start:]
        return messages

    def finish(self) -> list[SSEMessage]:
        """The end of the stream: a last line without a line end, and an unfinished event."""
        if self._buffer:
            line = bytes(self._buffer)
            self._buffer.clear()
            self._line(line)
        message = self._dispatch(terminated=False)
        return [message] if message is not None else []

    def _line(self, raw: bytes) -> SSEMessage | None:
        line = raw.decode("utf-8", errors="replace")
        if not self._started:
            self._started = True
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch(terminated=True)
        if line.startswith(":"):
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self, *, terminated: bool) -> SSEMessage | None:
        data, event = self._data, self._event
        self._data, self._event = [], None
        if not data:
            # No data lines: nothing to dispatch (a lone `event:` or `id:` block, a keep-alive).
            return None
        return SSEMessage(
            data="\n".join(data), event=event or None, id=self.last_event_id, terminated=terminated
        )


def parse_sse(
    chunks: Iterable[bytes | str], parser: SSEParser | None = None
) -> Iterator[SSEMessage]:
    """Every message of a stream given as chunks of any size."""
    parser = parser or SSEParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.finish()


# --- typed events --------------------------------------------------------------------------


def parse_event(body: Any, event_name: str | None = None) -> Any:
    """A typed event from one message's JSON; an UnknownEvent when it fits no class.

    The JSON `type` decides; the SSE `event:` name stands in only when the data has none.
    The object keeps `body` as received (`.wire`), so it can be stored exactly.
    """
    if not isinstance(body, dict):
        unknown = UnknownEvent(
            type=event_name,
            invalid_reason=f"the data is {type(body).__name__}, not a JSON object",
        )
        unknown._wire = body
        return unknown
    typed = body if "type" in body or not event_name else {**body, "type": event_name}
    event = event_adapter.validate_python(typed)
    event._wire = body
    return event


def decode_message(message: SSEMessage, secret: str = "") -> Any | None:
    """The event in one SSE message, or None for a truncated last message (resume instead).
    Data that is not JSON is kept cut short, `secret` (the API key) masked before the cut."""
    try:
        body = nesting.loads(message.data)
    except nesting.TooDeep as error:
        unknown = UnknownEvent(type=message.event, invalid_reason=f"the data is {error}")
        unknown._wire = {"type": message.event, "data": str(error)}
        return unknown
    except ValueError:
        if not message.terminated:
            return None
        unknown = UnknownEvent(type=message.event, invalid_reason="the data is not JSON")
        unknown._wire = {"type": message.event, "data": redaction.clip(message.data, 2000, secret)}
        return unknown
    return parse_event(body, message.event)


def iter_events(
    chunks: Iterable[bytes | str], parser: SSEParser | None = None, secret: str = ""
) -> Iterator[Any]:
    """Typed events from a stream of chunks, up to a `[DONE]` sentinel or the end."""
    for message in parse_sse(chunks, parser):
        if message.data.startswith(DONE_SENTINEL):
            return
        if (event := decode_message(message, secret)) is not None:
            yield event


def sequence_of(event: Any) -> int | None:
    """The event's sequence number when it is a usable one (a non-negative integer)."""
    value = getattr(event, "sequence_number", None)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def arrival_number(kept: Iterable[int], starting_after: int | None) -> int:
    """A number for an event that carries none (streams recorded before about April 2025
    number nothing): the one after the last kept, so the events keep their arrival order."""
    return max(kept, default=-1 if starting_after is None else starting_after) + 1


def ends_stream(kind: str) -> bool:
    """Whether nothing can follow an event of this type. An `error` can: the response's own
    final state (`response.failed`) may come right after it, so a reader keeps reading."""
    return kind in TERMINAL_TYPES and kind != "error"


# --- words -------------------------------------------------------------------------------

EVENT_LABELS: dict[str, str] = {
    "response.queued": "response queued",
    "response.created": "response created",
    "response.in_progress": "response in progress",
    "response.completed": "response completed",
    "response.failed": "response failed",
    "response.incomplete": "response incomplete",
    "error": "stream error",
    "response.output_item.added": "output item added",
    "response.output_item.done": "output item done",
    "response.content_part.added": "content part added",
    "response.content_part.done": "content part done",
    "response.output_text.delta": "text delta",
    "response.output_text.done": "text done",
    "response.output_text.annotation.added": "annotation added",
    "response.refusal.delta": "refusal delta",
    "response.refusal.done": "refusal done",
    "response.reasoning_summary_part.added": "reasoning summary part added",
    "response.reasoning_summary_part.done": "reasoning summary part done",
    "response.reasoning_summary_text.delta": "reasoning summary delta",
    "response.reasoning_summary_text.done": "reasoning summary done",
    "response.reasoning_text.delta": "reasoning text delta",
    "response.reasoning_text.done": "reasoning text done",
    "response.function_call_arguments.delta": "function-call argument delta",
    "response.function_call_arguments.done": "function-call arguments done",
    "response.custom_tool_call_input.delta": "custom-tool input delta",
    "response.custom_tool_call_input.done": "custom-tool input done",
    "response.file_search_call.in_progress": "file search started",
    "response.file_search_call.searching": "file search searching",
    "response.file_search_call.completed": "file search completed",
    "response.web_search_call.in_progress": "web search started",
    "response.web_search_call.searching": "web search searching",
    "response.web_search_call.completed": "web search completed",
    "response.code_interpreter_call.in_progress": "code interpreter started",
    "response.code_interpreter_call.interpreting": "code interpreter running the code",
    "response.code_interpreter_call.completed": "code interpreter completed",
    "response.code_interpreter_call_code.delta": "code delta",
    "response.code_interpreter_call_code.done": "code done",
    "response.image_generation_call.in_progress": "image generation started",
    "response.image_generation_call.generating": "image generation generating",
    "response.image_generation_call.partial_image": "partial image",
    "response.image_generation_call.completed": "image generation completed",
    "response.mcp_call_arguments.delta": "MCP argument delta",
    "response.mcp_call_arguments.done": "MCP arguments done",
    "response.mcp_call.in_progress": "MCP call started",
    "response.mcp_call.completed": "MCP call completed",
    "response.mcp_call.failed": "MCP call failed",
    "response.mcp_list_tools.in_progress": "MCP tool listing started",
    "response.mcp_list_tools.completed": "MCP tool listing completed",
    "response.mcp_list_tools.failed": "MCP tool listing failed",
    "response.audio.delta": "audio chunk",
    "response.audio.done": "audio done",
    "response.audio.transcript.delta": "audio transcript delta",
    "response.audio.transcript.done": "audio transcript done",
    "response.shell_call_command.added": "shell command started",
    "response.shell_call_command.delta": "shell command delta",
    "response.shell_call_command.done": "shell command done",
    "response.shell_call_output_content.delta": "shell output chunk",
    "response.shell_call_output_content.done": "shell output done",
    "response.apply_patch_call_operation_diff.delta": "patch diff delta",
    "response.apply_patch_call_operation_diff.done": "patch diff done",
    "response.compaction.compacting": "compacting the context",
    "response.steer.accepted": "steering input accepted",
    "response.steer.pending": "steering input waits",
    "response.steer.failed": "steering input refused",
}


def label_of(event_type: Any) -> str:
    return EVENT_LABELS.get(event_type, "unknown event type") if event_type else "no type"


def event_templates(event: Any) -> list[str]:
    """Candidate payload templates: the event family's, then the unknown-event card."""
    family = getattr(event, "family", "unknown")
    names = [] if family == "unknown" else [f"inspector/events/{family}.html"]
    names.append("inspector/events/_unknown.html")
    return names


# --- partial images ------------------------------------------------------------------------

#: Longest base64 image inlined as a data: URL (spec §7.5: never inline without a size cap).
MAX_INLINE_IMAGE = 8_000_000
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def image_format(response: Response | None) -> str | None:
    """The `output_format` of the response's image_generation tool, if it names one."""
    for tool in response.tools if response is not None else []:
        if getattr(tool, "type", None) == "image_generation":
            found = getattr(tool, "output_format", None)
            return found if isinstance(found, str) else None
    return None


def partial_image_url(b64: Any, output_format: str | None = None) -> str | None:
    """A data: URL for raw base64 image bytes; None when too large or not base64."""
    if not isinstance(b64, str) or not b64 or len(b64) > MAX_INLINE_IMAGE:
        return None
    if not _BASE64.fullmatch(b64):
        return None
    kind = IMAGE_TYPES.get((output_format or "png").lower(), "image/png")
    return f"data:{kind};base64,{b64}"


# --- texts rebuilt from their deltas --------------------------------------------------------

#: Delta type -> (what it rebuilds, the field that says which part of the item).
STREAMED_TEXTS: dict[str, tuple[str, str | None]] = {
    "response.output_text.delta": ("output_text", "content_index"),
    "response.refusal.delta": ("refusal", "content_index"),
    "response.reasoning_summary_text.delta": ("reasoning_summary_text", "summary_index"),
    "response.reasoning_text.delta": ("reasoning_text", "content_index"),
    "response.function_call_arguments.delta": ("function_call_arguments", None),
    "response.custom_tool_call_input.delta": ("custom_tool_call_input", None),
    "response.code_interpreter_call_code.delta": ("code_interpreter_call_code", None),
    "response.mcp_call_arguments.delta": ("mcp_call_arguments", None),
    "response.shell_call_command.delta": ("shell_call_command", "command_index"),
    "response.apply_patch_call_operation_diff.delta": ("apply_patch_operation_diff", None),
}
#: `.done` type -> the same (kind, index field) as its deltas.
DONE_TEXTS: dict[str, tuple[str, str | None]] = {
    done: STREAMED_TEXTS[done.removesuffix(".done") + ".delta"] for done in DONE_VALUE_FIELDS
}
KIND_LABELS: dict[str, str] = {
    "output_text": "Output text",
    "refusal": "Refusal",
    "reasoning_summary_text": "Reasoning summary",
    "reasoning_text": "Reasoning text",
    "function_call_arguments": "Function-call arguments",
    "custom_tool_call_input": "Custom-tool input",
    "code_interpreter_call_code": "Code interpreter code",
    "mcp_call_arguments": "MCP call arguments",
    "shell_call_command": "Shell command",
    "apply_patch_operation_diff": "Patch diff",
}
#: Where a final item keeps each text: (the list it sits in, or None; its field in an entry
#: of that list, or in the item; None: the entry itself). Dots name nested fields.
FINAL_FIELDS: dict[str, tuple[str | None, str | None]] = {
    "output_text": ("content", "text"),
    "refusal": ("content", "refusal"),
    "reasoning_summary_text": ("summary", "text"),
    "reasoning_text": ("content", "text"),
    "function_call_arguments": (None, "arguments"),
    "custom_tool_call_input": (None, "input"),
    "code_interpreter_call_code": (None, "code"),
    "mcp_call_arguments": (None, "arguments"),
    "shell_call_command": ("action.commands", None),
    "apply_patch_operation_diff": (None, "operation.diff"),
}


def first_difference(a: str, b: str) -> int | None:
    """The first character position where `a` and `b` differ, or None when equal."""
    if a == b:
        return None
    for position, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return position
    return min(len(a), len(b))


def _check(text: str, other: str | None) -> str:
    if other is None:
        return "missing"
    return "match" if text == other else "mismatch"


@dataclass
class Assembly:
    """One text rebuilt from its deltas, and what it was checked against."""

    kind: str
    output_index: int | None
    item_id: str | None
    part_index: int | None
    pieces: list[str] = field(default_factory=list)
    first_sequence_number: int | None = None
    done: str | None = None
    final: str | None = None
    final_source: str = ""

    @property
    def text(self) -> str:
        """The text rebuilt from the deltas; the `.done` value when no delta came."""
        if not self.pieces and self.done is not None:
            return self.done
        return "".join(self.pieces)

    @property
    def deltas(self) -> int:
        return len(self.pieces)

    @property
    def no_deltas(self) -> bool:
        """The server sent the whole value in its `.done` event, with no delta before it."""
        return not self.pieces and self.done is not None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def done_check(self) -> str:
        return "no_deltas" if self.no_deltas else _check(self.text, self.done)

    @property
    def final_check(self) -> str:
        return _check(self.text, self.final)

    @property
    def done_difference(self) -> int | None:
        if self.done is None or self.no_deltas:
            return None
        return first_difference(self.text, self.done)

    @property
    def final_difference(self) -> int | None:
        return None if self.final is None else first_difference(self.text, self.final)

    @property
    def mismatch(self) -> bool:
        return "mismatch" in (self.done_check, self.final_check)


def _locate(output: Sequence[Any], output_index: int | None, item_id: str | None) -> Any:
    """The item an event points at: by output_index when its id agrees, else by id."""
    if output_index is not None and 0 <= output_index < len(output):
        item = output[output_index]
        if item_id is None or getattr(item, "id", None) in (None, item_id):
            return item
    if item_id is not None:
        for item in output:
            if getattr(item, "id", None) == item_id:
                return item
    return None


def _field(holder: Any, name: str) -> Any:
    for part in name.split("."):
        holder = holder.get(part) if isinstance(holder, dict) else getattr(holder, part, None)
    return holder


def final_value(kind: str, item: Any, part_index: int | None) -> str | None:
    """The text of `kind` that a final item holds, or None when it holds none."""
    if item is None:
        return None
    parts_field, value_field = FINAL_FIELDS[kind]
    holder = item
    if parts_field is not None:
        parts = _field(item, parts_field)
        if not isinstance(parts, list) or part_index is None or not 0 <= part_index < len(parts):
            return None
        holder = parts[part_index]
    value = holder if value_field is None else _field(holder, value_field)
    return value if isinstance(value, str) else None


def assemble(events: Iterable[Any], final: Response | None = None) -> list[Assembly]:
    """Texts rebuilt from deltas, keyed by (kind, output index or item id, part index).

    Each is compared with its `.done` event and with the final response's item: the
    response of a terminal event in the stream, else `final` (a stored response that has
    finished), else the item of `response.output_item.done`.
    """
    found: dict[tuple[str, Any, Any], Assembly] = {}
    done_by_index: dict[int, Any] = {}
    done_by_id: dict[str, Any] = {}
    terminal: LifecycleEvent | None = None

    def entry(kind: str, index_field: str | None, event: Any) -> Assembly:
        place = event.output_index if event.output_index is not None else event.item_id
        part = getattr(event, index_field) if index_field else None
        key = (kind, place, part)
        if key not in found:
            found[key] = Assembly(kind, event.output_index, event.item_id, part)
        assembly = found[key]
        if assembly.first_sequence_number is None:
            assembly.first_sequence_number = event.sequence_number
        return assembly

    for event in events:
        if isinstance(event, DeltaEvent) and event.type in STREAMED_TEXTS:
            entry(*STREAMED_TEXTS[event.type], event).pieces.append(event.delta)
        elif isinstance(event, DoneEvent):
            entry(*DONE_TEXTS[event.type], event).done = event.value
        elif isinstance(event, OutputItemEvent) and event.type == "response.output_item.done":
            if event.output_index is not None:
                done_by_index[event.output_index] = event.item
            if isinstance(item_id := getattr(event.item, "id", None), str):
                done_by_id[item_id] = event.item
        elif isinstance(event, LifecycleEvent) and event.type in TERMINAL_TYPES:
            terminal = event

    for assembly in found.values():
        done_item = done_by_id.get(assembly.item_id or "")
        if done_item is None and assembly.output_index is not None:
            done_item = _locate([done_by_index.get(assembly.output_index)], 0, assembly.item_id)
        candidates: list[tuple[str, Any]] = []
        if terminal is not None:
            candidates.append(
                (
                    terminal.type,
                    _locate(terminal.response.output, assembly.output_index, assembly.item_id),
                )
            )
        if final is not None:
            candidates.append(
                (
                    "the stored response",
                    _locate(final.output, assembly.output_index, assembly.item_id),
                )
            )
        candidates.append(("response.output_item.done", done_item))
        for source, item in candidates:
            value = final_value(assembly.kind, item, assembly.part_index)
            if value is not None:
                assembly.final, assembly.final_source = value, source
                break
    return sorted(found.values(), key=lambda a: a.first_sequence_number or 0)


# --- counts, gaps and the timeline -----------------------------------------------------------

#: The first sequence number of a stream (OpenAI numbers events from 0).
FIRST_SEQUENCE_NUMBER = 0


@dataclass(frozen=True)
class TypeCount:
    type: str
    label: str
    count: int


def count_types(types: Iterable[str]) -> list[TypeCount]:
    """How many events of each type, the most frequent first."""
    counts = Counter(types)
    return [
        TypeCount(kind, label_of(kind), n)
        for kind, n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    ]


@dataclass(frozen=True)
class Gap:
    """Sequence numbers `first` to `last` (inclusive) that were never received."""

    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def find_gaps(numbers: Iterable[int], start: int | None = FIRST_SEQUENCE_NUMBER) -> list[Gap]:
    """Missing sequence numbers between those given, and before the first one from `start`."""
    gaps: list[Gap] = []
    expected = start
    for number in sorted(set(numbers)):
        if expected is not None and number > expected:
            gaps.append(Gap(expected, number - 1))
        expected = number + 1
    return gaps


@dataclass(frozen=True)
class Record:
    """One kept event as the store hands it over."""

    sequence_number: int
    type: str
    body: Any
    received_at: datetime


@dataclass
class Row:
    """One line of the timeline."""

    sequence_number: int
    type: str
    label: str
    event: Any
    offset_ms: int
    templates: list[str]
    gap: Gap | None = None
    image_url: str | None = None

    @property
    def offset_seconds(self) -> float:
        return self.offset_ms / 1000


@dataclass(frozen=True)
class StreamError:
    """An `error` event, and the final event that came after it, if one did."""

    sequence_number: int
    code: str | None
    message: str
    then: str | None = None
    then_sequence_number: int | None = None


@dataclass
class Timeline:
    rows: list[Row]
    counts: list[TypeCount]
    gaps: list[Gap]
    assemblies: list[Assembly]
    total: int
    first: int | None
    last: int | None
    duration_ms: int | None
    terminal: str | None
    status: str | None
    #: Events that carried no sequence number: numbered by their arrival when kept.
    unsequenced: int = 0
    #: The stream's first `error` event, and what ended the stream after it.
    error: StreamError | None = None

    @property
    def mismatches(self) -> int:
        return sum(1 for a in self.assemblies if a.mismatch)

    @property
    def missing(self) -> int:
        return sum(g.count for g in self.gaps)

    @property
    def duration_seconds(self) -> float:
        return (self.duration_ms or 0) / 1000


def build_timeline(
    records: Sequence[Record],
    *,
    final: Response | None = None,
    after: int | None = None,
    default_image_format: str | None = None,
) -> Timeline:
    """Everything the events page shows; `rows` only for events after `after` (if given)."""
    ordered = sorted(records, key=lambda r: r.sequence_number)
    events = [parse_event(r.body, r.type or None) for r in ordered]
    unsequenced = 0
    for record, event in zip(ordered, events, strict=True):
        if sequence_of(event) is None:
            unsequenced += 1
            event.sequence_number = record.sequence_number  # its arrival number
    origin = ordered[0].received_at if ordered else None
    gaps = find_gaps(r.sequence_number for r in ordered)
    gap_before = {gap.last + 1: gap for gap in gaps}
    rows: list[Row] = []
    terminal: str | None = None
    status: str | None = None
    error: StreamError | None = None
    for record, event in zip(ordered, events, strict=True):
        kind = getattr(event, "type", None) or record.type
        if isinstance(event, LifecycleEvent):
            status = event.response.status or status
        if kind in TERMINAL_TYPES and not isinstance(event, UnknownEvent):
            terminal = kind
            if isinstance(event, ErrorEvent) and error is None:
                error = StreamError(record.sequence_number, event.code, event.message)
            elif error is not None and error.then is None:
                error = replace(error, then=kind, then_sequence_number=record.sequence_number)
        if after is not None and record.sequence_number <= after:
            continue
        image = None
        if isinstance(event, PartialImageEvent):
            image = partial_image_url(
                event.partial_image_b64, event.output_format or default_image_format
            )
        offset = (record.received_at - origin).total_seconds() if origin else 0.0
        rows.append(
            Row(
                sequence_number=record.sequence_number,
                type=str(kind or ""),
                label=label_of(kind),
                event=event,
                offset_ms=max(0, round(offset * 1000)),
                templates=event_templates(event),
                gap=gap_before.get(record.sequence_number),
                image_url=image,
            )
        )
    duration = None
    if ordered and origin is not None:
        duration = round((ordered[-1].received_at - origin).total_seconds() * 1000)
    return Timeline(
        rows=rows,
        counts=count_types(
            str(getattr(e, "type", None) or r.type) for r, e in zip(ordered, events, strict=True)
        ),
        gaps=gaps,
        assemblies=assemble(events, final),
        total=len(ordered),
        first=ordered[0].sequence_number if ordered else None,
        last=ordered[-1].sequence_number if ordered else None,
        duration_ms=duration,
        terminal=terminal,
        status=status,
        unsequenced=unsequenced,
        error=error,
    )


# --- live following ------------------------------------------------------------------------

#: Response statuses that can still produce events (spec §2.1).
LIVE_STATUSES = frozenset({"queued", "in_progress"})
#: Consecutive failed reads after which following stops and offers a button instead.
MAX_FOLLOW_FAILURES = 5


def follow_on_load(*, status: str | None, terminal: str | None, total: int) -> bool:
    """Whether the page starts following: the response is live, or a stream was left open."""
    if terminal is not None:
        return False
    return status in LIVE_STATUSES or total > 0


def keep_following(*, ended: str, status: str | None, terminal: str | None, failures: int) -> bool:
    """After one bounded read (`ended`: terminal, time, closed, dropped or failed)."""
    if terminal is not None or ended in ("terminal", "failed"):
        return False
    if failures >= MAX_FOLLOW_FAILURES:
        return False
    # The server closed the stream without a terminal event: over, unless still running.
    return not (ended == "closed" and status not in LIVE_STATUSES)


def next_poll_delay_ms(*, ended: str, failures: int, quiet: int) -> int:
    """How long the page waits before the next read.

    A read that ran to its time bound was listening all along, so the next starts at once;
    a read the server closed at once, or that failed, backs off so nothing is hammered.
    """
    if failures:
        return min(500 << min(failures - 1, 4), 8000)
    if ended == "closed":
        return min(500 << min(quiet, 4), 8000)
    return 100


@dataclass(frozen=True)
class Follow:
    """The page's live-follow state, carried from one poll to the next in the poll's form."""

    active: bool
    shown: int | None = None  # the last sequence number the page shows
    failures: int = 0  # reads in a row that failed without a new event
    quiet: int = 0  # reads in a row the server closed at once without a new event
    dropped: bool = False  # the last read lost its connection (the next one resumes)
    delay_ms: int = 100


def follow_start(timeline: Timeline, status: str | None) -> Follow:
    return Follow(
        active=follow_on_load(status=status, terminal=timeline.terminal, total=timeline.total),
        shown=timeline.last,
    )


def follow_next(previous: Follow, *, ended: str, timeline: Timeline, status: str | None) -> Follow:
    """The state after one bounded read that `ended` as it did."""
    new = timeline.last is not None and (previous.shown is None or timeline.last > previous.shown)
    failed = ended in ("dropped", "failed") and not new
    failures = previous.failures + 1 if failed else 0
    quiet = previous.quiet + 1 if ended == "closed" and not new else 0
    return Follow(
        active=keep_following(
            ended=ended, status=status, terminal=timeline.terminal, failures=failures
        ),
        shown=timeline.last if timeline.last is not None else previous.shown,
        failures=failures,
        quiet=quiet,
        dropped=ended == "dropped",
        delay_ms=next_poll_delay_ms(ended=ended, failures=failures, quiet=quiet),
    )
