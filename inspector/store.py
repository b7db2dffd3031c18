"""Fetch-and-keep, import and export: the bridge between client, schemas and the ORM."""

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from pydantic import ValidationError

from . import client as upstream
from . import events, listing, notes, redaction, scrub, trace
from .models import InputItem, Note, StoredResponse, StreamEvent, ToolCall
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


def item_columns(raw: Any) -> tuple[str, str]:
    """The indexed columns of an input item: its id and its type (item_tag)."""
    item_id = raw.get("id") if isinstance(raw, dict) else None
    return str(item_id or "")[:200], str(item_tag(raw) or "")[:64]


def item_row(response_id: str, position: int, raw: Any) -> InputItem:
    item_id, kind = item_columns(raw)
    return InputItem(
        response_id=response_id, position=position, item_id=item_id, type=kind, body=raw
    )


#: Who the note that keeps replaced characters is by (scrub.py says why they are replaced).
SCRUB_NOTE_AUTHOR = "responses-inspector"


def as_kept(
    value: Any, path: str = "", found: scrub.Found | None = None
) -> tuple[Any, scrub.Found]:
    """What the store keeps of `value` (parsed JSON): the configured API key masked (an
    upstream may echo it), NUL and lone surrogates replaced (scrub.py)."""
    return scrub.scrub(redaction.mask(value, settings.OPENAI_API_KEY), path, found)


class JSONText(str):
    """JSON already written (as_kept_json): `_insert_rows` gives it to a JSON column as it is."""


def as_kept_json(value: Any, path: str, found: scrub.Found) -> tuple[Any, JSONText]:
    """`as_kept`, and the JSON text of what is kept, as a bulk insert gives it the database.

    One dump in C, which the insert needs anyway; `as_kept` walks every string in Python
    (a 3,000-item import spent a third of its time there), so it runs only when the text may
    hold the key or a character scrub replaces, which almost no response does.
    """
    text = json.dumps(value)  # as Django's JSONField writes it
    if redaction.may_hold(text, settings.OPENAI_API_KEY) or scrub.may_hold_bad(text):
        value = as_kept(value, path, found)[0]
        text = json.dumps(value)
    return value, JSONText(text)


def _json_param(field: Any, text: str) -> Any:
    """The parameter a JSON column gets for JSON text already written (what the field would
    make of the value itself: the text on SQLite, psycopg's json or jsonb on PostgreSQL)."""
    if connection.vendor != "postgresql":
        return text
    # Imported here: psycopg is only installed with the postgres extra.
    from psycopg.types.json import Json, Jsonb

    wrapper = Json if field.db_type(connection) == "json" else Jsonb
    return wrapper(text, dumps=str)


def _keep_originals(stored: StoredResponse, found: scrub.Found) -> None:
    """A note on the response with the strings whose NUL / lone surrogates were replaced."""
    if found:
        Note.objects.get_or_create(
            response=stored, anchor="", author=None, author_name=SCRUB_NOTE_AUTHOR,
            text=scrub.note_text(found),
        )  # fmt: skip


def _begin(
    response: Response, source: str, user: AbstractBaseUser | AnonymousUser | None, complete: bool
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
            },
        )
        InputItem.objects.filter(response=stored).delete()
        _keep_originals(stored, found)
    return stored, token


def _append_items(stored: StoredResponse, token: str, raws: list[Any]) -> bool:
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
        _keep_originals(row, found)
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
    index_tool_calls(stored)


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


def _check_ids(response: Response) -> None:
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
) -> str:
    """Keep one response (and its input items). Returns 'imported', 'updated' or 'skipped'."""
    response = Response.from_wire(body)
    _check_ids(response)
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
        stored, token = _begin(response, source, user, complete=complete)
        for start in range(0, len(items), 500):
            _append_items(stored, token, items[start : start + 500])
        index_tool_calls(stored)
    return "updated" if existing is not None else "imported"


#: How many failures an import report lists with their reasons.
FAILURES_KEPT = 10_000


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    notes_added: int = 0
    #: Failures past FAILURES_KEPT are counted, not listed (a 1 GB file of bad lines).
    more_failures: int = 0

    @property
    def failed(self) -> int:
        return len(self.failures) + self.more_failures

    def fail(self, number: int, reason: str) -> None:
        if len(self.failures) < FAILURES_KEPT:
            self.failures.append((number, reason))
        else:
            self.more_failures += 1

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


@dataclass(frozen=True)
class TooLong:
    """A line longer than the limit: read past in chunks, never held in memory whole."""

    size: int


#: Reads of a file being imported, and of the rest of a line that is too long.
READ_SIZE = 1024 * 1024
_SPACE = b" \t\r\n"


class _Stream:
    """A file being imported, read in chunks: lines of bounded length, or bytes (ijson).

    `source` is a file-like object (read() gives bytes or str) or an iterable of lines.
    Iterating a file would build a line of any length in memory; here a 1 GB line costs
    no more than a short one.
    """

    def __init__(self, source: Any) -> None:
        self._read = source.read if hasattr(source, "read") else None
        self._lines = None if self._read else iter(source)
        self._buffer = b""
        self._eof = False
        self.consumed = 0  # bytes handed out, for the size of an array entry

    def _pull(self) -> bool:
        if self._eof:
            return False
        chunk = self._read(READ_SIZE) if self._read else next(self._lines, b"")  # type: ignore[arg-type]
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogatepass")
        if not chunk:
            self._eof = True
            return False
        if self._lines is not None and not chunk.endswith(b"\n"):
            chunk += b"\n"  # an iterable's items are lines, with or without their newline
        if not self._buffer and not self.consumed:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark
        self._buffer += chunk
        return True

    def first(self) -> bytes:
        """The first byte that is not white space (b"" for an empty file), not consumed."""
        while True:
            stripped = self._buffer.lstrip(_SPACE)
            if stripped:
                return stripped[:1]
            if not self._pull():
                return b""

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and self._pull():
            pass
        return self._take(len(self._buffer) if size < 0 else size)

    def _take(self, size: int) -> bytes:
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        self.consumed += len(chunk)
        return chunk

    def readline(self, limit: int) -> bytes | TooLong | None:
        """The next line (with its newline), TooLong past `limit` bytes, None at the end."""
        while (end := self._buffer.find(b"\n", 0, limit + 1)) < 0 and len(self._buffer) <= limit:
            if not self._pull():
                break
        if end >= 0:
            return self._take(end + 1)
        if len(self._buffer) <= limit:
            return self._take(len(self._buffer)) or None
        size = 0
        while (end := self._buffer.find(b"\n")) < 0:
            size += len(self._take(len(self._buffer)))
            if not self._pull():
                return TooLong(size)
        return TooLong(size + len(self._take(end + 1)))

    def unread(self, data: bytes) -> None:
        self._buffer = data + self._buffer
        self.consumed -= len(data)


