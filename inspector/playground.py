"""The token-count playground: its form, the request it builds, and what the page shows.

The form turns what was typed into an `InputTokensRequest` (errors name the line, column or
item); tokens.py counts it locally; the client counts it exactly; pricing.py prices it.
"""

import hashlib
import json
import pprint
import secrets
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify
from pydantic import TypeAdapter, ValidationError

from . import client as upstream
from . import pricing, scrub, tokens
from .models import InputItem, PlaygroundSession, StoredResponse, TokenCountSample
from .schemas import ITEM_TYPES, InputTokensRequest, Unknown, item_adapter
from .schemas.base import Schema
from .schemas.tools import TOOL_CLASSES, Tool
from .schemas.tools import TextFormat as TextFormatSchema

tool_adapter: TypeAdapter[Schema] = TypeAdapter(Tool)
TOOL_TYPES = {v for cls in TOOL_CLASSES for v in cls.model_fields["type"].annotation.__args__}  # type: ignore[union-attr]

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

#: The token view shows at most this many tokens (the count itself has no limit).
TOKEN_VIEW_LIMIT = 2000
#: Attribution asks the API once per unit plus once for the whole request, in steps.
ATTRIBUTION_MAX_CALLS = 100
ATTRIBUTION_STEP = 4
DAYS_PER_MONTH = 30

DEFAULT_ITEMS = '[\n  {"role": "user", "content": "Hello! What can you do?"}\n]'

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
SUMMARIES = ("auto", "concise", "detailed")


def _choices(values: tuple[str, ...], unset: str = "not sent") -> list[tuple[str, str]]:
    return [("", unset), *((v, v) for v in values)]


def _area(rows: int, **attrs: str) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": str(rows), "spellcheck": "false", **attrs})


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
        # scrub.loads: a typed "\ud800" escape would otherwise crash the page (not UTF-8).
        return scrub.loads(text)
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            f"Invalid JSON in {what} at line {error.lineno}, column {error.colno}: {error.msg}."
        ) from None


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


def state_from_response(stored: StoredResponse) -> tuple[dict[str, str], list[str]]:
    """The form's state that rebuilds the request behind a stored response, and notes."""
    body = stored.body if isinstance(stored.body, dict) else {}
    notes: list[str] = []
    items = list(
        InputItem.objects.filter(response=stored)
        .order_by("position")
        .values_list("body", flat=True)
    )
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
        "from_id": stored.id,
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


@dataclass(frozen=True)
class Origin:
    """The stored response the form was filled from, and what it actually used."""

    response_id: str
    input_tokens: int | None


def origin(response_id: str) -> Origin | None:
    if not response_id:
        return None
    stored = StoredResponse.objects.filter(pk=response_id).only("id", "input_tokens").first()
    return Origin(stored.id, stored.input_tokens) if stored else None


# --- copy as curl / Python ----------------------------------------------------------------


def request_body(request: InputTokensRequest) -> dict[str, Any]:
    """Exactly the body the client sends for `request` (client.count_input_tokens)."""
    body: dict[str, Any] = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def curl_command(body: dict[str, Any], base_url: str) -> str:
    url = base_url.rstrip("/") + "/responses/input_tokens"
    return (
        f"curl {url} \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  -d @- <<'JSON'\n"
        f"{json.dumps(body, indent=2, ensure_ascii=False)}\nJSON"
    )


def python_snippet(body: dict[str, Any], base_url: str) -> str:
    arguments = "".join(
        f"    {key}="
        + textwrap.indent(pprint.pformat(value, width=88, sort_dicts=False), "    ").lstrip()
        + ",\n"
        for key, value in body.items()
    )
    default = base_url.rstrip("/") == "https://api.openai.com/v1"
    client = "OpenAI()" if default else f"OpenAI(base_url={base_url!r})"
    return (
        "from openai import OpenAI\n\n"
        f"client = {client}  # reads OPENAI_API_KEY from the environment\n"
        f"count = client.responses.input_tokens.count(\n{arguments})\n"
        "print(count.input_tokens)"
    )


# --- prices -------------------------------------------------------------------------------


def is_reasoning_model(model: str) -> bool:
    """gpt-5 and o-series models spend reasoning tokens (chat variants do not)."""
    return model.startswith(("o1", "o3", "o4", "gpt-5")) and "-chat" not in model


