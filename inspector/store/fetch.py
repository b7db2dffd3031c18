"""Fetching responses and their input items from upstream and keeping them, in bounded steps.

The first view of a response fetches it and its first page of input items (`open_response`:
one or two round trips); its page then drives `fetch_step` (htmx) until every item is kept,
each step a few seconds of pages at most (FETCH_STEP_SECONDS), resumable after a failure or
a closed tab, and shared: a step holds the response (`fetch_lease_until`, under the row
lock), so a second viewer sees the progress and fetches nothing, and each step continues
after the last item kept, so each page is fetched once. Items are searchable and linkable as
soon as they are kept.

A refresh (`start_refresh`, then the same steps) fetches into a staging copy (Refresh,
StagedItem): the stored copy is replaced only once the new one is complete, so a failed
refresh keeps it whole and says what failed; notes, review and owner stay as they are.
No response gets more than OPENAI_MAX_INPUT_PAGES pages of items; the page says what was not
fetched. The command line (`fetch_response`, `resume_input_items`) does it all in one go.
"""

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .. import client as upstream
from .. import listing, scrub
from ..models import InputItem, Refresh, SearchText, StagedItem, StoredResponse
from ..schemas import TERMINAL_STATUSES, Response, item_adapter
from . import search_index
from .rows import as_kept, columns, item_columns, item_row, keep_originals, kept_text
from .runs import refresh as refresh_runs
from .tool_call_index import index_tool_calls

#: Pages a step fetches at most (besides FETCH_STEP_SECONDS).
STEP_PAGES = 50


def lease_seconds() -> float:
    """How long a step holds a response: its pages, the last request's worst case (a read
    can outlast the step's clock by one read timeout, client.py), and the writing."""
    return settings.FETCH_STEP_SECONDS + 2 * settings.OPENAI_STEP_TIMEOUT + 10


def begin(
    response: Response,
    source: str,
    user: AbstractBaseUser | AnonymousUser | None,
    complete: bool,
    *,
    leased: bool = False,
    input_preview: str = "",
) -> tuple[StoredResponse, str]:
    """Write the body and columns, drop the old items, and take ownership of the item pages.

    Anything attached to the response elsewhere (notes, review status) is keyed on its id and
    survives, because the row is updated in place rather than replaced. NUL characters and
    lone surrogates are replaced first, on every database alike (scrub.py). `leased`: a step
    holds the response from now (a first view fetching its first page).
    """
    wire, found = as_kept(response.wire)
    if wire is not response.wire:
        response = Response.from_wire(wire)
    token = uuid.uuid4().hex
    lease = timezone.now() + timedelta(seconds=lease_seconds()) if leased else None
    with transaction.atomic():
        stored, _ = StoredResponse.objects.select_for_update().update_or_create(
            id=response.id,
            defaults={
                **columns(response),
                "body": response.wire,
                "source": source,
                "fetched_at": timezone.now(),
                "fetched_by": user if isinstance(user, get_user_model()) else None,
                "input_items_count": 0,
                "input_items_complete": complete,
                "input_items_error": "",
                "input_items_pages": 0,
                "fetch_token": token,
                "fetch_lease_until": lease,
                "input_preview": input_preview,
            },
        )
        InputItem.objects.filter(response=stored).delete()
        SearchText.objects.filter(response=stored).delete()
        search_index.index_response(response)
        keep_originals(stored, found)
    return stored, token


def _kept(raws: list[Any], start: int, found: scrub.Found) -> list[Any]:
    """Items at positions `start`… as kept (the key masked, characters replaced)."""
    return [as_kept(raw, f"input_items[{start + i}]", found)[0] for i, raw in enumerate(raws)]


