"""Every type the installed openai SDK defines has a schema class and a template of its own.

The type lists are read from the SDK's own unions (never typed here), so a newer SDK that
adds an item, tool, content part, annotation, stream event or shell environment fails these
tests until the dashboard has a class and a template (or an event explainer) for it. The last
test reads every `type` literal the SDK exports at all, so a type that arrives outside those
unions (ResponseInputAudio belongs to none) cannot slip past either.
"""

import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pydantic
import pytest
from openai.types import responses as sdk

from inspector import describe, events
from inspector.schemas import ITEM_TYPES, item_adapter
from inspector.schemas.base import Unknown, literal_values
from inspector.schemas.content import PART_CLASSES, PART_TYPES, Annotation
from inspector.schemas.environments import ENVIRONMENT_CLASSES, Skill
from inspector.schemas.events import EVENT_CLASSES, EVENT_TYPES, event_adapter
from inspector.schemas.tools import TOOL_CLASSES, TOOL_TYPES
from tests.test_demo_data_matches_openai_types import (
    SPEC_INPUT_ITEM_TYPES,
    SPEC_OUTPUT_ITEM_TYPES,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "inspector"


def models_in(annotation: Any) -> list[type[pydantic.BaseModel]]:
    """The pydantic classes a (possibly nested) union, list or Annotated holds."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in models_in(arg)]


def type_literals(model: type[pydantic.BaseModel]) -> set[str]:
    field = model.model_fields.get("type")
    if field is None:
        return set()
    found: set[str] = set()
    stack = [field.annotation]
    while stack:
        annotation = stack.pop()
        if get_origin(annotation) is Literal:
            found.update(v for v in get_args(annotation) if isinstance(v, str))
        else:
            stack.extend(get_args(annotation))
    return found


def union_types(*unions: Any) -> set[str]:
    return {v for union in unions for model in models_in(union) for v in type_literals(model)}


def field_of(model: type[pydantic.BaseModel], name: str) -> Any:
    return model.model_fields[name].annotation


SDK_ITEMS = union_types(sdk.ResponseOutputItem, sdk.ResponseItem, sdk.ResponseInputItem)
SDK_TOOLS = union_types(sdk.Tool)
SDK_ANNOTATIONS = union_types(field_of(sdk.ResponseOutputText, "annotations"))
SDK_PARTS = union_types(
    sdk.ResponseInputContent,
    sdk.ResponseInputMessageContentList,
    field_of(sdk.ResponseOutputMessage, "content"),
    field_of(sdk.ResponseContentPartAddedEvent, "part"),
    field_of(sdk.ResponseReasoningItem, "summary"),
    field_of(sdk.ResponseReasoningItem, "content"),
    field_of(sdk.ResponseComputerToolCallOutputItem, "output"),
    field_of(sdk.ResponseFunctionToolCallOutputItem, "output"),
    # In no union of this SDK: an audio part of an input message (newer than the seeds).
    sdk.ResponseInputAudio,
)
SDK_EVENTS = union_types(sdk.ResponseStreamEvent, sdk.ResponsesServerEvent)
SDK_ENVIRONMENTS = union_types(
    field_of(sdk.FunctionShellTool, "environment"),
    field_of(sdk.ResponseFunctionShellToolCall, "environment"),
)
SDK_SKILLS = union_types(field_of(sdk.ContainerAuto, "skills"))


def templates_in(folder: str) -> set[str]:
    return {p.stem for p in (TEMPLATES / folder).glob("*.html") if not p.stem.startswith("_")}


def all_literals(classes: list[type[Any]]) -> set[str]:
    return {value for cls in classes for value in literal_values(cls)}


def canonical(classes: list[type[Any]], values: set[str]) -> set[str]:
    """The template names for SDK type strings: each class's first literal."""
    return {literal_values(c)[0] for c in classes if set(literal_values(c)) & values}


def test_the_sdk_unions_were_read():
    # A guard: if the SDK renamed a union, the lists below would silently be empty.
    assert {"message", "tool_search_call", "program_output", "compaction_trigger"} <= SDK_ITEMS
    assert {"function", "namespace", "tool_search", "computer"} <= SDK_TOOLS
    assert {"output_text", "input_audio", "summary_text", "computer_screenshot"} <= SDK_PARTS
    assert {"url_citation", "file_path"} <= SDK_ANNOTATIONS
    assert {"response.completed", "response.steer.pending"} <= SDK_EVENTS
    assert {"container_auto", "local", "container_reference"} == SDK_ENVIRONMENTS


def test_every_sdk_item_type_has_a_class_and_its_own_template():
    assert SDK_ITEMS - set(ITEM_TYPES) == set()
    assert templates_in("items") >= SDK_ITEMS


def test_the_item_classes_are_exactly_the_spec_and_the_sdk_types():
    assert set(ITEM_TYPES) == set(SPEC_OUTPUT_ITEM_TYPES) | set(SPEC_INPUT_ITEM_TYPES) | SDK_ITEMS


def test_every_sdk_tool_type_has_a_class_and_its_own_template():
    assert SDK_TOOLS - all_literals(TOOL_CLASSES) == set()
    assert canonical(TOOL_CLASSES, SDK_TOOLS) <= templates_in("tools")
    assert canonical(TOOL_CLASSES, SDK_TOOLS) <= set(TOOL_TYPES)


def test_every_sdk_content_part_type_has_a_class_and_its_own_template():
    assert SDK_PARTS - all_literals(PART_CLASSES) == set()
    assert templates_in("content") >= SDK_PARTS
    assert set(PART_TYPES) >= SDK_PARTS


def test_every_sdk_annotation_type_has_a_class_and_its_own_template():
    parsed = {
        kind: pydantic.TypeAdapter(Annotation).validate_python({"type": kind})
        for kind in SDK_ANNOTATIONS
    }
    assert [kind for kind, value in parsed.items() if isinstance(value, Unknown)] == []
    assert templates_in("annotations") >= SDK_ANNOTATIONS


def test_every_sdk_environment_type_has_a_class_and_its_own_template():
    assert SDK_ENVIRONMENTS - all_literals(ENVIRONMENT_CLASSES) == set()
    assert templates_in("environments") >= SDK_ENVIRONMENTS
    assert (TEMPLATES / "environments" / "_unknown.html").exists()


@pytest.mark.parametrize("kind", sorted(SDK_SKILLS))
def test_every_sdk_skill_type_is_said_in_words(kind):
    skill = pydantic.TypeAdapter(Skill).validate_python({"type": kind, "name": "n"})
    assert not isinstance(skill, Unknown)
    assert "unknown" not in describe.skill_words(skill)


def test_every_sdk_stream_event_type_has_a_class_a_label_and_an_explainer():
    assert SDK_EVENTS - set(EVENT_TYPES) == set()
    assert [kind for kind in SDK_EVENTS if kind not in events.EVENT_LABELS] == []
    families = {cls.family for cls in EVENT_CLASSES if set(literal_values(cls)) & SDK_EVENTS}
    assert {f"{family}" for family in families} <= templates_in("events")


def test_an_sdk_item_or_event_of_a_known_type_never_falls_back_to_unknown():
    # The SDK's own minimal shape of each (its required fields) parses to our class.
    for union, adapter in [
        ((sdk.ResponseOutputItem, sdk.ResponseItem, sdk.ResponseInputItem), item_adapter),
        ((sdk.ResponseStreamEvent, sdk.ResponsesServerEvent), event_adapter),
    ]:
        for model in {m for u in union for m in models_in(u)}:
            for kind in type_literals(model):
                body = minimal_body(model, kind)
                parsed = adapter.validate_python(body)
                assert not isinstance(parsed, Unknown), (kind, parsed.invalid_reason)


def minimal_body(model: type[pydantic.BaseModel], kind: str) -> dict[str, Any]:
    """A body with every field the SDK requires, each a plain value of its type."""
    body: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            body[field.alias or name] = plain_value(field.annotation)
    return {**body, "type": kind}


def plain_value(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Literal:
        return get_args(annotation)[0]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return plain_value(next(a for a in get_args(annotation) if a is not type(None)))
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's own spelling
        return []
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {}
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return {
            (f.alias or n): plain_value(f.annotation)
            for n, f in annotation.model_fields.items()
            if f.is_required()
        }
    return {str: "x", int: 0, float: 0.0, bool: False}.get(annotation, "x")


#: `type` values the SDK uses below the level of items, tools, parts, annotations, events
#: and environments: each is shown in words inside the thing that holds it.
SUB_VALUES = {
    # computer actions (rendering.computer_action_words)
    "click", "double_click", "drag", "keypress", "move", "screenshot", "scroll", "type", "wait",
    # web search actions and sources (rendering.web_search_action_words)
    "search", "open_page", "find_in_page", "url",
    # apply_patch operations, shell outcomes, code interpreter outputs, local shell action
    "create_file", "update_file", "delete_file", "exit", "timeout", "logs", "image", "exec",
    # a call's caller (describe.caller_words)
    "direct", "program",
    # file_search filters (rendering.filter_words)
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "and", "or",
    # text and custom-tool formats (rendering.text_format_words, tools/custom.html)
    "text", "json_schema", "json_object", "grammar",
    # tool_choice (rendering.tool_choice_words) and a code interpreter's container
    "allowed_tools", "computer_use", "auto",
    # a container's network policy, an inline skill's source, a web search user location
    "disabled", "allowlist", "base64", "approximate",
    # moderation results, prompt-cache diagnostics, input transformations (describe.py)
    "moderation_result", "error", "cache_hit", "cache_miss",
    "comparison_response_not_found", "unavailable", "reasoning",
    # an MCP call's error (rendering.error_text) and a failed steer's error
    "http_error", "mcp_protocol_error", "mcp_tool_execution_error", "invalid_request_error",
    # events a client sends over a WebSocket, never received in a stream
    "response.create", "response.steer",
}  # fmt: skip


def exported_type_literals() -> set[str]:
    """Every `type` literal of every model reachable from openai.types.responses."""
    seen: set[type[pydantic.BaseModel]] = set()
    stack: list[Any] = [getattr(sdk, name) for name in dir(sdk)]
    while stack:
        value = stack.pop()
        for model in models_in(value):
            if model in seen:
                continue
            seen.add(model)
            stack.extend(field.annotation for field in model.model_fields.values())
        if get_origin(value) is not None:
            stack.extend(get_args(value))
    return {value for model in seen for value in type_literals(model)}


def test_every_type_literal_the_sdk_exports_is_placed_somewhere():
    placed = (
        SDK_ITEMS
        | all_literals(TOOL_CLASSES)
        | SDK_PARTS
        | SDK_ANNOTATIONS
        | SDK_EVENTS
        | SDK_ENVIRONMENTS
        | SDK_SKILLS
        | SUB_VALUES
    )
    assert exported_type_literals() - placed == set()
