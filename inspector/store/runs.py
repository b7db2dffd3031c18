"""Runs: the stored responses linked by previous_response_id, or sharing a conversation,
recognised whatever order they arrive in and summed up for /runs/ (models.Run).

A run's key names where it starts: "chain:<id>" with the id of the chain's first turn, or,
while that turn is not stored, of the earliest turn linked but missing; "conversation:<id>"
for the turns of a conversation. A chain imported last turn first is so one run from the
start, saying which turn is missing, and stays one run when that turn arrives. Every
response carries its run's key (StoredResponse.run_key): `refresh` recognises the runs of
the responses just stored or updated (and of the children of those just deleted), moves
whatever changed run, and sums the runs up again. A bounded number of queries per batch of
responses, however long the runs: only a run's own rows are read.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, StrIndex

from .. import listing
from ..models import Run, StoredResponse, ToolCall
from .rows import insert_rows, set_column

CHAIN = "chain:"
CONVERSATION = "conversation:"


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True)
class Link:
    """What places a stored response in a run."""

    id: str
    previous: str
    conversation: str
    key: str


_LINK_COLUMNS = ("id", "previous_response_id", "conversation_id", "run_key")


def _links(where: Q) -> dict[str, Link]:
    rows = StoredResponse.objects.filter(where).order_by().values_list(*_LINK_COLUMNS)
    return {row[0]: Link(*row) for row in rows.iterator(chunk_size=2000)}


def _links_of(column: str, values: Iterable[str]) -> dict[str, Link]:
    found: dict[str, Link] = {}
    for chunk in _chunks(sorted(set(values))):
        found.update(_links(Q((f"{column}__in", chunk))))
    return found


def keys_for(links: dict[str, Link]) -> dict[str, str]:
    """The run key of each of `links`, which hold every stored member of their runs.

    Walks each response back through the previous turns it links to: a turn in a
    conversation gives the conversation's key; a chain's key is its first stored turn's
    id, or the id of the earliest linked turn that is not among `links`; a loop of links
    (hostile data) is keyed by its smallest id.
    """
    keys: dict[str, str] = {}
    for start in links.values():
        path: list[str] = []
        on_path: set[str] = set()
        node = start
        while True:
            if node.id in keys:
                key = keys[node.id]
                break
            if node.id in on_path:
                key = CHAIN + min(path[path.index(node.id) :])
                break
            path.append(node.id)
            on_path.add(node.id)
            if node.conversation:
                key = CONVERSATION + node.conversation
                break
            parent = links.get(node.previous) if node.previous else None
            if parent is None:
                key = CHAIN + (node.previous or node.id)
                break
            node = parent
        for member in path:
            keys[member] = key
    return keys


def refresh(ids: Iterable[str], also: Iterable[str] = ()) -> None:
    """Recognise the runs of the responses `ids` (just stored or updated), and of their
    stored parents and children, and sum up again every run they were or are part of, and
    the runs `also` (those of responses just deleted). For new responses of new runs, three
    queries per batch: their neighbourhood, their keys, the runs' sums (and one to write them).
    """
    ids = list(dict.fromkeys(ids))
    near: dict[str, Link] = {}
    for chunk in _chunks(ids):
        parents = StoredResponse.objects.filter(pk__in=chunk).values("previous_response_id")
        near.update(_links(Q(pk__in=chunk) | Q(previous_response_id__in=chunk) | Q(pk__in=parents)))
    before = {link.key for link in near.values() if link.key} | set(also)
    links = {**_links_of("run_key", [k for k in before if k.startswith(CHAIN)]), **near}
    keys = keys_for(links)
    moved = {rid: key for rid, key in keys.items() if links[rid].key != key}
    set_column(StoredResponse, "run_key", moved)
    summarize(before | set(keys.values()))


def response_deleted(sender: Any, instance: StoredResponse, **kwargs: Any) -> None:
    """A stored response is gone (store.delete_response, or any delete through the ORM):
    its run is summed up again, or removed with its last turn, and the turns that continued
    it wait for it as a missing turn. Connected to post_delete in apps.py."""
    children = StoredResponse.objects.filter(previous_response_id=instance.id).order_by()
    refresh(
        children.values_list("pk", flat=True), also=[instance.run_key] if instance.run_key else []
    )


def rebuild_runs() -> int:
    """Recognise every run of the store from scratch and sum each up; returns how many.

    For the migration that brought runs, and for `reindex_tool_calls`: in batches, so the
    store's size does not matter to memory beyond one row of links per response.
    """
    links = _links(Q())
    keys = keys_for(links)
    moved = {rid: key for rid, key in keys.items() if links[rid].key != key}
    set_column(StoredResponse, "run_key", moved)
    stale = set(Run.objects.values_list("key", flat=True)) - set(keys.values())
    for chunk in _chunks(sorted(stale)):  # chunks: SQLite takes some 32,000 parameters
        Run.objects.filter(key__in=chunk).delete()
    summarize(set(keys.values()))
    return len(set(keys.values()))


# --- what a run sums up -------------------------------------------------------------------

_MEMBER_COLUMNS = (
    "run_key", "id", "previous_response_id", "model", "status", "error_code", "created_at",
    "completed_at", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens",
    "total_tokens", "cost", "tool_names", "input_items_complete", "review_status",
    "input_preview",
)  # fmt: skip
_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass
class Member:
    run_key: str
    id: str
    previous: str
    model: str
    status: str
    error_code: str
    created_at: datetime | None
    completed_at: datetime | None
    input_tokens: int | None
    cached_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    total_tokens: int | None
    cost: Decimal | None
    tool_names: str
    complete: bool
    review: str
    #: What it was asked: the list's input preview (its first user message, on a line).
    input_preview: str
    failed: int
    unanswered: int

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.created_at or _LATEST, self.id)


def _total(values: Iterable[Any]) -> Any:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def _names(texts: Iterable[str]) -> str:
    names = dict.fromkeys(n for text in texts for n in text.split("\n") if n)
    return "\n" + "\n".join(names) + "\n" if names else ""


def summary(key: str, members: list[Member]) -> Run:
    """A run's row from its members, in any order."""
    members = sorted(members, key=lambda m: m.order)
    first, last = members[0], members[-1]
    ids = {m.id for m in members}
    root = key.removeprefix(CHAIN) if key.startswith(CHAIN) else ""
    continued = {m.previous for m in members}
    started = min((m.created_at for m in members if m.created_at), default=None)
    ends = [m.completed_at or m.created_at for m in members]
    ended = max((end for end in ends if end is not None), default=None)
    approved = sum(m.review == StoredResponse.Review.APPROVED for m in members)
    flagged = sum(m.review == StoredResponse.Review.FLAGGED for m in members)
    errors = sum(m.status == "failed" or bool(m.error_code) for m in members)
    failed = sum(m.failed for m in members)
    unanswered = sum(m.unanswered for m in members)
    if flagged:
        review = Run.Review.FLAGGED
    elif approved == len(members):
        review = Run.Review.APPROVED
    else:
        review = Run.Review.PARTLY if approved else Run.Review.UNREVIEWED
    return Run(
        key=key,
        kind=Run.Kind.CHAIN if root else Run.Kind.CONVERSATION,
        first_input=first.input_preview,
        first_id=first.id,
        last_id=last.id,
        missing_id=root if root and root not in ids else "",
        incomplete=sum(not m.complete for m in members),
        turns=len(members),
        branches=max(1, sum(m.id not in continued for m in members)) if root else 1,
        model_names=_names(m.model for m in members),
        tool_names=_names(m.tool_names for m in members),
        last_status=last.status,
        input_tokens=_total(m.input_tokens for m in members),
        cached_tokens=_total(m.cached_tokens for m in members),
        output_tokens=_total(m.output_tokens for m in members),
        reasoning_tokens=_total(m.reasoning_tokens for m in members),
        total_tokens=_total(m.total_tokens for m in members),
        cost=_total(m.cost for m in members),
        cost_partial=any(m.cost is None and m.input_tokens is not None for m in members),
        errors=errors,
        failed_calls=failed,
        unanswered=unanswered,
        problems=errors + failed + unanswered,
        started_at=started,
        ended_at=ended,
        duration=(ended - started) if started and ended and ended >= started else None,
        approved=approved,
        flagged=flagged,
        review=review,
    )


