"""Fetch-and-keep, import and export: the bridge between client, schemas and the ORM."""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import ValidationError

from . import client as upstream
from . import listing, notes
from .models import InputItem, StoredResponse
from .schemas import Response, item_adapter
from .schemas.base import Unknown, type_of
from .schemas.items import CustomToolCallItem, FunctionCallItem, McpCallItem, item_tag

BUNDLE_KIND = "responses-inspector.bundle"
DEMO_DIR = Path(__file__).resolve().parent / "demo"


def called_tool_names(response: Response) -> list[str]:
    """Names of the tools a response called: function / custom / MCP names, else the type."""
    names: list[str] = []
    for item in response.output:
        if isinstance(item, FunctionCallItem | CustomToolCallItem | McpCallItem):
            name = item.name
        else:
            kind = type_of(item)
            if isinstance(item, Unknown) or kind in ("message", "reasoning", "compaction"):
                continue
            name = str(kind).removesuffix("_output").removesuffix("_call")
        if name and name not in names:
            names.append(name)
    return names


def _count(value: int | None) -> int | None:
    """A token count fit for a PositiveBigIntegerField, else None (the body keeps the value)."""
    return value if value is not None and 0 <= value < 2**63 else None


def columns(response: Response) -> dict[str, Any]:
    """The indexed columns of a stored response, read from its body."""
    usage = response.usage
    return {
        "model": response.model[:200],
        "status": (response.status or "")[:32],
        "created_at": response.created,
        "completed_at": response.completed,
        "previous_response_id": (response.previous_response_id or "")[:128],
        "conversation_id": (response.conversation.id if response.conversation else "")[:200],
        "input_tokens": _count(usage.input_tokens) if usage else None,
        "cached_tokens": _count(usage.input_tokens_details.cached_tokens) if usage else None,
        "output_tokens": _count(usage.output_tokens) if usage else None,
        "reasoning_tokens": (
            _count(usage.output_tokens_details.reasoning_tokens) if usage else None
        ),
        "total_tokens": _count(usage.total_tokens) if usage else None,
        "tool_names": "\n" + "\n".join(n[:200] for n in called_tool_names(response)) + "\n",
        "error_code": str(response.error.code or "")[:100] if response.error else "",
        **listing.list_columns(response),
    }


def item_row(response_id: str, position: int, raw: Any) -> InputItem:
    item_id = raw.get("id") if isinstance(raw, dict) else None
    tag = item_tag(raw)
    return InputItem(
        response_id=response_id,
        position=position,
        item_id=str(item_id or "")[:200],
        type=str(tag or "")[:64],
        body=raw,
    )


def _begin(
    response: Response, source: str, user: AbstractBaseUser | AnonymousUser | None, complete: bool
) -> tuple[StoredResponse, str]:
    """Write the body and columns, drop the old items, and take ownership of the item pages.

    Anything attached to the response elsewhere (notes, review status) is keyed on its id and
    survives, because the row is updated in place rather than replaced.
    """
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
            },
        )
        InputItem.objects.filter(response=stored).delete()
    return stored, token


def _append_items(stored: StoredResponse, token: str, raws: list[Any]) -> bool:
    """Append one page of items, unless a newer fetch of the same id has taken over."""
    with transaction.atomic():
        row = StoredResponse.objects.select_for_update().get(pk=stored.pk)
        if row.fetch_token != token:
            return False
        start = row.input_items_count
        InputItem.objects.bulk_create(
            [item_row(row.id, start + i, raw) for i, raw in enumerate(raws)]
        )
        row.input_items_count = start + len(raws)
        row.search_text = listing.extend_search_text(row.search_text, raws)
        row.save(update_fields=["input_items_count", "search_text"])
    stored.input_items_count = row.input_items_count
    return True


def _finish(stored: StoredResponse, token: str, error: str) -> None:
    StoredResponse.objects.filter(pk=stored.pk, fetch_token=token).update(
        input_items_complete=not error, input_items_error=error
    )
    stored.refresh_from_db()


def _fetch_items(
    stored: StoredResponse, token: str, api: upstream.Client, after: str | None
) -> StoredResponse:
    try:
        for page in api.iter_input_items(stored.id, after=after):
            if page.data and not _append_items(stored, token, list(page.wire["data"])):
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
        stored, token = _begin(response, StoredResponse.Source.API, user, complete=False)
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


# --- bundles: export, import, demo -------------------------------------------------------


