"""The list on `/`: the columns it filters and sorts on, and the query behind its filters.

The store fills `cost` and `metadata` when it writes a response (pure functions over schemas,
below), so listing 100,000 responses never reads a body. Filters run on indexed or small
columns, the free text on the full-text index of every item (store/search_index.py), and
every filter is DB-portable (SQLite and PostgreSQL).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce, StrIndex
from django.utils import timezone

from . import pricing, trace
from .models import WITH_ERROR, Note, StoredResponse
from .schemas import Response, Schema, item_adapter
from .schemas.base import type_of
from .schemas.content import InputTextPart, OutputTextPart, RefusalPart
from .schemas.items import (
    CodeInterpreterCallItem,
    CustomToolCallItem,
    FileSearchCallItem,
    FunctionCallItem,
    LocalShellCallItem,
    McpApprovalRequestItem,
    McpCallItem,
    MessageItem,
    ShellCallItem,
)

#: Characters of the first user input and of the output's start the list shows per row.
PREVIEW_MAX = 300


#: Metadata keys the filter accepts (the API's keys are short identifiers, spec §2).
METADATA_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


# --- what the store writes ----------------------------------------------------------------


def item_texts(item: Any) -> list[str]:
    """The text of one item: message text, a tool call's name and arguments, commands, code
    and queries (what compare sets side by side; search.item_texts adds what came back)."""
    if isinstance(item, MessageItem):
        if isinstance(item.content, str):
            return [item.content]
        texts = []
        for part in item.content:
            if isinstance(part, InputTextPart | OutputTextPart):
                texts.append(part.text)
            elif isinstance(part, RefusalPart):
                texts.append(part.refusal)
        return texts
    if isinstance(item, FunctionCallItem | McpCallItem | McpApprovalRequestItem):
        return [item.name, item.arguments]
    if isinstance(item, CustomToolCallItem):
        return [item.name, item.input]
    if isinstance(item, ShellCallItem):
        return list(item.action.commands) if item.action else []
    if isinstance(item, LocalShellCallItem):
        return [" ".join(item.action.command)] if item.action else []
    if isinstance(item, CodeInterpreterCallItem):
        return [item.code or ""]
    if isinstance(item, FileSearchCallItem):
        return list(item.queries)
    return []


def response_cost(response: Response) -> Decimal | None:
    """What the response cost as of its creation time; None without usage or a known price."""
    usage = response.usage
    if usage is None or not response.model:
        return None
    counts = {
        "input_tokens": usage.input_tokens,
        "cached_tokens": usage.input_tokens_details.cached_tokens,
        "cache_write_tokens": usage.input_tokens_details.cache_write_tokens or 0,
        "output_tokens": usage.output_tokens,
    }
    if not all(0 <= n < 2**53 for n in counts.values()):
        return None  # a hostile or broken usage block prices as "unknown", never crashes
    try:
        cost = pricing.total(response.model, when=response.created, **counts)
    except (ValueError, ArithmeticError):
        return None
    if cost is None or not cost.is_finite() or abs(cost) >= 10**10:
        return None  # does not fit the column (max_digits=20, decimal_places=10)
    return cost


def _line(text: str) -> str:
    """`text` on one line, within PREVIEW_MAX characters (a 2 MB answer is cut first)."""
    text = " ".join(text[: PREVIEW_MAX * 4].split())
    return text if len(text) <= PREVIEW_MAX else text[: PREVIEW_MAX - 1] + "…"


def output_preview(response: Response) -> str:
    """The start of what the model said: its text, else a refusal, the error, or the first
    call it made; "" when there is nothing yet."""
    texts = []
    for item in response.output:
        if isinstance(item, MessageItem):
            texts += [text for text in item_texts(item) if text.strip()]
    if texts:
        return _line(" ".join(texts))
    if response.error is not None:
        return _line(f"Error ({response.error.code or 'error'}): {response.error.message}")
    for item in response.output:
        if str(type_of(item) or "") in trace.AUDITED_TYPES:
            return _line(f"→ {trace.call_name(item)} {trace.call_arguments(item)}")
    return ""


def input_preview(raw_items: Iterable[Any]) -> str:
    """The first user message's text among `raw_items` (raw or parsed), else the first
    item's text (or its type and output): what a response was about, for its list row."""
    first = ""
    for raw in raw_items:
        item = raw if isinstance(raw, Schema) else item_adapter.validate_python(raw)
        texts = [text for text in item_texts(item) if text.strip()]
        if isinstance(item, MessageItem) and item.role == "user" and texts:
            return _line(" ".join(texts))
        if not first:
            first = " ".join(texts) or f"({type_of(item) or 'item'}) {trace.answer_text(item)}"
    return _line(first)


