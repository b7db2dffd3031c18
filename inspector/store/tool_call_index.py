"""The tool-call index, every call of every stored response for /tool-calls/: kept up to date
as responses are kept (index_tool_calls), and read with filters."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from .. import problems, trace
from ..models import InputItem, StoredResponse, ToolCall
from ..schemas import Response, item_adapter
from ..schemas.items import McpApprovalResponseItem, item_tag
from .reading import linked_filter
from .rows import insert_rows

#: ToolCall keeps this much of a call's arguments and output; the response page has all.
AUDIT_TEXT_MAX = 2000


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
class IndexHints:
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
    #: The problems column of the run's responses, written with the rows (the run inserted
    #: them with none).
    problem_columns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, run: list[tuple[Response, list[Any]]]) -> "IndexHints":
        """The hints for a run of new responses, each with its input items parsed."""
        ids = [response.id for response, _ in run]
        continued: set[str] = set()
        for chunk in _chunks(ids):
            followers = StoredResponse.objects.filter(previous_response_id__in=chunk).order_by()
            continued.update(followers.values_list("previous_response_id", flat=True))
        values: set[str] = set()
        linked = trace.AUDITED_TYPES | trace.ANSWER_TYPES  # the only items with call keys
        for response, input_items in run:
            for item in [*input_items, *response.output]:
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
        insert_rows(ToolCall, self.pending)
        self.pending = []
        _write_problem_columns(self.problem_columns)
        self.problem_columns = {}


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
        "model": stored.model,
        **_answer_place(audit.answer),
    }


def _answer_place(answer: trace.Entry | None) -> dict[str, Any]:
    """The ToolCall columns that say where a call's answer is stored."""
    if answer is None or not answer.response_id:
        return {"answer_response_id": "", "answer_where": "", "answer_position": None}
    return {
        "answer_response_id": answer.response_id[:128],
        "answer_where": answer.where,
        "answer_position": answer.position,
    }


def _answers_elsewhere(stored: StoredResponse, wanted: trace.Wanted) -> list[trace.Entry]:
    """Answers to `stored`'s calls in the input of the responses that continue it."""
    if not wanted:
        return []
    match = linked_filter(wanted)
    followers = Q(response__previous_response_id=stored.id)
    if stored.conversation_id:
        followers |= Q(response__conversation_id=stored.conversation_id)
    rows = (
        InputItem.objects.filter(followers, match, type__in=sorted(trace.ANSWER_TYPES))
        .exclude(response=stored)
        .order_by("response__created_at", "position")
        .values_list("response_id", "position", "body")[:500]
    )
    return [
        trace.Entry(0, "input", p, item_adapter.validate_python(b), response_id=rid)
        for rid, p, b in rows
    ]


def _apply_answer(row: ToolCall, entry: trace.Entry) -> None:
    """Update a call answered by a response stored after it (`entry`: the answer where it
    is stored)."""
    answer = entry.item
    if row.type in trace.CALL_TYPES and not row.answered:
        row.answered, row.no_output = True, False
        row.output = _short(trace.answer_text(answer))
        status = trace.shell_status(answer) or getattr(answer, "status", None) or row.status
        row.status = str(status)[:32]
        row.failed = row.failed or trace.is_failed(answer)
        for name, value in _answer_place(entry).items():
            setattr(row, name, value)
    if isinstance(answer, McpApprovalResponseItem):
        row.approval = "approved" if answer.approve else "denied"


def index_tool_calls(
    stored: StoredResponse,
    *,
    parsed: tuple[Response, list[Any], list[Any]] | None = None,
    hints: IndexHints | None = None,
) -> int:
    """(Re)build the ToolCall rows of one stored response; returns how many it has.

    Also gives its answers to calls already indexed (the call in one response, its output in
    the next one's input), and takes over calls an input replayed before the response that
    made them was stored, so each call is one row. A bounded number of queries per response.
    A bulk import passes the response and its (raw, parsed) input items as it has them, and
    what its batch knows (`IndexHints`): then `stored` is new, and the rows wait in `hints`.
    """
    wanted_types = trace.AUDITED_TYPES | trace.ANSWER_TYPES
    if parsed is None:
        response = stored.response()
        rows = stored.items.filter(type__in=sorted(wanted_types)).order_by("position")
        inputs = [
            trace.Entry(0, "input", p, item_adapter.validate_python(b), response_id=stored.id)
            for p, b in rows.values_list("position", "body")
        ]
    else:
        response, raws, items = parsed
        inputs = [
            trace.Entry(0, "input", p, item, response_id=stored.id)
            for p, (raw, item) in enumerate(zip(raws, items, strict=True))
            if str(item_tag(raw) or "")[:64] in wanted_types  # as item_row stores the type
        ]
    outputs = [
        trace.Entry(0, "output", p, item, response_id=stored.id)
        for p, item in enumerate(response.output)
    ]
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
    answers = [e for e in own if trace.answer_key(e.item) is not None]
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
                    row.update(
                        answer_response_id=old.answer_response_id,
                        answer_where=old.answer_where,
                        answer_position=old.answer_position,
                    )
        if hints is None or taken_over:  # a new response has no rows of its own yet
            ToolCall.objects.filter(Q(response=stored) | Q(pk__in=taken_over)).delete()
        column = problems.column(
            problems.kinds(problems.own(response))
            + [kind for row in new_rows for kind in problems.row_kinds(SimpleNamespace(**row))]
        )
        if hints is None:
            insert_rows(ToolCall, new_rows)
            StoredResponse.objects.filter(pk=stored.pk).update(problems=column)
        elif column:
            hints.problem_columns[stored.id] = column
        stored.problems = column
        _answer_earlier_calls(stored, answers, hints)
        if hints is not None:
            hints.add(new_rows)  # after: the answers are for other responses' calls
    return len(new_rows)


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _answer_earlier_calls(
    stored: StoredResponse, answers: list[trace.Entry], hints: IndexHints | None = None
) -> None:
    """Give `answers` (items of `stored`) to the calls of other responses they answer."""
    by_key: dict[tuple[str, str], trace.Entry] = {}
    wanted: set[tuple[str, str, str]] = set()  # (type, column, value) of the calls answered
    for answer in answers:
        kind, value = trace.answer_key(answer.item) or ("", "")
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
    fields += ["answer_response_id", "answer_where", "answer_position"]
    changed = []
    for row in _rows_by_id(ToolCall.objects.exclude(response=stored), wanted):
        for value in (row.approval_request_id, row.call_id, row.item_id):
            found = by_key.get((row.type, value)) if value else None
            if found is not None:
                before = [getattr(row, name) for name in fields]
                _apply_answer(row, found)
                # Only rows the answer changes: a re-import answers every call again, and
                # bulk_update's CASE per row and field costs seconds for thousands of them.
                if [getattr(row, name) for name in fields] != before:
                    changed.append(row)
                break
    ToolCall.objects.bulk_update(changed, fields, batch_size=200)
    if changed:
        _refresh_problems({row.response_id for row in changed}, hints)