def _entries(source: Any, limit: int) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or the exception) for JSONL, a JSON array, or JSON.

    Streams: JSONL a line at a time (each at most `limit` bytes), a JSON array an entry at
    a time (ijson), so a 1 GB file is imported in about the memory of its largest entry.
    """
    stream = _Stream(source)
    start = stream.first()
    if start == b"[":
        yield from _document(stream, single=False, limit=limit)
        return
    if start != b"{":
        if start:
            yield from _document(stream, single=True, limit=limit)
        return
    read: list[bytes] = []
    head = b""
    while (line := stream.readline(limit)) is not None:
        if isinstance(line, TooLong):
            # A first line that long is a JSONL line or a one-line object: too long either way.
            yield len(read) + 1, _too_long(line, limit)
            yield from _jsonl(stream, start=len(read) + 2, limit=limit)
            return
        read.append(line)
        if head := line.strip():
            break
    if head.startswith(b"{") and head.endswith(b"}"):
        # JSONL (or a one-line JSON object): one object a line, each on its own, so a bad
        # line costs only itself.
        yield from _jsonl(iter(read[-1:]), start=len(read), limit=limit)
        yield from _jsonl(stream, start=len(read) + 1, limit=limit)
        return
    # An object spread over lines (pretty-printed).
    stream.unread(b"".join(read))
    yield from _document(stream, single=True, limit=limit)


def _document(stream: _Stream, single: bool, limit: int) -> Iterator[tuple[int, Any]]:
    # Imported here: only imports of whole JSON documents need it.
    import ijson

    number, before = 0, stream.consumed
    try:
        path = "" if single else "item"
        for number, obj in enumerate(ijson.items(stream, path, use_float=True), 1):
            # ijson reads ahead a chunk at a time: an entry's size is known to within one.
            size, before = stream.consumed - before, stream.consumed
            yield number, _too_long(TooLong(size), limit) if size > limit + READ_SIZE else obj
    except ijson.JSONError as error:
        reason = " ".join(str(error).split())[:300]
        yield (
            number + 1,
            ValueError(f"not valid JSON or JSONL (entries before it are kept): {reason}"),
        )


def _too_long(line: TooLong, limit: int) -> ValueError:
    return ValueError(
        f"{line.size:,} bytes: longer than the {limit:,}-byte limit (IMPORT_MAX_LINE_BYTES); "
        "skipped without reading it"
    )


def _jsonl(lines: Any, start: int, limit: int) -> Iterator[tuple[int, Any]]:
    """`lines`: an iterator of lines, or a _Stream read a bounded line at a time."""
    if isinstance(lines, _Stream):
        stream = lines
        lines = iter(lambda: stream.readline(limit), None)
    for number, raw in enumerate(lines, start=start):
        if isinstance(raw, TooLong):
            yield number, _too_long(raw, limit)
            continue
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
    lines: Any,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    source: str = StoredResponse.Source.IMPORT,
    progress: Any = None,
    max_line_bytes: int | None = None,
) -> ImportReport:
    """Import JSON, a JSON array, JSONL or bundles; every valid entry is kept.

    `lines`: a binary file-like object (a file opened "rb", an upload), streamed, or an
    iterable of lines. Line numbers in failures are JSONL lines, or 1-based positions in a
    JSON array. A line (an array entry) longer than `max_line_bytes` (IMPORT_MAX_LINE_BYTES)
    fails alone with a reason.
    """
    report = ImportReport()
    limit = settings.IMPORT_MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    batch = _Batch(report, source, user, progress)
    for number, obj in _bundles(_entries(lines, limit)):
        try:
            if isinstance(obj, Exception):
                raise obj
            batch.add(_prepare(number, obj))
        except (ValidationError, ValueError) as error:
            batch.flush()  # the report keeps the line order
            report.fail(number, _reason(error))
            if progress is not None:
                progress(number, report)
    batch.flush()
    return report


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        return f"not a valid response: {where}: {first['msg']}"
    if isinstance(error, DatabaseError):
        # e.g. a number too large for a column: the entry was rolled back whole; the
        # others go on.
        return f"could not be stored: {error}".strip()
    return str(error)


# --- imports in bulk ------------------------------------------------------------------------
#
# Stored one by one, a bundle cost some fifteen queries and as many round trips through the
# ORM: 40 responses a second, against 1,000 parsed (docs/benchmarks.md). New bundles are kept
# a batch at a time instead: one transaction, bulk inserts, and the tool-call index told what
# the batch already knows, so it asks the database only what it cannot know. A bundle that is
# stored already (an update or a skip), that repeats an id of its batch, or whose strings had
# to be replaced (scrub.py: it gets a note) takes the one-by-one path, in file order.

#: Bundles kept in one transaction, and the input items of a batch at most. Larger batches
#: were no faster (the queries are already few) and held more memory: 20 bundles of 25 KB
#: held some 10 MB, 100 held 30 MB.
IMPORT_BATCH = 20
IMPORT_BATCH_ITEMS = 2_000
#: And at most this much JSON text (the bodies and items as they are written): a batch of
#: large entries (0.5 MB each) holds their text besides their parsed values until written.
IMPORT_BATCH_BYTES = 4 * 1024 * 1024


@dataclass
class _Bundle:
    """One entry of an import: as sent, and as the store would keep it, parsed."""

    number: int
    body: Any
    items: list[Any]
    complete: bool
    annotations: tuple[Any, Any]
    #: The kept body (the API key masked, scrub.py) parsed and as JSON text, the kept input
    #: items and their JSON texts, and the items parsed.
    response: Response
    body_json: JSONText
    kept_items: list[Any]
    items_json: list[JSONText]
    parsed_items: list[Any]
    #: Characters were replaced (scrub.py): save_bundle keeps the note that says which.
    scrubbed: bool


def _prepare(number: int, obj: Any) -> _Bundle:
    """Unpack, validate and make ready to keep, as save_bundle would (ValueError, or
    ValidationError, for what save_bundle would refuse)."""
    body, items, complete = _unpack(obj)
    annotations = notes.parse_bundle(obj)
    response = Response.from_wire(body)
    _check_ids(response)
    found = scrub.Found()
    kept_body, body_json = as_kept_json(body, "", found)
    if kept_body is not body:
        response = Response.from_wire(kept_body)
    raws = list(items or [])
    kept: list[Any] = []
    texts: list[JSONText] = []
    for i, raw in enumerate(raws):
        value, text = as_kept_json(raw, f"input_items[{i}]", found)
        kept.append(value)
        texts.append(text)
    parsed = [item_adapter.validate_python(raw) for raw in kept]
    return _Bundle(
        number, body, raws, complete, annotations, response, body_json, kept, texts, parsed,
        bool(found),
    )  # fmt: skip


class _Batch:
    """Bundles waiting to be kept, and the report they go to."""

    def __init__(
        self,
        report: ImportReport,
        source: str,
        user: AbstractBaseUser | AnonymousUser | None,
        progress: Any,
    ) -> None:
        self.report, self.source, self.user, self.progress = report, source, user, progress
        self.bundles: list[_Bundle] = []
        self.items = self.size = 0

    def add(self, bundle: _Bundle) -> None:
        self.bundles.append(bundle)
        self.items += len(bundle.items)
        self.size += len(bundle.body_json) + sum(len(text) for text in bundle.items_json)
        if (
            len(self.bundles) >= IMPORT_BATCH
            or self.items >= IMPORT_BATCH_ITEMS
            or self.size >= IMPORT_BATCH_BYTES
        ):
            self.flush()

    def flush(self) -> None:
        """Keep the waiting bundles, in order: runs of new ones in bulk, the others alone."""
        bundles, self.bundles, self.items, self.size = self.bundles, [], 0, 0
        ids = [bundle.response.id for bundle in bundles]
        stored = set(
            StoredResponse.objects.filter(pk__in=ids).order_by().values_list("pk", flat=True)
        )
        run: list[_Bundle] = []
        seen: set[str] = set()
        for bundle in bundles:
            rid = bundle.response.id
            if rid in stored or rid in seen or bundle.scrubbed:
                self._keep_new(run)
                run = []
                self._keep_one(bundle)
            else:
                run.append(bundle)
            seen.add(rid)
        self._keep_new(run)

    def _keep_one(self, bundle: _Bundle) -> None:
        try:
            outcome = save_bundle(
                bundle.body,
                bundle.items,
                source=self.source,
                user=self.user,
                complete=bundle.complete,
            )
            self.report.notes_added += notes.restore(bundle.body["id"], *bundle.annotations)
        except (ValidationError, ValueError, DatabaseError) as error:
            self.report.fail(bundle.number, _reason(error))
        else:
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        self._progress(bundle)

    def _keep_new(self, run: list[_Bundle]) -> None:
        if not run:
            return
        try:
            with transaction.atomic():
                _save_new(run, self.source, self.user)
        except DatabaseError:
            # One bundle the database refuses (or an id stored meanwhile by another import)
            # rolls the run back: each is then kept alone, and fails alone.
            for bundle in run:
                self._keep_one(bundle)
            return
        for bundle in run:
            try:
                self.report.notes_added += notes.restore(bundle.body["id"], *bundle.annotations)
            except (ValueError, DatabaseError) as error:
                self.report.fail(bundle.number, _reason(error))
            else:
                self.report.imported += 1
            self._progress(bundle)

    def _progress(self, bundle: _Bundle) -> None:
        if self.progress is not None:
            self.progress(bundle.number, self.report)


def _save_new(
    run: list[_Bundle], source: str, user: AbstractBaseUser | AnonymousUser | None
) -> None:
    """Keep bundles whose ids are not stored yet, as save_bundle would, with bulk inserts."""
    now = timezone.now()
    by = user.pk if isinstance(user, get_user_model()) else None
    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for bundle in run:
        rid = bundle.response.id
        row = {
            **columns(bundle.response),
            "id": rid,
            "body": bundle.body_json,
            "source": source,
            "fetched_at": now,
            "fetched_by_id": by,
            "input_items_count": len(bundle.kept_items),
            "input_items_complete": bundle.complete,
            "fetch_token": uuid.uuid4().hex,
        }
        for start in range(0, len(bundle.parsed_items), 500):  # save_bundle's pages
            page = bundle.parsed_items[start : start + 500]
            row["search_text"] = listing.extend_search_text(row["search_text"], page)
        rows.append(row)
        for position, (raw, text) in enumerate(
            zip(bundle.kept_items, bundle.items_json, strict=True)
        ):
            item_id, kind = item_columns(raw)
            items.append(
                {"response_id": rid, "position": position, "item_id": item_id, "type": kind,
                 "body": text}
            )  # fmt: skip
    _insert_rows(StoredResponse, rows)
    _insert_rows(InputItem, items)
    hints = _IndexHints.of(run)
    for row, bundle in zip(rows, run, strict=True):
        stored = StoredResponse(**{k: v for k, v in row.items() if k != "body"})
        index_tool_calls(
            stored, parsed=(bundle.response, bundle.kept_items, bundle.parsed_items), hints=hints
        )
    hints.flush()


#: Field classes, and the value types each sends as they are (its get_db_prep_save returns
#: such a value unchanged): _insert_rows skips their preparation, ~1 µs a value.
_AS_IS: tuple[tuple[type, tuple[type, ...]], ...] = (
    (models.CharField, (str, type(None))),
    (models.TextField, (str, type(None))),
    (models.BooleanField, (bool, type(None))),
    (models.IntegerField, (int, type(None))),
    (models.ForeignKey, (str, int, type(None))),
)


def _sent_as_is(field: Any) -> tuple[type, ...]:
    return next((types for kind, types in _AS_IS if isinstance(field, kind)), ())


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT new rows of `model`, each given as {field attname: value} (a field left out
    gets its default), in one executemany; an auto primary key is left to the database.

    The SQL bulk_create writes, without a model instance per row and its per-object
    compiling: 600 tool-call rows took 75-140 ms through bulk_create, 3,000 input items
    150-250 ms; this way a few ms. Column and table names come from the model, values are
    parameters, each prepared by its field, but for a plain value the field would send as
    it is, and JSONText, which a JSON column takes as written.
    """
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    names = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    plan = [(f, f.attname, _sent_as_is(f)) for f in fields]
    params = []
    for row in rows:
        values = []
        for column, attname, types in plan:
            value = row[attname] if attname in row else column.get_default()
            if type(value) in types:
                values.append(value)
            elif isinstance(value, JSONText):
                values.append(_json_param(column, value))
            else:
                values.append(column.get_db_prep_save(value, connection))
        params.append(tuple(values))
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _chunks(values: list[str], size: int = 300) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _id_column_matches(values: list[str]) -> Iterator[tuple[str, str, str, str]]:
    """(type, call_id, item_id, approval_request_id) of every tool-call row that has one of
    `values` in one of those id columns, asked in chunks so each column's index finds them.

    In SQL: the ORM prepares each value of an `__in` once per column, which for the 1,200
    ids of a 3,000-item import took 25 ms against 3 ms for the queries themselves.
    """
    meta, quote = ToolCall._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    column = {f.name: str(f.column) for f in meta.concrete_fields}
    names = [quote(column[name]) for name in ("type", *_ID_COLUMNS)]
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            match = " OR ".join(f"{name} IN ({marks})" for name in names[1:])
            cursor.execute(f"SELECT {', '.join(names)} FROM {table} WHERE {match}", chunk * 3)  # noqa: S608
            yield from cursor.fetchall()


