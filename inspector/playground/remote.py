"""What the playground asks of the world outside this process: the API (the exact count,
attribution of each item and tool) and the database (the count history of each model,
saved sessions, the stored response a request is rebuilt from).

The one module of the playground that calls the client or reads and writes the ORM.
"""

import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.text import slugify

from .. import client as upstream
from .. import nesting, pricing, tokens
from ..models import InputItem, PlaygroundSession, StoredResponse, TokenCountSample
from ..schemas import InputTokensRequest
from .form import PlaygroundForm, origin_state
from .local import fingerprint

#: Attribution asks the API once per unit plus once for the whole request, in steps.
ATTRIBUTION_MAX_CALLS = 100
ATTRIBUTION_STEP = 4


# --- the stored response a request is rebuilt from ------------------------------------------


def input_bodies(stored: StoredResponse) -> list[Any]:
    """The bodies of a stored response's input items, in order."""
    return list(
        InputItem.objects.filter(response=stored)
        .order_by("position")
        .values_list("body", flat=True)
    )


def with_carried(rows: QuerySet[StoredResponse]) -> QuerySet[StoredResponse]:
    """`rows` with what each one's previous_response_id carried at most (`carried_in`,
    `carried_out`: the previous turn's input and output tokens, when it is stored here),
    read in the same query."""
    previous = StoredResponse.objects.filter(pk=OuterRef("previous_response_id"))
    return rows.annotate(
        carried_in=Subquery(previous.values("input_tokens")[:1]),
        carried_out=Subquery(previous.values("output_tokens")[:1]),
    )


def carried_tokens(stored: StoredResponse) -> int | None:
    """What `stored`'s previous_response_id carried at most, as with_carried read it."""
    taken_in = getattr(stored, "carried_in", None)
    if taken_in is None:
        return None
    return int(taken_in) + int(getattr(stored, "carried_out", None) or 0)


def stored_origin(response_id: str) -> StoredResponse | None:
    """The stored response a playground is rebuilt from, with what its previous turn
    carried; one query."""
    return with_carried(StoredResponse.objects.filter(pk=response_id)).first()


def with_origin(state: dict[str, str]) -> dict[str, str]:
    """A saved state with its origin read once from the store: the input tokens the stored
    response it was rebuilt from used, or no origin if that response is no longer stored."""
    response_id = state.get("from_id", "")
    rows = StoredResponse.objects.filter(pk=response_id).only(
        "id", "input_tokens", "previous_response_id"
    )
    stored = with_carried(rows).first() if response_id else None
    return {**state, **origin_state(stored, carried_tokens(stored) if stored else None)}


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
        state = nesting.loads(raw) if raw else {}
    except ValueError:
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


def progress_fingerprint(raw: str) -> str:
    """The request fingerprint the page's hidden attribution state was made for, or ""."""
    try:
        state = nesting.loads(raw) if raw else {}
    except ValueError:
        return ""
    return str(state.get("fingerprint", "")) if isinstance(state, dict) else ""


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