def append_items(
    stored: StoredResponse, token: str, raws: list[Any], *, page: bool = False
) -> bool:
    """Append input items (one upstream page when `page`), unless another fetch of the same
    id has taken over since `token` was handed out. They are searchable at once."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().filter(pk=stored.pk).first()
        if row is None or row.fetch_token != token:  # deleted, or taken over
            return False
        start = row.input_items_count
        found = scrub.Found()
        kept = _kept(raws, start, found)
        InputItem.objects.bulk_create(
            [item_row(row.id, start + i, raw) for i, raw in enumerate(kept)]
        )
        search_index.index_items(row.id, start, [item_adapter.validate_python(r) for r in kept])
        keep_originals(row, found)
        row.input_items_count = start + len(kept)
        row.input_items_pages += 1 if page else 0
        row.save(update_fields=["input_items_count", "input_items_pages"])
    stored.input_items_count = row.input_items_count
    return True


def input_preview_of(stored: StoredResponse) -> str:
    """The list's line of what the response was asked: its first user message (two short
    queries, not a read of every item)."""
    items = stored.items.order_by("position").values_list("body", flat=True)
    user = items.filter(type="message", body__role="user")[:1]
    return kept_text(listing.input_preview([*user, *items[:1]]), listing.PREVIEW_MAX)


def _append_staged(stored: StoredResponse, token: str, raws: list[Any]) -> bool:
    """Append one upstream page of a refresh's items to its staging copy (as append_items)."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().filter(pk=stored.pk).first()
        refresh = Refresh.objects.filter(pk=stored.pk).first()
        if row is None or refresh is None or row.fetch_token != token:
            return False
        start = refresh.items_count
        found = scrub.Found()
        kept = _kept(raws, start, found)
        staged = []
        for i, raw in enumerate(kept):
            item_id, kind = item_columns(raw)
            staged.append(StagedItem(response_id=row.id, position=start + i, item_id=item_id,
                                     type=kind, body=raw))  # fmt: skip
        StagedItem.objects.bulk_create(staged)
        keep_originals(row, found)
        refresh.items_count = start + len(kept)
        refresh.pages += 1
        refresh.save(update_fields=["items_count", "pages"])
    return True


# --- progress, as the response page shows it -------------------------------------------------


@dataclass
class Progress:
    """Where the fetch of a stored response's input items stands."""

    response_id: str
    #: A refresh into a staging copy: the stored copy stays as it is until this one is done.
    refresh: bool = False
    #: Input items fetched so far (into the staging copy, for a refresh).
    fetched: int = 0
    #: How many there are at least, known from a complete earlier copy (a refresh), or 0.
    known: int = 0
    done: bool = False
    #: Why the last step stopped short ("" while it goes on).
    error: str = ""
    #: Stopped at OPENAI_MAX_INPUT_PAGES: the rest is not fetched.
    limited: bool = False
    #: Another step holds the response right now (another viewer's, or this one's last).
    busy: bool = False
    #: A fetch from the API under way (not an import that came incomplete): its page drives
    #: the steps by itself.
    auto: bool = True

    @property
    def running(self) -> bool:
        return not self.done and not self.error and not self.limited


def _limit_message(pages: int) -> str:
    return (
        f"Stopped after {pages:,} pages of input items (OPENAI_MAX_INPUT_PAGES): the upstream "
        "has more, which were not fetched."
    )


def fetch_progress(stored: StoredResponse) -> Progress | None:
    """The progress of a fetch or a refresh of this response (as `stored` was read), or None
    when there is none."""
    refresh = Refresh.objects.filter(pk=stored.pk).first()
    if refresh is None and stored.input_items_complete:
        return None
    lease = stored.fetch_lease_until
    busy = bool(lease and lease > timezone.now())
    if refresh is not None:
        known = stored.input_items_count if stored.input_items_complete else 0
        return Progress(
            stored.pk, refresh=True, fetched=refresh.items_count, known=known,
            error=refresh.error, limited=refresh.pages >= settings.OPENAI_MAX_INPUT_PAGES,
            busy=busy,
        )  # fmt: skip
    return Progress(
        stored.pk,
        fetched=stored.input_items_count,
        error=stored.input_items_error,
        limited=stored.input_items_pages >= settings.OPENAI_MAX_INPUT_PAGES,
        busy=busy,
        auto=stored.source == StoredResponse.Source.API,
    )


# --- steps ------------------------------------------------------------------------------------


@dataclass
class _Claim:
    """A step's hold on a response: its token, whether it fills a staging copy, and the id
    of the item to continue after."""

    stored: StoredResponse
    token: str
    staged: bool
    after: str | None
    #: Pages of items fetched for it before this step (OPENAI_MAX_INPUT_PAGES counts them).
    pages: int = 0


