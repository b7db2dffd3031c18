"""Tool definitions (spec §5.1, §5.2). tool_choice stays a string or a loose object (§5.3).

Newer than the seeds (the openai SDK 3.57): the GA `computer` tool, `tool_search` (tools
marked `defer_loading` are found by a search before the model may call them), `namespace`
(function and custom tools grouped under one name), `programmatic_tool_calling` (the model
writes a program that calls tools marked `allowed_callers: ["programmatic"]`), and the shell
tool's `environment` (inspector/schemas/environments.py).
"""

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .base import Schema, Unknown, tagged_union, type_names
from .environments import Environment


class UnknownTool(Unknown):
    pass


class FunctionTool(Schema):
    type: Literal["function"]
    name: str = ""
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    # "direct" (the model calls it) and/or "programmatic" (a program item's code does).
    allowed_callers: list[str] | None = None
    # Hidden from the model until a tool_search finds it.
    defer_loading: bool | None = None
    # Its output may come back in a later response rather than the next one.
    is_async: bool | None = Field(default=None, alias="async")
    output_schema: dict[str, Any] | None = None


class FileSearchTool(Schema):
    type: Literal["file_search"]
    vector_store_ids: list[str] = []
    filters: Any = None
    max_num_results: int | None = None
    ranking_options: dict[str, Any] | None = None


class ComputerTool(Schema):
    # The dated spelling was seen in a real stream of March 2025.
    type: Literal["computer_use_preview", "computer-use-preview-2025-03-11"]
    display_width: int | None = None
    display_height: int | None = None
    environment: str | None = None


class UserLocation(Schema):
    type: str | None = None
    city: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None


class WebSearchTool(Schema):
    type: Literal["web_search", "web_search_2025_08_26"]
    filters: dict[str, Any] | None = None
    search_context_size: str | None = None
    user_location: UserLocation | None = None


class WebSearchPreviewTool(Schema):
    type: Literal["web_search_preview", "web_search_preview_2025_03_11"]
    search_context_size: str | None = None
    user_location: UserLocation | None = None


class GaComputerTool(Schema):
    """The generally available computer tool: no display size or environment to set."""

    type: Literal["computer"]


class McpTool(Schema):
    type: Literal["mcp"]
    server_label: str = ""
    server_url: str | None = None
    connector_id: str | None = None
    # Secrets (spec §7.15): kept in the store, masked on every page and in exports.
    authorization: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | dict[str, Any] | None = None
    require_approval: str | dict[str, Any] | None = None
    server_description: str | None = None
    allowed_callers: list[str] | None = None
    defer_loading: bool | None = None


class CodeInterpreterTool(Schema):
    type: Literal["code_interpreter"]
    container: str | dict[str, Any] | None = None
    allowed_callers: list[str] | None = None


class ImageGenerationTool(Schema):
    type: Literal["image_generation"]
    action: str | None = None
    background: str | None = None
    input_fidelity: str | None = None
    input_image_mask: dict[str, Any] | None = None
    model: str | None = None
    moderation: str | None = None
    output_compression: int | None = None
    output_format: str | None = None
    partial_images: int | None = None
    quality: str | None = None
    size: str | None = None


class LocalShellTool(Schema):
    type: Literal["local_shell"]


class ShellTool(Schema):
    type: Literal["shell"]
    environment: Environment | None = None
    allowed_callers: list[str] | None = None


class CustomToolFormat(Schema):
    type: str = "text"
    syntax: str | None = None
    definition: str | None = None


class CustomTool(Schema):
    type: Literal["custom"]
    name: str = ""
    description: str | None = None
    format: CustomToolFormat | None = None
    allowed_callers: list[str] | None = None
    defer_loading: bool | None = None
    is_async: bool | None = Field(default=None, alias="async")


class ApplyPatchTool(Schema):
    type: Literal["apply_patch"]
    allowed_callers: list[str] | None = None


class ToolSearchTool(Schema):
    type: Literal["tool_search"]
    description: str | None = None
    # "server" (the API searches the request's deferred tools) or "client" (the caller does).
    execution: str | None = None
    parameters: Any = None


if TYPE_CHECKING:
    NamespacedTool = Schema
else:
    NamespacedTool = tagged_union([FunctionTool, CustomTool], UnknownTool)


class NamespaceTool(Schema):
    type: Literal["namespace"]
    name: str = ""
    description: str | None = None
    tools: list[NamespacedTool] = []


class ProgrammaticToolCallingTool(Schema):
    type: Literal["programmatic_tool_calling"]


TOOL_CLASSES: list[type[Schema]] = [
    FunctionTool,
    FileSearchTool,
    ComputerTool,
    WebSearchTool,
    WebSearchPreviewTool,
    McpTool,
    CodeInterpreterTool,
    ImageGenerationTool,
    LocalShellTool,
    ShellTool,
    CustomTool,
    ApplyPatchTool,
    GaComputerTool,
    ToolSearchTool,
    NamespaceTool,
    ProgrammaticToolCallingTool,
]
TOOL_TYPES = type_names(TOOL_CLASSES)
if TYPE_CHECKING:
    Tool = Schema
else:
    Tool = tagged_union(TOOL_CLASSES, UnknownTool)


class TextFormat(Schema):
    type: str = "text"
    name: str | None = None
    description: str | None = None
    # `schema` would shadow a BaseModel attribute; the wire name stays "schema".
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None