def export_bundle(stored: StoredResponse) -> dict[str, Any]:
    return {
        "kind": BUNDLE_KIND,
        "version": 1,
        "response": stored.body,
        "input_items": list(stored.items.order_by("position").values_list("body", flat=True)),
        "input_items_complete": stored.input_items_complete,
        **notes.export(stored),
    }


def save_bundle(
    body: Any,
    input_items: list[Any] | None,
    *,
    source: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    complete: bool = True,
) -> str:
    """Keep one response (and its input items). Returns 'imported', 'updated' or 'skipped'."""
    response = Response.from_wire(body)
    upstream.validate_response_id(response.id)
    if response.previous_response_id:
        # It becomes a link to /responses/<id>/: an unsafe one would break the page.
        try:
            upstream.validate_response_id(response.previous_response_id)
        except ValueError as error:
            raise ValueError(f"previous_response_id: {error}") from None
    items = list(input_items or [])
    # One transaction: a bundle is kept whole or not at all.
    with transaction.atomic():
        existing = StoredResponse.objects.filter(pk=response.id).first()
        if existing is not None and existing.body == body:
            if not items:
                return "skipped"
            kept = list(existing.items.order_by("position").values_list("body", flat=True))
            if kept == items and existing.input_items_complete == complete:
                return "skipped"
        stored, token = _begin(response, source, user, complete=complete)
        for start in range(0, len(items), 500):
            _append_items(stored, token, items[start : start + 500])
    return "updated" if existing is not None else "imported"


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    notes_added: int = 0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        return (
            f"{self.imported} imported, {self.updated} updated, "
            f"{self.skipped} skipped, {self.failed} failed"
        )


def _unpack(obj: Any) -> tuple[Any, list[Any] | None, bool]:
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


def _text(raw: bytes | str) -> str:
    """A line as text; strict UTF-8 (a mangled byte would silently change the body)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return text.removeprefix("\ufeff")  # a byte-order mark some editors write


def _entries(lines: Iterable[bytes | str]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or the exception) for JSON, a JSON array, or JSONL."""
    iterator = iter(lines)
    first: list[bytes | str] = []
    head = ""
    for raw in iterator:
        first.append(raw)
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if head := line.strip().removeprefix("\ufeff"):
            break
    if not head:
        return
    if head.startswith("{") and head.endswith("}"):
        # JSONL (or a one-line JSON object): one object a line, each on its own, so a bad
        # line costs only itself.
        yield from _jsonl(iter(first[-1:]), start=len(first))
        yield from _jsonl(iterator, start=len(first) + 1)
        return
    # A whole JSON document spread over lines: an object or an array of objects.
    try:
        doc = upstream.parse_json("".join(_text(r) for r in [*first, *iterator]))
    except ValueError as error:
        yield getattr(error, "lineno", 1), ValueError(f"not valid JSON or JSONL: {error}")
        return
    if isinstance(doc, list):
        yield from enumerate(doc, start=1)
    else:
        yield 1, doc


def _jsonl(lines: Iterator[bytes | str], start: int) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(lines, start=start):
        try:
            text = _text(raw)
        except ValueError:
            yield number, ValueError("not UTF-8 text")
            continue
        if not text.strip():
            continue
        try:
            obj = upstream.parse_json(text)
        except ValueError as error:
            obj = ValueError(f"invalid JSON: {error}")
        yield number, obj


def import_lines(
    lines: Iterable[bytes | str],
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    source: str = StoredResponse.Source.IMPORT,
    progress: Any = None,
) -> ImportReport:
    """Import JSON, a JSON array, JSONL or bundles; every valid entry is kept.

    Line numbers in failures are JSONL lines, or 1-based positions in a JSON array.
    """
    report = ImportReport()
    for number, obj in _entries(lines):
        try:
            if isinstance(obj, Exception):
                raise obj
            body, items, complete = _unpack(obj)
            annotations = notes.parse_bundle(obj)
            outcome = save_bundle(body, items, source=source, user=user, complete=complete)
            report.notes_added += notes.restore(body["id"], *annotations)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            report.failures.append((number, f"not a valid response: {where}: {first['msg']}"))
        except ValueError as error:
            report.failures.append((number, str(error)))
        except DatabaseError as error:
            # e.g. a NUL character, which PostgreSQL's JSON types refuse: the entry was
            # rolled back whole; the others go on.
            report.failures.append((number, f"could not be stored: {error}".strip()))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if progress is not None:
            progress(number, report)
    return report


def load_demo() -> ImportReport:
    report = ImportReport()
    for path in sorted(DEMO_DIR.glob("*.json")):
        with path.open("rb") as handle:
            part = import_lines(handle, source=StoredResponse.Source.DEMO)
        report.imported += part.imported
        report.updated += part.updated
        report.skipped += part.skipped
        report.failures += [(line, f"{path.name}: {why}") for line, why in part.failures]
    return report


