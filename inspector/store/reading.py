"""What the pages read of stored responses: input items a page at a time (filtered), those
that pair with a page's calls, an outline's marks, one item, the ids a part of an id names,
demo examples; and deleting a response."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from ..models import InputItem, StoredResponse
from ..schemas import item_adapter
from ..schemas.items import item_tag

#: Input items a page shows at first and each scroll loads: an item costs about a millisecond
#: to render, so a first view of a 3,000-item response stays within 5x a one-message one.
INPUT_PAGE_SIZE = 20


@dataclass(frozen=True)
class ItemFilter:
    """Which items a response page shows: by type, message role, tool name ("" = any)."""

    type: str = ""
    role: str = ""
    name: str = ""

    def __bool__(self) -> bool:
        return bool(self.type or self.role or self.name)

    def matches(self, item: Any) -> bool:
        """The same test as `of` asks the database, for items held in a body (the output)."""
        return all(
            not wanted or getattr(item, field, None) == wanted
            for field, wanted in (("type", self.type), ("role", self.role), ("name", self.name))
        )

    def of(self, items: "QuerySet[InputItem]") -> "QuerySet[InputItem]":
        if self.type:
            items = items.filter(type=self.type)
        if self.role:
            items = items.filter(body__role=self.role)
        if self.name:
            items = items.filter(body__name=self.name)
        return items


#: The filter that keeps every item.
EVERY_ITEM = ItemFilter()


@dataclass
class ItemsPage:
    """One page of a stored response's input items, parsed, with where the next page starts
    and the page before it (filtered: of the items the filter keeps)."""

    items: list[tuple[int, Any]]
    number: int
    next_number: int | None
    total: int
    previous_number: int | None = None
    #: How many items the filter keeps (the total without one).
    matching: int = 0


def page_of(position: int) -> int:
    """The page (1-based, unfiltered) that shows the input item at `position`."""
    return position // INPUT_PAGE_SIZE + 1


def input_items_page(
    stored: StoredResponse, number: Any = 1, only: ItemFilter = EVERY_ITEM
) -> ItemsPage:
    """Input items by position, paginated in the database, parsed into schema objects."""
    try:
        page = max(1, int(number))
    except (TypeError, ValueError):
        page = 1
    start = (page - 1) * INPUT_PAGE_SIZE
    items = only.of(stored.items.all()) if only else stored.items.all()
    rows = list(
        items.order_by("position").values_list("position", "body")[
            start : start + INPUT_PAGE_SIZE + 1
        ]
    )
    more = len(rows) > INPUT_PAGE_SIZE
    parsed = [(pos, item_adapter.validate_python(body)) for pos, body in rows[:INPUT_PAGE_SIZE]]
    return ItemsPage(
        items=parsed,
        number=page,
        next_number=page + 1 if more else None,
        total=stored.input_items_count,
        previous_number=page - 1 if page > 1 else None,
        matching=items.count() if only else stored.input_items_count,
    )


@dataclass(frozen=True)
class Mark:
    """What an outline knows of one input item: where it is, its type, role or tool name."""

    position: int
    type: str
    item_id: str
    role: str
    name: str


def input_marks(stored: StoredResponse) -> list[Mark]:
    """Every input item of a response as a Mark, in order: one query, no body parsed."""
    rows = (
        stored.items.order_by("position")
        .annotate(role=KeyTextTransform("role", "body"), name=KeyTextTransform("name", "body"))
        .values_list("position", "type", "item_id", "role", "name")
    )
    return [Mark(p, kind, item_id, role or "", name or "") for p, kind, item_id, role, name in rows]


def items_at(places: list[tuple[str, int]]) -> list[tuple[str, int, Any]]:
    """The input items at (response id, position) places, parsed: (id, position, item)."""
    if not places:
        return []
    match = Q()
    for response_id, position in places:
        match |= Q(response_id=response_id, position=position)
    rows = InputItem.objects.filter(match).values_list("response_id", "position", "body")
    return [(rid, p, item_adapter.validate_python(body)) for rid, p, body in rows[:200]]


def linked_filter(wanted: Any) -> Q:
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
    match = linked_filter(wanted) & Q(type__in=sorted(wanted.types))
    if wanted.reference_ids:
        match |= Q(item_id__in=sorted(wanted.reference_ids))
    rows = stored.items.filter(match).order_by("position")
    return [
        (pos, item_adapter.validate_python(body))
        for pos, body in rows.values_list("position", "body")[:500]
    ]


def input_position_of(stored: StoredResponse, item_id: str) -> int | None:
    """The position of the first input item with the id `item_id`, or None."""
    rows = stored.items.filter(item_id=item_id).order_by("position")
    return rows.values_list("position", flat=True).first()


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


def ids_containing(fragment: str, limit: int = 20) -> list[str]:
    """Stored response ids that contain `fragment` (part of an id), newest first."""
    rows = StoredResponse.objects.filter(pk__contains=fragment).order_by("-created_at", "id")
    return list(rows.values_list("pk", flat=True)[:limit])


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