def list_columns(response: Response) -> dict[str, Any]:
    """The list's own columns of a stored response (the store adds them to its columns)."""
    metadata = response.metadata if isinstance(response.metadata, dict) else {}
    return {
        "cost": response_cost(response),
        "metadata": {str(k)[:64]: str(v)[:512] for k, v in metadata.items()},
        "output_preview": output_preview(response),
    }


# --- what the list reads ------------------------------------------------------------------

#: Response statuses (spec §2), the status filter's choices.
STATUSES = ("completed", "failed", "incomplete", "in_progress", "queued", "cancelled")

#: sort choice -> (label, ordering). Nulls (no usage, no price) go last either way.
SORTS: dict[str, tuple[str, list[Any]]] = {
    # Exactly the index `stored_newest_first`, forwards and backwards.
    "-created": ("newest first", ["-created_at", "id"]),
    "created": ("oldest first", ["created_at", "-id"]),
    "-tokens": ("most tokens", [F("total_tokens").desc(nulls_last=True), "id"]),
    "tokens": ("fewest tokens", [F("total_tokens").asc(nulls_last=True), "id"]),
    "-cost": ("most expensive", [F("cost").desc(nulls_last=True), "id"]),
    "cost": ("cheapest", [F("cost").asc(nulls_last=True), "id"]),
}
DEFAULT_SORT = "-created"


@dataclass(frozen=True)
class Filters:
    """What the list form validated; empty values filter nothing."""

    model: str = ""
    status: str = ""
    tool: str = ""
    has_error: bool | None = None
    review: str = ""
    created_from: date | None = None
    created_to: date | None = None
    meta_key: str = ""
    meta_value: str = ""
    q: str = ""
    #: A problems.KINDS kind: responses with that problem.
    problem: str = ""
    sort: str = DEFAULT_SORT


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def error_q() -> Q:
    """A response "has an error": it failed, or carries an error code (partially indexed)."""
    return WITH_ERROR


def filtered(filters: Filters) -> QuerySet[StoredResponse]:
    """Stored responses matching `filters`, sorted, with their note counts; bodies deferred.

    Exact matches inside the "\\n"-delimited tool names use StrIndex (INSTR / STRPOS), which
    is case-sensitive on both databases, where LIKE is not on SQLite.
    """
    rows = StoredResponse.objects.defer("body", "metadata")
    if filters.model:
        rows = rows.filter(model=filters.model)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.tool:
        token = f"\n{filters.tool}\n"
        rows = rows.alias(tool_at=StrIndex("tool_names", Value(token))).filter(tool_at__gt=0)
    if filters.has_error is True:
        rows = rows.filter(error_q())
    elif filters.has_error is False:
        rows = rows.exclude(error_q())
    if filters.review:
        rows = rows.filter(review_status=filters.review)
    if filters.problem:
        token = f"\n{filters.problem}\n"
        rows = rows.alias(problem_at=StrIndex("problems", Value(token))).filter(problem_at__gt=0)
    if filters.created_from:
        rows = rows.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to:
        rows = rows.filter(created_at__lt=_day_start(filters.created_to + timedelta(days=1)))
    if filters.meta_key:
        # The key is a validated name passed as a value, so it can never be read as a lookup.
        value = KeyTransform(filters.meta_key, "metadata")
        rows = rows.alias(meta_value=value).filter(meta_value=filters.meta_value)
    if filters.q:
        # Imported here: the store imports this module (list_columns) when it loads.
        from .store.search_index import matching_responses

        rows = rows.filter(pk__in=matching_responses(filters.q))
    notes = (
        Note.objects.filter(response=OuterRef("pk"))
        .order_by()
        .values("response")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = rows.annotate(
        note_count=Coalesce(Subquery(notes, output_field=IntegerField()), Value(0))
    )
    _, ordering = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    return rows.order_by(*ordering)


def distinct_values(column: str, limit: int = 500) -> list[str]:
    """The non-empty values an indexed column takes across the store, sorted; one query.

    A loose index scan (a recursive CTE that jumps from one value to the next in the index)
    costs one index lookup per distinct value, where SELECT DISTINCT reads the whole index:
    a few values over 100,000 rows. Same SQL on SQLite and PostgreSQL.
    """
    if column not in ("model", "status"):
        raise ValueError(f"not an indexed text column: {column}")
    quote = connection.ops.quote_name
    table, col = quote(StoredResponse._meta.db_table), quote(column)
    # Table and column names are fixed above and quoted, never user input.
    sql = (
        f"WITH RECURSIVE v(x) AS ("  # noqa: S608
        f" SELECT MIN({col}) FROM {table} WHERE {col} > ''"
        f" UNION ALL"
        f" SELECT (SELECT MIN({col}) FROM {table} WHERE {col} > v.x) FROM v WHERE v.x IS NOT NULL"
        f") SELECT x FROM v WHERE x IS NOT NULL LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]