@dataclass
class _IndexHints:
    """What a bulk import knows when it indexes the tool calls of a run of new responses.

    With it index_tool_calls skips the queries that could only come back empty: the answers
    in later turns when nothing continues the response, the rows a call's key could match
    when no stored or pending row carries one of its values. The run's rows wait in
    `pending` and are written before any query that could see them, and at the end.
    """

    continued: set[str]
    #: (type, value) of every tool-call row stored or pending that carries one of the run's
    #: call ids, item ids or approval request ids, in any of those three columns.
    known: set[tuple[str, str]]
    pending: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, run: list[_Bundle]) -> "_IndexHints":
        ids = [bundle.response.id for bundle in run]
        continued: set[str] = set()
        for chunk in _chunks(ids):
            followers = StoredResponse.objects.filter(previous_response_id__in=chunk).order_by()
            continued.update(followers.values_list("previous_response_id", flat=True))
        values: set[str] = set()
        linked = trace.AUDITED_TYPES | trace.ANSWER_TYPES  # the only items with call keys
        for bundle in run:
            for item in [*bundle.parsed_items, *bundle.response.output]:
                if getattr(item, "type", None) not in linked:
                    continue
                for name in ("call_id", "id", "approval_request_id"):
                    value = getattr(item, name, None)
                    if isinstance(value, str) and value:
                        values.add(value[:200])
        hints = cls(continued, set())
        for row in _id_column_matches(sorted(values)):
            hints.known.update((row[0], value) for value in row[1:] if value)
        return hints

    def followed(self, stored: StoredResponse) -> bool:
        """Whether a stored response may answer `stored`'s calls in its input."""
        return stored.id in self.continued or bool(stored.conversation_id)

    def may_match(self, keys: Iterable[tuple[str, str]]) -> bool:
        """Whether some row may have one of these (type, value) in one of its id columns."""
        return any(key in self.known for key in keys)

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.pending += rows
        for row in rows:
            for column in _ID_COLUMNS:
                if row[column]:
                    self.known.add((row["type"], row[column]))

    def flush(self) -> None:
        _insert_rows(ToolCall, self.pending)
        self.pending = []


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