@dataclass
class PriceRow:
    model: str
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost: pricing.Cost | None
    per_month: Decimal | None
    cheapest: bool = False
    selected: bool = False

    @property
    def per_request(self) -> str:
        return pricing.money(self.cost.total) if self.cost else ""

    @property
    def monthly(self) -> str:
        return pricing.money(self.per_month)

    @property
    def input_cost(self) -> str:
        return pricing.money(self.cost.input_uncached + self.cost.input_cached) if self.cost else ""

    @property
    def output_cost(self) -> str:
        return pricing.money(self.cost.output) if self.cost else ""


@dataclass
class PricePanel:
    rows: list[PriceRow]
    selected: PriceRow
    cached_share: int
    requests_per_day: int
    days: int = DAYS_PER_MONTH
    table: str = pricing.PRICE_TABLE
    #: Parts of the request only the API can count: not in the price.
    uncounted: int = 0

    @property
    def priced_at(self) -> Any:
        return next((r.cost.priced_at for r in self.rows if r.cost), None)


def price_row(
    model: str, input_tokens: int, cached_share: int, output: int, reasoning: int, per_day: int
) -> PriceRow:
    reasoning = reasoning if is_reasoning_model(model) else 0
    cost = pricing.price(
        model,
        input_tokens=input_tokens,
        cached_tokens=input_tokens * cached_share // 100,
        output_tokens=output + reasoning,
    )
    per_month = cost.total * per_day * DAYS_PER_MONTH if cost else None
    return PriceRow(model, input_tokens, output, reasoning, cost, per_month)


def price_panel(
    request: InputTokensRequest, breakdown: tokens.Breakdown, form: PlaygroundForm
) -> PricePanel:
    """The request on its model and on pricing.COMPARE_MODELS, each counted for that model."""
    share = form.number("cached_share", 0)
    output = form.number("output_tokens", 500)
    reasoning = form.number("reasoning_tokens", 0)
    per_day = form.number("requests_per_day", 1000)
    memo: dict[tuple[str, str], int] = {}
    models = [breakdown.model] + [m for m in pricing.COMPARE_MODELS if m != breakdown.model]
    rows = []
    for model in models:
        try:
            count = (
                breakdown
                if model == breakdown.model
                else tokens.count_request(request, model, memo)
            )
        except tokens.EncodingUnavailable:
            continue
        rows.append(price_row(model, count.total, share, output, reasoning, per_day))
    rows[0].selected = True
    priced = [r for r in rows if r.cost is not None]
    if priced:
        min(priced, key=lambda r: r.cost.total if r.cost else Decimal(0)).cheapest = True
    return PricePanel(rows, rows[0], share, per_day, uncounted=len(breakdown.needs_api))


# --- the token view -----------------------------------------------------------------------


VISIBLE_WHITESPACE = str.maketrans({" ": "·", "\t": "→", "\n": "↵\n", "\r": "␍"})


@dataclass(frozen=True)
class Shown:
    """One piece of the token view: its text as shown, and its token ids."""

    text: str
    ids: str
    title: str


@dataclass
class TokenView:
    sections: list[tuple[str, SafeString]]
    shown: int
    total: int
    whitespace: bool

    @property
    def truncated(self) -> bool:
        return self.shown < self.total


def shown(piece: tokens.Piece, whitespace: bool) -> Shown:
    ids = " ".join(str(i) for i in piece.ids)
    title = (
        f"token {ids}"
        if len(piece.ids) == 1
        else f"tokens {ids} (one character split over {len(piece.ids)} tokens)"
    )
    text = piece.text.translate(VISIBLE_WHITESPACE) if whitespace else piece.text
    return Shown(text, ids, title)


def token_view(breakdown: tokens.Breakdown, whitespace: bool) -> TokenView:
    """The text of the request split into its tokens, up to TOKEN_VIEW_LIMIT of them."""
    encoding = tokens.get_encoding(breakdown.encoding.name)
    sections, count = [], 0
    for entry in breakdown.entries:
        texts = [part for part in entry.parts if part.text]
        spans = []
        for part in texts:
            room = TOKEN_VIEW_LIMIT - count
            if room <= 0:
                break
            pieces = tokens.token_pieces(encoding, part.text or "", room)
            count += sum(len(p.ids) for p in pieces)
            shown_part = token_spans(pieces, whitespace)
            if len(texts) > 1:  # several texts in one entry (a function's lines): labelled
                shown_part = format_html(
                    '<span class="tv-part">{}</span>{}', part.label, shown_part
                )
            spans.append(shown_part)
        if spans:
            sections.append((entry.label, format_html_join("", "{}", ((s,) for s in spans))))
    return TokenView(sections, count, breakdown.exact, whitespace)