def _claim(pk: str, *, take_over: bool = False) -> _Claim | None:
    """Take the next step of this response's fetch, under the row lock: None when nothing is
    left to fetch, or another step holds it (unless `take_over`), or the page limit is hit."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().get(pk=pk)
        refresh = Refresh.objects.filter(pk=pk).first()
        if refresh is None and row.input_items_complete:
            return None
        now = timezone.now()
        if not take_over and row.fetch_lease_until and row.fetch_lease_until > now:
            return None
        staged = refresh is not None
        pages = refresh.pages if refresh is not None else row.input_items_pages
        if pages >= settings.OPENAI_MAX_INPUT_PAGES:
            _stop(row, refresh, _limit_message(pages))
            return None
        items = row.staged_items if staged else row.items
        last = items.order_by("-position").values_list("item_id", flat=True).first()
        count = refresh.items_count if refresh is not None else row.input_items_count
        if count and not last:
            # The last item kept has no id to continue after: fetch the items again.
            items.all().delete()
            if refresh is not None:
                refresh.items_count = refresh.pages = 0
            else:
                SearchText.objects.filter(response=row, section="input").delete()
                row.input_items_count = row.input_items_pages = 0
        if refresh is not None:
            refresh.error = ""
            refresh.save(update_fields=["items_count", "pages", "error"])
        else:
            row.input_items_error = ""
        row.fetch_token = uuid.uuid4().hex
        row.fetch_lease_until = now + timedelta(seconds=lease_seconds())
        row.save(update_fields=["fetch_token", "fetch_lease_until", "input_items_count",
                                "input_items_pages", "input_items_error"])  # fmt: skip
    pages = refresh.pages if refresh is not None else row.input_items_pages
    return _Claim(row, row.fetch_token, staged, last or None, pages)


def _stop(row: StoredResponse, refresh: Refresh | None, error: str) -> None:
    if refresh is not None:
        Refresh.objects.filter(pk=refresh.pk).update(error=error)
    else:
        StoredResponse.objects.filter(pk=row.pk).update(input_items_error=error)


def _run(
    claim: _Claim,
    api: upstream.Client,
    *,
    seconds: float | None = None,
    pages: int | None = None,
    one_go: bool = False,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Fetch pages of items for `claim` until the last, or `pages` pages, or `seconds` have
    passed; then record how it ended. `one_go`: every page has a step's time of its own."""
    started, taken, after = time.monotonic(), 0, claim.after
    done, error = False, ""
    try:
        while True:
            if one_go:
                api.new_step()
            page = api.input_items_page(claim.stored.pk, after)
            data = list(page.wire["data"])
            if claim.staged:
                kept = _append_staged(claim.stored, claim.token, data)
            else:
                kept = append_items(claim.stored, claim.token, data, page=True)
            if not kept:
                return  # another fetch took over: it records how it ends
            taken += 1
            if progress is not None:
                progress(len(data))
            if not page.has_more:
                done = True
                break
            after = upstream.next_cursor(page, after)
            if claim.pages + taken >= settings.OPENAI_MAX_INPUT_PAGES:
                break  # _finish says what was left out
            if pages is not None and taken >= pages:
                break
            if seconds is not None and time.monotonic() - started >= seconds:
                break
    except upstream.APIError as failure:
        error = f"{failure.title}: {failure.message}"
    _finish(claim, done, error)


