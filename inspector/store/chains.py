"""The chain that ends at a response: its stored turns (by previous_response_id or by
conversation), their input items and notes, loaded as a trace and exported as one."""

from dataclasses import dataclass
from typing import Any

from django.db import connection

from .. import trace
from ..models import InputItem, Note, StoredResponse, ToolCall
from ..schemas import Response, item_adapter
from .bundles import export_bundle
from .reading import items_at

TRACE_KIND = "responses-inspector.trace"
#: The longest chain walked; past it the trace says it stopped.
MAX_TURNS = 1000


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


def answers_after(built: trace.Trace) -> list[trace.Entry]:
    """Answers to the trace's unanswered calls that responses outside it hold (the tool-call
    index knows where), as entries of turn 0; one query, two if there are any."""
    ids = {turn.response.id for turn in built.turns}
    unanswered = [call for call in built.calls if "no-output" in call.flags]
    if not unanswered:
        return []
    rows = ToolCall.objects.filter(response_id__in=sorted(ids), answered=True, answer_where="input")
    places = [
        (row.answer_response_id, row.answer_position)
        for row in rows.exclude(answer_response_id__in=sorted(ids)).order_by()
        if row.answer_position is not None
    ]
    return [
        trace.Entry(0, "input", position, item, response_id=rid)
        for rid, position, item in items_at(places)
    ]


def export_trace(chain: Chain) -> dict[str, Any]:
    """Every turn of a chain as bundles (with input items, notes, review), oldest first."""
    return {
        "kind": TRACE_KIND,
        "version": 1,
        "end": chain.end_id,
        "responses": [export_bundle(stored) for stored in chain.responses],
    }


def chain_notes(ids: list[str]) -> dict[str, list[Note]]:
    """The notes of several responses (every id, [] if none), oldest first; one query."""
    found: dict[str, list[Note]] = {response_id: [] for response_id in ids}
    for note in Note.objects.filter(response_id__in=ids).order_by("created_at", "id"):
        found[note.response_id].append(note)
    return found
