"""Presentation helpers used by pages, views and template tags: labels, dispatch, formatting.

Pure functions over schema objects (each tested with a table of cases): nothing here reads
the store or builds a URL (pages.py gathers a page's data, templates build its links).
"""

import json
import math
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html
from django.utils.safestring import SafeString
from pydantic import TypeAdapter

from . import pricing, scrub, trace
from .anchors import item_anchor
from .markdown import highlight, render_markdown
from .schemas.base import Schema, Unknown, type_name, type_of
from .schemas.content import (
    ANNOTATION_CLASSES,
    PART_CLASSES,
    ContentPart,
    Logprob,
    OutputTextPart,
    TopLogprob,
)
from .schemas.environments import ENVIRONMENT_CLASSES
from .schemas.items import (
    ITEM_CLASSES,
    ApplyPatchCallItem,
    ClickAction,
    ComputerAction,
    ComputerCallItem,
    CreateFileOperation,
    DeleteFileOperation,
    DoubleClickAction,
    DragAction,
    ImageGenerationCallItem,
    KeypressAction,
    LocalShellCallItem,
    MessageItem,
    MoveAction,
    PatchOperation,
    ReasoningItem,
    ScreenshotAction,
    ScrollAction,
    ShellCallItem,
    ShellCallOutputItem,
    ShellOutcome,
    ShellOutputChunk,
    TypeAction,
    UpdateFileOperation,
    WaitAction,
    WebSearchAction,
    WebSearchFindAction,
    WebSearchOpenPageAction,
    WebSearchSearchAction,
)
from .schemas.response import PromptReference, Response, Usage
from .schemas.tools import TOOL_CLASSES, ImageGenerationTool, TextFormat
from .trace import ShellResult as ShellResult
from .trace import error_text as error_text
from .trace import local_shell_result as local_shell_result

#: Characters of one text shown before a "show all" link (the rest loads on request).
LONG_TEXT = 20_000
#: Longer texts are shown as plain text even in full: rendering them as Markdown costs seconds.
MARKDOWN_MAX = 200_000
#: Turns of a trace shown in full at first; later ones load when scrolled to (an item costs
#: about a millisecond to render: a 40-turn trace stays within 8x a one-turn one).
TRACE_FULL_TURNS = 8
#: Tokens of a logprobs view shown before "show all".
LOGPROB_TOKENS = 2_000
#: Characters of a data: image URL inlined before "show all" (about 6 MB of image).
INLINE_IMAGE_MAX = 8_000_000
POLL_SECONDS = 5
MASK = "•••• masked"

SECTIONS = ("input", "output", "instructions")
_IMAGE_DATA_URL = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,", re.IGNORECASE)
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[^,]*)?,", re.IGNORECASE)
_part_adapter: TypeAdapter[Any] = TypeAdapter(ContentPart)


# --- dispatch ---------------------------------------------------------------------------


def _by_class(folder: str, classes: Iterable[type[Schema]]) -> dict[type, str]:
    """The template of each class in `folder`, named by its type (`items/reasoning.html`)."""
    return {cls: f"inspector/{folder}/{type_name(cls)}.html" for cls in classes}


_TEMPLATES = {
    folder: _by_class(folder, classes)
    for folder, classes in (
        ("items", ITEM_CLASSES),
        ("content", PART_CLASSES),
        ("annotations", ANNOTATION_CLASSES),
        ("tools", TOOL_CLASSES),
        ("environments", ENVIRONMENT_CLASSES),
    )
}
_ANSWER_TEMPLATES: dict[type, str] = {
    cls: f"inspector/items/_answer_{type_name(cls)}.html" for cls in trace.ANSWERED
}


def _candidates(folder: str, value: object) -> list[str]:
    """The template of `value`'s class, then the folder's unknown-type card (for an unknown
    type, a value that did not fit its class, or a lookup that failed in the template)."""
    own = _TEMPLATES[folder].get(type(value))
    unknown = f"inspector/{folder}/_unknown.html"
    return [own, unknown] if own else [unknown]


def item_templates(item: object) -> list[str]:
    """Candidate templates for an item: its own type's, then the unknown-type card."""
    return _candidates("items", item)


def canonical_type(value: object) -> str | None:
    """The first `type` literal of a schema's class (web_search_2025_08_26 -> web_search)."""
    if isinstance(value, Unknown) or not isinstance(value, Schema):
        return None
    return type_name(type(value)) if "type" in type(value).model_fields else None


def part_templates(part: object) -> list[str]:
    return _candidates("content", part)


def annotation_templates(annotation: object) -> list[str]:
    return _candidates("annotations", annotation)


def tool_templates(tool: object) -> list[str]:
    return _candidates("tools", tool)


def environment_templates(environment: object) -> list[str]:
    """A shell environment's template (container_auto, local, container_reference)."""
    return _candidates("environments", environment)


# --- numbers, sizes, times --------------------------------------------------------------