# --- reading ----------------------------------------------------------------------------

INPUT_PAGE_SIZE = 50


@dataclass
class ItemsPage:
    """One page of a stored response's input items, parsed, with where the next page starts."""

    items: list[tuple[int, Any]]
    number: int
    next_number: int | None
    total: int


def input_items_page(stored: StoredResponse, number: Any = 1) -> ItemsPage:
    """Input items by position, paginated in the database, parsed into schema objects."""
    try:
        page = max(1, int(number))
    except (TypeError, ValueError):
        page = 1
    start = (page - 1) * INPUT_PAGE_SIZE
    rows = list(
        stored.items.order_by("position").values_list("position", "body")[
            start : start + INPUT_PAGE_SIZE + 1
        ]
    )
    more = len(rows) > INPUT_PAGE_SIZE
    items = [(pos, item_adapter.validate_python(body)) for pos, body in rows[:INPUT_PAGE_SIZE]]
    return ItemsPage(
        items=items,
        number=page,
        next_number=page + 1 if more else None,
        total=stored.input_items_count,
    )


# --- reading for the response page: counterparts, failures, one item, examples ------------


def linked_input_items(stored: StoredResponse, wanted: Any) -> list[tuple[int, Any]]:
    """Input items that pair with what `wanted` (a trace.Wanted) names, as (position, item).

    One query however many items the page shows: rows are filtered by type and by the
    linking field inside the JSON body, so a 3,000-item input is never loaded to pair a page.
    """
    if not wanted:
        return []
    match = Q()
    if wanted.call_ids:
        match |= Q(body__call_id__in=sorted(wanted.call_ids))
    if wanted.ids:
        match |= Q(item_id__in=sorted(wanted.ids))
    if wanted.approval_ids:
        match |= Q(body__approval_request_id__in=sorted(wanted.approval_ids))
    match &= Q(type__in=sorted(wanted.types))
    if wanted.reference_ids:
        match |= Q(item_id__in=sorted(wanted.reference_ids))
    rows = stored.items.filter(match).order_by("position")
    return [
        (pos, item_adapter.validate_python(body))
        for pos, body in rows.values_list("position", "body")[:500]
    ]


def failed_input_items(stored: StoredResponse, limit: int = 20) -> list[tuple[int, Any]]:
    """Input items that failed (status "failed", or an MCP error), as (position, item)."""
    failed = Q(body__status="failed") | (
        Q(type__in=["mcp_call", "mcp_list_tools"])
        & Q(body__has_key="error")
        & ~Q(body__error=None)
        & ~Q(body__error="")
    )
    rows = stored.items.filter(failed).order_by("position").values_list("position", "body")
    return [(pos, item_adapter.validate_python(body)) for pos, body in rows[:limit]]


def input_item_at(stored: StoredResponse, position: int) -> Any | None:
    """The input item at `position`, parsed, or None."""
    body = stored.items.filter(position=position).values_list("body", flat=True).first()
    return None if body is None else item_adapter.validate_python(body)


def item_examples(types: Iterable[str]) -> dict[str, tuple[StoredResponse, str, int]]:
    """One stored demo item of each type: type -> (response, "output" or "input", position).

    Output items are read from the bodies (few, small demo responses); each type not found
    there costs one query on the input items.
    """
    wanted = list(types)
    found: dict[str, tuple[StoredResponse, str, int]] = {}
    demos = list(StoredResponse.objects.filter(source=StoredResponse.Source.DEMO))
    demos.sort(key=lambda s: (s.created_at is None, s.created_at, s.id))
    for stored in demos:
        output = stored.body.get("output") if isinstance(stored.body, dict) else None
        for position, raw in enumerate(output if isinstance(output, list) else []):
            tag = item_tag(raw)
            if tag in wanted and tag not in found:
                found[tag] = (stored, "output", position)
    for kind in wanted:
        if kind in found:
            continue
        row = (
            InputItem.objects.filter(response__source=StoredResponse.Source.DEMO, type=kind)
            .select_related("response")
            .order_by("response__created_at", "response_id", "position")
            .first()
        )
        if row is not None:
            found[kind] = (row.response, "input", row.position)
    return found


def demo_responses() -> list[StoredResponse]:
    """Every stored demo response, oldest first."""
    return list(
        StoredResponse.objects.filter(source=StoredResponse.Source.DEMO).order_by(
            "created_at", "id"
        )
    )
