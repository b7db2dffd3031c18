"""Importing files of responses, bundles and traces: import_lines and its ImportReport, new
bundles kept a batch at a time with bulk inserts, and the demo."""

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, transaction
from django.utils import timezone
from pydantic import ValidationError

from .. import access, audit, listing, notes, scrub
from ..models import InputItem, StoredResponse
from ..schemas import Response, item_adapter
from . import search_index
from .bundles import check_ids, save_bundle, unpack
from .chains import TRACE_KIND
from .jsonl import read_entries
from .rows import JSONText, as_kept_json, columns, insert_rows, item_columns, kept_text
from .runs import refresh as refresh_runs
from .streams import keep_events_export
from .tool_call_index import IndexHints, index_tool_calls

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


#: How many failures an import report lists with their reasons.
FAILURES_KEPT = 10_000
#: Responses an import report lists (and links to); the others are counted.
KEPT_LISTED = 1_000


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    notes_added: int = 0
    #: Bundles whose notes and review were left out: the importer may not review.
    annotations_dropped: int = 0
    #: Failures past FAILURES_KEPT are counted, not listed (a 1 GB file of bad lines).
    more_failures: int = 0
    #: (line, response id, "imported" / "updated" / "skipped"): what the report links to,
    #: the first KEPT_LISTED of them.
    kept: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures) + self.more_failures

    def fail(self, number: int, reason: str) -> None:
        if len(self.failures) < FAILURES_KEPT:
            self.failures.append((number, reason))
        else:
            self.more_failures += 1

    def keep(self, number: int, response_id: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if len(self.kept) < KEPT_LISTED:
            self.kept.append((number, response_id, outcome))

    @property
    def more_kept(self) -> int:
        return self.imported + self.updated + self.skipped - len(self.kept)

    def summary(self) -> str:
        dropped = self.annotations_dropped
        return (
            f"{self.imported} imported, {self.updated} updated, "
            f"{self.skipped} skipped, {self.failed} failed"
        ) + (f"; notes and review of {dropped} not kept ({NOT_REVIEWER})" if dropped else "")


#: Why an import keeps no notes or review, and refuses an update: the permissions it lacks.
NOT_REVIEWER = "keeping notes and reviews needs the review permission"
NOT_UPDATER = (
    "stored already: updating a stored response by import needs the update_by_import "
    "permission (the admin role)"
)


def import_lines(
    lines: Any,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    source: str = StoredResponse.Source.IMPORT,
    progress: Any = None,
    max_line_bytes: int | None = None,
    audit_as: audit.Actor | None = None,
    label: str = "",
) -> ImportReport:
    """Import JSON, a JSON array, JSONL or bundles; every valid entry is kept.

    `lines`: a binary file-like object (a file opened "rb", an upload), streamed, or an
    iterable of lines. Line numbers in failures are JSONL lines, or 1-based positions in a
    JSON array. A line (an array entry) longer than `max_line_bytes` (IMPORT_MAX_LINE_BYTES)
    fails alone with a reason.

    `user`: who imports; their permissions decide whether a stored response may be updated
    (update_by_import) and whether notes and reviews are kept (review). None is this
    server's operator (the command line, the demo), who may do both. With `audit_as`, every
    id imported, updated, skipped or refused gets its own audit entry ("`label` line N: …"),
    written with what it records, in the same transaction.
    """
    report = ImportReport()
    limit = settings.IMPORT_MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    batch = Batch(report, source, user, progress, audit_as, label)
    for number, obj in _bundles(read_entries(lines, limit)):
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
    body, items, complete = unpack(obj)
    annotations = notes.parse_bundle(obj)
    response = Response.from_wire(body)
    check_ids(response)
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


def _may(user: Any, perm: str) -> bool:
    """None: this server's operator (the command line, the demo), who may do anything."""
    return user is None or bool(user.has_perm(perm))


class Batch:
    """Bundles waiting to be kept, and the report and audit trail they go to."""

    def __init__(
        self,
        report: ImportReport,
        source: str,
        user: AbstractBaseUser | AnonymousUser | None,
        progress: Any,
        audit_as: audit.Actor | None = None,
        label: str = "",
    ) -> None:
        self.report, self.source, self.user, self.progress = report, source, user, progress
        self.audit_as, self.label = audit_as, label
        self.may_update = _may(user, access.UPDATE_BY_IMPORT)
        self.may_review = _may(user, access.REVIEW)
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
                self.keep_one(bundle)
            else:
                run.append(bundle)
            seen.add(rid)
        self._keep_new(run)

    def keep_one(self, bundle: _Bundle) -> None:
        try:
            with transaction.atomic():
                outcome = save_bundle(
                    bundle.body,
                    bundle.items,
                    source=self.source,
                    user=self.user,
                    complete=bundle.complete,
                    may_update=self.may_update,
                )
                if outcome != "refused":
                    self._restore(bundle)
                self._audit([(bundle, outcome)])
        except (ValidationError, ValueError, DatabaseError) as error:
            self.report.fail(bundle.number, _reason(error))
        else:
            if outcome == "refused":
                self.report.fail(bundle.number, f"{bundle.response.id} is {NOT_UPDATER}")
            else:
                self.report.keep(bundle.number, bundle.response.id, outcome)
        self._progress(bundle)

    def _keep_new(self, run: list[_Bundle]) -> None:
        if not run:
            return
        try:
            with transaction.atomic():
                _save_new(run, self.source, self.user)
                self._audit([(bundle, "imported") for bundle in run])
        except DatabaseError:
            # One bundle the database refuses (or an id stored meanwhile by another import)
            # rolls the run back: each is then kept alone, and fails alone.
            for bundle in run:
                self.keep_one(bundle)
            return
        for bundle in run:
            try:
                self._restore(bundle)
            except (ValueError, DatabaseError) as error:
                self.report.fail(bundle.number, _reason(error))
            else:
                self.report.keep(bundle.number, bundle.response.id, "imported")
            self._progress(bundle)

    def _restore(self, bundle: _Bundle) -> None:
        """The bundle's notes and review, if the importer may review (else counted)."""
        found, review = bundle.annotations
        if not self.may_review:
            self.report.annotations_dropped += bool(found or (review and review.at))
            return
        self.report.notes_added += notes.restore(bundle.response.id, found, review)

    def _audit(self, outcomes: list[tuple[_Bundle, str]]) -> None:
        if self.audit_as is None:
            return
        words = {"skipped": "skipped (unchanged)", "refused": f"refused: {NOT_UPDATER}"}
        self.audit_as.write(
            audit.Action.IMPORTED,
            [
                (bundle.response.id, f"{self.label} line {bundle.number}: "
                 f"{words.get(outcome, outcome)}")
                for bundle, outcome in outcomes
            ],
        )  # fmt: skip

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
    texts: list[dict[str, Any]] = []
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
        row["input_preview"] = kept_text(
            listing.input_preview(bundle.parsed_items), listing.PREVIEW_MAX
        )
        rows.append(row)
        texts += search_index.response_rows(bundle.response)
        texts += search_index.item_rows(rid, "input", enumerate(bundle.parsed_items))
        for position, (raw, text) in enumerate(
            zip(bundle.kept_items, bundle.items_json, strict=True)
        ):
            item_id, kind = item_columns(raw)
            items.append(
                {"response_id": rid, "position": position, "item_id": item_id, "type": kind,
                 "body": text}
            )  # fmt: skip
    insert_rows(StoredResponse, rows)
    insert_rows(InputItem, items)
    search_index.add(texts, whole=True)
    hints = IndexHints.of([(bundle.response, bundle.parsed_items) for bundle in run])
    for row, bundle in zip(rows, run, strict=True):
        stored = StoredResponse(**{k: v for k, v in row.items() if k != "body"})
        index_tool_calls(
            stored, parsed=(bundle.response, bundle.kept_items, bundle.parsed_items), hints=hints
        )
    hints.flush()
    refresh_runs(row["id"] for row in rows)


def load_demo() -> ImportReport:
    report = ImportReport()
    for path in sorted(DEMO_DIR.glob("*.json")):
        with path.open("rb") as handle:
            part = import_lines(handle, source=StoredResponse.Source.DEMO)
        report.imported += part.imported
        report.updated += part.updated
        report.skipped += part.skipped
        report.failures += [(line, f"{path.name}: {why}") for line, why in part.failures]
    # The stream events of the background responses, so their events page shows a run.
    for path in sorted((DEMO_DIR / "events").glob("*.json")):
        keep_events_export(json.loads(path.read_text()))
    return report


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