def size_words(count: int) -> str:
    """A byte count for people: 512 B, 1.5 KB, 3.2 MB (powers of 1024)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns


def duration_words(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent(part: float | int | Decimal | None, whole: float | int | Decimal | None) -> str:
    """`part` as a share of `whole`, or "" when there is no whole to divide by."""
    if part is None or not whole:
        return ""
    share = float(part) / float(whole) * 100
    if share == 0:
        return "0 %"
    if share < 0.1:
        return "<0.1 %"
    return f"{share:.1f} %" if share < 10 else f"{share:.0f} %"


def probability_words(logprob: float) -> str:
    p = math.exp(min(0.0, logprob)) * 100
    if p >= 99.995:
        return "100 %"
    if p < 0.01:
        return "<0.01 %"
    return f"{p:.2f} %" if p < 10 else f"{p:.1f} %"


# --- long texts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """The part of a text shown now, and how many characters wait behind "show all"."""

    shown: str
    hidden: int

    @property
    def cut(self) -> bool:
        return self.hidden > 0


def clip(text: Any, full: bool = False, limit: int = LONG_TEXT) -> Clip:
    text = "" if text is None else str(text)
    if full or len(text) <= limit:
        return Clip(text, 0)
    return Clip(text[:limit], len(text) - limit)


def show_all_link(hidden: int, url: str | None, what: str = "characters") -> SafeString:
    """The "show all" link: an htmx swap of the whole item, a plain link without JS."""
    if url is None:
        return format_html(
            '<p class="clipped muted">… {} more {} not shown.</p>', intcomma(hidden), what
        )
    return format_html(
        '<p class="clipped"><a class="show-all" href="{}" hx-get="{}" hx-target="closest .item"'
        ' hx-swap="outerHTML">Show all ({} more {})</a></p>',
        url,
        url,
        intcomma(hidden),
        what,
    )


#: The text blocks of what people and models wrote (the others are logs, outputs, code).
WRITTEN = ("prose", "text")


def text_block(text: Any, full: bool, url: str | None, css: str = "text") -> SafeString:
    part = clip(text, full)
    # Text people and models wrote takes its own direction (right-to-left scripts); logs
    # and other machine text stay left to right.
    html = (
        '<pre class="{}" dir="auto">{}</pre>'
        if css.startswith(WRITTEN)
        else '<pre class="{}">{}</pre>'
    )
    block = format_html(html, css, part.shown)
    if part.cut:
        return format_html("{}{}", block, show_all_link(part.hidden, url))
    return block


def code_block(text: Any, language: str, full: bool, url: str | None) -> SafeString:
    part = clip(text, full)
    block = format_html(
        '<pre class="highlight code"><code>{}</code></pre>', highlight(part.shown, language)
    )
    if part.cut:
        return format_html("{}{}", block, show_all_link(part.hidden, url))
    return block


def renders_as_markdown(text: Any, full: bool) -> bool:
    """Whether a text is rendered as Markdown (a full view of a huge text is plain)."""
    return not (full and len(str(text or "")) > MARKDOWN_MAX)


def markdown_block(text: Any, full: bool, url: str | None) -> SafeString:
    part = clip(text, full)
    if not renders_as_markdown(part.shown, full):
        note = format_html(
            '<p class="muted">{} characters: too long to render as Markdown, shown as text.</p>',
            intcomma(len(part.shown)),
        )
        return format_html("{}{}", note, text_block(part.shown, True, None))
    block = format_html('<div class="markdown" dir="auto">{}</div>', render_markdown(part.shown))
    if part.cut:
        return format_html("{}{}", block, show_all_link(part.hidden, url))
    return block


# --- JSON -------------------------------------------------------------------------------


def pretty_json(value: Any) -> str:
    if hasattr(value, "wire"):
        value = value.wire
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class JsonText:
    """A string that should hold JSON: pretty-printed if it does, the reason if it does not."""

    valid: bool
    text: str
    error: str = ""


def json_text(raw: Any) -> JsonText:
    """Arguments are a JSON *string* (spec §7.1); in-progress ones can be cut off."""
    if not isinstance(raw, str):
        return JsonText(True, pretty_json(raw))
    if not raw.strip():
        return JsonText(True, "")
    try:
        return JsonText(True, pretty_json(scrub.loads(raw)))
    except ValueError as error:
        return JsonText(False, raw, str(error))


@dataclass(frozen=True)
class StructuredOutput:
    """An answer in a json_schema text format (spec §2, text.format): the JSON pretty-printed
    (or why it is not JSON) and whether it fits the schema: `violation` is the first error,
    "" when it fits, None when it could not be checked (not JSON, or no schema)."""

    name: str
    json: JsonText
    violation: str | None


def structured_output(text: Any, response: Any) -> StructuredOutput | None:
    """`text` read as the structured output `response` asked for; None for any other format
    (or a text too long to parse and check on a page)."""
    fmt = getattr(getattr(response, "text", None), "format", None)
    if not isinstance(fmt, TextFormat) or fmt.type != "json_schema" or not isinstance(text, str):
        return None
    if len(text) > LONG_TEXT:
        return None
    parsed = json_text(text)
    violation = None
    if parsed.valid and parsed.text and fmt.json_schema:
        # The tool-call checker: jsonschema-rs with its limits (trace._validator), with
        # strict mode read as OpenAI reads it.
        violation = trace.schema_violation(scrub.loads(text), fmt.json_schema, fmt.strict) or ""
    return StructuredOutput(fmt.name or "", parsed, violation)


def json_block(value: Any, full: bool, url: str | None) -> SafeString:
    return code_block(pretty_json(value), "json", full, url)


#: An item's raw JSON is cut here even in its full view, so a huge text is never inlined twice.
RAW_ITEM_MAX = LONG_TEXT * 5


#: Every byte but the control characters (JSON escapes those, and `"` and `\\`).
_NOT_CONTROL = bytes(range(32, 256))


def _json_size(text: str) -> tuple[int, int]:
    """Characters and UTF-8 bytes of `text` as a JSON string (ensure_ascii off), counted
    without writing it: a few C-speed passes over its bytes instead of escaping megabytes.
    A quote, a backslash, a tab, a newline and the like take one more character (a backslash
    before them); other control characters five more (\\u0001)."""
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate counts, never raises
    controls = data.translate(None, _NOT_CONTROL)
    short = sum(controls.count(c) for c in b"\b\t\n\f\r")
    extra = data.count(b'"') + data.count(b"\\") + short + 5 * (len(controls) - short) + 2
    return len(text) + extra, len(data) + extra


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _cut_strings(value: Any, limit: int, cut: list[int]) -> Any:
    """`value` with each string longer than `limit` cut to `limit`; `cut` counts the
    characters and UTF-8 bytes of pretty JSON that this leaves out."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        whole, kept = _json_size(value), _json_size(value[:limit])
        cut[0] += whole[0] - kept[0]
        cut[1] += whole[1] - kept[1]
        return value[:limit]
    if isinstance(value, dict):
        return {key: _cut_strings(item, limit, cut) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut_strings(item, limit, cut) for item in value]
    return value


