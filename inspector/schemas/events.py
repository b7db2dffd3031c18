"""Stream events (spec §6): one class per event family, `type` spelled as on the wire.

The 53 types of spec §6.2 fall into 11 families; the openai SDK 3.57 adds 9 (shell commands
and their output, compaction, steering) and OpenAI's apply_patch streams 2 more (the
operation's diff, which that SDK does not define yet), in 3 more families. Anything else (a
newer type, or a known type whose payload does not fit) becomes an `UnknownEvent` and is
shown as JSON. Events carry `sequence_number`, except those of streams recorded before about
April 2025 (events.py numbers those by arrival); `obfuscation` padding (spec §1.1) and
fields newer than the spec are kept by `extra="allow"` and otherwise ignored.
"""

from typing import Any, ClassVar, Literal

from pydantic import TypeAdapter

from .base import Schema, Unknown, tagged_union
from .content import Annotation, ContentPart
from .items import Item, ShellOutputChunk
from .response import Response


class UnknownEvent(Unknown):
    family: ClassVar[str] = "unknown"
    # Whatever was sent: an unknown event may carry anything here, or nothing.
    sequence_number: Any = None


class LifecycleEvent(Schema):
    """A snapshot of the whole response at a turning point of its life."""

    family: ClassVar[str] = "lifecycle"
    type: Literal[
        "response.queued",
        "response.created",
        "response.in_progress",
        "response.completed",
        "response.failed",
        "response.incomplete",
    ]
    sequence_number: int | None = None
    response: Response


class ErrorEvent(Schema):
    # A looser shape than Response.error: every field but `message` may be missing (spec §6.2).
    family: ClassVar[str] = "error"
    type: Literal["error"]
    sequence_number: int | None = None
    code: str | None = None
    message: str = ""
    param: str | None = None


class OutputItemEvent(Schema):
    family: ClassVar[str] = "output_item"
    type: Literal["response.output_item.added", "response.output_item.done"]
    sequence_number: int | None = None
    output_index: int | None = None
    item: Item


class ContentPartEvent(Schema):
    family: ClassVar[str] = "content_part"
    type: Literal["response.content_part.added", "response.content_part.done"]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None
    content_index: int | None = None
    part: ContentPart


class SummaryPartEvent(Schema):
    family: ClassVar[str] = "summary_part"
    type: Literal["response.reasoning_summary_part.added", "response.reasoning_summary_part.done"]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None
    summary_index: int | None = None
    part: ContentPart


class DeltaEvent(Schema):
    """An append-only text fragment; which index locates it depends on the type (spec §6.1)."""

    family: ClassVar[str] = "delta"
    type: Literal[
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.function_call_arguments.delta",
        "response.custom_tool_call_input.delta",
        "response.code_interpreter_call_code.delta",
        "response.mcp_call_arguments.delta",
        "response.audio.transcript.delta",
        "response.shell_call_command.delta",
        "response.apply_patch_call_operation_diff.delta",
    ]
    sequence_number: int | None = None
    delta: str
    item_id: str | None = None
    output_index: int | None = None
    content_index: int | None = None
    summary_index: int | None = None
    command_index: int | None = None
    # Stream logprobs have no `bytes` (spec §6.2); only counted here.
    logprobs: list[Any] | None = None


#: The field of each `.done` event that repeats the whole final value (spec §6.1).
DONE_VALUE_FIELDS: dict[str, str] = {
    "response.output_text.done": "text",
    "response.refusal.done": "refusal",
    "response.reasoning_summary_text.done": "text",
    "response.reasoning_text.done": "text",
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
    "response.code_interpreter_call_code.done": "code",
    "response.mcp_call_arguments.done": "arguments",
    "response.shell_call_command.done": "command",
    "response.apply_patch_call_operation_diff.done": "diff",
}


class DoneEvent(Schema):
    """The authoritative final value of a streamed text (spec §6.1: treat `.done` as truth)."""

    family: ClassVar[str] = "done"
    type: Literal[
        "response.output_text.done",
        "response.refusal.done",
        "response.reasoning_summary_text.done",
        "response.reasoning_text.done",
        "response.function_call_arguments.done",
        "response.custom_tool_call_input.done",
        "response.code_interpreter_call_code.done",
        "response.mcp_call_arguments.done",
        "response.shell_call_command.done",
        "response.apply_patch_call_operation_diff.done",
    ]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None
    content_index: int | None = None
    summary_index: int | None = None
    command_index: int | None = None
    text: str | None = None
    refusal: str | None = None
    arguments: str | None = None
    input: str | None = None
    code: str | None = None
    command: str | None = None
    diff: str | None = None
    name: str | None = None

    @property
    def value(self) -> str | None:
        found = getattr(self, DONE_VALUE_FIELDS[self.type], None)
        return found if isinstance(found, str) else None


