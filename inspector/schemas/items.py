"""Items: one class per `type` of spec §3 (output) and §4 (input); both forms in one class.

Input forms make `id` and `status` optional where output forms require them (spec §4.5), so
every class here accepts both.
"""

from typing import TYPE_CHECKING, Any, Literal

from .base import Schema, Unknown, literal_values, tagged_union, type_names, type_of
from .content import ContentPart, ReasoningTextPart, SummaryTextPart
from .environments import Environment
from .tools import TextFormat, Tool


class UnknownItem(Unknown):
    id: str | None = None


# --- messages ---------------------------------------------------------------------------


class MessageItem(Schema):
    type: Literal["message"] = "message"
    id: str | None = None
    role: str = "user"
    status: str | None = None
    content: str | list[ContentPart] = []
    # commentary (working notes before the answer) or final_answer; newer than the seeds.
    phase: str | None = None


class Caller(Schema):
    """Who made a tool call: the model itself (`direct`) or a `program` item's code."""

    type: str = "direct"
    # The call_id of the program item whose code made the call.
    caller_id: str | None = None


# --- function and custom tools -----------------------------------------------------------


class FunctionCallItem(Schema):
    type: Literal["function_call"]
    id: str | None = None
    call_id: str
    name: str
    arguments: str = ""
    status: str | None = None
    # The tool's namespace tool (or, found by tool_search, its group), and who called it.
    namespace: str | None = None
    caller: Caller | None = None


class FunctionCallOutputItem(Schema):
    type: Literal["function_call_output"]
    id: str | None = None
    # Optional in the output form of the openai SDK 3.57.
    call_id: str | None = None
    output: str | list[ContentPart] = ""
    status: str | None = None
    caller: Caller | None = None


class CustomToolCallItem(Schema):
    type: Literal["custom_tool_call"]
    id: str | None = None
    call_id: str
    name: str
    input: str = ""
    namespace: str | None = None
    caller: Caller | None = None


class CustomToolCallOutputItem(Schema):
    type: Literal["custom_tool_call_output"]
    id: str | None = None
    call_id: str
    output: str | list[ContentPart] = ""
    caller: Caller | None = None


# --- hosted search -------------------------------------------------------------------------


class FileSearchResult(Schema):
    file_id: str | None = None
    filename: str | None = None
    score: float | None = None
    text: str | None = None
    attributes: dict[str, Any] | None = None


class FileSearchCallItem(Schema):
    type: Literal["file_search_call"]
    id: str | None = None
    queries: list[str] = []
    status: str | None = None
    results: list[FileSearchResult] | None = None


class UnknownWebSearchAction(Unknown):
    pass


class WebSearchSource(Schema):
    type: str | None = None
    url: str | None = None


class WebSearchSearchAction(Schema):
    type: Literal["search"]
    query: str | None = None
    queries: list[str] | None = None
    sources: list[WebSearchSource] | None = None


class WebSearchOpenPageAction(Schema):
    type: Literal["open_page"]
    url: str | None = None


class WebSearchFindAction(Schema):
    # Older SDKs say "find", the Go page and newer docs "find_in_page" (wire-behaviour.md).
    type: Literal["find_in_page", "find"]
    pattern: str | None = None
    url: str | None = None


if TYPE_CHECKING:
    WebSearchAction = Schema
else:
    WebSearchAction = tagged_union(
        [WebSearchSearchAction, WebSearchOpenPageAction, WebSearchFindAction],
        UnknownWebSearchAction,
    )


class WebSearchCallItem(Schema):
    type: Literal["web_search_call"]
    id: str | None = None
    status: str | None = None
    action: WebSearchAction | None = None


# --- computer use ------------------------------------------------------------------------


class Point(Schema):
    x: int = 0
    y: int = 0


class UnknownComputerAction(Unknown):
    pass


class ClickAction(Schema):
    type: Literal["click"]
    button: str = "left"
    x: int = 0
    y: int = 0


class DoubleClickAction(Schema):
    type: Literal["double_click"]
    x: int = 0
    y: int = 0


class DragAction(Schema):
    type: Literal["drag"]
    path: list[Point] = []


class KeypressAction(Schema):
    type: Literal["keypress"]
    keys: list[str] = []


class MoveAction(Schema):
    type: Literal["move"]
    x: int = 0
    y: int = 0


class ScreenshotAction(Schema):
    type: Literal["screenshot"]


class ScrollAction(Schema):
    type: Literal["scroll"]
    x: int = 0
    y: int = 0
    scroll_x: int = 0
    scroll_y: int = 0


class TypeAction(Schema):
    type: Literal["type"]
    text: str = ""


class WaitAction(Schema):
    type: Literal["wait"]


if TYPE_CHECKING:
    ComputerAction = Schema
else:
    ComputerAction = tagged_union(
        [
            ClickAction,
            DoubleClickAction,
            DragAction,
            KeypressAction,
            MoveAction,
            ScreenshotAction,
            ScrollAction,
            TypeAction,
            WaitAction,
        ],
        UnknownComputerAction,
    )