def clipped_json(value: Any, limit: int) -> tuple[Clip, int]:
    """`clip(pretty_json(value), limit=limit)` and the whole text's size in UTF-8 bytes,
    without writing out the whole of a long string (a 2 MB answer) only to cut it.

    Strings are cut to `limit` characters first: everything before the first cut string is
    unchanged, and that string alone reaches past `limit`, so the first `limit` characters
    come out the same; the characters each cut leaves out are counted.
    """
    if hasattr(value, "wire"):
        value = value.wire
    cut = [0, 0]
    try:
        short = _cut_strings(value, limit, cut)
    except RecursionError:  # hostile nesting: the plain way, as deep as json itself goes
        short, cut = value, [0, 0]
    text = pretty_json(short)
    part = clip(text, limit=limit)
    return Clip(part.shown, part.hidden + cut[0]), _utf8_size(text) + cut[1]


def raw_item_json(value: Any, full: bool, url: str | None, bundle_url: str | None) -> SafeString:
    """An item's raw JSON: cut at LONG_TEXT (or RAW_ITEM_MAX in the full view)."""
    value = mask_secrets(getattr(value, "wire", value))
    part, _ = clipped_json(value, RAW_ITEM_MAX if full else LONG_TEXT)
    # Plain, like the response's own raw JSON: it sits collapsed, and highlighting every
    # item's JSON cost a third of a long page's time (docs/benchmarks.md).
    block = text_block(part.shown, True, None, css="json")
    if not full:
        return format_html("{}{}", block, show_all_link(part.hidden, url)) if part.cut else block
    if not part.cut:
        return block
    where = (
        format_html(' <a href="{}">The whole JSON is in the bundle.</a>', bundle_url)
        if bundle_url
        else ""
    )
    return format_html(
        '{}<p class="clipped muted">… {} more characters not shown here.{}</p>',
        block,
        intcomma(part.hidden),
        where,
    )


def mask_secrets(body: Any) -> Any:
    """A copy of a response body with MCP `authorization` and `headers` values masked (§7.15),
    and a shell container's domain secrets: in `tools` and wherever tools sit in items."""
    return _masked(body)


def _masked(value: Any, secrets: bool = False) -> Any:
    """`value` with tool secrets masked; the value itself (not a copy) when it holds none.
    `secrets`: the value is a `domain_secrets` list, whose entries' `value` is a secret."""
    if isinstance(value, list):
        inner = [_masked(v, secrets) for v in value]
        return value if all(a is b for a, b in zip(inner, value, strict=True)) else inner
    if not isinstance(value, dict):
        return value
    out = {key: _masked(v, key == "domain_secrets") for key, v in value.items()}
    if value.get("type") == "mcp":
        if out.get("authorization"):
            out["authorization"] = MASK
        if isinstance(out.get("headers"), dict):
            out["headers"] = {name: MASK for name in out["headers"]}
    if secrets and out.get("value"):
        out["value"] = MASK
    same = all(out[key] is v for key, v in value.items())
    return value if same else out