def _finish(claim: _Claim, done: bool, error: str) -> None:
    """Record how a step ended, if it still holds the response: the lease let go, the error
    kept, and when all items are in, the fetch completed (a refresh: its copy swapped in)."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().filter(pk=claim.stored.pk).first()
        if row is None or row.fetch_token != claim.token:
            return
        refresh = Refresh.objects.filter(pk=row.pk).first() if claim.staged else None
        if claim.staged and refresh is None:
            return
        row.fetch_lease_until = None
        row.save(update_fields=["fetch_lease_until"])
        pages = refresh.pages if refresh is not None else row.input_items_pages
        if not done and not error and pages >= settings.OPENAI_MAX_INPUT_PAGES:
            error = _limit_message(pages)
        if refresh is not None:
            if done:
                _swap(row, refresh)
            else:
                refresh.error = error
                refresh.save(update_fields=["error"])
        else:
            row.input_items_complete, row.input_items_error = done, error
            fields = ["input_items_complete", "input_items_error"]
            if not row.input_preview and row.input_items_count:
                row.input_preview = input_preview_of(row)
                fields.append("input_preview")
            row.save(update_fields=fields)
    claim.stored.refresh_from_db()
    if done:
        index_tool_calls(claim.stored)
    refresh_runs([claim.stored.pk])


def _swap(row: StoredResponse, refresh: Refresh) -> None:
    """Replace the stored copy by the complete staging copy, in the caller's transaction:
    body, columns, items and their index. The row is updated in place, so notes, review and
    the owner (fetched_by) stay; source and fetched_at say where and when it came from."""
    response = Response.from_wire(refresh.body)
    StoredResponse.objects.filter(pk=row.pk).update(
        **columns(response),
        body=refresh.body,
        source=StoredResponse.Source.API,
        fetched_at=timezone.now(),
        input_items_count=refresh.items_count,
        input_items_complete=True,
        input_items_error="",
        input_items_pages=refresh.pages,
    )
    InputItem.objects.filter(response=row).delete()
    SearchText.objects.filter(response=row).delete()
    quote = connection.ops.quote_name
    names = ", ".join(quote(n) for n in ("response_id", "position", "item_id", "type", "body"))
    # Table and column names come from the models, never from input.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(InputItem._meta.db_table)} ({names}) "  # noqa: S608
            f"SELECT {names} FROM {quote(StagedItem._meta.db_table)} WHERE response_id = %s",
            [row.pk],
        )
    StagedItem.objects.filter(response=row).delete()
    refresh.delete()
    row.input_preview = input_preview_of(row)
    row.save(update_fields=["input_preview"])
    search_index.index_response(response)
    _index_stored_items(row.pk)


def _index_stored_items(response_id: str, batch: int = 1000) -> None:
    """Index the stored input items of a response (after a swap), a batch at a time."""
    rows = InputItem.objects.filter(response_id=response_id).order_by("position")
    start = 0
    while True:
        bodies = list(rows.values_list("body", flat=True)[start : start + batch])
        if not bodies:
            return
        search_index.index_items(
            response_id, start, [item_adapter.validate_python(b) for b in bodies]
        )
        start += len(bodies)


# --- what the views and the command call ------------------------------------------------------


def _client(api: upstream.Client | None) -> tuple[upstream.Client, bool]:
    return (api, False) if api is not None else (upstream.get_client(), True)


def fetch_step(stored: StoredResponse, *, api: upstream.Client | None = None) -> Progress | None:
    """One step of the fetch (or refresh) of this response's input items: pages until the
    last, STEP_PAGES, or FETCH_STEP_SECONDS; nothing when another step holds it. Returns the
    progress after it: `done` when this step fetched the last of the items, None when
    nothing is left (a refresh swapped in, or another step finished it)."""
    claim = _claim(stored.pk)
    if claim is not None:
        api, own = _client(api)
        try:
            _run(claim, api, seconds=settings.FETCH_STEP_SECONDS, pages=STEP_PAGES)
        finally:
            if own:
                api.close()
    stored.refresh_from_db()
    progress = fetch_progress(stored)
    if progress is None and claim is not None and not claim.staged:
        return Progress(stored.pk, fetched=stored.input_items_count, done=True)
    return progress


def unfinished_fetch(responses: Sequence[StoredResponse]) -> Progress | None:
    """The progress of the first of these responses (a trace's turns) whose input items are
    still to fetch, past those stopped at the page limit; no query when there is none. (A
    refresh under way changes nothing a trace shows until it is swapped in.)"""
    for stored in responses:
        if not stored.input_items_complete:
            progress = fetch_progress(stored)
            if progress is not None and not progress.limited and not progress.refresh:
                return progress
    return None


def may_step(stored: StoredResponse) -> bool:
    """Whether a step would fetch now (so the caller may count it as a fetch first)."""
    progress = fetch_progress(stored)
    return progress is not None and not progress.busy and not progress.limited


def open_response(
    response_id: str,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    api: upstream.Client | None = None,
) -> StoredResponse:
    """A response not stored yet: fetch it and its first page of input items and keep them
    (one or two round trips); its page fetches the rest in steps. Raises the client's
    APIError when the response itself cannot be fetched.

    Two viewers opening it at once share the fetch: the second waits (a bounded time) for the
    first one's to be stored rather than asking the upstream again.
    """
    upstream.validate_response_id(response_id)
    key = f"inspector:opening:{response_id}"
    if not cache.add(key, 1, timeout=int(lease_seconds())):
        waited_until = time.monotonic() + settings.OPENAI_STEP_TIMEOUT
        while time.monotonic() < waited_until and cache.get(key) is not None:
            time.sleep(0.1)
        if (stored := StoredResponse.objects.filter(pk=response_id).first()) is not None:
            return stored
    try:
        if (stored := StoredResponse.objects.filter(pk=response_id).first()) is not None:
            return stored
        api, own = _client(api)
        try:
            response = api.retrieve_response(response_id)
            stored, token = begin(response, StoredResponse.Source.API, user, False, leased=True)
            _run(_Claim(stored, token, False, None), api, pages=1)
        finally:
            if own:
                api.close()
        return stored
    finally:
        cache.delete(key)


def start_refresh(stored: StoredResponse, *, api: upstream.Client | None = None) -> Progress | None:
    """Fetch a stored response again into a staging copy, with its first page of input items;
    the page fetches the rest in steps, and the stored copy is replaced once it is complete.
    Raises the client's APIError when the response itself cannot be fetched: nothing changes
    then."""
    api, own = _client(api)
    try:
        claim = _stage(stored, api.retrieve_response(stored.pk))
        _run(claim, api, pages=1)
    finally:
        if own:
            api.close()
    stored.refresh_from_db()
    return fetch_progress(stored)


def _stage(stored: StoredResponse, response: Response) -> _Claim:
    """Start a staging copy with this body (any earlier one is dropped) and hold it."""
    wire, found = as_kept(response.wire)
    token = uuid.uuid4().hex
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().get(pk=stored.pk)
        Refresh.objects.update_or_create(
            response=row,
            defaults={"body": wire, "items_count": 0, "pages": 0, "error": "",
                      "started_at": timezone.now()},
        )  # fmt: skip
        StagedItem.objects.filter(response=row).delete()
        row.fetch_token = token
        row.fetch_lease_until = timezone.now() + timedelta(seconds=lease_seconds())
        row.save(update_fields=["fetch_token", "fetch_lease_until"])
        keep_originals(row, found)
    return _Claim(row, token, True, None)


def discard_refresh(stored: StoredResponse) -> None:
    """Drop a refresh under way (and its staging copy); the stored copy stays as it is."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().get(pk=stored.pk)
        Refresh.objects.filter(pk=row.pk).delete()
        StagedItem.objects.filter(response=row).delete()
        row.fetch_token = uuid.uuid4().hex
        row.fetch_lease_until = None
        row.save(update_fields=["fetch_token", "fetch_lease_until"])


def fetch_response(
    response_id: str,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    api: upstream.Client | None = None,
    progress: Callable[[int], None] | None = None,
) -> StoredResponse:
    """Fetch a response and all of its input items from upstream, in one go, and keep them;
    each request has a step's time of its own. `progress(n)` after each page of n items.

    A response stored already is refreshed: into a staging copy that replaces it once
    complete. Raises the client's APIError when the response itself cannot be fetched. When
    the input-items pages fail midway, what was fetched is kept, the row (or the refresh)
    says why, and `resume_input_items` continues from there.
    """
    upstream.validate_response_id(response_id)
    api, own = _client(api)
    try:
        response = api.retrieve_response(response_id)
        stored = StoredResponse.objects.filter(pk=response_id).first()
        if stored is None:
            stored, token = begin(response, StoredResponse.Source.API, user, complete=False)
            claim = _Claim(stored, token, False, None)
        else:
            claim = _stage(stored, response)
        _run(claim, api, one_go=True, progress=progress)
    finally:
        if own:
            api.close()
    return StoredResponse.objects.get(pk=response_id)


def resume_input_items(
    stored: StoredResponse, *, api: upstream.Client | None = None
) -> StoredResponse:
    """Continue an incomplete input-items fetch (or refresh) after the last item kept, in
    one go.

    The resume takes the fetch over with a new token, so two resumes at once (or a resume
    racing a refresh) never both append the same page: the later one wins.
    """
    claim = _claim(stored.pk, take_over=True)
    if claim is not None:
        api, own = _client(api)
        try:
            _run(claim, api, one_go=True)
        finally:
            if own:
                api.close()
    return StoredResponse.objects.get(pk=stored.pk)


def is_live(stored: StoredResponse) -> bool:
    """Whether the response was still running (queued, in progress) when last fetched."""
    return stored.status not in TERMINAL_STATUSES


def check_status(stored: StoredResponse, *, api: upstream.Client | None = None) -> StoredResponse:
    """Ask the upstream how a queued or in-progress response stands and keep its new body
    (status, output, usage) in place: its input items, notes, review and owner stay as they
    are. A response that has finished is not asked about. Raises the client's APIError."""
    if not is_live(stored):
        return stored
    api, own = _client(api)
    try:
        response = api.retrieve_response(stored.pk)
    finally:
        if own:
            api.close()
    wire, found = as_kept(response.wire)
    if wire is not response.wire:
        response = Response.from_wire(wire)
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().get(pk=stored.pk)
        StoredResponse.objects.filter(pk=row.pk).update(
            **columns(response), body=response.wire, fetched_at=timezone.now()
        )
        search_index.index_response(response)
        keep_originals(row, found)
    row.refresh_from_db()
    index_tool_calls(row)
    refresh_runs([row.pk])
    return row
