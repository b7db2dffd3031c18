"""Views: validate input, call pages.py (or the store for an action), pick a template.

No HTTP, parsing or HTML here; URLs are built here or in the templates."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseClientRefresh,
    push_url,
    trigger_client_event,
)
from django_htmx.middleware import HtmxDetails

from . import (
    access,
    audit,
    client,
    events,
    notes,
    pages,
    redaction,
    spend_pages,
    store,
    uploads,
)
from . import playground as pg
from .forms import (
    CompareForm,
    FollowForm,
    GotoForm,
    ImportForm,
    ItemFilterForm,
    ListFilterForm,
    LookupForm,
    NoteForm,
    OverviewForm,
    ReplayForm,
    ReviewForm,
    RunFilterForm,
)
from .models import Note, PlaygroundSession, StoredResponse
from .playground import PlaygroundForm


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (typed, for the views below)."""

    htmx: HtmxDetails


def _unredacted(request: HtmxHttpRequest) -> bool:
    """?redact=0 on an export: the raw data, for those allowed (redaction.py says why)."""
    if request.GET.get("redact", "").lower() not in ("0", "off", "false", "no"):
        return False
    if not request.user.has_perm("inspector.export_unredacted"):
        raise PermissionDenied("Unredacted exports need the export_unredacted permission.")
    return True


def _export_json(request: HtmxHttpRequest, export: dict[str, Any]) -> JsonResponse:
    raw = _unredacted(request)
    _exported(request, raw)
    data = export if raw else redaction.redact_export(export)
    return JsonResponse(data, json_dumps_params={"indent": 2})


def _exported(request: HtmxHttpRequest, raw: bool) -> None:
    response_id = (request.resolver_match.kwargs if request.resolver_match else {}).get(
        "response_id", ""
    )
    detail = request.path + (" (unredacted)" if raw else "")
    audit.record(request, audit.Action.EXPORTED, response_id, detail)


def _fetched(request: HtmxHttpRequest, response_id: str) -> StoredResponse:
    """Fetch and keep a response not stored yet, with its first page of input items (its page
    fetches the rest in steps); the audit trail says who, whether it worked or not."""
    try:
        stored = store.open_response(response_id, user=request.user)
    except client.APIError as error:
        audit.record(request, audit.Action.FETCHED, response_id, f"failed: {error.title}")
        raise
    audit.record(request, audit.Action.FETCHED, response_id)
    return stored


def _stored_or_fetched(request: HtmxHttpRequest, response_id: str) -> StoredResponse | HttpResponse:
    """The stored response, else fetched now (rate-limited), else the upstream's error page."""
    stored = StoredResponse.objects.filter(pk=response_id).first()
    if stored is not None:
        return stored
    access.take_fetch(request)
    try:
        return _fetched(request, response_id)
    except client.APIError as error:
        return upstream_error(request, error, response_id)


def upstream_error(
    request: HtmxHttpRequest, error: client.APIError, response_id: str
) -> HttpResponse:
    return render(
        request,
        "inspector/upstream_error.html",
        {"error": error, "response_id": response_id},
        status=error.http_status,
    )