def masked_tool(tool: Any) -> Any:
    return mask_secrets({"tools": [tool.wire if hasattr(tool, "wire") else tool]})["tools"][0]


@dataclass(frozen=True)
class RawJson:
    text: str
    hidden: int
    size: int


def raw_json(body: Any) -> RawJson:
    """A stored body, secrets masked, pretty, cut after LONG_TEXT * 5 characters."""
    part, size = clipped_json(mask_secrets(body), LONG_TEXT * 5)
    return RawJson(part.shown, part.hidden, size)


# --- parameters -------------------------------------------------------------------------


def tool_choice_words(choice: str | dict[str, Any] | None) -> str:
    """tool_choice in words (spec §5.3): a string, or a loose object by its `type`."""
    match choice:
        case None:
            return "not set"
        case str():
            return {
                "none": "none: the model may not call tools",
                "auto": "auto: the model decides",
                "required": "required: at least one tool call",
            }.get(choice, choice)
        case {"type": "allowed_tools"}:
            names = [
                str(t.get("name") or t.get("server_label") or t.get("type"))
                for t in choice.get("tools") or []
                if isinstance(t, dict)
            ]
            mode = choice.get("mode") or "auto"
            return f"only {', '.join(names) or 'no tools'} ({mode})"
        case {"type": "function" | "custom" as kind}:
            return f"must call the {kind} tool {choice.get('name') or '(unnamed)'}"
        case {"type": "mcp"}:
            name = choice.get("name")
            server = choice.get("server_label") or "(unnamed server)"
            return f"must call {name} on MCP server {server}" if name else f"must use MCP {server}"
        case {"type": kind} if kind:
            return f"must use {kind}"
        case dict():
            return json.dumps(choice)
    return str(choice)


_OPERATORS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": "in",
    "nin": "not in",
}


def filter_words(spec: Any) -> str:
    """A file_search filter in words: `region in [DE, EU] and doc_year ≥ 2025` (spec §5.2)."""
    if not isinstance(spec, dict):
        return "" if spec is None else json.dumps(spec, ensure_ascii=False)
    kind = spec.get("type")
    if kind in ("and", "or"):
        parts = [filter_words(f) for f in spec.get("filters") or []]
        inner = f" {kind} ".join(f"({p})" if " and " in p or " or " in p else p for p in parts)
        return inner
    value = spec.get("value")
    if isinstance(value, list):
        shown = "[" + ", ".join(str(v) for v in value) + "]"
    else:
        shown = (
            json.dumps(value, ensure_ascii=False) if isinstance(value, str | bool) else str(value)
        )
    return f"{spec.get('key')} {_OPERATORS.get(str(kind), str(kind))} {shown}"


def text_format_words(fmt: TextFormat | None) -> str:
    kind = (fmt.type if isinstance(fmt, TextFormat) else None) or "text"
    if kind == "json_schema" and isinstance(fmt, TextFormat):
        strict = " (strict)" if fmt.strict else ""
        return f"JSON schema “{fmt.name or 'unnamed'}”{strict}"
    if kind == "json_object":
        return "JSON object (JSON mode, no schema)"
    if kind == "text":
        return "plain text"
    return str(kind)


def image_format(response: Response | None, item: ImageGenerationCallItem | None = None) -> str:
    """The image_generation output format: the item's own field, the tool's, else png (§7.5)."""
    # output_format on the item is newer than the seeds: a field the schema keeps as extra.
    candidates = [getattr(item, "output_format", None)]
    for tool in response.tools if isinstance(response, Response) else []:
        if isinstance(tool, ImageGenerationTool):
            candidates.append(tool.output_format)
    for value in candidates:
        if isinstance(value, str) and value.lower() in ("png", "jpeg", "jpg", "webp", "gif"):
            return "jpeg" if value.lower() == "jpg" else value.lower()
    return "png"


@dataclass(frozen=True)
class Variable:
    name: str
    text: str | None
    part: Schema | None = None


def prompt_variables(prompt: PromptReference | None) -> list[Variable]:
    """Prompt template variables: strings, or content parts shown like message parts (§2.5)."""
    out = []
    variables = prompt.variables if isinstance(prompt, PromptReference) else None
    for name, value in (variables or {}).items():
        if isinstance(value, dict):
            out.append(Variable(str(name), None, _part_adapter.validate_python(value)))
        else:
            out.append(Variable(str(name), value if isinstance(value, str) else json.dumps(value)))
    return out


# --- items in words ----------------------------------------------------------------------


def _point(x: int, y: int) -> str:
    return f"({x}, {y})"


