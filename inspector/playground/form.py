"""The playground's form: what a person typed, parsed into an `InputTokensRequest`.

JSON fields report errors by line and column, list elements by index and line; unknown item
types are warnings, not errors. Also the form's state rebuilt from a stored response (pure:
the caller reads the stored rows) and the form that names a saved session.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from pydantic import TypeAdapter, ValidationError

from .. import client as upstream
from .. import nesting, scrub
from ..schemas import ITEM_TYPES, InputTokensRequest, Unknown, item_adapter
from ..schemas.base import Schema, every_type_name
from ..schemas.tools import TOOL_CLASSES, Tool
from ..schemas.tools import TextFormat as TextFormatSchema

if TYPE_CHECKING:
    from ..models import StoredResponse

tool_adapter: TypeAdapter[Schema] = TypeAdapter(Tool)
TOOL_TYPES = every_type_name(TOOL_CLASSES)

#: Suggestions for the model box (spec §2.4), newest first; any string is accepted.
MODEL_SUGGESTIONS = (
    "gpt-5.2",
    "gpt-5.1",
    "gpt-5.1-codex",
    "gpt-5.1-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5-pro",
    "gpt-5-codex",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o4-mini",
    "o3",
    "o3-pro",
    "o3-mini",
    "o1",
    "gpt-4o",
    "gpt-4o-mini",
    "computer-use-preview",
)

DEFAULT_ITEMS = '[\n  {"role": "user", "content": "Hello! What can you do?"}\n]'

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
SUMMARIES = ("auto", "concise", "detailed")


def _choices(values: tuple[str, ...], unset: str = "not sent") -> list[tuple[str, str]]:
    return [("", unset), *((v, v) for v in values)]


def _area(rows: int, **attrs: str) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": str(rows), "spellcheck": "false", "dir": "auto", **attrs})


@dataclass(frozen=True)
class Origin:
    """The stored response the form was filled from, and what it actually used.

    Read from the store once, when the page opens (remote.with_origin, state_from_response),
    then carried by the form's hidden fields: a count never asks the database again.
    """

    response_id: str
    input_tokens: int | None
    #: What its previous_response_id carried at most: the previous turn's input and output
    #: tokens, if that turn is stored here (remote.carried_tokens).
    carried: int | None = None


class PlaygroundForm(forms.Form):
    """Every body parameter of POST /responses/input_tokens (spec §1.2), plus the price inputs."""

    model = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "model-suggestions", "autocomplete": "off"}),
    )
    instructions = forms.CharField(required=False, strip=False, widget=_area(4))
    input_kind = forms.ChoiceField(
        label="Input as",
        choices=[("items", "messages and items (JSON list)"), ("text", "plain text")],
        # .pg-change: the form also counts on `change` (a radio's value never "changes").
        widget=forms.RadioSelect(attrs={"class": "pg-change"}),
    )
    input_items = forms.CharField(
        label="Input items (JSON)", required=False, strip=False, widget=_area(14)
    )
    input_text = forms.CharField(label="Input text", required=False, strip=False, widget=_area(8))
    tools = forms.CharField(label="Tools (JSON list)", required=False, widget=_area(8))
    tool_choice = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.TextInput(attrs={"placeholder": 'auto, none, required or {"type": …}'}),
    )
    reasoning_effort = forms.ChoiceField(required=False, choices=_choices(EFFORTS))
    reasoning_summary = forms.ChoiceField(required=False, choices=_choices(SUMMARIES))
    text_format = forms.CharField(
        label="Text format (JSON)",
        required=False,
        widget=_area(3, placeholder='{"type": "json_schema", "name": …, "schema": {…}}'),
    )
    verbosity = forms.ChoiceField(required=False, choices=_choices(("low", "medium", "high")))
    truncation = forms.ChoiceField(required=False, choices=_choices(("auto", "disabled")))
    parallel_tool_calls = forms.ChoiceField(required=False, choices=_choices(("true", "false")))
    previous_response_id = forms.CharField(required=False, max_length=128)
    conversation = forms.CharField(required=False, max_length=200)
    # Not sent: where the request came from, and the price inputs.
    from_id = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)
    from_tokens = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    from_carried = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    cached_share = forms.IntegerField(
        label="Cached share of input (%)", required=False, min_value=0, max_value=100
    )
    output_tokens = forms.IntegerField(
        label="Expected output tokens", required=False, min_value=0, max_value=10_000_000
    )
    reasoning_tokens = forms.IntegerField(
        label="Expected reasoning tokens", required=False, min_value=0, max_value=10_000_000
    )
    requests_per_day = forms.IntegerField(
        label="Requests a day", required=False, min_value=0, max_value=1_000_000_000
    )
    show_whitespace = forms.BooleanField(
        label="Show whitespace",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "pg-change"}),
    )

    request: InputTokensRequest | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []

    # -- JSON fields: errors name the line and column, or the item ------------------------

    def clean_input_items(self) -> list[Any] | None:
        if self.data.get("input_kind", "items") != "items":
            return None
        return _validate_list(self.cleaned_data["input_items"], item_adapter, "input", self)

    def clean_tools(self) -> list[Any] | None:
        return _validate_list(self.cleaned_data["tools"], tool_adapter, "tools", self)

    def clean_tool_choice(self) -> Any:
        value = self.cleaned_data["tool_choice"].strip()
        if not value:
            return None
        if value.startswith("{"):
            choice = _loads(value, "tool_choice")
            if not isinstance(choice, dict) or not isinstance(choice.get("type"), str):
                raise forms.ValidationError('A tool_choice object needs a "type".')
            return choice
        if value not in ("none", "auto", "required"):
            raise forms.ValidationError(
                'tool_choice is "none", "auto", "required", or a JSON object such as '
                '{"type": "function", "name": "get_weather"}.'
            )
        return value

    def clean_text_format(self) -> Any:
        value = self.cleaned_data["text_format"].strip()
        if not value:
            return None
        text_format = _loads(value, "text format")
        if not isinstance(text_format, dict) or not isinstance(text_format.get("type"), str):
            raise forms.ValidationError(
                'The text format is a JSON object with a "type": text, json_object or json_schema.'
            )
        try:
            TextFormatSchema.model_validate(text_format)
        except ValidationError as error:
            raise forms.ValidationError(_first_error(error)) from None
        return text_format

    def clean_previous_response_id(self) -> str:
        value: str = self.cleaned_data["previous_response_id"].strip()
        if value:
            try:
                upstream.validate_response_id(value)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
        return value

    def clean_from_id(self) -> str:
        value: str = self.cleaned_data["from_id"]
        try:
            return upstream.validate_response_id(value) if value else ""
        except ValueError:
            return ""  # set by the page, never typed: what is not a response id is no origin

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("previous_response_id") and data.get("conversation"):
            raise forms.ValidationError(
                "previous_response_id and conversation cannot be used together (spec §1.2)."
            )
        self.request = InputTokensRequest.model_validate(self.body(data))
        return data

    def body(self, data: dict[str, Any]) -> dict[str, Any]:
        """The request body as the form describes it (unset fields are not sent)."""
        body: dict[str, Any] = {}
        if data.get("model"):
            body["model"] = data["model"].strip()
        if data.get("instructions"):
            body["instructions"] = data["instructions"]
        if data.get("input_kind") == "text":
            if data.get("input_text"):
                body["input"] = data["input_text"]
        elif data.get("input_items") is not None:
            body["input"] = data["input_items"]
        if data.get("tools"):
            body["tools"] = data["tools"]
        if data.get("tool_choice") is not None:
            body["tool_choice"] = data["tool_choice"]
        reasoning = {
            key: data[name]
            for key, name in (("effort", "reasoning_effort"), ("summary", "reasoning_summary"))
            if data.get(name)
        }
        if reasoning:
            body["reasoning"] = reasoning
        text = {}
        if data.get("text_format") is not None:
            text["format"] = data["text_format"]
        if data.get("verbosity"):
            text["verbosity"] = data["verbosity"]
        if text:
            body["text"] = text
        if data.get("truncation"):
            body["truncation"] = data["truncation"]
        if data.get("parallel_tool_calls"):
            body["parallel_tool_calls"] = data["parallel_tool_calls"] == "true"
        for name in ("previous_response_id", "conversation"):
            if data.get(name):
                body[name] = data[name].strip()
        return body

    # -- the rest of the page's inputs ----------------------------------------------------

    def number(self, name: str, default: int) -> int:
        value = self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None
        return default if value is None else int(value)

    def origin(self) -> Origin | None:
        data = getattr(self, "cleaned_data", {})
        if not data.get("from_id"):
            return None
        return Origin(data["from_id"], data.get("from_tokens"), data.get("from_carried"))

    def state(self) -> dict[str, str]:
        """What was typed, field by field: saved as a session and reopened as it was."""
        return {
            name: ("on" if self.data.get(name) else "")
            if isinstance(self.fields[name], forms.BooleanField)
            else str(self.data.get(name, ""))
            for name in self.fields
        }


def _loads(text: str, what: str) -> Any:
    try:
        # scrub: a typed "\ud800" escape would otherwise crash the page (not UTF-8);
        # nesting.loads: so would JSON nested deeper than nesting.MAX_DEPTH.
        return scrub.scrub(nesting.loads(text))[0]
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            f"Invalid JSON in {what} at line {error.lineno}, column {error.colno}: {error.msg}."
        ) from None
    except ValueError as error:
        raise forms.ValidationError(f"Invalid JSON in {what}: {error}.") from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def _element_lines(text: str) -> list[int]:
    """The line on which each element of a JSON array starts (the text is valid JSON)."""
    decoder, index = json.JSONDecoder(), text.index("[") + 1
    lines: list[int] = []
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text) or text[index] == "]":
            return lines
        lines.append(text.count("\n", 0, index) + 1)
        _, index = decoder.raw_decode(text, index)


def _validate_list(
    text: str, adapter: TypeAdapter[Schema], name: str, form: PlaygroundForm
) -> list[Any] | None:
    """Parse a JSON list and validate each element; the error names the element and its line."""
    if not text.strip():
        return None
    values = _loads(text, name)
    if not isinstance(values, list):
        raise forms.ValidationError(
            f"{name} must be a JSON list [ … ], not a {type(values).__name__}."
        )
    lines = _element_lines(text)
    known = ITEM_TYPES if name == "input" else TOOL_TYPES
    problems = []
    for index, value in enumerate(values):
        where = f"{name}[{index}] (line {lines[index]})"
        if not isinstance(value, dict):
            problems.append(f"{where}: an item is a JSON object, not {json.dumps(value)[:40]}.")
            continue
        parsed = adapter.validate_python(value)
        if isinstance(parsed, Unknown) and parsed.invalid_reason:
            problems.append(f"{where}, {parsed.type}: {parsed.invalid_reason}.")
        elif isinstance(parsed, Unknown) and parsed.type is None:
            hint = ' (and no "role", so it is not a message)' if name == "input" else ""
            problems.append(f'{where}: no "type"{hint}.')
        elif isinstance(parsed, Unknown) and parsed.type not in known:
            form.warnings.append(
                f"{where}: type {parsed.type!r} is not one this dashboard knows; it is sent "
                "as typed and counted as its JSON text."
            )
    if problems:
        raise forms.ValidationError(problems)
    return values


# --- the request from a stored response -----------------------------------------------------

EMPTY_STATE: dict[str, str] = {
    "model": "gpt-5.1",
    "input_kind": "items",
    "input_items": DEFAULT_ITEMS,
    "cached_share": "0",
    "output_tokens": "500",
    "reasoning_tokens": "0",
    "requests_per_day": "1000",
}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def origin_state(stored: "StoredResponse | None", carried: int | None = None) -> dict[str, str]:
    """The hidden fields that carry `stored` as the form's origin (empty: no origin), and
    what its previous_response_id carried (`carried`, remote.carried_tokens)."""
    if stored is None:
        return {"from_id": "", "from_tokens": "", "from_carried": ""}
    tokens_used = stored.input_tokens
    return {
        "from_id": stored.id,
        "from_tokens": "" if tokens_used is None else str(tokens_used),
        "from_carried": "" if carried is None else str(carried),
    }


def state_from_response(
    stored: "StoredResponse", items: list[Any], carried: int | None = None
) -> tuple[dict[str, str], list[str]]:
    """The form's state that rebuilds the request behind a stored response, and notes.

    `items` are the bodies of its stored input items in order (remote.input_bodies);
    `carried` what its previous_response_id carried (remote.carried_tokens).
    """
    body = stored.body if isinstance(stored.body, dict) else {}
    notes: list[str] = []
    instructions = body.get("instructions")
    if isinstance(instructions, list):
        # input_tokens takes instructions as a string only (spec §1.2): keep them as items.
        items = instructions + items
        instructions = None
        notes.append("The response's instructions were a list of items; they lead the input.")
    if not stored.input_items_complete:
        notes.append(
            f"Only {stored.input_items_count} input items were stored; the request is partial."
        )
    tools = []
    for tool in body.get("tools") or []:
        # MCP secrets (spec §7.15) never reach a page: the count does not need them.
        secret = isinstance(tool, dict) and tool.get("type") == "mcp"
        if secret and ("authorization" in tool or "headers" in tool):
            tool = {k: v for k, v in tool.items() if k not in ("authorization", "headers")}
            notes.append("MCP authorization and headers were left out (secrets).")
        tools.append(tool)
    reasoning = body.get("reasoning") or {}
    text = body.get("text") or {}
    tool_choice = body.get("tool_choice")
    state = {
        **EMPTY_STATE,
        "model": str(body.get("model") or ""),
        "instructions": instructions if isinstance(instructions, str) else "",
        "input_items": _pretty(items),
        "tools": _pretty(tools) if tools else "",
        "tool_choice": ""
        if tool_choice in (None, "auto")
        else tool_choice
        if isinstance(tool_choice, str)
        else json.dumps(tool_choice, ensure_ascii=False),
        "reasoning_effort": str(reasoning.get("effort") or ""),
        "reasoning_summary": str(
            reasoning.get("summary") or reasoning.get("generate_summary") or ""
        ),
        "text_format": ""
        if not text.get("format") or text["format"].get("type") == "text"
        else _pretty(text["format"]),
        "verbosity": str(text.get("verbosity") or ""),
        "truncation": str(body.get("truncation") or ""),
        "previous_response_id": str(body.get("previous_response_id") or ""),
        **origin_state(stored, carried),
    }
    usage = body.get("usage") or {}
    details = usage.get("output_tokens_details") or {}
    if isinstance(usage.get("output_tokens"), int):
        reasoning_used = int(details.get("reasoning_tokens") or 0)
        state["output_tokens"] = str(max(0, usage["output_tokens"] - reasoning_used))
        state["reasoning_tokens"] = str(reasoning_used)
    if isinstance(usage.get("input_tokens"), int) and usage["input_tokens"]:
        cached = int((usage.get("input_tokens_details") or {}).get("cached_tokens") or 0)
        state["cached_share"] = str(round(100 * cached / usage["input_tokens"]))
    return state, notes


class SaveForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True)


#: The largest file of requests the batch estimate reads.
BATCH_MAX_BYTES = 20 * 1024 * 1024


class BatchForm(forms.Form):
    """Many requests to estimate at once (batch.py): pasted or uploaded JSONL, with the
    model for lines that name none and the price assumptions of the single estimate.
    Prefixed "batch-": its fields sit on the page beside the playground form's."""

    prefix = "batch"

    requests = forms.CharField(
        label="Requests, one JSON body (or Batch API line) a line",
        required=False,
        strip=False,
        widget=_area(6, placeholder='{"custom_id": "1", "method": "POST", "url": "/v1/responses", '
                     '"body": {"model": "gpt-5.1", "input": "Hi"}}'),
    )  # fmt: skip
    file = forms.FileField(label="or a JSONL file", required=False)
    model = forms.CharField(
        label="Model of lines that name none",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "model-suggestions", "autocomplete": "off"}),
    )
    output_tokens = forms.IntegerField(
        label="Expected output tokens each", min_value=0, max_value=10_000_000, initial=500
    )
    reasoning_tokens = forms.IntegerField(
        label="Expected reasoning tokens each", min_value=0, max_value=10_000_000, initial=0
    )
    cached_share = forms.IntegerField(
        label="Cached share of input (%)", min_value=0, max_value=100, initial=0
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if not data.get("requests", "").strip() and upload is None:
            raise forms.ValidationError("Paste some requests or choose a file.")
        if upload is not None and upload.size > BATCH_MAX_BYTES:
            self.add_error("file", f"At most {BATCH_MAX_BYTES // 2**20} MiB.")
        return data

    def lines(self) -> Iterator[str | bytes]:
        """The lines to estimate: the file's, a chunk at a time, else the pasted ones."""
        upload = self.cleaned_data.get("file")
        if upload is not None:
            yield from upload
        else:
            yield from self.cleaned_data["requests"].splitlines()
