"""Fetching a response and its input items from upstream and keeping them; an items fetch
that failed midway resumes where it stopped."""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from .. import client as upstream
from .. import listing, scrub
from ..models import InputItem, StoredResponse
from ..schemas import Response
from .rows import as_kept, columns, item_row, keep_originals
from .tool_call_index import index_tool_calls


def begin(
    response: Response,
    source: str,
    user: AbstractBaseUser | AnonymousUser | None,
    complete: bool,
    input_preview: str = "",
) -> tuple[StoredResponse, str]:
    """Write the body and columns, drop the old items, and take ownership of the item pages.

    Anything attached to the response elsewhere (notes, review status) is keyed on its id and
    survives, because the row is updated in place rather than replaced. NUL characters and
    lone surrogates are replaced first, on every database alike (scrub.py).
    """
    wire, found = as_kept(response.wire)
    if wire is not response.wire:
        response = Response.from_wire(wire)
    token = uuid.uuid4().hex
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
                "fetch_token": token,
                "input_preview": input_preview,
            },
        )
        InputItem.objects.filter(response=stored).delete()
        keep_originals(stored, found)
    return stored, token


def append_items(stored: StoredResponse, token: str, raws: list[Any]) -> bool:
    """Append one page of items, unless a newer fetch of the same id has taken over."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().get(pk=stored.pk)
        if row.fetch_token != token:
            return False
        start = row.input_items_count
        found = scrub.Found()
        raws = [as_kept(raw, f"input_items[{start + i}]", found)[0] for i, raw in enumerate(raws)]
        InputItem.objects.bulk_create(
            [item_row(row.id, start + i, raw) for i, raw in enumerate(raws)]
        )
        keep_originals(row, found)
        row.input_items_count = start + len(raws)
        row.search_text = listing.extend_search_text(row.search_text, raws)
        row.save(update_fields=["input_items_count", "search_text"])
    stored.input_items_count = row.input_items_count
    return True


def _input_preview(stored: StoredResponse) -> str:
    """The list's line of what the response was asked: its first user message (two short
    queries, not a read of every item)."""
    items = stored.items.order_by("position").values_list("body", flat=True)
    user = items.filter(type="message", body__role="user")[:1]
    return listing.input_preview([*user, *items[:1]])


def _finish(stored: StoredResponse, token: str, error: str) -> None:
    StoredResponse.objects.filter(pk=stored.pk, fetch_token=token).update(
        input_items_complete=not error,
        input_items_error=error,
        input_preview=_input_preview(stored),
    )
    stored.refresh_from_db()
    index_tool_calls(stored)


def _fetch_items(
    stored: StoredResponse, token: str, api: upstream.Client, after: str | None
) -> StoredResponse:
    try:
        for page in api.iter_input_items(stored.id, after=after):
            if page.data and not append_items(stored, token, list(page.wire["data"])):
                break
    except upstream.APIError as error:
        _finish(stored, token, f"{error.title}: {error.message}")
    else:
        _finish(stored, token, "")
    return stored


def fetch_response(
    response_id: str,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    api: upstream.Client | None = None,
) -> StoredResponse:
    """Fetch a response and all of its input items from upstream and keep them.

    Raises the client's APIError when the response itself cannot be fetched. When the
    input-items pages fail midway, what was fetched is kept, the row says why it is
    incomplete, and `resume_input_items` continues from there.
    """
    upstream.validate_response_id(response_id)
    own = api is None
    api = api or upstream.get_client()
    try:
        response = api.retrieve_response(response_id)
        stored, token = begin(response, StoredResponse.Source.API, user, complete=False)
        return _fetch_items(stored, token, api, after=None)
    finally:
        if own:
            api.close()


def resume_input_items(
    stored: StoredResponse, *, api: upstream.Client | None = None
) -> StoredResponse:
    """Continue an incomplete input-items fetch after the last item kept.

    The resume takes the fetch over with a new token, so two resumes at once (or a resume
    racing a refresh) never both append the same page: the later one wins.
    """
    own = api is None
    api = api or upstream.get_client()
    try:
        token = uuid.uuid4().hex
        with transaction.atomic():
            row = StoredResponse.objects.select_for_update().get(pk=stored.pk)
            if row.input_items_complete:
                return row
            last = row.items.order_by("-position").values_list("item_id", flat=True).first()
            if row.input_items_count and not last:
                # The last item kept has no id to continue after: fetch the items again.
                row.items.all().delete()
                row.input_items_count = 0
            row.fetch_token = token
            row.save(update_fields=["fetch_token", "input_items_count"])
        return _fetch_items(row, token, api, after=last or None)
    finally:
        if own:
            api.close()