def computer_action_words(action: ComputerAction | None) -> str:
    """A computer_call action as a person would say it (spec §3.6)."""
    match action:
        case None:
            return "no action"
        case Unknown():
            return f"unknown action {action.type or '(no type)'}"
        case ClickAction():
            return f"click {action.button} at {_point(action.x, action.y)}"
        case DoubleClickAction():
            return f"double-click at {_point(action.x, action.y)}"
        case DragAction():
            path = " → ".join(_point(p.x, p.y) for p in action.path)
            return f"drag along {path}" if path else "drag (no path)"
        case KeypressAction():
            return "press " + " + ".join(action.keys) if action.keys else "press (no keys)"
        case MoveAction():
            return f"move the pointer to {_point(action.x, action.y)}"
        case ScreenshotAction():
            return "take a screenshot"
        case ScrollAction():
            scroll = _point(action.scroll_x, action.scroll_y)
            return f"scroll by {scroll} at {_point(action.x, action.y)}"
        case TypeAction():
            return f"type “{action.text}”"
        case WaitAction():
            return "wait"
    return str(type_of(action))


def web_search_action_words(action: WebSearchAction | None) -> str:
    match action:
        case None:
            return "searched (the action was not included)"
        case Unknown():
            return f"unknown action {action.type or '(no type)'}"
        case WebSearchSearchAction():
            queries = list(action.queries or ([action.query] if action.query else []))
            if not queries:
                return "searched"
            return "searched for " + ", ".join(f"“{q}”" for q in queries)
        case WebSearchOpenPageAction():
            return "opened a page" if action.url else "opened a page (URL not given)"
        case WebSearchFindAction():
            return f"looked for “{action.pattern or ''}” in a page"
    return f"unknown action {type_of(action) or '(no type)'}"


def patch_operation_words(operation: PatchOperation | None) -> str:
    match operation:
        case CreateFileOperation():
            verb = "create"
        case UpdateFileOperation():
            verb = "update"
        case DeleteFileOperation():
            verb = "delete"
        case _:
            return f"unknown operation {type_of(operation) or '(no type)'}"
    return f"{verb} {operation.path or '(no path)'}"


def shell_outcome_words(outcome: ShellOutcome | None) -> str:
    if not isinstance(outcome, ShellOutcome):
        return "no outcome given"
    if outcome.type == "timeout":
        return "timed out"
    if outcome.type == "exit":
        return "exited" if outcome.exit_code is None else f"exit code {outcome.exit_code}"
    return outcome.type


def timeout_words(ms: int | None) -> str:
    if ms is None:
        return ""
    return duration_words(ms / 1000) if ms >= 1000 else f"{ms} ms"