def token_spans(pieces: list[tokens.Piece], whitespace: bool) -> SafeString:
    """One shaded, focusable span per piece (every value escaped by format_html_join).

    Built here rather than in a template loop: thousands of spans render ten times faster.
    """
    return format_html_join(
        "",
        '<span class="tok t{}" tabindex="0" title="{}" data-ids="{}">{}</span>',
        (
            (index % 5, view.title, view.ids, view.text)
            for index, view in enumerate(shown(p, whitespace) for p in pieces)
        ),
    )


# --- the local result: everything the count partial shows -----------------------------------


@dataclass
class LocalResult:
    breakdown: tokens.Breakdown | None = None
    unavailable: str = ""
    prices: PricePanel | None = None
    view: TokenView | None = None
    body: dict[str, Any] = field(default_factory=dict)
    curl: str = ""
    python: str = ""
    origin: Origin | None = None

    @property
    def origin_difference(self) -> int | None:
        """usage.input_tokens of the stored response less the local count."""
        if self.origin is None or self.origin.input_tokens is None or self.breakdown is None:
            return None
        return self.origin.input_tokens - self.breakdown.total


def local_result(form: PlaygroundForm) -> LocalResult:
    """Count, price and describe a valid form's request; EncodingUnavailable is reported."""
    result = LocalResult(origin=origin(form.cleaned_data.get("from_id", "")))
    if form.request is None:
        return result
    result.body = request_body(form.request)
    result.curl = curl_command(result.body, settings.OPENAI_BASE_URL)
    result.python = python_snippet(result.body, settings.OPENAI_BASE_URL)
    try:
        result.breakdown = tokens.count_request(form.request)
        result.prices = price_panel(form.request, result.breakdown, form)
        result.view = token_view(result.breakdown, form.cleaned_data.get("show_whitespace", False))
    except tokens.EncodingUnavailable as error:
        result.unavailable = str(error)
    return result


# --- the API's count, and how far local estimates have been from it -----------------------


@dataclass(frozen=True)
class History:
    model: str
    samples: int
    mean_difference: Decimal
    mean_abs_percent: Decimal
    max_abs_difference: int
    recent: list[tuple[int, int]]

    @property
    def direction(self) -> str:
        return "fewer" if self.mean_difference < 0 else "more"

    @property
    def mean_size(self) -> Decimal:
        return abs(self.mean_difference)


def summarize(model: str, pairs: list[tuple[int, int]]) -> History | None:
    """(local, API) pairs, newest first, as the estimates' track record for one model."""
    if not pairs:
        return None
    differences = [api - local for local, api in pairs]
    percents = [Decimal(abs(api - local) * 100) / api for local, api in pairs if api]
    return History(
        model=model,
        samples=len(pairs),
        mean_difference=Decimal(sum(differences)) / len(pairs),
        mean_abs_percent=sum(percents, Decimal(0)) / len(percents) if percents else Decimal(0),
        max_abs_difference=max(abs(d) for d in differences),
        recent=pairs[:5],
    )


def history(model: str) -> History | None:
    pairs = list(
        TokenCountSample.objects.filter(model=model)
        .order_by("-created_at", "-id")
        .values_list("local_count", "api_count")[:1000]
    )
    return summarize(model, pairs)


def explain_difference(breakdown: tokens.Breakdown, api_tokens: int) -> str:
    """The difference between the local count and the API's, named."""
    difference = api_tokens - breakdown.total
    uncounted = breakdown.needs_api
    only_api = (
        f"{len(uncounted)} part{'s' if len(uncounted) != 1 else ''} only the API can count "
        f"({', '.join(sorted({p.label for p in uncounted}))})"
        if uncounted
        else ""
    )
    if difference == 0:
        return "The local count matches the API's exactly."
    if difference > 0:
        causes = ["framing and tool overhead the local rules do not capture"]
        if only_api:
            causes.insert(0, only_api)
        return f"The API counted {difference:,} more: " + "; ".join(causes) + "."
    said = f" (and {only_api} were not counted locally)" if only_api else ""
    return (
        f"The API counted {-difference:,} fewer: the local framing and tool estimates "
        f"(cookbook constants, image formulas) run high for this model{said}."
    )


@dataclass
class ApiResult:
    count: int | None = None
    error: upstream.APIError | None = None
    breakdown: tokens.Breakdown | None = None
    explanation: str = ""
    history: History | None = None
    cost: pricing.Cost | None = None

    @property
    def difference(self) -> int | None:
        if self.count is None or self.breakdown is None:
            return None
        return self.count - self.breakdown.total

    @property
    def input_cost(self) -> str:
        return pricing.money(self.cost.input_uncached + self.cost.input_cached) if self.cost else ""