#: Input items a page shows at first and each scroll loads: an item costs about a millisecond
#: to render, so a first view of a 3,000-item response stays within 5x a one-message one.
INPUT_PAGE_SIZE = 20


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


def _linked(wanted: Any) -> Q:
    """Input items whose call_id, id or approval_request_id is one `wanted` (a trace.Wanted)
    names; the call_id and approval_request_id are read inside the JSON body."""
    match = Q()
    if wanted.call_ids:
        match |= Q(body__call_id__in=sorted(wanted.call_ids))
    if wanted.ids:
        match |= Q(item_id__in=sorted(wanted.ids))
    if wanted.approval_ids:
        match |= Q(body__approval_request_id__in=sorted(wanted.approval_ids))
    return match


def linked_input_items(stored: StoredResponse, wanted: Any) -> list[tuple[int, Any]]:
    """Input items that pair with what `wanted` (a trace.Wanted) names, as (position, item).

    One query however many items the page shows: rows are filtered by type and by the
    linking field inside the JSON body, so a 3,000-item input is never loaded to pair a page.
    """
    if not wanted:
        return []
    match = _linked(wanted) & Q(type__in=sorted(wanted.types))
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


def item_examples(
    types: Iterable[str], per_type: int = 4
) -> dict[str, list[tuple[StoredResponse, str, int]]]:
    """Up to `per_type` stored demo items of each type, as (response, section, position).

    Output items are read from the bodies (few, small demo responses); input items cost one
    query a type. The caller picks the example that shows the most.
    """
    wanted = list(types)
    found: dict[str, list[tuple[StoredResponse, str, int]]] = {kind: [] for kind in wanted}
    demos = list(StoredResponse.objects.filter(source=StoredResponse.Source.DEMO))
    demos.sort(key=lambda s: (s.created_at is None, s.created_at, s.id))
    for stored in demos:
        output = stored.body.get("output") if isinstance(stored.body, dict) else None
        for position, raw in enumerate(output if isinstance(output, list) else []):
            tag = item_tag(raw)
            if tag in found and len(found[tag]) < per_type:
                found[tag].append((stored, "output", position))
    for kind in wanted:
        rows = (
            InputItem.objects.filter(response__source=StoredResponse.Source.DEMO, type=kind)
            .select_related("response")
            .order_by("response__created_at", "response_id", "position")[:per_type]
        )
        found[kind] += [(row.response, "input", row.position) for row in rows]
    return {kind: places for kind, places in found.items() if places}


# --- stream events: replay, follow, timeline (spec §1.1, §6) ---------------------------------