def _short_title(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def item_title(item: object) -> str:
    """What an item is about in a few words (a link's text), or "" if only its type says it."""
    for attribute in ("name", "server_label"):
        value = getattr(item, attribute, None)
        if isinstance(value, str) and value:
            return value
    match item:
        case ApplyPatchCallItem():
            return patch_operation_words(item.operation)
        case ComputerCallItem():
            return computer_action_words(item.action)
        case ShellCallItem():
            return _short_title("; ".join(item.action.commands if item.action else []))
        case LocalShellCallItem():
            return _short_title(command_line(item.action.command if item.action else None))
    return ""


def item_name(item: object) -> str:
    """A short name for an item in links and headings: the tool's name, else its type."""
    for attribute in ("name", "server_label"):
        value = getattr(item, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(getattr(item, "type", None) or "item")


def answer_templates(item: object) -> list[str]:
    """The body of an answer item (function_call_output …), shown beside its call too."""
    return [_ANSWER_TEMPLATES.get(type(item), "inspector/items/_answer_unknown.html")]


def message_parts(item: MessageItem) -> list[Schema]:
    """A message's content as parts: a bare string (EasyInputMessage, §4.2) is one text part."""
    if not isinstance(item, MessageItem):
        return []
    if isinstance(item.content, str):
        kind = "output_text" if item.role == "assistant" else "input_text"
        return [_part_adapter.validate_python({"type": kind, "text": item.content})]
    return list(item.content)


def output_parts(output: object) -> list[Schema] | None:
    """A tool output that is a list of content parts, else None (it is a string)."""
    return list(output) if isinstance(output, list) else None


@dataclass(frozen=True)
class ShellStep:
    command: str
    chunk: ShellOutputChunk | None = None


def shell_steps(call: ShellCallItem, answer: object = None) -> list[ShellStep]:
    """A shell_call's commands, each with the output chunk at the same index (§3.12).

    `answer` is the shell_call_output, or the row (or trace entry) that holds it. Outputs
    beyond the commands (or a single combined chunk) are kept, with no command.
    """
    answer = getattr(answer, "item", answer)
    commands = list(call.action.commands) if isinstance(call, ShellCallItem) and call.action else []
    chunks = list(answer.output) if isinstance(answer, ShellCallOutputItem) else []
    steps = [ShellStep(c, chunks[i] if i < len(chunks) else None) for i, c in enumerate(commands)]
    steps += [ShellStep("", chunk) for chunk in chunks[len(commands) :]]
    return steps


def command_line(command: Any) -> str:
    """local_shell_call argv as one shell line, quoted where needed."""
    if isinstance(command, list):
        return shlex.join(str(c) for c in command)
    return "" if command is None else str(command)


def _selector_words(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    parts = []
    if value.get("read_only"):
        parts.append("read-only tools")
    names = value.get("tool_names")
    if names:
        parts.append(", ".join(str(n) for n in names))
    return " and ".join(parts) or "no tools"


def approval_words(value: Any) -> str:
    """An MCP tool's require_approval in words (spec §5.2)."""
    if value is None:
        return "not set (the API asks for approval by default)"
    if isinstance(value, str):
        return {
            "always": "always: every call needs approval",
            "never": "never: calls run without approval",
        }.get(value, value)
    if isinstance(value, dict):
        parts = [
            f"{when} for {_selector_words(value[when])}"
            for when in ("always", "never")
            if value.get(when) is not None
        ]
        return "; ".join(parts) or json.dumps(value)
    return str(value)


def allowed_tools_words(value: Any) -> str:
    if value is None:
        return "all tools of the server"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return _selector_words(value)


def outcome_failed(outcome: ShellOutcome | None) -> bool:
    """A shell command that timed out or exited non-zero."""
    if not isinstance(outcome, ShellOutcome):
        return False
    code = outcome.exit_code
    return outcome.type == "timeout" or (outcome.type == "exit" and code is not None and code != 0)


@dataclass(frozen=True)
class SchemaField:
    name: str
    kind: str
    required: bool
    description: str


def schema_fields(schema: Any) -> list[SchemaField]:
    """The top-level properties of a JSON schema, for a one-line view of a tool's parameters."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return []
    required = (
        set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    )
    out = []
    for name, spec in schema["properties"].items():
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type") or ("enum" if "enum" in spec else "any")
        if isinstance(kind, list):
            kind = " | ".join(str(k) for k in kind)
        if spec.get("enum"):
            kind = f"{kind}: " + " | ".join(json.dumps(v, ensure_ascii=False) for v in spec["enum"])
        description = spec.get("description")
        out.append(SchemaField(str(name), str(kind), name in required, str(description or "")))
    return out


def extra_fields(item: object, exclude: str = "") -> dict[str, Any]:
    """Fields the API sent that the schema does not name (kept by extra="allow")."""
    skip = {name.strip() for name in exclude.split(",") if name.strip()} | {"invalid_reason"}
    extra = getattr(item, "model_extra", None) or {}
    return {k: v for k, v in extra.items() if k not in skip}


# --- content parts ----------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRef:
    """How to show an image URL: inline (data: image), on click (https), or only as text.

    kind: "inline" (a data:image/* URL), "remote" (https: loaded on click), "link" (http:,
    shown as a link only), "too_big" (a data: image over the inline cap), "unsafe" (any other
    scheme: shown as text, never as a link or an image).
    """

    kind: str
    url: str
    media_type: str = ""
    size: int = 0

    @property
    def host(self) -> str:
        match = re.match(r"^https?://([^/?#]+)", self.url, re.IGNORECASE)
        return match.group(1) if match else ""


def image_ref(url: Any, full: bool = False) -> ImageRef | None:
    if not isinstance(url, str) or not url:
        return None
    if match := _IMAGE_DATA_URL.match(url):
        kind = "inline" if full or len(url) <= INLINE_IMAGE_MAX else "too_big"
        return ImageRef(kind, url, f"image/{match.group(1).lower()}", _decoded_size(url))
    lowered = url[:8].lower()
    if lowered.startswith("https://"):
        return ImageRef("remote", url)
    if lowered.startswith("http://"):
        return ImageRef("link", url)
    return ImageRef("unsafe", url[:200] + ("…" if len(url) > 200 else ""))


def generated_image(
    item: ImageGenerationCallItem, response: Response | None, full: bool = False
) -> ImageRef | None:
    """image_generation_call.result is bare base64: make a data: URL of the tool's format."""
    result = item.result if isinstance(item, ImageGenerationCallItem) else None
    if not result:
        return None
    if not re.fullmatch(r"[A-Za-z0-9+/=\s]+", result[:4096]):
        return ImageRef("unsafe", "(the result is not base64)")
    return image_ref(f"data:image/{image_format(response, item)};base64,{result}", full)


def _decoded_size(data_url: str) -> int:
    head, _, payload = data_url.partition(",")
    if ";base64" in head.lower():
        payload = payload.strip()
        return max(0, len(payload) * 3 // 4 - payload[-2:].count("="))
    return len(payload.encode())


@dataclass(frozen=True)
class InlineFile:
    media_type: str
    size: int
    characters: int


def inline_file(file_data: Any) -> InlineFile | None:
    """input_file.file_data: a data: URL or bare base64 (spec §4.3); its decoded size."""
    if not isinstance(file_data, str) or not file_data:
        return None
    if match := _DATA_URL.match(file_data):
        return InlineFile(match.group(1) or "", _decoded_size(file_data), len(file_data))
    if re.fullmatch(r"[A-Za-z0-9+/=\s]*", file_data[:4096]):
        size = _decoded_size("data:;base64," + file_data)
    else:
        size = len(file_data.encode())
    return InlineFile("", size, len(file_data))


@dataclass(frozen=True)
class Cited:
    """One annotation with the text it points at (url/container citations carry spans)."""

    annotation: Schema
    number: int
    quote: str = ""


def citations(part: OutputTextPart) -> list[Cited]:
    """The annotations of an output_text part, numbered, with their cited spans (§7.7).

    url and container citations carry a span (so may an annotation of an unknown kind);
    file_citation and file_path an `index`: no quote for those.
    """
    if not isinstance(part, OutputTextPart):
        return []
    out = []
    for number, annotation in enumerate(part.annotations, start=1):
        start = getattr(annotation, "start_index", None)
        end = getattr(annotation, "end_index", None)
        quote = ""
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
            quote = part.text[max(0, start) : min(len(part.text), end)]
            if len(quote) > 300:
                quote = quote[:300] + "…"
        out.append(Cited(annotation, number, quote))
    return out


def safe_link(url: Any) -> str | None:
    """`url` if it may be a link (http, https, mailto), else None (shown as text instead)."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://", "mailto:")):
        return url
    return None


@dataclass(frozen=True)
class Token:
    text: str
    logprob: float
    bucket: int
    title: str


@dataclass(frozen=True)
class LogprobView:
    tokens: list[Token]
    hidden: int


def _token_title(logprob: float, tops: Sequence[TopLogprob]) -> str:
    lines = [f"p = {probability_words(logprob)} (logprob {logprob:.4g})"]
    alternatives = [
        json.dumps(t.token, ensure_ascii=False) + " " + probability_words(t.logprob) for t in tops
    ]
    if alternatives:
        lines.append("top: " + ", ".join(alternatives))
    return "\n".join(lines)


def logprob_tokens(logprobs: Sequence[Logprob] | None, full: bool = False) -> LogprobView:
    """Tokens with their probability bucket (0 = least likely … 9 = most) and alternatives.

    A token can hold part of a multi-byte character (spec §7.6): bytes are joined until they
    decode, and the joined tokens show as one, with the product of their probabilities.
    """
    items = list(logprobs or [])
    hidden = 0 if full else max(0, len(items) - LOGPROB_TOKENS)
    if hidden:
        items = items[:LOGPROB_TOKENS]
    tokens: list[Token] = []
    pending: list[Logprob] = []
    buffer = b""

    def emit(text: str, group: list[Logprob]) -> None:
        total = sum(float(t.logprob) for t in group)
        p = math.exp(min(0.0, total))
        bucket = min(9, int(p * 10))
        tokens.append(Token(text, total, bucket, _token_title(total, group[0].top_logprobs)))

    for entry in items:
        if entry.bytes is None:
            if pending:
                emit(buffer.decode("utf-8", errors="replace"), pending)
                pending, buffer = [], b""
            emit(entry.token, [entry])
            continue
        buffer += bytes(b & 0xFF for b in entry.bytes)
        pending.append(entry)
        try:
            text = buffer.decode("utf-8")
        except UnicodeDecodeError:
            if len(buffer) < 8:
                continue
            text = buffer.decode("utf-8", errors="replace")
        emit(text, pending)
        pending, buffer = [], b""
    if pending:
        emit(buffer.decode("utf-8", errors="replace"), pending)
    return LogprobView(tokens, hidden)


# --- reasoning --------------------------------------------------------------------------


def reasoning_notes(item: ReasoningItem, response: Response | None, section: str) -> list[str]:
    """What a reader should know about a reasoning item that shows little or nothing."""
    if not isinstance(item, ReasoningItem):
        return []
    notes: list[str] = []
    summary, content, encrypted = item.summary, item.content or [], item.encrypted_content
    response = response if isinstance(response, Response) else None
    config = response.reasoning if response else None
    setting = (config.summary or config.generate_summary) if config else None
    usage = response.usage if response else None
    if not summary and not content:
        if encrypted:
            notes.append(
                f"Only encrypted reasoning: {intcomma(len(encrypted))} characters of "
                "encrypted_content, which only the API can read (pass it back in a later "
                "request to keep the reasoning)."
            )
        else:
            notes.append("No reasoning text, summary or encrypted content was returned.")
        if section == "output" and usage is not None:
            notes.append(
                f"This response used {intcomma(usage.output_tokens_details.reasoning_tokens)} "
                "reasoning tokens in all."
            )
        if setting in (None, "", "none"):
            notes.append(
                'No summary was asked for: set reasoning.summary to "auto", "concise" or '
                '"detailed" to get one.'
            )
        else:
            notes.append(
                f'reasoning.summary was "{setting}", but the model wrote no summary for '
                "this step (short reasoning often has none)."
            )
    elif encrypted:
        notes.append(
            f"It also carries {intcomma(len(encrypted))} characters of encrypted_content "
            "(opaque; the API reads it when it is passed back)."
        )
    if not encrypted and not summary and not content and section == "output":
        notes.append(
            'The encrypted reasoning was not returned: add include=["reasoning.'
            'encrypted_content"] to carry it into the next turn with store=false.'
        )
    return notes


# --- usage and cost ---------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    model: str
    cost: pricing.Cost | None
    ratio: str
    context_share: str
    fits: bool | None


@dataclass(frozen=True)
class UsageView:
    input_tokens: int
    cached: int
    uncached: int
    cache_writes: int | None
    output_tokens: int
    reasoning: int
    visible: int
    total: int
    cost: pricing.Cost | None
    reasoning_cost: Decimal | None
    visible_cost: Decimal | None
    context_share: str
    priced_at: datetime
    price_table: str
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def input_cost(self) -> Decimal | None:
        return self.cost.input_uncached + self.cost.input_cached if self.cost else None

    @property
    def cached_share(self) -> str:
        return percent(self.cached, self.input_tokens)

    @property
    def reasoning_share(self) -> str:
        return percent(self.reasoning, self.output_tokens)


def _price(model: str, usage: Usage, when: datetime) -> pricing.Cost | None:
    details = usage.input_tokens_details
    return pricing.price(
        model,
        input_tokens=usage.input_tokens,
        cached_tokens=details.cached_tokens,
        output_tokens=usage.output_tokens,
        cache_write_tokens=details.cache_write_tokens or 0,
        when=when,
    )


def usage_view(response: Response) -> UsageView | None:
    """Token counts split for people, and their cost as of the response's creation (§2.8)."""
    usage = response.usage
    if usage is None:
        return None
    when = response.created or datetime.now(tz=UTC)
    cached = max(0, min(usage.input_tokens_details.cached_tokens, usage.input_tokens))
    reasoning = max(0, min(usage.output_tokens_details.reasoning_tokens, usage.output_tokens))
    cost = _price(response.model, usage, when) if response.model else None
    reasoning_cost = visible_cost = None
    if cost is not None and usage.output_tokens:
        reasoning_cost = cost.output * Decimal(reasoning) / Decimal(usage.output_tokens)
        visible_cost = cost.output - reasoning_cost
    comparisons = []
    for model in pricing.COMPARE_MODELS:
        other = _price(model, usage, when)
        window = other.context_window if other else None
        comparisons.append(
            Comparison(
                model=model,
                cost=other,
                ratio=_ratio(other.total if other else None, cost.total if cost else None),
                context_share=percent(usage.input_tokens, window),
                fits=None if not window else usage.input_tokens + usage.output_tokens <= window,
            )
        )
    return UsageView(
        input_tokens=usage.input_tokens,
        cached=cached,
        uncached=usage.input_tokens - cached,
        cache_writes=usage.input_tokens_details.cache_write_tokens,
        output_tokens=usage.output_tokens,
        reasoning=reasoning,
        visible=usage.output_tokens - reasoning,
        total=usage.total_tokens,
        cost=cost,
        reasoning_cost=reasoning_cost,
        visible_cost=visible_cost,
        context_share=percent(usage.input_tokens, cost.context_window if cost else None),
        priced_at=when,
        price_table=pricing.PRICE_TABLE,
        comparisons=comparisons,
    )


def _ratio(other: Decimal | None, actual: Decimal | None) -> str:
    if other is None or not actual:
        return ""
    value = other / actual
    times = "\u00d7"  # the multiplication sign
    return f"{times}{value:.2f}" if value < 10 else f"{times}{value:.0f}"


def cut_here(part: Any, response: Any) -> str | None:
    """Where an incomplete response's text stops: for its last output text part, the reason
    it was cut ("max_output_tokens", "content_filter", "no reason given"); else None."""
    if not isinstance(response, Response) or response.status != "incomplete":
        return None
    for item in reversed(response.output):
        if isinstance(item, MessageItem) and isinstance(item.content, list):
            texts = [p for p in item.content if isinstance(p, OutputTextPart)]
            if texts and texts[-1] is part:
                details = response.incomplete_details
                return (details.reason if details else None) or "no reason given"
            return None
    return None


# --- rows and pairing -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """An item where the page shows it: its section, its position there, its anchor."""

    item: Schema
    section: str
    position: int
    response_id: str
    #: An answer whose call the same page shows: it is shown beside the call, and only a
    #: line (with its anchor) stands where it is.
    beside: bool = False

    @cached_property
    def anchor(self) -> str:
        return item_anchor(self.item, self.section, self.position)

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def label(self) -> str:
        noun = {"input": "input item", "output": "output item", "instructions": "instruction"}
        return f"{noun.get(self.section, self.section)} {self.position + 1}"


def rows(items: Iterable[tuple[int, Schema]], section: str, response_id: str) -> list[Row]:
    return [Row(item, section, position, response_id) for position, item in items]