def api_count(form: PlaygroundForm) -> ApiResult:
    """Ask the API for the exact count of the form's request and keep the (local, API) pair."""
    assert form.request is not None
    result = ApiResult()
    try:
        result.breakdown = tokens.count_request(form.request)
    except tokens.EncodingUnavailable:
        result.breakdown = None
    try:
        with upstream.get_client() as api:
            result.count = api.count_input_tokens(form.request).input_tokens
    except upstream.APIError as error:
        result.error = error
        return result
    model = form.request.model or ""
    if result.breakdown is not None:
        result.explanation = explain_difference(result.breakdown, result.count)
        TokenCountSample.objects.create(
            model=model[:200], local_count=result.breakdown.total, api_count=result.count
        )
    result.history = history(model[:200])
    share = form.number("cached_share", 0)
    result.cost = pricing.price(
        model, input_tokens=result.count, cached_tokens=result.count * share // 100
    )
    return result


# --- attribution: each unit's exact marginal tokens -----------------------------------------


@dataclass(frozen=True)
class Unit:
    key: str
    label: str

    @property
    def anchor(self) -> str:
        return self.key.replace(".", "-")


def units(request: InputTokensRequest) -> list[Unit]:
    """What attribution leaves out in turn: the instructions, each input item, each tool."""
    found = []
    if request.instructions:
        found.append(Unit("instructions", "instructions"))
    if isinstance(request.input, str):
        found.append(Unit("input", "input (text)"))
    for index, item in enumerate(request.input or [] if not isinstance(request.input, str) else []):
        kind = getattr(item, "type", None) or "item"
        name = getattr(item, "name", None) or getattr(item, "role", None) or ""
        found.append(Unit(f"input.{index}", f"input[{index}] {kind}{' · ' + name if name else ''}"))
    for index, tool in enumerate(request.tools or []):
        kind = getattr(tool, "type", None) or "tool"
        name = getattr(tool, "name", None) or getattr(tool, "server_label", None) or ""
        found.append(Unit(f"tools.{index}", f"tools[{index}] {kind}{' · ' + name if name else ''}"))
    return found


def without(request: InputTokensRequest, key: str) -> InputTokensRequest:
    """`request` with one unit left out."""
    if key in ("instructions", "input"):
        return request.model_copy(update={key: None})
    field_name, _, position = key.partition(".")
    index = int(position)
    values = list(getattr(request, "input" if field_name == "input" else "tools") or [])
    del values[index]
    return request.model_copy(update={"input" if field_name == "input" else "tools": values})


def fingerprint(request: InputTokensRequest) -> str:
    text = json.dumps(request_body(request), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Marginal:
    unit: Unit
    local: int | None
    local_needs_api: bool
    api: int | None = None
    error: str = ""

    @property
    def difference(self) -> int | None:
        if self.api is None or self.local is None:
            return None
        return self.api - self.local


@dataclass
class Attribution:
    calls: int
    units: list[Unit]
    fingerprint: str
    base: int | None = None
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: upstream.APIError | None = None
    restarted: bool = False
    too_many: bool = False
    rows: list[Marginal] = field(default_factory=list)

    @property
    def made(self) -> int:
        return self.calls - self.remaining

    @property
    def remaining(self) -> int:
        return self.calls - len(self.done) - (0 if self.base is None else 1)

    @property
    def finished(self) -> bool:
        return self.error is not None or self.remaining <= 0

    def progress(self) -> str:
        """The hidden state the page sends back for the next step."""
        return json.dumps({"fingerprint": self.fingerprint, "base": self.base, "done": self.done})


def _progress(raw: str, fingerprint_now: str) -> tuple[int | None, dict[str, dict[str, Any]], bool]:
    """(base, done, restarted) from the page's hidden state; anything odd starts over."""
    try:
        state = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return None, {}, bool(raw)
    if not isinstance(state, dict) or state.get("fingerprint") != fingerprint_now:
        return None, {}, bool(raw)
    base = state.get("base")
    done = {
        str(k): {"tokens": v.get("tokens")}
        if isinstance(v.get("tokens"), int)
        else {"error": str(v.get("error", ""))[:500]}
        for k, v in (state.get("done") or {}).items()
        if isinstance(v, dict)
    }
    return (base if isinstance(base, int) else None), done, False


def attribution(form: PlaygroundForm, raw_progress: str, run: bool) -> Attribution:
    """Plan the calls, or (run=True) make the next few and return the results so far."""
    assert form.request is not None
    request = form.request
    found = units(request)
    plan = Attribution(calls=len(found) + 1, units=found, fingerprint=fingerprint(request))
    plan.too_many = plan.calls > ATTRIBUTION_MAX_CALLS
    if run and not plan.too_many:
        plan.base, plan.done, plan.restarted = _progress(raw_progress, plan.fingerprint)
        _step(plan, request)
    try:
        breakdown = tokens.count_request(request)
    except tokens.EncodingUnavailable:
        breakdown = None
    for unit in found:
        entry = breakdown.entry(unit.key) if breakdown else None
        row = Marginal(unit, entry.tokens if entry else None, bool(entry and entry.needs_api))
        outcome = plan.done.get(unit.key, {})
        if "tokens" in outcome and plan.base is not None:
            row.api = plan.base - outcome["tokens"]
        row.error = outcome.get("error", "")
        plan.rows.append(row)
    return plan


def _step(plan: Attribution, request: InputTokensRequest) -> None:
    budget = ATTRIBUTION_STEP
    try:
        with upstream.get_client() as api:
            if plan.base is None:
                plan.base = api.count_input_tokens(request).input_tokens
                budget -= 1
            for unit in plan.units:
                if budget <= 0:
                    break
                if unit.key in plan.done:
                    continue
                try:
                    count = api.count_input_tokens(without(request, unit.key)).input_tokens
                except upstream.RequestRejected as error:
                    # Leaving this one out made the request invalid (an orphaned call output).
                    plan.done[unit.key] = {"error": f"{error.title}: {error.message}"}
                else:
                    plan.done[unit.key] = {"tokens": count}
                budget -= 1
    except upstream.APIError as error:
        plan.error = error


# --- saved sessions -----------------------------------------------------------------------


def save_session(
    name: str, form: PlaygroundForm, author: AbstractBaseUser | AnonymousUser
) -> PlaygroundSession:
    """Keep the form's state under `name`; the slug gets a random tail, so it is unguessable
    and never one of the playground's own paths (count/, save/, …)."""
    base = slugify(name)[:60] or "session"
    return PlaygroundSession.objects.create(
        name=name,
        slug=f"{base}-{secrets.token_hex(3)}",
        state=form.state(),
        author=author if isinstance(author, User) else None,
    )


def saved_sessions() -> QuerySet[PlaygroundSession]:
    return PlaygroundSession.objects.select_related("author").defer("state")[:50]


class SaveForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True)


