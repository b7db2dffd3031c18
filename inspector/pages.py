"""Each page's data, gathered from the store: the only presentation code that reads it.

A view validates the request, calls one function here and renders what it returns; the
functions below read the store (one query per kind of row, never one per item), parse the
stored bodies and hand the pure modules (rendering, compare, trace) schema objects. Nothing
here knows the request or builds a URL: views and templates do that.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.paginator import Page, Paginator

from . import compare, events, listing, rendering, search, store, trace, transcript
from .models import Note, StoredResponse
from .rendering import Row, rows
from .schemas import ITEM_TYPES, TERMINAL_STATUSES, Response, item_adapter
from .schemas.base import Schema
from .schemas.tools import TOOL_TYPES

if TYPE_CHECKING:
    from .client import APIError


#: The notes of the responses a page shows, by response id, oldest first; templates pick
#: an item's with the `notes_of` and `notes_at` filters.
Notes = dict[str, list[Note]]


def notes_by_response(ids: Sequence[str]) -> Notes:
    """The notes of the responses `ids` (every id, [] if none); one query."""
    return store.chain_notes(list(ids))


def pairs_for(
    stored: StoredResponse, shown: Sequence[Row], context: Sequence[Row] = ()
) -> trace.Pairs:
    """Pairs for the rows shown: among them and `context`, then in the stored input items.

    The stored input items are asked once, for exactly the keys still missing.
    """
    pairs = trace.pair([*shown, *context], item_of=attrgetter("item"))
    missing = trace.wanted([row.item for row in shown], pairs)
    if missing:
        pairs.add(rows(store.linked_input_items(stored, missing), "input", stored.id))
    return pairs


def _output_rows(response: Response, response_id: str) -> list[Row]:
    return rows(enumerate(response.output), "output", response_id)


def _instruction_rows(response: Response, response_id: str) -> list[Row]:
    if isinstance(response.instructions, list):
        return rows(enumerate(response.instructions), "instructions", response_id)
    return []


def _body_rows(response: Response, response_id: str) -> list[Row]:
    """The items a response carries in its body, which pair with any item shown alone."""
    return [*_instruction_rows(response, response_id), *_output_rows(response, response_id)]


# --- the list, the tool-call index ------------------------------------------------------


#: Rows per page of the list on / and of /tool-calls/.
PER_PAGE = 50


def list_page(filters: listing.Filters, number: Any) -> Page[StoredResponse]:
    """One page of the stored responses the filters keep (listing.py has the query)."""
    return Paginator(listing.filtered(filters), PER_PAGE).get_page(number)


def tool_calls_page(name: str, kind: str, flag: str, number: Any) -> dict[str, Any]:
    """One page of the tool-call index, filtered by exact name, type and flag."""
    names, kinds = store.tool_call_choices()
    rows = store.tool_calls(name=name, kind=kind, flag=flag)
    return {
        "page": Paginator(rows, PER_PAGE).get_page(number),
        "names": names,
        "kinds": kinds,
        "flags": store.TOOL_CALL_FLAG_CHOICES,
        "name": name,
        "kind": kind,
        "flag": flag,
    }


# --- the response page ------------------------------------------------------------------


def response_page(stored: StoredResponse, number: Any = 1) -> dict[str, Any]:
    """Everything the response page shows, computed once; its input items from page
    `number` on (?page=, so a link reaches any item)."""
    response = stored.response()
    output_rows = _output_rows(response, stored.id)
    instruction_rows = _instruction_rows(response, stored.id)
    page = store.input_items_page(stored, number)
    input_rows = rows(page.items, "input", stored.id)
    pairs = pairs_for(stored, [*instruction_rows, *input_rows, *output_rows])
    failed = [row for row in [*instruction_rows, *output_rows] if rendering.item_failure(row.item)]
    failed += rows(store.failed_input_items(stored), "input", stored.id)
    return {
        "stored": stored,
        "response": response,
        "items": page,
        "input_rows": input_rows,
        "output_rows": output_rows,
        "instruction_rows": instruction_rows,
        "pairs": pairs,
        "problems": rendering.problems(response, failed),
        "usage": rendering.usage_view(response),
        "raw": rendering.raw_json(stored.body),
        "logs_url": f"{settings.PLATFORM_LOGS_URL}{stored.id}",
        "live": (response.status or "") not in TERMINAL_STATUSES,
        "poll_seconds": rendering.POLL_SECONDS,
        "fetch": store.fetch_progress(stored),
        "notes": notes_by_response([stored.id]),
    }


def input_items_context(
    stored: StoredResponse, number: Any, after: int | None = None
) -> dict[str, Any]:
    """One more page of input items (the htmx "revealed" load), paired like the first; only
    those after position `after` (the page has those before: more came since it was shown)."""
    response = stored.response()
    page = store.input_items_page(stored, number)
    shown = [(p, item) for p, item in page.items if after is None or p > after]
    input_rows = rows(shown, "input", stored.id)
    return {
        "stored": stored,
        "response": response,
        "items": page,
        "input_rows": input_rows,
        "pairs": pairs_for(stored, input_rows, _body_rows(response, stored.id)),
        "notes": notes_by_response([stored.id]),
        "after": after,
        "fetch": store.fetch_progress(stored),
    }


def item_context(stored: StoredResponse, section: str, position: int) -> dict[str, Any] | None:
    """One item in full (the "show all" view), or None if there is no such item."""
    if section not in rendering.SECTIONS or position < 0:
        return None
    response = stored.response()
    item: Schema | None = None
    if section == "input":
        item = store.input_item_at(stored, position)
    else:
        items = response.output if section == "output" else response.instructions
        if isinstance(items, list) and position < len(items):
            item = items[position]
    if item is None:
        return None
    row = Row(item, section, position, stored.id)
    return {
        "stored": stored,
        "response": response,
        "row": row,
        "item": item,
        "pairs": pairs_for(stored, [row], _body_rows(response, stored.id)),
        "full": True,
        "notes": notes_by_response([stored.id]),
    }


def instructions_context(stored: StoredResponse) -> dict[str, Any] | None:
    """Instructions given as one string, in full; None if they were not given as text."""
    instructions = stored.response().instructions
    if not isinstance(instructions, str) or not instructions:
        return None
    return {"stored": stored, "instructions": instructions, "full": True}


def poll_context(stored: StoredResponse, error: "APIError | None" = None) -> dict[str, Any]:
    """The live-status block of a response that is still queued or in progress."""
    response = stored.response()
    status = response.status or ""
    # Waiting helps with an upstream that is down, slow or rate limited; not with the rest.
    transient = error is None or error.transient
    return {
        "stored": stored,
        "response": response,
        "live": status not in TERMINAL_STATUSES and transient,
        "done": status in TERMINAL_STATUSES,
        "poll_error": error,
        "poll_seconds": rendering.POLL_SECONDS,
        "checked_at": datetime.now(tz=UTC),
    }


# --- the pattern page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    kind: str
    stored: StoredResponse | None
    row: Row | None
    pairs: trace.Pairs | None
    response: Response | None


def _shows_most(example: Example) -> int:
    """Prefer an example paired with its counterpart, then the earliest (max keeps the first)."""
    item, pairs = example.row.item if example.row else None, example.pairs
    if pairs is None:
        return 0
    paired = pairs.answer_to(item) or pairs.call_of(item) or pairs.referenced(item)
    return 1 if paired or pairs.approval_request_of(item) else 0


def patterns_page() -> dict[str, Any]:
    """One demo item of every type, each with its own response's pairing and context."""
    found = store.item_examples(ITEM_TYPES)
    examples = []
    parsed: dict[str, Response] = {}
    for kind in ITEM_TYPES:
        candidates = []
        for stored, section, position in found.get(kind, []):
            response = parsed.setdefault(stored.id, stored.response())
            item: Schema | None
            if section == "output":
                item = response.output[position]
            else:
                item = store.input_item_at(stored, position)
            if item is None:  # deleted since item_examples read it
                continue
            row = Row(item, section, position, stored.id)
            pairs = pairs_for(stored, [row], _body_rows(response, stored.id))
            candidates.append(Example(kind, stored, row, pairs, response))
        examples.append(
            max(candidates, key=_shows_most, default=Example(kind, None, None, None, None))
        )
    tools: dict[str, Any] = {}
    for stored in store.demo_responses():
        response = parsed.get(stored.id) or stored.response()
        for tool in response.tools:
            tools.setdefault(rendering.canonical_type(tool) or "unknown", tool)
    return {
        "examples": examples,
        "missing": [e.kind for e in examples if e.row is None],
        "tools": [tools[k] for k in TOOL_TYPES if k in tools],
        "notes": notes_by_response([e.stored.id for e in examples if e.stored is not None]),
    }