#: The rows that can have a problem (problems.of_row): the others need not be read.
_MAY_HAVE_PROBLEMS = (
    Q(failed=True)
    | Q(no_output=True)
    | Q(bad_json=True)
    | Q(breaks_schema=True)
    | Q(approval__in=["pending", "denied"])
)


def _refresh_problems(ids: set[str], hints: IndexHints | None) -> None:
    """The problems column of responses whose calls a later response has just answered.

    Only kinds an answer takes away (problems.ANSWERABLE) are dropped before the calls'
    kinds are added again: the others (the response's own, a failure) an answer never
    takes away, so the body need not be read again.
    """
    kinds: dict[str, set[str]] = {rid: set() for rid in ids}
    for row in ToolCall.objects.filter(_MAY_HAVE_PROBLEMS, response_id__in=sorted(ids)):
        kinds[row.response_id].update(problems.row_kinds(row))
    pending = hints.problem_columns if hints is not None else {}
    before = dict(StoredResponse.objects.filter(pk__in=sorted(ids)).values_list("pk", "problems"))
    before.update({rid: pending[rid] for rid in ids if rid in pending})
    after = {}
    for rid, found in kinds.items():
        kept = set(problems.from_column(before.get(rid, ""))) - problems.ANSWERABLE
        column = problems.column(kept | found)
        if column != before.get(rid, ""):
            after[rid] = column
    pending.update({rid: after.pop(rid) for rid in list(after) if rid in pending})
    _write_problem_columns(after)


def _write_problem_columns(columns: dict[str, str]) -> None:
    """Set the problems column of the responses in `columns` ({id: column}), in one go."""
    if not columns:
        return
    meta, quote = StoredResponse._meta, connection.ops.quote_name
    table, column = quote(meta.db_table), quote(str(meta.get_field("problems").column))
    key = quote(str(meta.pk.column if meta.pk else "id"))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {column} = %s WHERE {key} = %s",  # noqa: S608
            [(text, rid) for rid, text in columns.items()],
        )


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


def tool_calls(name: str = "", kind: str = "", flag: str = "", problem: str = "") -> Any:
    """Indexed tool calls, newest first, filtered by exact name, type, flag and problem."""
    rows = ToolCall.objects.all()
    if problem in TOOL_CALL_PROBLEMS:
        rows = rows.filter(TOOL_CALL_PROBLEMS[problem])
    if name:
        rows = rows.filter(name=name)
    if kind:
        rows = rows.filter(type=kind)
    if flag in TOOL_CALL_FLAGS:
        rows = rows.filter(TOOL_CALL_FLAGS[flag])
    return rows


#: ?problem= values of /tool-calls/: each problems.KINDS kind a call can have, as a filter
#: that keeps exactly the rows whose problems.row_kinds has it (a test holds the two).
TOOL_CALL_PROBLEMS: dict[str, Q] = {
    "failed-call": Q(failed=True) & ~Q(type__in=sorted(trace.SHELL_TYPES)),
    "shell": Q(failed=True, type__in=sorted(trace.SHELL_TYPES)),
    "unanswered": Q(no_output=True) & ~Q(type="mcp_approval_request"),
    "approval": Q(approval__in=["pending", "denied"]),
    "arguments": Q(bad_json=True) | Q(breaks_schema=True),
}


def response_calls(stored: StoredResponse, limit: int = 500) -> list[ToolCall]:
    """The calls a response made (its output) and those of its calls that have a problem
    (replayed ones too), in page order; one query on the index."""
    rows = ToolCall.objects.filter(Q(where="output") | _MAY_HAVE_PROBLEMS, response=stored)
    return list(rows.order_by("where", "position")[:limit])


def tool_call_choices() -> tuple[list[str], list[str]]:
    """The tool names and types there are calls of, for the filter menus; two queries."""
    names = ToolCall.objects.order_by("name").values_list("name", flat=True).distinct()
    kinds = ToolCall.objects.order_by("type").values_list("type", flat=True).distinct()
    return list(names[:500]), list(kinds)


#: (value, label) of the /tool-calls/ flag filter.
TOOL_CALL_FLAG_CHOICES = trace.FLAGS
