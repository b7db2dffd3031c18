"""A response's stream events (spec §1.1, §6): replayed or followed from upstream and kept,
read back as a timeline, exported."""

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .. import client as upstream
from .. import events
from ..models import StoredResponse, StreamEvent
from ..schemas import TERMINAL_STATUSES
from ..schemas.base import Unknown
from .fetch import fetch_response
from .rows import as_kept, kept_text

#: The longest one replay, or one live-follow read, holds a request: every connection to the
#: upstream's stream is bounded in time, and the next read resumes with starting_after.
REPLAY_SECONDS = 10.0
FOLLOW_SECONDS = 2.0
EVENT_BATCH = 200


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
            if number is None and not isinstance(event, Unknown):
                # Streams recorded before about April 2025 number nothing: arrival order.
                number = events.arrival_number(seen, starting_after)
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
                    type=kept_text(kind, 100),
                    body=as_kept(event.wire)[0],
                    received_at=timezone.now(),
                )
            )
            if len(pending) >= EVENT_BATCH:
                _keep_events(stored, pending, result, replace and not result.kept)
                pending.clear()
            if kind in events.TERMINAL_TYPES and not isinstance(event, Unknown):
                result.ended = "terminal"
                if events.ends_stream(kind):
                    break
        else:
            if result.ended != "terminal":  # an `error` came, and then the stream closed
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
    final = stored.status in TERMINAL_STATUSES
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


def keep_events_export(export: dict[str, Any]) -> int:
    """Keep the events of an events export (export_events' shape) for its stored response,
    in place of those kept; how many. The demo's background responses ship theirs so."""
    stored = StoredResponse.objects.filter(pk=export["response_id"]).first()
    if stored is None:
        return 0
    origin = timezone.now()
    rows = [
        StreamEvent(
            response=stored,
            sequence_number=entry["sequence_number"],
            type=kept_text(str(entry["event"].get("type") or ""), 100),
            body=as_kept(entry["event"])[0],
            received_at=origin + timedelta(milliseconds=entry["received_ms"]),
        )
        for entry in export["events"]
    ]
    with transaction.atomic():
        StreamEvent.objects.filter(response=stored).delete()
        StreamEvent.objects.bulk_create(rows)
    return len(rows)
