"""Each page's data, gathered from the store: the only presentation code that reads it.

A view validates the request, calls one function here and renders what it returns; the
functions below read the store (one query per kind of row, never one per item), parse the
stored bodies and hand the pure modules (rendering, compare, trace) schema objects. Nothing
here knows the request or builds a URL: views and templates do that.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.paginator import Page, Paginator

from . import (
    compare,
    events,
    listing,
    outline,
    problems,
    rendering,
    search,
    store,
    trace,
    transcript,
)
from .models import Note, StoredResponse, ToolCall
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


#: Part of an id the lookup box matches against the stored ids (shorter is too vague).
ID_PART = re.compile(r"^[A-Za-z0-9_-]{4,128}$")


def lookup_matches(text: str) -> list[str]:
    """Stored ids the lookup box's text (an id, or part of one) names: the id itself if it
    is stored, else the stored ids it is part of (newest first, at most 20); [] when it is
    no part of an id."""
    if not ID_PART.fullmatch(text):
        return []
    if StoredResponse.objects.filter(pk=text).exists():
        return [text]
    return store.ids_containing(text)


def list_page(filters: listing.Filters, number: Any) -> Page[StoredResponse]:
    """One page of the stored responses the filters keep (listing.py has the query)."""
    return Paginator(listing.filtered(filters), PER_PAGE).get_page(number)


def tool_calls_page(
    name: str, kind: str, flag: str, number: Any, problem: str = ""
) -> dict[str, Any]:
    """One page of the tool-call index, filtered by exact name, type, flag and problem."""
    names, kinds = store.tool_call_choices()
    rows = store.tool_calls(name=name, kind=kind, flag=flag, problem=problem)
    return {
        "page": Paginator(rows, PER_PAGE).get_page(number),
        "names": names,
        "kinds": kinds,
        "flags": store.TOOL_CALL_FLAG_CHOICES,
        "problem_choices": [
            (k, label) for k, label in problems.KINDS if k in store.TOOL_CALL_PROBLEMS
        ],
        "shell_types": trace.SHELL_TYPES,
        "name": name,
        "kind": kind,
        "flag": flag,
        "problem": problem,
    }


# --- the response page ------------------------------------------------------------------


def _beside(shown: Sequence[Row], pairs: trace.Pairs) -> list[Row]:
    """`shown` with each answer whose call is also shown marked `beside` (a line, not a
    card: the call's card shows it)."""
    on_page = {id(row) for row in shown}
    return [
        replace(row, beside=True) if id(pairs.call_of(row.item)) in on_page else row
        for row in shown
    ]


def _later_answers(calls: Sequence[ToolCall]) -> list[Row]:
    """The answers that later stored responses gave to this response's calls (the index
    knows where they are), as rows of those responses; one query, none if there are none."""
    places = [
        (call.answer_response_id, call.answer_position)
        for call in calls
        if call.answer_response_id
        and call.answer_response_id != call.response_id
        and call.answer_where == "input"
        and call.answer_position is not None
    ]
    return [Row(item, "input", p, rid) for rid, p, item in store.items_at(places)]


def _call_problems(calls: Sequence[ToolCall], shown: Sequence[Row]) -> list[problems.Problem]:
    """The problems of a response's calls (as the index judged them), each with its item's
    anchor when the page shows the item (else the page links to it by its place)."""
    anchors = {(row.section, row.position): row.anchor for row in shown}
    return [
        problem
        for call in calls
        for problem in problems.of_row(call, anchors.get((call.where, call.position), ""))
    ]


def response_page(
    stored: StoredResponse, number: Any = 1, only: store.ItemFilter = store.EVERY_ITEM
) -> dict[str, Any]:
    """Everything the response page shows, computed once: page `number` of the input items
    (filtered by `only`; ?page=, so a link reaches any item) and every output item."""
    response = stored.response()
    output_rows = _output_rows(response, stored.id)
    instruction_rows = _instruction_rows(response, stored.id)
    page = store.input_items_page(stored, number, only)
    input_rows = rows(page.items, "input", stored.id)
    calls = store.response_calls(stored)
    later = _later_answers([call for call in calls if call.where == "output"])
    shown = [*instruction_rows, *input_rows, *output_rows]
    pairs = pairs_for(stored, shown, later)
    found = problems.of_response(response) + problems.of_items([*instruction_rows, *output_rows])
    made = [call for call in calls if call.where == "output"]
    return {
        "stored": stored,
        "response": response,
        "items": page,
        "only": only,
        "input_rows": _beside(input_rows, pairs),
        "output_rows": [row for row in _beside(output_rows, pairs) if only.matches(row.item)],
        "output_count": len(output_rows),
        "instruction_rows": instruction_rows,
        "pairs": pairs,
        "on_page": {row.anchor for row in shown},
        "problems": problems.sort(found + _call_problems(calls, shown)),
        "calls_made": len(made),
        "calls_failed": sum(call.failed for call in made),
        "usage": rendering.usage_view(response),
        "raw": rendering.raw_json(stored.body),
        "logs_url": f"{settings.PLATFORM_LOGS_URL}{stored.id}",
        "live": (response.status or "") not in TERMINAL_STATUSES,
        "poll_seconds": rendering.POLL_SECONDS,
        "fetch": store.fetch_progress(stored),
        "notes": notes_by_response([stored.id]),
        "page_size": store.INPUT_PAGE_SIZE,
    }


def input_items_context(
    stored: StoredResponse,
    number: Any,
    only: store.ItemFilter = store.EVERY_ITEM,
    after: int | None = None,
) -> dict[str, Any]:
    """One more page of input items (an htmx load, up or down), paired like the first; only
    those after position `after` (the page has those before: more came since it was shown)."""
    response = stored.response()
    page = store.input_items_page(stored, number, only)
    shown = [(p, item) for p, item in page.items if after is None or p > after]
    input_rows = rows(shown, "input", stored.id)
    pairs = pairs_for(stored, input_rows, _body_rows(response, stored.id))
    return {
        "stored": stored,
        "response": response,
        "items": page,
        "only": only,
        "input_rows": _beside(input_rows, pairs),
        "pairs": pairs,
        "on_page": {row.anchor for row in input_rows},
        "notes": notes_by_response([stored.id]),
        "after": after,
        "fetch": store.fetch_progress(stored),
    }


def outline_page(stored: StoredResponse) -> dict[str, Any]:
    """The outline of a response: its input items by turn (grouped when there are many),
    its output items, where the problems are, and what the item filter can choose from."""
    response = stored.response()
    marks = store.input_marks(stored)
    calls = store.response_calls(stored)
    flagged = {call.position for call in calls if call.where == "input" and problems.of_row(call)}
    output_rows = _output_rows(response, stored.id)
    output_problems = {p.position for p in _call_problems(calls, output_rows)}
    output_problems |= {p.position for p in problems.of_items(output_rows)}
    return {
        "stored": stored,
        "groups": outline.groups(marks, flagged),
        "turns": len(outline.turns(marks)),
        "output_rows": output_rows,
        "output_problems": output_problems,
        "choices": outline.choices([*marks, *response.output]),
        "newest": max((mark.position for mark in marks), default=None),
    }


def place_of_anchor(stored: StoredResponse, anchor: str) -> tuple[str, int] | None:
    """(section, number) of the item `anchor` names (anchors.py), or None: a note knows
    its item by its anchor only."""
    for section in rendering.SECTIONS:
        prefix = f"item-{section}-"
        if anchor.startswith(prefix) and anchor[len(prefix) :].isdigit():
            return section, int(anchor[len(prefix) :]) + 1
    response = stored.response()
    for row in [*_instruction_rows(response, stored.id), *_output_rows(response, stored.id)]:
        if row.anchor == anchor:
            return row.section, row.number
    position = store.input_position_of(stored, anchor.removeprefix("item-"))
    return ("input", position + 1) if position is not None else None


def _row_at(stored: StoredResponse, response: Response, section: str, position: int) -> Row | None:
    """The item at `position` of `section` as a row, or None if there is no such item."""
    if section not in rendering.SECTIONS or position < 0:
        return None
    item: Schema | None = None
    if section == "input":
        item = store.input_item_at(stored, position)
    else:
        items = response.output if section == "output" else response.instructions
        if isinstance(items, list) and position < len(items):
            item = items[position]
    return None if item is None else Row(item, section, position, stored.id)


def goto_place(stored: StoredResponse, section: str, number: int) -> tuple[int, str] | None:
    """(input page, anchor) of item `number` (1-based) of `section`, or None if there is no
    such item: where an item link lands, loaded or not."""
    row = _row_at(stored, stored.response(), section, number - 1)
    if row is None:
        return None
    return (store.page_of(row.position) if section == "input" else 1), row.anchor


def item_context(stored: StoredResponse, section: str, position: int) -> dict[str, Any] | None:
    """One item in full (the "show all" view), or None if there is no such item."""
    response = stored.response()
    row = _row_at(stored, response, section, position)
    if row is None:
        return None
    item = row.item
    return {
        "stored": stored,
        "response": response,
        "row": row,
        "item": item,
        "on_page": {row.anchor},
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
    outputs = compare.aligned_rows(a.output, b.output, "output", left.id, right.id)
    inputs = compare.aligned_rows(inputs_a, inputs_b, "input", left.id, right.id)
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
        "sections": [("output", outputs), ("input", inputs)],
        "output_differences": sum(row.pair.kind != "same" for row in outputs),
        "input_differences": sum(row.pair.kind != "same" for row in inputs),
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
    only: store.ItemFilter = store.EVERY_ITEM,
) -> dict[str, Any]:
    """The chain that ends at `response_id` as one trace, with the notes of every turn.

    `walk`: fetch the missing earlier turns from the page (not after a failure, nor when
    paused); `all_turns`: every turn in full, not only the first rendering.TRACE_FULL_TURNS;
    `only`: each turn shows only the items it keeps (the audit and problems stay whole).
    """
    chain = store.chain_ending_at(response_id)
    built = _trace_of(chain)
    found = problems.of_trace(built)
    per_turn: dict[int, int] = {}
    for number, _ in found:
        per_turn[number] = per_turn.get(number, 0) + 1
    outline_turns = [
        (
            turn,
            outline.counts(e.item for e in [*turn.new_inputs, *turn.outputs]),
            per_turn.get(turn.number, 0),
        )
        for turn in built.turns
    ]
    choices = outline.choices(
        e.item for turn in built.turns for e in [*turn.new_inputs, *turn.outputs]
    )
    if only:
        for turn in built.turns:
            turn.new_inputs = [e for e in turn.new_inputs if only.matches(e.item)]
            turn.outputs = [e for e in turn.outputs if only.matches(e.item)]
    return {
        "chain": chain,
        "trace": built,
        "problems": found,
        "outline_turns": outline_turns,
        "only": only,
        "choices": choices,
        "notes": notes_by_response([stored.id for stored in chain.responses]),
        "end_id": response_id,
        "error": error,
        "walk": walk and error is None,
        # Item links on a trace go to the item on the trace itself (items/_href.html).
        "in_trace": True,
        "full_turns": None if all_turns else rendering.TRACE_FULL_TURNS,
        # The fetch of input items under way in a turn of the chain (the first such turn).
        "trace_fetch": store.unfinished_fetch(chain.responses),
    }


def transcript_of(chain: store.Chain, title: str = "") -> str:
    """The Markdown transcript of a chain (transcript.py), with the notes of every turn;
    titled as a trace unless `title` says otherwise."""
    notes = notes_by_response([stored.id for stored in chain.responses])
    return transcript.render(_trace_of(chain), notes, title or transcript.trace_title(chain))


def _trace_of(chain: store.Chain) -> trace.Trace:
    """The chain as a trace, its calls answered by responses stored after it paired too."""
    built = store.load_trace(chain)
    trace.answer_later(built, store.answers_after(built))
    return built


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