@require_GET
@login_not_required
def healthz(request: HtmxHttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@access.need(access.VIEW)
def index(request: HtmxHttpRequest) -> HttpResponse:
    return _index(request, LookupForm())


def _index(
    request: HtmxHttpRequest,
    form: LookupForm,
    status: int = 200,
    matches: list[str] | None = None,
) -> HttpResponse:
    # The lookup box's ?q= is what was typed in it, not the list's text filter.
    filters = ListFilterForm(None if form.is_bound else request.GET)
    context = {
        "lookup_form": form if form.is_bound else None,
        "matches": matches,
        "filters": filters,
        "page": pages.list_page(filters.filters(), request.GET.get("page")),
    }
    return render(request, "inspector/index.html", context, status=status)


@require_GET
@access.need(access.VIEW)
def lookup(request: HtmxHttpRequest) -> HttpResponse:
    """The lookup box: a stored id, or part of one (before anything goes upstream), opens
    what is stored; a whole id that is not stored is fetched; anything else says why."""
    form = LookupForm(request.GET)
    valid = form.is_valid()
    typed = form.cleaned_data["q"] if valid else (request.GET.get("q") or "").strip()
    matches = pages.lookup_matches(typed)
    if len(matches) == 1:
        return redirect("inspector:response-detail", response_id=matches[0])
    if matches:
        return _index(request, form, matches=matches)
    if not valid:
        return _index(request, form, status=400)
    return redirect("inspector:response-detail", response_id=form.cleaned_data["q"])


@require_GET
@access.need(access.VIEW)
def response_detail(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = _stored_or_fetched(request, response_id)
    if isinstance(stored, HttpResponse):
        return stored
    audit.record(request, audit.Action.VIEWED, stored.id)
    form = ItemFilterForm(request.GET)
    context = pages.response_page(stored, form.page_number(), form.only())
    context.update(_fetch_urls(stored), **_search_context(request, [stored.id], stored.id))
    return render(request, "inspector/response_detail.html", context)


@require_GET
@access.need(access.VIEW)
def response_input_items(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """One more page of input items: below those shown (?dir=down, "revealed"), or above
    them (?dir=up, when the page was opened at a later page)."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    form = ItemFilterForm(request.GET)
    after = request.GET.get("after", "")
    context = pages.input_items_context(
        stored,
        form.page_number(),
        form.only(),
        int(after) if after.lstrip("-").isdigit() else None,
    )
    context["direction"] = "up" if request.GET.get("dir") == "up" else "down"
    context.update(_fetch_urls(stored))
    return render(request, "inspector/response_detail.html#input-items", context)


# --- fetching in steps (issue 12): progress, the step the page drives, refresh ---------------


def _fetch_urls(stored: StoredResponse) -> dict[str, Any]:
    """Where the page posts the next step of its fetch, and how long it waits first."""
    return {
        "fetch_url": reverse("inspector:response-fetch-step", args=[stored.id]),
        "fetch_wait": 1,
    }


def _fetch_step(request: HtmxHttpRequest, stored: StoredResponse) -> store.Progress | None:
    """One step of the fetch under way, counted by the rate limit only when it fetches."""
    if store.may_step(stored):
        access.take_fetch(request)
        audit.record(request, audit.Action.FETCHED, stored.id, "input items step")
    return store.fetch_step(stored)


@require_POST
@access.need(access.FETCH)
def response_fetch_step(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """One bounded step of fetching a response's input items (or of its refresh); htmx posts
    it again from the progress block it gets back until nothing is left to fetch."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    url = reverse("inspector:response-detail", args=[response_id])
    context = _fetch_urls(stored)
    try:
        context["fetch"] = _fetch_step(request, stored)
    except access.FetchLimited as limited:
        context["fetch_wait"] = limited.retry_after
    if not request.htmx:
        return redirect(url)
    if context["fetch"] is None:  # a refresh swapped in: the page shows another copy now
        return HttpResponseClientRefresh()
    return render(request, "inspector/_fetch_progress.html", {"stored": stored, **context})


@require_POST
@access.need(access.FETCH)
def response_refresh_discard(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Drop a refresh under way or failed; the stored copy stays as it is."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    store.discard_refresh(stored)
    return HttpResponseRedirect(reverse("inspector:response-detail", args=[response_id]))


# --- search inside a response or a trace ------------------------------------------------------


def _search_context(
    request: HtmxHttpRequest, response_ids: list[str], end_id: str, trace: bool = False
) -> dict[str, Any]:
    """The search box and, with ?q=, its results (every item of `response_ids`)."""
    page_url = reverse(f"inspector:response-{'trace' if trace else 'detail'}", args=[end_id])
    fragment = reverse(f"inspector:response-{'trace-' if trace else ''}search", args=[end_id])
    results = pages.search_results(
        response_ids,
        request.GET.get("q", "")[:500],
        _item_page_url,
        page_url,
        fragment,
        page=request.GET.get("results"),
        current=request.GET.get("hit"),
        trace=trace,
    )
    return {"results": results, "search_page": page_url, "search_fragment": fragment}


def _item_page_url(response_id: str) -> str:
    return reverse("inspector:response-detail", args=[response_id])


def _search(
    request: HtmxHttpRequest, response_ids: list[str], end_id: str, trace: bool
) -> HttpResponse:
    context = _search_context(request, response_ids, end_id, trace)
    query = {key: request.GET[key] for key in ("q", "results") if request.GET.get(key)}
    page = f"{context['search_page']}?{urlencode(query)}"
    if not request.htmx:
        return HttpResponseRedirect(f"{page}#search")
    return push_url(render(request, "inspector/_search_results.html", context), page)


@require_GET
@access.need(access.VIEW)
def response_search(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """The items of a response that match ?q= (htmx), else its page with them listed."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    return _search(request, [stored.id], stored.id, trace=False)


@require_GET
@access.need(access.VIEW)
def response_trace_search(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """The items of a trace's turns that match ?q= (htmx), else the trace with them listed."""
    chain = store.chain_ending_at(response_id)
    return _search(request, [s.id for s in chain.responses], response_id, trace=True)


@require_GET
@access.need(access.VIEW)
def response_goto(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """An item by its place (?input=N, ?output=N, ?instructions=N): the response page at
    the page of input items that shows it, scrolled to it. Every item link goes through
    here, so it reaches an item that no page has loaded yet."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    form = GotoForm(request.GET)
    place = form.place()
    if place and place[0] == "anchor":
        place = pages.place_of_anchor(stored, form.cleaned_data["anchor"])
    found = pages.goto_place(stored, *place) if place else None
    if found is None:
        raise Http404("No such item in this response.")
    number, anchor = found
    url = reverse("inspector:response-detail", args=[response_id])
    return HttpResponseRedirect(f"{url}{f'?page={number}' if number > 1 else ''}#{anchor}")


@require_GET
@access.need(access.VIEW)
def response_outline(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """The outline of a response (its turns, counts and problems): the response page loads
    it into its toolbar; without htmx, a page of its own."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    template = "inspector/response_outline.html"
    context = pages.outline_page(stored)
    return render(request, f"{template}#outline" if request.htmx else template, context)


@require_GET
@access.need(access.VIEW)
def response_json(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    return _export_json(request, store.export_bundle(stored))


@require_POST
@access.need(access.FETCH, fetch=True)
def response_refresh(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Fetch the response again into a staging copy, with its first page of input items; the
    page fetches the rest in steps, and the copy replaces the stored one once complete. The
    owner (who fetched it first) and notes and review stay."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    try:
        store.start_refresh(stored)
    except client.APIError as error:
        audit.record(request, audit.Action.FETCHED, response_id, f"failed: {error.title}")
        return upstream_error(request, error, response_id)
    audit.record(request, audit.Action.FETCHED, response_id)
    return HttpResponseRedirect(reverse("inspector:response-detail", args=[response_id]))


@require_POST
@access.need(access.FETCH)
def response_resume(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Resume a fetch (or refresh) of input items that stopped: one step, then the page,
    which drives the rest."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    _fetch_step(request, stored)
    return HttpResponseRedirect(reverse("inspector:response-detail", args=[response_id]))


# --- the token-count playground (issue 4) ---------------------------------------------------

PLAYGROUND = "inspector/playground.html"


def _playground(
    request: HtmxHttpRequest, form: PlaygroundForm, fragment: str, status: int = 200, **extra: Any
) -> HttpResponse:
    """The whole page, or (htmx) one of its fragments, with the form as it was sent."""
    context = pg.page(
        form,
        api_for=request.POST.get("api_for", ""),
        attribution_state=request.POST.get("attribution", ""),
        **extra,
    )
    template = f"{PLAYGROUND}#{fragment}" if request.htmx else PLAYGROUND
    return render(request, template, context, status=status)


@require_GET
@access.need(access.VIEW, counts=True)
def playground(request: HtmxHttpRequest) -> HttpResponse:
    source = request.GET.get("from", "")
    stored = pg.stored_origin(source) if source else None
    state, notes = (
        pg.state_from_response(stored, pg.input_bodies(stored), pg.carried_tokens(stored))
        if stored
        else (pg.EMPTY_STATE, [])
    )
    if source and stored is None:
        notes = [f"{source} is not stored here: open it as a response first, then come back."]
    form = PlaygroundForm(state)
    form.is_valid()
    status = 404 if source and stored is None else 200
    return render(request, PLAYGROUND, pg.page(form, notes=notes), status=status)


@require_GET
@access.need(access.VIEW, counts=True)
def playground_session(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    session = get_object_or_404(PlaygroundSession.objects.select_related("author"), slug=slug)
    form = PlaygroundForm(pg.with_origin(session.state))
    form.is_valid()
    return render(request, PLAYGROUND, pg.page(form, session=session))


@require_POST
@access.need(access.VIEW, counts=True)
def playground_count(request: HtmxHttpRequest) -> HttpResponse:
    form = PlaygroundForm(request.POST)
    status = 200 if form.is_valid() else 400
    return _playground(request, form, "results", status)


@require_POST
@access.need(access.FETCH, fetch=True, counts=True)
def playground_api_count(request: HtmxHttpRequest) -> HttpResponse:
    form = PlaygroundForm(request.POST)
    if not form.is_valid():
        return _playground(request, form, "api-result", 400)
    result = pg.api_count(form)
    status = result.error.http_status if result.error else 200
    return _playground(request, form, "api-result", status, api=result)


@require_POST
@access.need(access.VIEW, counts=True)
def playground_attribute(request: HtmxHttpRequest) -> HttpResponse:
    form = PlaygroundForm(request.POST)
    if not form.is_valid():
        return _playground(request, form, "attribution", 400)
    run = request.POST.get("confirm") == "1"
    if run:
        access.take_fetch(request)
    result = pg.attribution(form, request.POST.get("attribution", ""), run=run)
    status = result.error.http_status if result.error else 200
    return _playground(request, form, "attribution", status, attributed=result)


@require_POST
@access.need(access.VIEW, counts=True)
def playground_batch(request: HtmxHttpRequest) -> HttpResponse:
    """Estimate many requests at once (playground/batch.py): the result, or (no htmx) the
    playground page with it."""
    batch = pg.BatchForm(request.POST, request.FILES)
    result = None
    if batch.is_valid():
        data = batch.cleaned_data
        result = pg.batch_estimate(
            batch.lines(),
            default_model=data["model"],
            output_tokens=data["output_tokens"],
            reasoning_tokens=data["reasoning_tokens"],
            cached_share=data["cached_share"],
        )
    form = PlaygroundForm(pg.EMPTY_STATE)
    form.is_valid()
    context = pg.page(form, batch_form=batch, batch=result)
    template = f"{PLAYGROUND}#batch" if request.htmx else PLAYGROUND
    return render(request, template, context, status=200 if result else 400)


@require_POST
@access.need(access.SAVE_SESSION)
def playground_save(request: HtmxHttpRequest) -> HttpResponse:
    form, save = PlaygroundForm(request.POST), pg.SaveForm(request.POST)
    form.is_valid()  # a session keeps what was typed, even half-finished JSON
    if not save.is_valid():
        return _playground(request, form, "save", 400, save_form=save)
    session = pg.save_session(save.cleaned_data["name"], form, request.user)
    url = reverse("inspector:playground-session", args=[session.slug])
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


# --- stream events: timeline, replay, live follow (spec §1.1, §6) ---------------------------
#
# Live follow is short htmx polling of a bounded server-side read, not htmx's SSE extension
# against a streaming view. A streaming view would hold a sync worker (runserver, gunicorn's
# sync workers) for as long as a background response runs, which can be an hour, and would
# need another vendored script plus reconnect logic in the browser. Here each poll is one
# POST that reads upstream with starting_after = the last kept sequence number for at most
# store.FOLLOW_SECONDS, keeps what came and answers with the new rows: every connection is
# bounded in time, a drop is resumed by the next poll, nothing lives in process memory (any
# worker or host can answer the next poll), and polling stops at a terminal event.


@require_GET
@access.need(access.VIEW)
def response_events(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = _stored_or_fetched(request, response_id)
    if isinstance(stored, HttpResponse):
        return stored
    return _events_page(request, stored)


def _events_page(
    request: HtmxHttpRequest,
    stored: StoredResponse,
    *,
    result: store.ReplayResult | None = None,
    form: ReplayForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {**pages.events_page(stored, result), "replay_form": form or ReplayForm()}
    return render(request, "inspector/response_events.html", context, status=status)


@require_GET
@access.need(access.VIEW)
def response_events_json(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    return _export_json(request, store.export_events(stored))


@require_POST
@access.need(access.FETCH, fetch=True)
def response_events_replay(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    form = ReplayForm(request.POST)
    if not form.is_valid():
        return _events_page(request, stored, form=form, status=400)
    audit.record(request, audit.Action.FETCHED, stored.id, "replay events")
    result = store.replay_events(stored, form.cleaned_data["starting_after"])
    if result.error is not None and not result.kept:
        return _events_page(request, stored, result=result, status=result.error.http_status)
    # A read cut short (a drop, the time bound) is resumed by the page's live follow.
    return redirect("inspector:response-events", response_id=stored.id)


@require_POST
@access.need(access.FETCH)
def response_events_follow(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    form = FollowForm(request.POST)
    previous = form.state() if form.is_valid() else events.Follow(active=True)
    result = store.follow_events(stored)
    if not request.htmx:
        return redirect("inspector:response-events", response_id=stored.id)
    context = {**pages.events_update(stored, previous, result), "replay_form": ReplayForm()}
    # Always 200: a lost connection or a refusal is news for the page, said in words.
    return render(request, "inspector/response_events.html#follow-update", context)


# --- traces, the tool-call audit, transcripts and trace bundles ----------------------------


def _trace_context(
    request: HtmxHttpRequest, response_id: str, error: client.APIError | None = None
) -> dict[str, Any]:
    context = pages.trace_page(
        response_id,
        error=error,
        # ?walk=paused shows what is stored without fetching more (after a failure).
        walk=request.GET.get("walk") != "paused",
        # The first turns in full, the others when scrolled to; ?turns=all shows every one.
        all_turns=request.GET.get("turns") == "all",
        only=ItemFilterForm(request.GET).only(),
    )
    context["trace_fetch_url"] = reverse("inspector:response-trace-fetch-step", args=[response_id])
    return context


@require_GET
@access.need(access.VIEW)
def response_trace(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    audit.record(request, audit.Action.VIEWED, response_id, "trace")
    context = _trace_context(request, response_id)
    ids = [stored.id for stored in context["chain"].responses]
    context.update(_search_context(request, ids, response_id, trace=True))
    return render(request, "inspector/response_trace.html", context)


@require_POST
@access.need(access.FETCH)
def response_trace_fetch_step(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """One step of fetching the input items of the first turn of the trace that still has
    some to fetch; htmx posts it again until no turn has, then the trace is shown again."""
    url = reverse("inspector:response-trace", args=[response_id])
    chain = store.chain_ending_at(response_id)
    fetch, wait = store.unfinished_fetch(chain.responses), 1
    if fetch is not None:
        turn = StoredResponse.objects.get(pk=fetch.response_id)
        try:
            _fetch_step(request, turn)
        except access.FetchLimited as limited:
            wait = limited.retry_after
        fetch = store.unfinished_fetch(chain.responses)
    if not request.htmx:
        return redirect(url)
    if fetch is None:
        return HttpResponseClientRefresh()
    context = {
        "fetch": fetch,
        "fetch_url": reverse("inspector:response-trace-fetch-step", args=[response_id]),
        "fetch_wait": wait,
        "fetch_in_trace": True,
    }
    return render(request, "inspector/_fetch_progress.html", context)


@require_GET
@access.need(access.VIEW)
def response_trace_turn(request: HtmxHttpRequest, response_id: str, number: int) -> HttpResponse:
    """One later turn's items, which the trace page loads when it is scrolled to (htmx)."""
    context = _trace_context(request, response_id)
    turns = context["trace"].turns
    if not 1 <= number <= len(turns):
        raise Http404("No such turn in this trace.")
    if not request.htmx:
        url = reverse("inspector:response-trace", args=[response_id])
        return HttpResponseRedirect(f"{url}?turns=all#turn-{number}")
    context["turn"] = turns[number - 1]
    return render(request, "inspector/response_trace.html#turn-body", context)


@require_POST
@access.need(access.FETCH, fetch=True)
def response_trace_step(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Fetch one missing ancestor of the chain; htmx calls this again until none is missing."""
    url = reverse("inspector:response-trace", args=[response_id])
    chain = store.chain_ending_at(response_id)
    error = None
    if chain.missing:
        try:
            _fetched(request, chain.missing)
        except client.APIError as failure:
            error = failure
        else:
            chain = store.chain_ending_at(response_id)
    if error is None and not chain.missing:
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        context = {"chain": chain, "end_id": response_id, "error": error, "walk": error is None}
        return render(request, "inspector/response_trace.html#walk", context)
    if error is None:
        return redirect(url)
    context = _trace_context(request, response_id, error)
    return render(request, "inspector/response_trace.html", context, status=error.http_status)


def _markdown(request: HtmxHttpRequest, text: str) -> HttpResponse:
    # Plain text, never HTML: X-Content-Type-Options: nosniff is set on every response.
    raw = _unredacted(request)
    _exported(request, raw)
    text = text if raw else redaction.redact_markdown(text)
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


@require_GET
@access.need(access.VIEW)
def response_markdown(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    return _markdown(request, pages.response_transcript(stored))


@require_GET
@access.need(access.VIEW)
def response_trace_markdown(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    chain = store.chain_ending_at(response_id)
    if not chain.responses:
        raise Http404("not stored")
    return _markdown(request, pages.transcript_of(chain))


@require_GET
@access.need(access.VIEW)
def response_trace_json(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    chain = store.chain_ending_at(response_id)
    if not chain.responses:
        raise Http404("not stored")
    return _export_json(request, store.export_trace(chain))


@require_GET
@access.need(access.VIEW)
def tool_calls(request: HtmxHttpRequest) -> HttpResponse:
    name, kind, flag, problem = (
        request.GET.get(key, "")[:200] for key in ("name", "type", "flag", "problem")
    )
    context = pages.tool_calls_page(name, kind, flag, request.GET.get("page"), problem)
    return render(request, "inspector/tool_calls.html", context)


# --- runs and spend at a glance: /runs/, /overview/ -----------------------------------------


@require_GET
@access.need(access.VIEW)
def runs(request: HtmxHttpRequest) -> HttpResponse:
    filters = RunFilterForm(request.GET)
    context = spend_pages.runs_page(filters.filters(), request.GET.get("page"))
    return render(request, "inspector/runs.html", {"filters": filters, **context})


@require_GET
@access.need(access.VIEW)
def overview(request: HtmxHttpRequest) -> HttpResponse:
    form = OverviewForm(request.GET)
    context = spend_pages.overview_page(form.asked())
    return render(request, "inspector/overview.html", {"form": form, **context})


# --- notes and review status --------------------------------------------------------------


def _notes_context(stored: StoredResponse) -> dict[str, Any]:
    """What the notes panel, an item's notes and the review bar show."""
    return {"stored": stored, "notes": pages.notes_by_response([stored.id])}


def _back_to(response_id: str, anchor: str) -> HttpResponseRedirect:
    url = reverse("inspector:response-detail", args=[response_id])
    return HttpResponseRedirect(f"{url}#{anchor}")


@require_GET
@access.need(access.VIEW)
def response_notes(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """The notes panel; the response page reloads it when a note is added to an item."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    if not request.htmx:
        return _back_to(response_id, "notes")
    return render(request, "inspector/_notes.html", _notes_context(stored))


@require_POST
@access.need(access.REVIEW)
def note_add(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Add a note to a response or to one of its items; htmx gets those notes back."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    form = NoteForm(request.POST)
    saved = form.is_valid()
    if saved:
        notes.add_note(stored, form.cleaned_data["anchor"], form.cleaned_data["text"], request.user)
    anchor = form.cleaned_data.get("anchor", "")
    if not request.htmx:
        if not saved:
            messages.error(request, f"Note not saved: write 1 to {notes.NOTE_MAX:,} characters.")
        return _back_to(response_id, anchor or "notes")
    context = {
        **_notes_context(stored),
        "response_id": stored.id,
        "anchor": anchor,
        "note_form": None if saved else form,
    }
    status = 200 if saved else 400
    if not anchor:
        return render(request, "inspector/_notes.html", context, status=status)
    response = render(request, "inspector/_item_notes.html", context, status=status)
    return trigger_client_event(response, "notesChanged") if saved else response


@require_POST
@access.need(access.REVIEW)
def note_delete(request: HtmxHttpRequest, response_id: str, note_id: int) -> HttpResponse:
    """Delete a note: its author, or an admin. The audit trail keeps who deleted what."""
    note = get_object_or_404(Note, pk=note_id, response_id=response_id)
    if not access.may_delete_note(request.user, note):
        raise PermissionDenied("Only the note's author or an admin can delete it.")
    where = f"on {note.anchor}" if note.anchor else "on the response"
    detail = f"note by {note.author_name or '(unknown)'} {where}: {note.text}"
    note.delete()
    audit.record(request, audit.Action.DELETED, response_id, detail[:500])
    messages.success(request, "Note deleted.")
    return _back_to(response_id, f"notes-{note.anchor}" if note.anchor else "notes")


@require_POST
@access.need(access.REVIEW)
def review_set(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    stored = get_object_or_404(StoredResponse, pk=response_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            messages.error(request, "Review status not set: pick one of the three.")
            return _back_to(response_id, "review")
        return render(request, "inspector/_review.html", _notes_context(stored), status=400)
    notes.set_review(stored, form.cleaned_data["status"], request.user)
    if not request.htmx:
        return _back_to(response_id, "review")
    return render(request, "inspector/_review.html", _notes_context(stored))


# --- import -------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
@access.need(access.IMPORT)
def import_page(request: HtmxHttpRequest) -> HttpResponse:
    """Upload a file of responses or bundles; the same line-level report as the command.

    An upload announced as too large is refused before its body is read: this outer view
    is CSRF-exempt only so that the check runs before the CSRF middleware would read the
    body; everything else is CSRF-checked in `_import_upload`.
    """
    if request.method == "POST" and uploads.announced_too_large(request):
        return _import_refused(request)
    return _import_upload(request)


def _import_render(
    request: HtmxHttpRequest, form: ImportForm, status: int = 200, **context: Any
) -> HttpResponse:
    limits = {"limit": settings.IMPORT_MAX_BYTES, "line_limit": settings.IMPORT_MAX_LINE_BYTES}
    context = {"form": form, **limits, "too_large": False, **context}
    return render(request, "inspector/import.html", context, status=status)


def _import_refused(request: HtmxHttpRequest) -> HttpResponse:
    return _import_render(request, ImportForm(), status=413, too_large=True)


@csrf_protect
def _import_upload(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _import_render(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_render(request, form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > settings.IMPORT_MAX_BYTES:
        return _import_refused(request)
    # The trail before, during (an entry per id, as it is kept) and after: an import killed
    # midway leaves one too. Iterating the upload reads it a chunk at a time, never whole.
    started = f"{upload.name}: started ({upload.size:,} bytes)"
    audit.record(request, audit.Action.IMPORTED, "", started)
    report = store.import_lines(
        upload, user=request.user, audit_as=audit.actor(request), label=upload.name
    )
    audit.record(request, audit.Action.IMPORTED, "", f"{upload.name}: {report.summary()}")
    return _import_render(request, ImportForm(), report=report, name=upload.name)


# --- compare ------------------------------------------------------------------------------


@require_GET
@access.need(access.VIEW)
def compare_pick(request: HtmxHttpRequest) -> HttpResponse:
    """Two ids (from the list's checkboxes or the response page's form) -> the compare page."""
    form = CompareForm(request.GET or None)  # unbound until something is asked: no error yet
    if not form.is_valid():
        status = 400 if request.GET else 200
        return render(request, "inspector/compare_pick.html", {"form": form}, status=status)
    left, right = form.cleaned_data["r"]
    return redirect("inspector:response-compare", response_id=left, other_id=right)


@require_GET
@access.need(access.VIEW)
def response_compare(request: HtmxHttpRequest, response_id: str, other_id: str) -> HttpResponse:
    pair = []
    for rid in (response_id, other_id):
        stored = _stored_or_fetched(request, rid)
        if isinstance(stored, HttpResponse):
            return stored
        audit.record(request, audit.Action.VIEWED, stored.id, "compare")
        pair.append(stored)
    return render(request, "inspector/response_compare.html", pages.compare_page(*pair))


# --- the response page: one item in full, live status, the pattern page -----------------


@require_GET
@access.need(access.VIEW)
def response_item(
    request: HtmxHttpRequest, response_id: str, section: str, position: int
) -> HttpResponse:
    """One item in full: what "show all" swaps in (htmx), or a page of its own."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    context = pages.item_context(stored, section, position)
    if context is None:
        raise Http404("No such item in this response.")
    template = "inspector/response_item.html"
    return render(request, f"{template}#item" if request.htmx else template, context)


@require_GET
@access.need(access.VIEW)
def response_instructions(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Instructions given as one string, in full: what their "show all" swaps in (htmx), or a
    page of their own. (Instructions given as items have their items' full views.)"""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    context = pages.instructions_context(stored)
    if context is None:
        raise Http404("This response has no instructions given as text.")
    template = "inspector/response_instructions.html"
    return render(request, f"{template}#text" if request.htmx else template, context)


@require_POST
@access.need(access.FETCH, fetch=True)
def response_poll(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Check the live status of a queued or in-progress response (its page posts this every
    few seconds until it settles): the new status, output and usage are kept in place; the
    input items, the owner, notes and review are never touched. A finished response is not
    asked about. A POST with CSRF, counted by the rate limit like any fetch."""
    stored = get_object_or_404(StoredResponse, pk=response_id)
    error = None
    if store.is_live(stored):  # the audit trail has every upstream request
        try:
            stored = store.check_status(stored)
        except client.APIError as failure:
            error = failure
        detail = f"status failed: {error.title}" if error else "status"
        audit.record(request, audit.Action.FETCHED, response_id, detail)
    context = pages.poll_context(stored, error)
    if not request.htmx:
        return HttpResponseRedirect(reverse("inspector:response-detail", args=[response_id]))
    if context["done"]:
        return HttpResponseClientRefresh()
    status = error.http_status if error is not None else 200
    return render(request, "inspector/_live.html", context, status=status)


@require_GET
@access.need()  # staff only, checked below: the demo items, whatever the role
def patterns(request: HtmxHttpRequest) -> HttpResponse:
    """Staff only: one demo item of every type, to review the whole visual vocabulary."""
    if not request.user.is_staff:
        raise PermissionDenied
    return render(request, "inspector/patterns.html", pages.patterns_page())


@require_http_methods(["GET", "POST"])
@access.need(access.VIEW)
def response_delete(request: HtmxHttpRequest, response_id: str) -> HttpResponse:
    """Delete a stored response (admins, or the user who fetched it), after a confirmation.

    Only what this dashboard keeps goes (items, notes, tool calls, events); nothing is sent
    upstream.
    """
    stored = get_object_or_404(StoredResponse, pk=response_id)
    if not access.may_delete(request.user, stored):
        raise PermissionDenied(access.WHAT[access.DELETE] + ", or having fetched it yourself")
    if request.method == "GET":
        return render(request, "inspector/response_delete.html", {"stored": stored})
    store.delete_response(stored)
    audit.record(request, audit.Action.DELETED, response_id)
    messages.success(request, f"Deleted {response_id} from this dashboard (not upstream).")
    return redirect("inspector:index")