#: The longest one replay, or one live-follow read, holds a request: every connection to the
#: upstream's stream is bounded in time, and the next read resumes with starting_after.
REPLAY_SECONDS = 10.0
FOLLOW_SECONDS = 2.0
EVENT_BATCH = 200
FINAL_STATUSES = frozenset({"completed", "failed", "incomplete", "cancelled"})


@dataclass
class ReplayResult:
    """What one bounded read of the event stream did.

    `ended`: terminal (a final event came), time (the read reached its bound, the stream is
    still open), closed (the server ended the stream), dropped (the connection was lost or
    the upstream was unreachable: resume), failed (the upstream refused: do not retry).
    """

    starting_after: int | None = None
    received: int = 0
    kept: int = 0
    duplicates: int = 0
    unsequenced: int = 0
    replaced: int = 0
    ended: str = "closed"
    error: upstream.APIError | None = None
    refreshed: bool = False


def _keep_events(
    stored: StoredResponse, pending: list[StreamEvent], result: ReplayResult, replace: bool
) -> None:
    """Write one batch; the first batch of a replay first drops what it replaces."""
    numbers = [row.sequence_number for row in pending]
    with transaction.atomic():
        kept = StreamEvent.objects.filter(response=stored)
        if replace:
            doomed = kept
            if result.starting_after is not None:
                doomed = kept.filter(sequence_number__gt=result.starting_after)
            result.replaced, _ = doomed.delete()
        existing = set(
            kept.filter(sequence_number__in=numbers).values_list("sequence_number", flat=True)
        )
        fresh = [row for row in pending if row.sequence_number not in existing]
        # ignore_conflicts: two readers of one live stream (two open tabs) may race here.
        StreamEvent.objects.bulk_create(fresh, ignore_conflicts=True)
    result.kept += len(fresh)
    result.duplicates += len(pending) - len(fresh)


def replay_events(
    stored: StoredResponse,
    starting_after: int | None = None,
    *,
    api: upstream.Client | None = None,
    max_seconds: float | None = None,
    replace: bool = True,
) -> ReplayResult:
    """Read the response's events from upstream (after `starting_after`) and keep them.

    With `replace`, the events kept after `starting_after` (all of them, from the start)
    are replaced by what this read brings, once it brings anything; without, the read only
    appends what is not kept yet. What arrived before a drop is kept either way. When the
    stream ends while the stored response still says it is running, the response is
    fetched again, so its status and output are the final ones.
    """
    bound = REPLAY_SECONDS if max_seconds is None else max_seconds
    result = ReplayResult(starting_after=starting_after)
    pending: list[StreamEvent] = []
    seen: set[int] = set()
    started = time.monotonic()
    own = api is None
    try:
        api = api or upstream.get_client()
        for event in api.stream_events(stored.id, starting_after, max_seconds=bound):
            result.received += 1
            number = events.sequence_of(event)
            if number is None:
                result.unsequenced += 1
                continue
            if number in seen or (starting_after is not None and number <= starting_after):
                result.duplicates += 1
                continue
            seen.add(number)
            kind = str(getattr(event, "type", None) or "")
            pending.append(
                StreamEvent(
                    response=stored,
                    sequence_number=number,
                    type=scrub.clean(kind[:100]),
                    body=as_kept(event.wire)[0],
                    received_at=timezone.now(),
                )
            )
            if len(pending) >= EVENT_BATCH:
                _keep_events(stored, pending, result, replace and not result.kept)
                pending.clear()
            if kind in events.TERMINAL_TYPES and not isinstance(event, Unknown):
                result.ended = "terminal"
                break
        else:
            result.ended = "time" if time.monotonic() - started >= bound else "closed"
    except upstream.APIError as error:
        result.error = error
        result.ended = "dropped" if isinstance(error, upstream.APIUnavailable) else "failed"
    try:
        if pending:
            _keep_events(stored, pending, result, replace and not result.kept)
        if api is not None and result.ended in ("terminal", "closed"):
            _refresh_if_running(stored, api, result)
    finally:
        if own and api is not None:
            api.close()
    return result


def _refresh_if_running(stored: StoredResponse, api: upstream.Client, result: ReplayResult) -> None:
    stored.refresh_from_db(fields=["status"])
    if stored.status not in events.LIVE_STATUSES:
        return
    try:
        fetch_response(stored.id, api=api)
    except upstream.APIError:
        return  # The events are kept; the status stays as it was until a later refresh.
    stored.refresh_from_db()
    result.refreshed = True


def follow_events(
    stored: StoredResponse,
    *,
    api: upstream.Client | None = None,
    max_seconds: float | None = None,
) -> ReplayResult:
    """One live-follow read: resume after the last event kept, append, never replace."""
    last = stored.events.aggregate(last=Max("sequence_number"))["last"]
    return replay_events(
        stored,
        last,
        api=api,
        max_seconds=FOLLOW_SECONDS if max_seconds is None else max_seconds,
        replace=False,
    )


def event_records(stored: StoredResponse) -> list[events.Record]:
    rows = stored.events.order_by("sequence_number").values_list(
        "sequence_number", "type", "body", "received_at"
    )
    return [events.Record(*row) for row in rows]


def event_timeline(stored: StoredResponse, after: int | None = None) -> events.Timeline:
    """The kept events explained; rows only for those after `after`, if given."""
    response = stored.response()
    final = stored.status in FINAL_STATUSES
    timeline = events.build_timeline(
        event_records(stored),
        final=response if final else None,
        after=after,
        default_image_format=events.image_format(response),
    )
    # The status shown: the stored one once final (a later fetch than any snapshot), else
    # the latest lifecycle snapshot in the stream, else the stored one.
    if final or not timeline.status:
        timeline.status = stored.status or None
    return timeline


def export_events(stored: StoredResponse) -> dict[str, Any]:
    """The kept events as JSON: each body exactly as received, with its arrival offset."""
    records = event_records(stored)
    origin = records[0].received_at if records else None
    return {
        "response_id": stored.id,
        "events": [
            {
                "sequence_number": r.sequence_number,
                "received_ms": round((r.received_at - origin).total_seconds() * 1000)
                if origin
                else 0,
                "event": r.body,
            }
            for r in records
        ],
    }


# --- traces: the chain that ends at a response ---------------------------------------------

