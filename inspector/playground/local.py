"""What the playground computes here, without the API or the database: the local count's
result, the request priced on several models, the token view, and copy-as-curl / Python.

Pure: tokens.py counts, pricing.py prices; nothing here reads the ORM or calls the client.
"""

import hashlib
import json
import pprint
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import pricing, tokens
from ..schemas import InputTokensRequest
from .form import Origin, PlaygroundForm

#: The token view shows at most this many tokens (the count itself has no limit).
TOKEN_VIEW_LIMIT = 2000
DAYS_PER_MONTH = 30


# --- the request's body, its fingerprint, copy as curl / Python -----------------------------


def request_body(request: InputTokensRequest) -> dict[str, Any]:
    """Exactly the body the client sends for `request` (client.count_input_tokens)."""
    body: dict[str, Any] = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def fingerprint(request: InputTokensRequest) -> str:
    """A short name for the request: an API count or attribution made for another is stale."""
    text = json.dumps(request_body(request), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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

    @property
    def output_dominates(self) -> str:
        """A sentence when the output the form assumes is most of the price ("" if not):
        an estimate then says more about that assumption than about the request."""
        cost = self.cost
        if cost is None or not cost.total or cost.output * 2 <= cost.total:
            return ""
        assumed = f"{self.output_tokens:,} output tokens"
        if self.reasoning_tokens:
            assumed += f" and {self.reasoning_tokens:,} reasoning tokens"
        return (
            f"{pricing.money(cost.output)} of {pricing.money(cost.total)} is the {assumed} "
            "you assumed: set the expected output to what your requests really return."
        )


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


# --- why a stored response used more input than the local count -------------------------------


@dataclass(frozen=True)
class GapPart:
    """One reason the API's count is larger: what, how much at most (None: unknown), why."""

    label: str
    tokens: int | None
    why: str


def _real_bills(kind: str) -> str:
    found = tokens.EVIDENCE.get(kind)
    if found is None or not found.pairs:
        return "no real bill tells how much"
    return (
        f"in {found.pairs} real bills it added {found.low:+,} to {found.high:+,} tokens "
        f"(median {found.median:+,})"
    )


#: What each kind of part only the API counts adds, in words (tokens.py's kinds).
_ADDS = {
    tokens.HOSTED: "the API adds the hosted tool's own definition and instructions",
    tokens.FILES: "the API reads the file or image itself",
    tokens.OPAQUE: "the API decrypts the item and counts what it holds",
    tokens.PRO: "pro mode runs the model several times and bills the input of each run",
}


@dataclass
class Gap:
    """usage.input_tokens of a stored response beside the local count of the request rebuilt
    from it, and the parts of the request that explain the difference, one by one."""

    used: int
    local: int
    parts: list[GapPart]

    @property
    def difference(self) -> int:
        return self.used - self.local

    @property
    def fewer(self) -> int:
        """How many fewer the API counted than the local count (0 if not fewer)."""
        return max(0, -self.difference)

    @property
    def within_margin(self) -> bool:
        """As close as the local count comes to real bills of whole requests (2 or 2 %)."""
        return abs(self.difference) <= max(2, self.used * 2 // 100)

    @property
    def at_most(self) -> int | None:
        """How much the parts can explain at most, when each has a size (else None)."""
        if not self.parts or any(part.tokens is None for part in self.parts):
            return None
        return sum(part.tokens or 0 for part in self.parts)

    @property
    def beyond(self) -> int:
        """What even the parts' largest sizes leave unexplained (0 if nothing)."""
        return max(0, self.difference - (self.at_most or 0))


def gap(origin: Origin | None, breakdown: tokens.Breakdown | None) -> Gap | None:
    """Why the stored response used more (or fewer) input tokens than the local count."""
    if origin is None or origin.input_tokens is None or breakdown is None:
        return None
    parts = []
    for part in breakdown.needs_api:
        if part.kind == tokens.EARLIER and origin.carried is not None:
            why = (
                f"{part.label} gives the model the whole earlier turn: the previous response "
                f"read and wrote {origin.carried:,} tokens, which this one reads again (less "
                "what the API leaves out, such as earlier reasoning)"
            )
            parts.append(GapPart(part.label, origin.carried, why))
        elif part.kind == tokens.EARLIER:
            why = (
                f"{part.label} gives the model the earlier turns, which are not stored here: "
                f"{_real_bills(part.kind)}"
            )
            parts.append(GapPart(part.label, None, why))
        else:
            adds = _ADDS.get(part.kind, "only the API can count it")
            parts.append(GapPart(part.label, None, f"{adds}; {_real_bills(part.kind)}"))
    return Gap(origin.input_tokens, breakdown.total, parts)


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
    def gap(self) -> Gap | None:
        """usage.input_tokens of the stored response beside the local count, explained."""
        return gap(self.origin, self.breakdown)


def local_result(form: PlaygroundForm, base_url: str) -> LocalResult:
    """Count, price and describe a valid form's request; EncodingUnavailable is reported.

    `base_url` is the upstream the snippets name (settings.OPENAI_BASE_URL); the origin is
    the one the form carries (no query).
    """
    result = LocalResult(origin=form.origin())
    if form.request is None:
        return result
    result.body = request_body(form.request)
    result.curl = curl_command(result.body, base_url)
    result.python = python_snippet(result.body, base_url)
    try:
        result.breakdown = tokens.count_request(form.request)
        result.prices = price_panel(form.request, result.breakdown, form)
        result.view = token_view(result.breakdown, form.cleaned_data.get("show_whitespace", False))
    except tokens.EncodingUnavailable as error:
        result.unavailable = str(error)
    return result


# --- the rules the page quotes -------------------------------------------------------------

#: The rules the page quotes once, by the key each counted part cites.
RULES = (
    ("text", "Text", "Counted exactly with the model's tiktoken encoding (encode_ordinary)."),
    ("messages", "Message framing", tokens.MESSAGE_RULE),
    (
        "functions",
        "Function tools",
        f"{tokens.function_rule(tokens.RESPONSES_CHAT)} For "
        f"{tokens.RESPONSES_REASONING.family} the list ends in "
        f"{tokens.RESPONSES_REASONING.func_end}. For {tokens.FUNCTIONS_CL100K.family} "
        f"(no bill to learn from): {tokens.function_rule(tokens.FUNCTIONS_CL100K)}",
    ),
    ("calls", "Tool calls and reasoning models", tokens.CALL_RULE),
    ("schema", "Response format", tokens.SCHEMA_RULE),
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
        "that previous_response_id or conversation adds, and pro mode's repeated runs: "
        "nothing local is sound for these.",
    ),
    ("evidence", "Checked against real bills", tokens.EVIDENCE_RULE),
)
