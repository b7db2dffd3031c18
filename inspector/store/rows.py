"""What the store writes for a response: its indexed columns, its input-item rows, values as
kept (the API key masked, bad characters replaced), and rows INSERTed in bulk."""

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models

from .. import listing, redaction, scrub
from ..models import InputItem, Note, StoredResponse
from ..schemas import Response
from ..schemas.base import Unknown, type_of
from ..schemas.items import CustomToolCallItem, FunctionCallItem, McpCallItem, item_tag


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


def _duration(response: Response) -> timedelta | None:
    """From created to completed (/overview/'s slowest); None unless both are known, or
    when it is too long to be true (hostile data: a column keeps no overflow)."""
    seconds = response.duration
    if seconds is None or not 0 <= seconds < 10**9:
        return None
    return timedelta(seconds=seconds)


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
        "duration": _duration(response),
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


def kept_text(text: str, limit: int) -> str:
    """A string from outside as a column keeps it: the API key masked before it is cut to
    `limit` (a key across the cut would leave its first part), bad characters replaced."""
    return scrub.clean(redaction.clip(text, limit, settings.OPENAI_API_KEY))


class JSONText(str):
    """JSON already written (as_kept_json): `insert_rows` gives it to a JSON column as it is."""


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


def keep_originals(stored: StoredResponse, found: scrub.Found) -> None:
    """A note on the response with the strings whose NUL / lone surrogates were replaced."""
    if found:
        Note.objects.get_or_create(
            response=stored, anchor="", author=None, author_name=SCRUB_NOTE_AUTHOR,
            text=scrub.note_text(found),
        )  # fmt: skip


#: Field classes, and the value types each sends as they are (its get_db_prep_save returns
#: such a value unchanged): insert_rows skips their preparation, ~1 µs a value.
_AS_IS: tuple[tuple[type, tuple[type, ...]], ...] = (
    (models.CharField, (str, type(None))),
    (models.TextField, (str, type(None))),
    (models.BooleanField, (bool, type(None))),
    (models.IntegerField, (int, type(None))),
    (models.ForeignKey, (str, int, type(None))),
)


def _sent_as_is(field: Any) -> tuple[type, ...]:
    return next((types for kind, types in _AS_IS if isinstance(field, kind)), ())


def insert_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, replace: bool = False
) -> None:
    """INSERT new rows of `model`, each given as {field attname: value} (a field left out
    gets its default), in one executemany; an auto primary key is left to the database.
    `replace`: a row whose primary key is there already is updated instead (an upsert, ON
    CONFLICT on SQLite and PostgreSQL alike).

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
    if replace:
        pk = quote(str(meta.pk.column))
        sets = ", ".join(f"{quote(str(f.column))} = excluded.{quote(str(f.column))}"
                         for f in fields if not f.primary_key)  # fmt: skip
        sql += f" ON CONFLICT ({pk}) DO UPDATE SET {sets}"
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


def set_column(model: type[models.Model], attname: str, values: dict[Any, Any]) -> None:
    """UPDATE one column of rows of `model`, given as {primary key: value}, in one
    executemany (no model instance per row, as insert_rows)."""
    if not values:
        return
    meta, quote = model._meta, connection.ops.quote_name
    field = meta.get_field(attname)
    column, pk = quote(str(field.column)), quote(str(meta.pk.column))  # type: ignore[union-attr]
    sql = f"UPDATE {quote(meta.db_table)} SET {column} = %s WHERE {pk} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(value, key) for key, value in values.items()])