_FIELDS = Run._meta.concrete_fields


def _members(keys: list[str]) -> dict[str, list[Member]]:
    """The members of the runs `keys`, each with its tool calls' failed and unanswered
    counts; one query."""
    calls = ToolCall.objects.filter(response=OuterRef("pk")).order_by().values("response")

    def count(flag: str) -> Coalesce:
        counted = calls.filter(**{flag: True}).annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    rows = (
        StoredResponse.objects.filter(run_key__in=keys)
        .order_by()
        .annotate(
            n_failed=count("failed"),
            n_unanswered=count("no_output"),
        )
        .values_list(*_MEMBER_COLUMNS, "n_failed", "n_unanswered")
    )
    members: dict[str, list[Member]] = defaultdict(list)
    for row in rows.iterator(chunk_size=2000):
        members[row[0]].append(Member(*row))
    return members


def summarize(keys: Iterable[str]) -> None:
    """Sum up the runs `keys` again from their members; a run with none left is removed.
    Two queries per 500 runs, whatever their length (three when one is removed)."""
    for chunk in _chunks(sorted(set(keys))):
        members = _members(chunk)
        runs = [summary(key, found) for key, found in members.items()]
        if len(members) < len(chunk):
            Run.objects.filter(key__in=[key for key in chunk if key not in members]).delete()
        insert_rows(Run, [{f.attname: getattr(run, f.attname) for f in _FIELDS} for run in runs],
                    replace=True)  # fmt: skip