class AnnotationAddedEvent(Schema):
    family: ClassVar[str] = "annotation"
    type: Literal["response.output_text.annotation.added"]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None
    content_index: int | None = None
    annotation_index: int | None = None
    annotation: Annotation | None = None


class ProgressEvent(Schema):
    """A hosted tool's or MCP call's step: only where it happened, no payload (spec §6.2)."""

    family: ClassVar[str] = "progress"
    type: Literal[
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
        "response.code_interpreter_call.in_progress",
        "response.code_interpreter_call.interpreting",
        "response.code_interpreter_call.completed",
        "response.image_generation_call.in_progress",
        "response.image_generation_call.generating",
        "response.image_generation_call.completed",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_list_tools.failed",
        "response.compaction.compacting",
    ]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None

    @property
    def tool(self) -> str:
        """The item type the step belongs to: `web_search_call`, `mcp_list_tools` ..."""
        return self.type.split(".")[1]

    @property
    def stage(self) -> str:
        return self.type.rsplit(".", 1)[1]


class PartialImageEvent(Schema):
    family: ClassVar[str] = "partial_image"
    type: Literal["response.image_generation_call.partial_image"]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None
    # Raw base64 without a data: prefix (spec §7.5).
    partial_image_b64: str
    partial_image_index: int | None = None
    # Newer than the spec (the SDK has it); png when absent.
    output_format: str | None = None


class AudioEvent(Schema):
    # No item_id or output_index on these (spec §6.2); the delta is base64 audio bytes.
    family: ClassVar[str] = "audio"
    type: Literal["response.audio.delta", "response.audio.done", "response.audio.transcript.done"]
    sequence_number: int | None = None
    delta: str | None = None


class ShellCommandEvent(Schema):
    """A shell_call's command begins (its text follows in deltas, then a `.done`)."""

    family: ClassVar[str] = "shell_command"
    type: Literal["response.shell_call_command.added"]
    sequence_number: int | None = None
    output_index: int | None = None
    command_index: int | None = None
    command: str = ""


class ShellOutputDelta(Schema):
    stdout: str | None = None
    stderr: str | None = None


class ShellOutputEvent(Schema):
    """Output of a hosted shell's command as it runs, then all of it with its outcome."""

    family: ClassVar[str] = "shell_output"
    type: Literal[
        "response.shell_call_output_content.delta", "response.shell_call_output_content.done"
    ]
    sequence_number: int | None = None
    item_id: str | None = None
    output_index: int | None = None
    command_index: int | None = None
    delta: ShellOutputDelta | None = None
    output: list[ShellOutputChunk] | None = None


class SteerEvent(Schema):
    """What became of input sent to a running response (`response.steer`, WebSocket mode)."""

    family: ClassVar[str] = "steer"
    type: Literal["response.steer.accepted", "response.steer.pending", "response.steer.failed"]
    sequence_number: int | None = None
    # {id, previous_response_id} and, when it failed, the `input` that was sent.
    steer: dict[str, Any] | None = None
    # pending: why it waits, and the outputs it waits for ({type, call_id, name?}).
    reason: str | None = None
    required_input: list[dict[str, Any]] | None = None
    # failed: {type, code, message}
    error: dict[str, Any] | None = None
    stream_id: str | None = None


EVENT_CLASSES: list[type[Schema]] = [
    LifecycleEvent,
    ErrorEvent,
    OutputItemEvent,
    ContentPartEvent,
    SummaryPartEvent,
    DeltaEvent,
    DoneEvent,
    AnnotationAddedEvent,
    ProgressEvent,
    PartialImageEvent,
    AudioEvent,
    ShellCommandEvent,
    ShellOutputEvent,
    SteerEvent,
]

#: Every event `type` of spec §6.2 (53 of them) and the 11 newer ones, in class order.
EVENT_TYPES: tuple[str, ...] = tuple(
    value
    for cls in EVENT_CLASSES
    for value in cls.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
)

#: Types that end a stream: the response reached a final state, or the stream failed.
TERMINAL_TYPES: frozenset[str] = frozenset(
    {"response.completed", "response.failed", "response.incomplete", "error"}
)

StreamEvent = tagged_union(EVENT_CLASSES, UnknownEvent)
event_adapter: TypeAdapter[Schema] = TypeAdapter(StreamEvent)

__all__ = [
    "DONE_VALUE_FIELDS",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "TERMINAL_TYPES",
    "AnnotationAddedEvent",
    "AudioEvent",
    "ContentPartEvent",
    "DeltaEvent",
    "DoneEvent",
    "ErrorEvent",
    "LifecycleEvent",
    "OutputItemEvent",
    "PartialImageEvent",
    "ProgressEvent",
    "ShellCommandEvent",
    "ShellOutputEvent",
    "SteerEvent",
    "StreamEvent",
    "SummaryPartEvent",
    "UnknownEvent",
    "event_adapter",
]