# --- the page -----------------------------------------------------------------------------

#: The rules the page quotes once, by the key each counted part cites.
RULES = (
    ("text", "Text", "Counted exactly with the model's tiktoken encoding (encode_ordinary)."),
    ("messages", "Message framing", tokens.MESSAGE_RULE),
    (
        "functions",
        "Function tools",
        f"{tokens.function_rule(tokens.FUNCTIONS_O200K)} For {tokens.FUNCTIONS_CL100K.family} "
        f"the per-function constant is {tokens.FUNCTIONS_CL100K.func_init}.",
    ),
    ("tiles", "Images (tiles)", tokens.TILE_RULE),
    ("patches", "Images (patches)", tokens.PATCH_RULE),
    (
        "json",
        "Everything else",
        "Items and schema parts with no published rule are counted as their compact JSON text: "
        "a rough estimate.",
    ),
    (
        "api",
        "Needs the API count",
        "Files, images given by file id or remote URL, hosted tools (web search, file search, "
        "MCP, …), encrypted reasoning and compaction items, item references, and the context "
        "that previous_response_id or conversation adds: nothing local is sound for these.",
    ),
)


def _attribution_fingerprint(raw: str) -> str:
    try:
        state = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return ""
    return str(state.get("fingerprint", "")) if isinstance(state, dict) else ""


def page(
    form: PlaygroundForm,
    *,
    notes: list[str] | None = None,
    session: PlaygroundSession | None = None,
    api: ApiResult | None = None,
    attributed: Attribution | None = None,
    save_form: SaveForm | None = None,
    api_for: str = "",
    attribution_state: str = "",
) -> dict[str, Any]:
    """Everything the playground page (or its count fragment) shows."""
    now = fingerprint(form.request) if form.request is not None else ""
    attributed_for = _attribution_fingerprint(attribution_state)
    return {
        "form": form,
        "result": local_result(form),
        "notes": notes or [],
        "session": session,
        "api": api,
        "attribution": attributed,
        "save_form": save_form or SaveForm(),
        "sessions": saved_sessions(),
        "model_suggestions": MODEL_SUGGESTIONS,
        "rules": RULES,
        "fingerprint": now,
        "api_stale": bool(api_for) and api_for != now,
        "attribution_stale": bool(attributed_for) and attributed_for != now,
        "token_view_limit": TOKEN_VIEW_LIMIT,
        "max_calls": ATTRIBUTION_MAX_CALLS,
    }
