"""One response as a bundle (its body, input items, notes and review): exported, checked,
unpacked and kept."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from .. import client as upstream
from .. import listing, notes
from ..models import StoredResponse
from ..notes import BUNDLE_KIND
from ..schemas import Response
from .fetch import append_items, begin
from .rows import as_kept, kept_text
from .runs import refresh as refresh_runs
from .tool_call_index import index_tool_calls


def export_bundle(stored: StoredResponse) -> dict[str, Any]:
    return {
        "kind": BUNDLE_KIND,
        "version": 1,
        "response": stored.body,
        "input_items": list(stored.items.order_by("position").values_list("body", flat=True)),
        "input_items_complete": stored.input_items_complete,
        **notes.export(stored),
    }


def check_ids(response: Response) -> None:
    upstream.validate_response_id(response.id)
    if response.previous_response_id:
        # It becomes a link to /responses/<id>/: an unsafe one would break the page.
        try:
            upstream.validate_response_id(response.previous_response_id)
        except ValueError as error:
            raise ValueError(f"previous_response_id: {error}") from None


def save_bundle(
    body: Any,
    input_items: list[Any] | None,
    *,
    source: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    complete: bool = True,
    may_update: bool = True,
) -> str:
    """Keep one response (and its input items). Returns 'imported', 'updated' or 'skipped',
    or 'refused' when it is stored already, differs, and `may_update` is false.

    An update keeps the response's owner (who fetched or first imported it): an import
    never takes a response over, whoever imports it.
    """
    response = Response.from_wire(body)
    check_ids(response)
    # Compared as they would be kept (scrub.py), so importing the same file twice skips.
    kept_body = as_kept(body)[0]
    items = list(input_items or [])
    # One transaction: a bundle is kept whole or not at all.
    with transaction.atomic():
        existing = StoredResponse.objects.filter(pk=response.id).first()
        if existing is not None and existing.body == kept_body:
            if not items:
                return "skipped"
            kept = list(existing.items.order_by("position").values_list("body", flat=True))
            if kept == as_kept(items)[0] and existing.input_items_complete == complete:
                return "skipped"
        if existing is not None and not may_update:
            return "refused"
        owner = existing.fetched_by if existing is not None else user
        preview = kept_text(listing.input_preview(items), listing.PREVIEW_MAX)
        stored, token = begin(response, source, owner, complete=complete, input_preview=preview)
        for start in range(0, len(items), 500):
            append_items(stored, token, items[start : start + 500])
        index_tool_calls(stored)
        refresh_runs([stored.id])
    return "updated" if existing is not None else "imported"


def unpack(obj: Any) -> tuple[Any, list[Any] | None, bool]:
    """(response body, input items, complete) of a bundle or of a bare Response object."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if obj.get("kind") == BUNDLE_KIND:
        items = obj.get("input_items")
        if items is not None and not isinstance(items, list):
            raise ValueError("input_items must be a list")
        for index, item in enumerate(items or []):
            if not isinstance(item, dict):
                raise ValueError(f"input_items[{index}] is not a JSON object")
        return obj.get("response"), items, bool(obj.get("input_items_complete", True))
    if obj.get("object") == "response" or str(obj.get("id", "")).startswith("resp_"):
        return obj, None, True
    raise ValueError("neither a Response object nor a responses-inspector bundle")