# --- compare ------------------------------------------------------------------------------


def first_input_items(stored: StoredResponse) -> list[Schema]:
    """The first compare.INPUT_LIMIT input items of a stored response, parsed; one query."""
    bodies = stored.items.order_by("position").values_list("body", flat=True)
    return [item_adapter.validate_python(body) for body in bodies[: compare.INPUT_LIMIT]]


def compare_page(left: StoredResponse, right: StoredResponse) -> dict[str, Any]:
    """Two responses side by side (compare.py says how they are lined up)."""
    a, b = left.response(), right.response()
    inputs_a, inputs_b = first_input_items(left), first_input_items(right)
    params = compare.parameters(a, b)
    tool_rows = compare.tools(a.tools, b.tools)
    return {
        "left": left,
        "right": right,
        "a": a,
        "b": b,
        "parameters": params,
        "same_parameters": [p for p in params if p.same and p.left],
        "tools": tool_rows,
        "differences": sum(not p.same for p in params),
        "tool_differences": sum(not t.same for t in tool_rows),
        "instructions": compare.text_diff(
            compare.instructions_text(a.instructions), compare.instructions_text(b.instructions)
        ),
        "sections": [
            ("output", compare.aligned_rows(a.output, b.output, "output", left.id, right.id)),
            ("input", compare.aligned_rows(inputs_a, inputs_b, "input", left.id, right.id)),
        ],
        "input_limit": compare.INPUT_LIMIT,
        "inputs_cut": max(left.input_items_count, right.input_items_count) > compare.INPUT_LIMIT,
        "usage": compare.usage_deltas(a, b),
    }


