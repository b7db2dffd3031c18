"""The full-text index of stored items: SearchText rows (inspector/search.py says which text
of an item), and the database's own index over them, made by migration 0016: an FTS5 table
on SQLite, filled by `add` with the rows it writes (one INSERT … SELECT: a trigger a row cost
three times as much) and emptied by triggers when they are deleted; a generated tsvector
column with a GIN index on PostgreSQL (built in, no extension). Write rows with `add` only.

Kept in step wherever items are written: a response stored (its instructions and output
when its body is written, its input items a page at a time as they come, so what has come
is searchable at once), refreshed (at the swap of the staging copy), imported (in bulk), its
status updated, or deleted (the rows cascade; the triggers or the index follow). Read by the
list's free-text filter and by the search inside a response and a trace.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from .. import search, trace
from ..models import SearchText
from ..schemas import Response
from . import reading
from .rows import insert_rows

#: The FTS5 table over SearchText.text on SQLite (migration 0016).
FTS_TABLE = "inspector_searchtext_fts"
#: Sections in the order a page shows them.
_SECTION_ORDER = Case(
    When(section="instructions", then=Value(0)),
    When(section="input", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _row(response_id: str, section: str, position: int, part: int, anchor: str, text: str) -> Any:
    return {"response_id": response_id, "section": section, "position": position, "part": part,
            "anchor": anchor, "text": text}  # fmt: skip


def item_rows(response_id: str, section: str, items: Iterable[tuple[int, Any]]) -> list[Any]:
    """The index rows of parsed items, given as (position, item)."""
    rows = []
    for position, item in items:
        texts = search.item_texts(item)
        if not texts:
            continue
        anchor = trace.Entry(0, section, position, item).anchor
        for part, text in enumerate(search.parts(texts)):
            rows.append(_row(response_id, section, position, part, anchor, text))
    return rows


def response_rows(response: Response) -> list[Any]:
    """The index rows of a response's instructions and output items."""
    instructions = response.instructions
    rows = []
    if isinstance(instructions, str):
        texts = search.parts([instructions])
        rows += [_row(response.id, "instructions", 0, n, "instructions", text)
                 for n, text in enumerate(texts)]  # fmt: skip
    elif instructions:
        rows += item_rows(response.id, "instructions", enumerate(instructions))
    return rows + item_rows(response.id, "output", enumerate(response.output))


def add(rows: list[Any], *, whole: bool = False) -> None:
    """Write index rows (item_rows, response_rows) and index them. `whole`: they are all the
    rows of their responses (new ones: an import), so the index takes them by response.

    Otherwise, on SQLite, the new rows are those after the largest id before them: ids only
    grow (AUTOINCREMENT), and the transaction holds the database's one write lock throughout.
    """
    if not rows:
        return
    with transaction.atomic(savepoint=False):
        if connection.vendor != "sqlite":
            insert_rows(SearchText, rows)  # the generated column and its index follow
            return
        table = connection.ops.quote_name(SearchText._meta.db_table)
        # Table names are this module's constant and the model's, never input.
        select = f"INSERT INTO {FTS_TABLE}(rowid, text) SELECT id, text FROM {table} WHERE"  # noqa: S608
        with connection.cursor() as cursor:
            if whole:
                ids = sorted({row["response_id"] for row in rows})
                insert_rows(SearchText, rows)
                marks = ", ".join(["%s"] * len(ids))
                cursor.execute(f"{select} response_id IN ({marks})", ids)
                return
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            (last,) = cursor.fetchone()
            insert_rows(SearchText, rows)
            cursor.execute(f"{select} id > %s", [last])


def index_response(response: Response) -> None:
    """(Re)index a stored response's instructions and output; its input items keep theirs."""
    SearchText.objects.filter(response_id=response.id).exclude(section="input").delete()
    add(response_rows(response))


def index_items(response_id: str, start: int, items: Sequence[Any]) -> None:
    """Index parsed input items that were just stored at positions `start`, `start + 1`…"""
    add(item_rows(response_id, "input", enumerate(items, start)))


def forget_items(response_id: str) -> None:
    SearchText.objects.filter(response_id=response_id, section="input").delete()


def matching(words: Sequence[str]) -> QuerySet[SearchText]:
    """Index rows that hold every word (the last also as a prefix, search.as_prefix), on
    either database.

    `words` come from search.words: letters and digits only, so they never carry the
    syntax of FTS5 or tsquery; they are parameters all the same.
    """
    if not words:
        return SearchText.objects.none()
    star = ["*" if search.as_prefix(words, i) else "" for i in range(len(words))]
    if connection.vendor == "postgresql":
        expression = " & ".join(f"{w}{':*' if s else ''}" for w, s in zip(words, star, strict=True))
        hit = RawSQL("document @@ to_tsquery('simple', %s)", [expression], BooleanField())
        return SearchText.objects.alias(hit=hit).filter(hit=True)
    expression = " AND ".join(f'"{word}"{s}' for word, s in zip(words, star, strict=True))
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
    fts = RawSQL(sql, [expression])  # noqa: S611 (the table name is this module's constant)
    return SearchText.objects.filter(id__in=fts)


def matching_responses(query: str) -> QuerySet[SearchText, Any]:
    """The ids of responses with an item that matches `query` (the list's free text)."""
    return matching(search.words(query)).values("response_id")


def search_hits(response_ids: Sequence[str], words: Sequence[str]) -> list[search.Hit]:
    """Every item of these responses (a trace's turns, in order) that matches, once each, in
    page order; in a trace an item resent in later turns counts in the first. The texts are
    left out: `search_texts` reads those of the results a page shows."""
    in_trace = len(response_ids) > 1
    turn_of = {rid: turn for turn, rid in enumerate(response_ids, 1)}
    rows = (
        matching(words)
        .filter(response_id__in=list(response_ids))
        .annotate(order=_SECTION_ORDER)
        .order_by("order", "position", "part")
        .values_list("id", "response_id", "section", "position", "anchor")
    )
    found: dict[Any, search.Hit] = {}
    for row, rid, section, position, anchor in rows:
        turn = turn_of[rid] if in_trace else 0
        key = anchor if in_trace else (section, position)
        if key in found and found[key].turn <= turn:
            continue
        page = position // reading.INPUT_PAGE_SIZE + 1 if section == "input" else 1
        found[key] = search.Hit(rid, section, position, anchor, page, turn, row)
    order = {"instructions": 0, "input": 1, "output": 2}
    return sorted(found.values(), key=lambda h: (h.turn, order.get(h.section, 2), h.position))


def search_texts(hits: Sequence[search.Hit]) -> list[search.Hit]:
    """The hits with the text of their index rows, where the match is; one query."""
    texts = dict(SearchText.objects.filter(id__in=[h.row for h in hits]).values_list("id", "text"))
    return [replace(hit, text=texts.get(hit.row, "")) for hit in hits]