class SafetyCheck(Schema):
    id: str = ""
    code: str | None = None
    message: str | None = None


class ComputerCallItem(Schema):
    type: Literal["computer_call"]
    id: str | None = None
    call_id: str
    action: ComputerAction | None = None
    # The GA computer tool sends a batch of actions, done in order, instead of one.
    actions: list[ComputerAction] | None = None
    pending_safety_checks: list[SafetyCheck] = []
    status: str | None = None


class ComputerCallOutputItem(Schema):
    type: Literal["computer_call_output"]
    id: str | None = None
    call_id: str
    output: ContentPart | None = None
    acknowledged_safety_checks: list[SafetyCheck] | None = None
    status: str | None = None


# --- reasoning and compaction ------------------------------------------------------------


class ReasoningItem(Schema):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryTextPart] = []
    content: list[ReasoningTextPart] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class CompactionItem(Schema):
    type: Literal["compaction"]
    id: str | None = None
    encrypted_content: str = ""
    created_by: str | None = None


# --- hosted tools ------------------------------------------------------------------------


class ImageGenerationCallItem(Schema):
    type: Literal["image_generation_call"]
    id: str | None = None
    status: str | None = None
    result: str | None = None


class CodeInterpreterOutput(Schema):
    type: str = "logs"
    logs: str | None = None
    url: str | None = None


class CodeInterpreterCallItem(Schema):
    type: Literal["code_interpreter_call"]
    id: str | None = None
    code: str | None = None
    container_id: str | None = None
    outputs: list[CodeInterpreterOutput] | None = None
    status: str | None = None


# --- shells and patches ------------------------------------------------------------------


class LocalShellExecAction(Schema):
    type: str = "exec"
    command: list[str] = []
    env: dict[str, str] | None = None
    timeout_ms: int | None = None
    user: str | None = None
    working_directory: str | None = None


class LocalShellCallItem(Schema):
    type: Literal["local_shell_call"]
    id: str | None = None
    call_id: str | None = None
    action: LocalShellExecAction | None = None
    status: str | None = None


class LocalShellCallOutputItem(Schema):
    # No call_id: `id` carries the id of the local shell call it answers (spec §7.10).
    type: Literal["local_shell_call_output"]
    id: str | None = None
    output: str = ""
    status: str | None = None


class ShellAction(Schema):
    commands: list[str] = []
    max_output_length: int | None = None
    timeout_ms: int | None = None


class ShellCallItem(Schema):
    type: Literal["shell_call"]
    id: str | None = None
    call_id: str
    action: ShellAction | None = None
    status: str | None = None
    created_by: str | None = None
    # Where the commands run: `local` (the caller's machine) or a `container_reference`.
    environment: Environment | None = None
    caller: Caller | None = None


class ShellOutcome(Schema):
    type: str = "exit"
    exit_code: int | None = None


class ShellOutputChunk(Schema):
    stdout: str = ""
    stderr: str = ""
    outcome: ShellOutcome | None = None
    created_by: str | None = None


class ShellCallOutputItem(Schema):
    type: Literal["shell_call_output"]
    id: str | None = None
    call_id: str
    output: list[ShellOutputChunk] = []
    max_output_length: int | None = None
    status: str | None = None
    created_by: str | None = None
    caller: Caller | None = None


class UnknownPatchOperation(Unknown):
    pass


class CreateFileOperation(Schema):
    type: Literal["create_file"]
    path: str = ""
    diff: str = ""


class UpdateFileOperation(Schema):
    type: Literal["update_file"]
    path: str = ""
    diff: str = ""


class DeleteFileOperation(Schema):
    type: Literal["delete_file"]
    path: str = ""


if TYPE_CHECKING:
    PatchOperation = Schema
else:
    PatchOperation = tagged_union(
        [CreateFileOperation, UpdateFileOperation, DeleteFileOperation], UnknownPatchOperation
    )


class ApplyPatchCallItem(Schema):
    type: Literal["apply_patch_call"]
    id: str | None = None
    call_id: str
    operation: PatchOperation | None = None
    status: str | None = None
    created_by: str | None = None
    caller: Caller | None = None


class ApplyPatchCallOutputItem(Schema):
    type: Literal["apply_patch_call_output"]
    id: str | None = None
    call_id: str
    status: str | None = None
    output: str | None = None
    created_by: str | None = None
    caller: Caller | None = None


# --- MCP ---------------------------------------------------------------------------------


class McpToolInfo(Schema):
    name: str = ""
    input_schema: Any = None
    description: str | None = None
    annotations: Any = None


class McpListToolsItem(Schema):
    type: Literal["mcp_list_tools"]
    id: str | None = None
    server_label: str = ""
    tools: list[McpToolInfo] = []
    error: Any = None


class McpCallItem(Schema):
    type: Literal["mcp_call"]
    id: str | None = None
    server_label: str = ""
    name: str = ""
    arguments: str = ""
    approval_request_id: str | None = None
    output: str | None = None
    # A string in the seeds, an object in newer API versions (wire-behaviour.md).
    error: Any = None
    status: str | None = None