# --- the event stream ---------------------------------------------------------------------


def events_page(stored: StoredResponse, result: store.ReplayResult | None = None) -> dict[str, Any]:
    """The kept events of a response as a timeline; after a replay, `result` says how it went."""
    timeline = store.event_timeline(stored)
    if result is None:
        follow = events.follow_start(timeline, timeline.status)
    else:
        follow = events.follow_next(
            events.Follow(active=True),
            ended=result.ended,
            timeline=timeline,
            status=timeline.status,
        )
    return {
        "stored": stored,
        "timeline": timeline,
        "follow": follow,
        "result": result,
        "follow_seconds": store.FOLLOW_SECONDS,
    }


def events_update(
    stored: StoredResponse, previous: events.Follow, result: store.ReplayResult
) -> dict[str, Any]:
    """What one poll of the live follow adds to the page: the events after those shown."""
    timeline = store.event_timeline(stored, after=previous.shown)
    follow = events.follow_next(
        previous, ended=result.ended, timeline=timeline, status=timeline.status
    )
    return {
        "stored": stored,
        "timeline": timeline,
        "follow": follow,
        "previous": previous,
        "result": result,
        "follow_seconds": store.FOLLOW_SECONDS,
    }


# --- the trace ----------------------------------------------------------------------------


def trace_page(
    response_id: str,
    *,
    error: "APIError | None" = None,
    walk: bool = True,
    all_turns: bool = False,
) -> dict[str, Any]:
    """The chain that ends at `response_id` as one trace, with the notes of every turn.

    `walk`: fetch the missing earlier turns from the page (not after a failure, nor when
    paused); `all_turns`: every turn in full, not only the first rendering.TRACE_FULL_TURNS.
    """
    chain = store.chain_ending_at(response_id)
    return {
        "chain": chain,
        "trace": store.load_trace(chain),
        "notes": notes_by_response([stored.id for stored in chain.responses]),
        "end_id": response_id,
        "error": error,
        "walk": walk and error is None,
        "full_turns": None if all_turns else rendering.TRACE_FULL_TURNS,
        # The fetch of input items under way in a turn of the chain (the first such turn).
        "trace_fetch": store.unfinished_fetch(chain.responses),
    }


def transcript_of(chain: store.Chain, title: str = "") -> str:
    """The Markdown transcript of a chain (transcript.py), with the notes of every turn;
    titled as a trace unless `title` says otherwise."""
    notes = notes_by_response([stored.id for stored in chain.responses])
    built = store.load_trace(chain)
    return transcript.render(built, notes, title or transcript.trace_title(chain))


def response_transcript(stored: StoredResponse) -> str:
    """The Markdown transcript of one response."""
    chain = store.Chain(end_id=stored.id, responses=[stored])
    return transcript_of(chain, f"Response {stored.id}")


# --- search inside a response or a trace -------------------------------------------------


def search_results(
    response_ids: list[str],
    query: str,
    item_page: Callable[[str], str],
    page_url: str,
    fragment_url: str,
    *,
    page: Any = None,
    current: Any = None,
    trace: bool = False,
) -> search.Results | None:
    """The items of `response_ids` that match `query` (none without a query), on results
    page `page` or on that of result `current`; `item_page` gives a response's page URL."""
    if not query:
        return None
    hits = store.search_hits(response_ids, search.words(query))
    return search.results(
        query, hits, store.search_texts, item_page, page_url, fragment_url,
        page=page, current=current, trace=trace,
    )  # fmt: skip