# --- reading the runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunFilters:
    """What the /runs/ form validated; empty values filter nothing."""

    model: str = ""
    status: str = ""
    tool: str = ""
    problems: bool | None = None
    review: str = ""
    started_from: datetime | None = None
    started_before: datetime | None = None
    turns: str = ""  # "several", "one" or ""
    meta_key: str = ""
    meta_value: str = ""
    q: str = ""
    sort: str = "-started"


#: sort choice -> (label, ordering). Nulls (no usage, no price) go last either way.
RUN_SORTS: dict[str, tuple[str, list[Any]]] = {
    # Exactly the index run_newest_first, forwards and backwards (as the list's).
    "-started": ("newest first", ["-started_at", "key"]),
    "started": ("oldest first", ["started_at", "-key"]),
    "-tokens": ("most tokens", [F("total_tokens").desc(nulls_last=True), "key"]),
    "-cost": ("most expensive", [F("cost").desc(nulls_last=True), "key"]),
    "cost": ("cheapest", [F("cost").asc(nulls_last=True), "key"]),
    "-turns": ("most turns", ["-turns", "key"]),
    "-duration": ("longest", [F("duration").desc(nulls_last=True), "key"]),
    "-problems": ("most problems", ["-problems", "key"]),
}


def _delimited(column: str, value: str) -> Any:
    """Rows whose "\\n"-delimited `column` holds `value` exactly (case-sensitive, as the
    list's tool filter: StrIndex is INSTR / STRPOS on both databases)."""
    return StrIndex(column, Value(f"\n{value}\n"))


def filtered_runs(filters: RunFilters) -> Any:
    """The runs the filters keep, sorted. Filters on what a turn has (metadata, text) keep
    the runs with a turn the list on / would show for them."""
    rows = Run.objects.all()
    if filters.model:
        rows = rows.alias(model_at=_delimited("model_names", filters.model)).filter(model_at__gt=0)
    if filters.tool:
        rows = rows.alias(tool_at=_delimited("tool_names", filters.tool)).filter(tool_at__gt=0)
    if filters.status:
        rows = rows.filter(last_status=filters.status)
    if filters.problems is True:
        rows = rows.filter(problems__gt=0)
    elif filters.problems is False:
        rows = rows.filter(problems=0)
    if filters.review:
        rows = rows.filter(review=filters.review)
    if filters.started_from:
        rows = rows.filter(started_at__gte=filters.started_from)
    if filters.started_before:
        rows = rows.filter(started_at__lt=filters.started_before)
    if filters.turns == "several":
        rows = rows.filter(turns__gt=1)
    elif filters.turns == "one":
        rows = rows.filter(turns=1)
    if filters.meta_key or filters.q:
        turns = listing.Filters(meta_key=filters.meta_key, meta_value=filters.meta_value,
                                q=filters.q)  # fmt: skip
        rows = rows.filter(key__in=listing.filtered(turns).order_by().values("run_key"))
    _, ordering = RUN_SORTS.get(filters.sort, RUN_SORTS["-started"])
    return rows.order_by(*ordering)