class McpApprovalRequestItem(Schema):
    type: Literal["mcp_approval_request"]
    id: str | None = None
    server_label: str = ""
    name: str = ""
    arguments: str = ""


class McpApprovalResponseItem(Schema):
    type: Literal["mcp_approval_response"]
    id: str | None = None
    approval_request_id: str
    approve: bool
    reason: str | None = None


class ItemReferenceItem(Schema):
    type: Literal["item_reference"] = "item_reference"
    id: str


# --- tool search, programs and mid-conversation changes (newer than the seeds) -----------


class ToolSearchCallItem(Schema):
    """The model looks for deferred tools (`defer_loading`) among the request's tools.

    `execution` "server": the API searched, and its tool_search_output follows at once,
    both with a null call_id; "client": the caller searches and answers by call_id.
    """

    type: Literal["tool_search_call"]
    id: str | None = None
    call_id: str | None = None
    # An object (what the model searched for, e.g. {"paths": [...]}), not a JSON string.
    arguments: Any = None
    execution: str | None = None
    status: str | None = None
    created_by: str | None = None


class ToolSearchOutputItem(Schema):
    type: Literal["tool_search_output"]
    id: str | None = None
    call_id: str | None = None
    execution: str | None = None
    status: str | None = None
    # The tool definitions the search loaded: from here on the model may call them.
    tools: list[Tool] = []
    created_by: str | None = None


class ProgramItem(Schema):
    """JavaScript the model wrote for the programmatic_tool_calling tool; its tool calls
    carry `caller: {"type": "program", "caller_id": <this call_id>}`."""

    type: Literal["program"]
    id: str | None = None
    call_id: str
    code: str = ""
    # Opaque; the caller sends it back unchanged to replay the program.
    fingerprint: str | None = None


class ProgramOutputItem(Schema):
    type: Literal["program_output"]
    id: str | None = None
    call_id: str
    result: str = ""
    status: str | None = None


class AdditionalToolsItem(Schema):
    """Tools made available from this point of the conversation on."""

    type: Literal["additional_tools"]
    id: str | None = None
    role: str | None = None
    tools: list[Tool] = []


class ConfigurationEffort(Schema):
    effort: str | None = None


class ConfigurationText(Schema):
    format: TextFormat | None = None


class ConfigurationUpdateItem(Schema):
    """Settings changed from this point of the conversation on."""

    type: Literal["configuration_update"]
    id: str | None = None
    reasoning: ConfigurationEffort | None = None
    text: ConfigurationText | None = None


class CompactionTriggerItem(Schema):
    """An input item that asks the API to compact the context at this point."""

    type: Literal["compaction_trigger"]
    id: str | None = None


ITEM_CLASSES: list[type[Schema]] = [
    MessageItem,
    FileSearchCallItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    WebSearchCallItem,
    ComputerCallItem,
    ComputerCallOutputItem,
    ReasoningItem,
    CompactionItem,
    ImageGenerationCallItem,
    CodeInterpreterCallItem,
    LocalShellCallItem,
    LocalShellCallOutputItem,
    ShellCallItem,
    ShellCallOutputItem,
    ApplyPatchCallItem,
    ApplyPatchCallOutputItem,
    McpCallItem,
    McpListToolsItem,
    McpApprovalRequestItem,
    McpApprovalResponseItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    ItemReferenceItem,
    ToolSearchCallItem,
    ToolSearchOutputItem,
    ProgramItem,
    ProgramOutputItem,
    AdditionalToolsItem,
    ConfigurationUpdateItem,
    CompactionTriggerItem,
]

#: Every item `type` string this dashboard renders with a template of its own.
ITEM_TYPES = type_names(ITEM_CLASSES)
#: Every item `type` string (dated aliases too) -> the class that reads it.
ITEM_CLASS_OF: dict[str, type[Schema]] = {
    value: cls for cls in ITEM_CLASSES for value in literal_values(cls)
}
#: Types whose `id` is another item's id (spec §4.1 row 26, §7.10), so never their own.
BORROWED_ID_TYPES = frozenset(type_names([ItemReferenceItem, LocalShellCallOutputItem]))


def item_class(item: Any) -> type[Schema] | None:
    """The class of the type an item was sent as: its own, or for one that did not fit it (an
    UnknownItem with an invalid_reason) the class its `type` names; None for a type this
    dashboard does not know. Pairing and the audit go by it, so a malformed call still
    pairs with its answer."""
    if isinstance(item, Unknown):
        return ITEM_CLASS_OF.get(item.type) if isinstance(item.type, str) else None
    return type(item) if isinstance(item, Schema) else None


def item_tag(value: Any) -> Any:
    """`type`, or what an input item without one is (spec §4.2, §4.1 row 26)."""
    tag = type_of(value)
    if tag is None and isinstance(value, dict):
        if "role" in value:
            return "message"
        if set(value) == {"id"}:
            return "item_reference"
    return tag


if TYPE_CHECKING:
    Item = Schema
else:
    Item = tagged_union(ITEM_CLASSES, UnknownItem, tag_of=item_tag)