TRACE_KIND = "responses-inspector.trace"
#: The longest chain walked; past it the trace says it stopped.
MAX_TURNS = 1000
#: ToolCall keeps this much of a call's arguments and output; the response page has all.
AUDIT_TEXT_MAX = 2000


@dataclass
class Chain:
    """The stored turns of the run that ends at a response, oldest first, and where it stops."""

    end_id: str
    responses: list[StoredResponse]
    #: The next ancestor to fetch (linked but not stored yet), or "" when nothing is missing.
    missing: str = ""
    #: "previous_response_id", or "conversation" for turns sharing a conversation id.
    kind: str = "previous_response_id"
    conversation_id: str = ""
    #: The newest stored turn of the conversation when it is later than the end, else None.
    later: StoredResponse | None = None
    #: The links loop back on themselves (hostile data): cut where an id repeats.
    cycle: bool = False
    #: Longer than MAX_TURNS: the earliest turns are left out.
    truncated: bool = False

    @property
    def at_least(self) -> int:
        """How many turns the run has at least: those in hand, plus one if one is missing."""
        return len(self.responses) + (1 if self.missing else 0)


def _chain_links(response_id: str) -> list[tuple[str, str]]:
    """(id, previous_response_id) from `response_id` back through the store; one query."""
    table = connection.ops.quote_name(StoredResponse._meta.db_table)
    # A recursive CTE (SQLite and PostgreSQL alike), so a 40-turn chain is one query, not 40.
    # Only the table name is formatted in, and it comes from the model, never from input.
    sql = f"""
        WITH RECURSIVE chain(id, prev, depth) AS (
            SELECT id, previous_response_id, 0 FROM {table} WHERE id = %s
            UNION ALL
            SELECT t.id, t.previous_response_id, chain.depth + 1
            FROM {table} t JOIN chain ON t.id = chain.prev
            WHERE chain.prev <> '' AND chain.depth < %s
        )
        SELECT id, prev FROM chain ORDER BY depth
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [response_id, MAX_TURNS])
        return [(str(a), str(b or "")) for a, b in cursor.fetchall()]


def chain_ending_at(response_id: str) -> Chain:
    """The stored turns that lead to `response_id` and the first missing ancestor.

    Follows previous_response_id; a response with none but a conversation id gets the stored
    turns of that conversation up to it, ordered by created_at. Two or three queries.
    """
    links = _chain_links(response_id)
    if not links:
        return Chain(end_id=response_id, responses=[], missing=response_id)
    seen: set[str] = set()
    ids: list[str] = []
    chain = Chain(end_id=response_id, responses=[])
    for item_id, previous in links:
        if item_id in seen:
            chain.cycle = True
            break
        seen.add(item_id)
        ids.append(item_id)
        chain.missing = previous
    if chain.cycle:
        chain.missing = ""
    elif len(ids) > MAX_TURNS:
        ids = ids[:MAX_TURNS]
        chain.missing, chain.truncated = "", True
    if len(ids) == 1 and not chain.missing:
        end = StoredResponse.objects.get(pk=response_id)
        if end.conversation_id:
            return _conversation_chain(end)
        chain.responses = [end]
        return chain
    rows = StoredResponse.objects.in_bulk(ids)
    chain.responses = [rows[i] for i in reversed(ids) if i in rows]
    return chain


def _conversation_chain(end: StoredResponse) -> Chain:
    turns = StoredResponse.objects.filter(conversation_id=end.conversation_id)
    if end.created_at is not None:
        earlier = turns.filter(created_at__lte=end.created_at).exclude(pk=end.pk)
        later = turns.filter(created_at__gt=end.created_at).order_by("-created_at").first()
    else:
        earlier, later = turns.none(), None
    before = list(earlier.order_by("-created_at", "-id")[: MAX_TURNS - 1])
    return Chain(
        end_id=end.id,
        responses=[*reversed(before), end],
        kind="conversation",
        conversation_id=end.conversation_id,
        later=later,
        truncated=len(before) == MAX_TURNS - 1 and earlier.count() > len(before),
    )


def chain_input_items(ids: list[str]) -> dict[str, list[Any]]:
    """The input items of several responses, parsed, by response id; one query."""
    found: dict[str, list[Any]] = {response_id: [] for response_id in ids}
    rows = InputItem.objects.filter(response_id__in=ids).order_by("response_id", "position")
    for response_id, body in rows.values_list("response_id", "body").iterator(chunk_size=2000):
        found[response_id].append(item_adapter.validate_python(body))
    return found


def load_trace(chain: Chain, price: Any = None) -> trace.Trace:
    """The chain's turns with their input items, paired and audited (three queries)."""
    items = chain_input_items([stored.id for stored in chain.responses])
    return trace.build_trace(
        [(Response.from_wire(s.body), s, items[s.id]) for s in chain.responses], price
    )


def export_trace(chain: Chain) -> dict[str, Any]:
    """Every turn of a chain as bundles (with input items, notes, review), oldest first."""
    return {
        "kind": TRACE_KIND,
        "version": 1,
        "end": chain.end_id,
        "responses": [export_bundle(stored) for stored in chain.responses],
    }


def _bundles(entries: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """Entries with each trace bundle opened into its response bundles (same line number)."""
    for number, obj in entries:
        if not isinstance(obj, dict) or obj.get("kind") != TRACE_KIND:
            yield number, obj
            continue
        responses = obj.get("responses")
        if not isinstance(responses, list):
            yield number, ValueError("a trace bundle's responses must be a list")
            continue
        for bundle in responses:
            yield number, bundle


# --- the tool-call index: every call of every stored response, for /tool-calls/ ----------

_ANSWERED_BY = {answer: call for call, answer in trace.ANSWER_TYPE.items()}


def _short(text: str) -> str:
    return text if len(text) <= AUDIT_TEXT_MAX else text[: AUDIT_TEXT_MAX - 1] + "…"


def _call_key(kind: str, call_id: str, item_id: str) -> tuple[str, str, str]:
    """What identifies one call wherever it appears: type and call_id, else type and id."""
    return (kind, call_id, "") if call_id else (kind, "", item_id)


def _item_key(item: Any) -> tuple[str, str, str]:
    return _call_key(
        str(getattr(item, "type", "") or ""),
        str(getattr(item, "call_id", None) or ""),
        str(getattr(item, "id", None) or ""),
    )


#: The columns a call is looked up by, each with its own index.
_ID_COLUMNS = ("call_id", "item_id", "approval_request_id")


def _key_columns(keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """(type, column, value) of call keys: by call_id, else by id (rows then filter on
    _call_key, which also needs an empty call_id)."""
    return {(kind, "call_id", c) if c else (kind, "item_id", i) for kind, c, i in keys}


def _rows_by_id(
    queryset: QuerySet[ToolCall], wanted: set[tuple[str, str, str]]
) -> Iterator[ToolCall]:
    """Rows with a (type, column, value) of `wanted` in one of _ID_COLUMNS.

    Asked by value in chunks, so each column's own index finds them, and matched on type
    here: SQLite answers `type = %s AND call_id = %s` by walking the type index through every
    call of that type (one OR clause per call also broke SQLite at ~1,000 calls).
    """
    seen: set[int] = set()
    for chunk in _chunks(sorted({value for _, _, value in wanted})):
        match = Q(call_id__in=chunk) | Q(item_id__in=chunk) | Q(approval_request_id__in=chunk)
        for row in queryset.filter(match).order_by():
            if row.pk not in seen and any(
                (row.type, column, getattr(row, column)) in wanted for column in _ID_COLUMNS
            ):
                seen.add(row.pk)
                yield row


def _tool_call_row(stored: StoredResponse, audit: trace.CallAudit) -> dict[str, Any]:
    """The ToolCall row of one audited call, as {field attname: value}."""
    item, flags = audit.entry.item, set(audit.flags)
    return {
        "response_id": stored.id,
        "where": audit.entry.where,
        "position": audit.entry.position,
        "type": audit.type[:64],
        "name": audit.name[:200],
        "call_id": str(getattr(item, "call_id", None) or "")[:200],
        "item_id": str(getattr(item, "id", None) or "")[:200],
        "approval_request_id": str(getattr(item, "approval_request_id", None) or "")[:200],
        "status": audit.status[:32],
        "arguments": _short(audit.arguments),
        "output": _short(audit.output),
        "answered": audit.answer is not None,
        "no_output": "no-output" in flags,
        "bad_json": "bad-json" in flags,
        "breaks_schema": "schema" in flags,
        "schema_error": _short(audit.schema_error),
        "undeclared": "undeclared" in flags,
        "failed": "failed" in flags,
        "needs_approval": "approval" in flags,
        "approval": audit.approval,
        "created_at": stored.created_at,
    }


def _answers_elsewhere(stored: StoredResponse, wanted: trace.Wanted) -> list[trace.Entry]:
    """Answers to `stored`'s calls in the input of the responses that continue it."""
    if not wanted:
        return []
    match = _linked(wanted)
    followers = Q(response__previous_response_id=stored.id)
    if stored.conversation_id:
        followers |= Q(response__conversation_id=stored.conversation_id)
    rows = (
        InputItem.objects.filter(followers, match, type__in=sorted(trace.ANSWER_TYPES))
        .exclude(response=stored)
        .order_by("response__created_at", "position")
        .values_list("position", "body")[:500]
    )
    return [trace.Entry(0, "input", p, item_adapter.validate_python(b)) for p, b in rows]


def _apply_answer(row: ToolCall, answer: Any) -> None:
    """Update a call answered by a response stored after it."""
    if row.type in trace.CALL_TYPES and not row.answered:
        row.answered, row.no_output = True, False
        row.output = _short(trace.answer_text(answer))
        row.status = str(getattr(answer, "status", None) or row.status)[:32]
        row.failed = row.failed or trace.is_failed(answer)
    if getattr(answer, "type", None) == "mcp_approval_response":
        row.approval = "approved" if answer.approve else "denied"


def index_tool_calls(
    stored: StoredResponse,
    *,
    parsed: tuple[Response, list[Any], list[Any]] | None = None,
    hints: _IndexHints | None = None,
) -> int:
    """(Re)build the ToolCall rows of one stored response; returns how many it has.

    Also gives its answers to calls already indexed (the call in one response, its output in
    the next one's input), and takes over calls an input replayed before the response that
    made them was stored, so each call is one row. A bounded number of queries per response.
    A bulk import passes the response and its (raw, parsed) input items as it has them, and
    what its batch knows (`_IndexHints`): then `stored` is new, and the rows wait in `hints`.
    """
    wanted_types = trace.AUDITED_TYPES | trace.ANSWER_TYPES
    if parsed is None:
        response = stored.response()
        rows = stored.items.filter(type__in=sorted(wanted_types)).order_by("position")
        inputs = [
            trace.Entry(0, "input", p, item_adapter.validate_python(b))
            for p, b in rows.values_list("position", "body")
        ]
    else:
        response, raws, items = parsed
        inputs = [
            trace.Entry(0, "input", p, item)
            for p, (raw, item) in enumerate(zip(raws, items, strict=True))
            if str(item_tag(raw) or "")[:64] in wanted_types  # as item_row stores the type
        ]
    outputs = [trace.Entry(0, "output", p, item) for p, item in enumerate(response.output)]
    own = [*inputs, *outputs]
    pairs = trace.pair(own, item_of=lambda e: e.item)
    if hints is None or hints.followed(stored):
        pairs.add(_answers_elsewhere(stored, trace.wanted([e.item for e in own], pairs)))
    functions = trace.declared_functions(response.tools)
    calls = [e for e in own if getattr(e.item, "type", None) in trace.AUDITED_TYPES]
    output_keys = {_item_key(e.item) for e in calls if e.where == "output"}
    replayed = {_item_key(e.item) for e in calls if e.where == "input"} - output_keys
    claimed: dict[tuple[str, str, str], tuple[str, bool, int]] = {}
    keys = output_keys | replayed
    if hints is None or hints.may_match((k, c or i) for k, c, i in keys):
        if hints is not None:
            hints.flush()  # the query must see the rows the run has made so far
        elsewhere = ToolCall.objects.exclude(response=stored)
        found = elsewhere.only(
            "type", "call_id", "item_id", "approval_request_id", "where", "answered"
        )
        claimed = {
            _call_key(row.type, row.call_id, row.item_id): (row.where, row.answered, row.pk)
            for row in _rows_by_id(found, _key_columns(keys))
            if _call_key(row.type, row.call_id, row.item_id) in keys
        }
    new_rows: list[dict[str, Any]] = []
    taken_over: list[int] = []
    for entry in calls:
        key = _item_key(entry.item)
        if entry.where == "input" and (key in output_keys or key in claimed or not any(key[1:])):
            continue  # the call is (or will be) indexed where it was made
        request = _text_of(getattr(entry.item, "approval_request_id", None))
        approval = pairs.answers.get(("mcp_approval_response", request))
        audit = trace.audit_call(
            entry,
            pairs.answer_to(entry.item),
            functions,
            approval.item if approval is not None else None,
        )
        new_rows.append(_tool_call_row(stored, audit))
        if entry.where == "output" and key in claimed and claimed[key][0] == "input":
            taken_over.append(claimed[key][2])
    answers = [e.item for e in own if trace.answer_key(e.item) is not None]
    # A bulk import holds its own transaction; a savepoint per response would double the
    # queries it makes.
    with transaction.atomic(savepoint=hints is None):
        previous = (
            {r.pk: r for r in ToolCall.objects.filter(pk__in=taken_over)} if taken_over else {}
        )
        for row in new_rows:
            for old in previous.values():
                if (
                    _call_key(old.type, old.call_id, old.item_id)
                    == _call_key(row["type"], row["call_id"], row["item_id"])
                    and old.answered
                    and not row["answered"]
                ):
                    row.update(answered=True, no_output=False, output=old.output)
                    row.update(status=old.status, failed=row["failed"] or old.failed)
        if hints is None or taken_over:  # a new response has no rows of its own yet
            ToolCall.objects.filter(Q(response=stored) | Q(pk__in=taken_over)).delete()
        if hints is None:
            _insert_rows(ToolCall, new_rows)
        _answer_earlier_calls(stored, answers, hints)
        if hints is not None:
            hints.add(new_rows)  # after: the answers are for other responses' calls
    return len(new_rows)


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _answer_earlier_calls(
    stored: StoredResponse, answers: list[Any], hints: _IndexHints | None = None
) -> None:
    """Give `answers` (items of `stored`) to the calls of other responses they answer."""
    by_key: dict[tuple[str, str], Any] = {}
    wanted: set[tuple[str, str, str]] = set()  # (type, column, value) of the calls answered
    for answer in answers:
        kind, value = trace.answer_key(answer) or ("", "")
        if kind == "mcp_approval_response":
            by_key.setdefault(("mcp_approval_request", value), answer)
            by_key.setdefault(("mcp_call", value), answer)
            wanted |= {
                ("mcp_approval_request", "item_id", value),
                ("mcp_call", "approval_request_id", value),
            }
        elif kind == "local_shell_call_output":
            by_key.setdefault(("local_shell_call", value), answer)
            wanted |= {
                ("local_shell_call", "call_id", value),
                ("local_shell_call", "item_id", value),
            }
        elif kind:
            by_key.setdefault((_ANSWERED_BY[kind], value), answer)
            wanted.add((_ANSWERED_BY[kind], "call_id", value))
    if not by_key:
        return
    if hints is not None:
        if not hints.may_match(by_key):
            return
        hints.flush()
    fields = ["answered", "no_output", "output", "status", "failed", "approval"]
    changed = []
    for row in _rows_by_id(ToolCall.objects.exclude(response=stored), wanted):
        for value in (row.approval_request_id, row.call_id, row.item_id):
            answer = by_key.get((row.type, value)) if value else None
            if answer is not None:
                before = [getattr(row, name) for name in fields]
                _apply_answer(row, answer)
                # Only rows the answer changes: a re-import answers every call again, and
                # bulk_update's CASE per row and field costs seconds for thousands of them.
                if [getattr(row, name) for name in fields] != before:
                    changed.append(row)
                break
    ToolCall.objects.bulk_update(changed, fields, batch_size=200)


def reindex_tool_calls() -> int:
    """Rebuild the whole tool-call index, oldest response first; returns the rows made."""
    total = 0
    for stored in StoredResponse.objects.order_by("created_at", "id").iterator(chunk_size=200):
        total += index_tool_calls(stored)
    return total


# --- reading the tool-call index ---------------------------------------------------------

#: ?flag= values of /tool-calls/ and the filter each means.
TOOL_CALL_FLAGS: dict[str, Q] = {
    "no-output": Q(no_output=True),
    "bad-json": Q(bad_json=True),
    "schema": Q(breaks_schema=True),
    "undeclared": Q(undeclared=True),
    "failed": Q(failed=True),
    "approval": Q(needs_approval=True),
    "denied": Q(approval="denied"),
}


def tool_calls(name: str = "", kind: str = "", flag: str = "") -> Any:
    """Indexed tool calls, newest first, filtered by exact name, type and flag."""
    rows = ToolCall.objects.all()
    if name:
        rows = rows.filter(name=name)
    if kind:
        rows = rows.filter(type=kind)
    if flag in TOOL_CALL_FLAGS:
        rows = rows.filter(TOOL_CALL_FLAGS[flag])
    return rows


def tool_call_choices() -> tuple[list[str], list[str]]:
    """The tool names and types there are calls of, for the filter menus; two queries."""
    names = ToolCall.objects.order_by("name").values_list("name", flat=True).distinct()
    kinds = ToolCall.objects.order_by("type").values_list("type", flat=True).distinct()
    return list(names[:500]), list(kinds)


def chain_notes(ids: list[str]) -> dict[str, list[Note]]:
    """The notes of several responses (every id, [] if none), oldest first; one query."""
    found: dict[str, list[Note]] = {response_id: [] for response_id in ids}
    for note in Note.objects.filter(response_id__in=ids).order_by("created_at", "id"):
        found[note.response_id].append(note)
    return found


#: (value, label) of the /tool-calls/ flag filter.
TOOL_CALL_FLAG_CHOICES = trace.FLAGS


def demo_responses() -> list[StoredResponse]:
    """Every stored demo response, oldest first."""
    return list(
        StoredResponse.objects.filter(source=StoredResponse.Source.DEMO).order_by(
            "created_at", "id"
        )
    )


def delete_response(stored: StoredResponse) -> None:
    """Forget a stored response and all that hangs on it (items, notes, tool calls, events);
    nothing is sent upstream."""
    with transaction.atomic():
        stored.delete()
