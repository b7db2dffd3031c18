"""What /overview/ reads: the hourly rollups (UsageHour, ToolHour, kept by the triggers of
migration 0019), and the slowest and most expensive responses and runs of a period.

Without a metadata filter every figure comes from the rollups, whose rows are bounded by
the period's hours times the models (and tools) in use, not by the responses stored: a
period reads the same rows at 1,000 responses as at 1,000,000. A metadata filter has no
rollup (values are free text): it sums the responses of the period themselves, a scan of
them by the created_at index, as the list's metadata filter is.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.db.models import Count, DateField, F, Func, Q, QuerySet, Sum, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce, StrIndex, TruncHour
from django.utils import timezone

from ..charts import ToolTotal, UsageCell
from ..models import WITH_ERROR, Run, StoredResponse, ToolCall, ToolHour, UsageHour

#: The longest period an overview shows by day, and by hour.
MAX_DAYS = 366
MAX_HOURLY_DAYS = 14
#: The period it shows when none is asked for: this many days up to the newest response.
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Scope:
    """The responses an overview covers: created in [start, end), on `model`, with the
    metadata key = value (empty: any)."""

    start: datetime
    end: datetime
    model: str = ""
    meta_key: str = ""
    meta_value: str = ""


@dataclass(frozen=True)
class Period:
    """The days an overview covers (local dates, both included), and how it is cut."""

    first: date
    last: date
    by_hour: bool

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))


def day_start(day: date) -> datetime:
    """The start of `day` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Asked:
    """What an overview was asked for (the form's valid fields); empty: the default."""

    first: date | None = None
    last: date | None = None
    by_hour: bool = False
    model: str = ""
    meta_key: str = ""
    meta_value: str = ""

    def period(self, newest: date) -> Period:
        """The period asked for, else the DEFAULT_DAYS days up to `newest` (the newest
        response's day); by hour only for at most MAX_HOURLY_DAYS days."""
        last = self.last or newest
        first = self.first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last or (last - first).days >= MAX_DAYS:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        return Period(first, last, self.by_hour and (last - first).days < MAX_HOURLY_DAYS)

    def scope(self, period: Period) -> "Scope":
        return Scope(period.start, period.end, self.model, self.meta_key, self.meta_value)


_TOOLS = ("calls", "failed", "unanswered", "flagged")


def _responses(scope: Scope) -> QuerySet[StoredResponse]:
    rows = StoredResponse.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end)
    if scope.model:
        rows = rows.filter(model=scope.model)
    if scope.meta_key:
        value = KeyTransform(scope.meta_key, "metadata")
        rows = rows.alias(meta_value=value).filter(meta_value=scope.meta_value)
    return rows.order_by()


class LocalDate(Func):
    """The date of a UTC datetime column `minutes` later: the local date in a zone that is
    that far from UTC all period long. In SQL: Django's TruncDate calls a Python function per
    row on SQLite, which cost more than the query itself at a month of hours."""

    output_field = DateField()

    def __init__(self, column: str, minutes: int) -> None:
        super().__init__(F(column))
        self.minutes = minutes

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"date({sql}, %s)", [*params, f"{self.minutes:+d} minutes"]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        shifted = f"({sql} AT TIME ZONE 'UTC') + make_interval(mins => %s)"
        return f"CAST({shifted} AS date)", [*params, self.minutes]


def fixed_offset(period: "Period", zone: tzinfo) -> int | None:
    """The zone's offset from UTC in minutes, if it is the same on every day of the period
    (no clock change in it), else None."""
    offsets = set()
    day = period.first
    while day <= period.last + timedelta(days=1):
        offset = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
        offsets.add(int(offset.total_seconds()) // 60 if offset is not None else 0)
        day += timedelta(days=1)
    return offsets.pop() if len(offsets) == 1 else None


_SUMS = ("requests", "errors", "input_tokens", "cached_tokens", "output_tokens",
         "reasoning_tokens", "cost", "unpriced")  # fmt: skip


def usage_cells(scope: Scope, days_at: int | None = None) -> list[UsageCell]:
    """The usage of the scope by model and hour, or by local day when `days_at` gives the
    zone's fixed offset in minutes (the days summed in SQL); one query."""
    if scope.meta_key:
        rows: Any = _responses(scope)
        column = "created_at"
        sums: dict[str, Any] = {
            "requests": Count("pk"),
            "errors": Count("pk", filter=WITH_ERROR),
            **{name: Coalesce(Sum(name), Value(0)) for name in _SUMS[2:6]},
            "cost": Coalesce(Sum("cost"), Value(Decimal(0))),
            "unpriced": Count("pk", filter=Q(cost__isnull=True, input_tokens__isnull=False)),
        }
        at: Any = TruncHour(column, tzinfo=UTC)
    else:
        rows = UsageHour.objects.filter(hour__gte=scope.start, hour__lt=scope.end).order_by()
        if scope.model:
            rows = rows.filter(model=scope.model)
        column = "hour"
        sums = {name: Sum(name) for name in _SUMS}
        at = F("hour")
        if days_at is None:
            return [UsageCell(*row) for row in rows.values_list("hour", "model", *_SUMS)]
    if days_at is not None:
        at = LocalDate(column, days_at)
    # Summed as s_<name>: an aggregate named as a column is what a later use of it reads.
    found = rows.values(cell=at, cell_model=F("model")).annotate(
        **{f"s_{name}": total for name, total in sums.items()}
    )
    return [
        UsageCell(row["cell"], row["cell_model"], *(row[f"s_{name}"] for name in _SUMS))
        for row in found
    ]


def tool_totals(scope: Scope, limit: int = 20) -> list[ToolTotal]:
    """The tools called most in the scope, with their failures; one query."""
    # Summed as n_<column>: an aggregate named as a column (failed) would be what a later
    # filter on that column reads.
    rows: Any
    if not scope.meta_key:
        hours = ToolHour.objects.filter(hour__gte=scope.start, hour__lt=scope.end)
        if scope.model:
            hours = hours.filter(model=scope.model)
        rows = hours.values("name", "type").annotate(**{f"n_{n}": Sum(n) for n in _TOOLS})
    else:
        calls = ToolCall.objects.filter(response__in=_responses(scope).values("pk"))
        rows = calls.values("name", "type").annotate(
            n_calls=Count("pk"),
            n_failed=Count("pk", filter=Q(failed=True)),
            n_unanswered=Count("pk", filter=Q(no_output=True)),
            n_flagged=Count("pk", filter=_FLAGGED),
        )
    found: list[dict[str, Any]] = list(rows.order_by("-n_calls", "name", "type")[:limit])
    return [ToolTotal(row["name"], row["type"], *(row[f"n_{n}"] for n in _TOOLS)) for row in found]


#: A tool call the audit flagged: as ToolHour.flagged counts them (migration 0019).
_FLAGGED = (
    Q(no_output=True) | Q(bad_json=True) | Q(breaks_schema=True) | Q(undeclared=True)
    | Q(failed=True) | Q(needs_approval=True) | Q(approval="denied")
)  # fmt: skip


def top_responses(scope: Scope, by: str, limit: int = 10) -> list[StoredResponse]:
    """The scope's most expensive (`by` = "cost") or slowest ("duration") responses.

    Down the `by` index, the period checked on each row until `limit` are found: SQLite,
    which keeps no statistics, would read the whole period by the created_at index and sort
    it. The period's bounds are compared through Coalesce, which no index serves, so the
    planner takes the `by` index for the order.
    """
    rows = StoredResponse.objects.alias(at=Coalesce("created_at", "created_at")).filter(
        at__gte=scope.start, at__lt=scope.end, **{f"{by}__isnull": False}
    )
    if scope.model:
        rows = rows.filter(model=scope.model)
    if scope.meta_key:
        rows = rows.filter(pk__in=_responses(scope).values("pk"))
    rows = rows.defer("body", "metadata")
    return list(rows.order_by(f"-{by}", "id")[:limit])


def top_runs(scope: Scope, by: str, limit: int = 10) -> list[Run]:
    """The most expensive (`by` = "cost") or slowest ("duration") runs started in the
    scope; with a model or metadata filter, the runs with a turn in it."""
    rows = Run.objects.filter(started_at__gte=scope.start, started_at__lt=scope.end)
    if scope.model:
        at = StrIndex("model_names", Value(f"\n{scope.model}\n"))
        rows = rows.alias(model_at=at).filter(model_at__gt=0)
    if scope.meta_key:
        rows = rows.filter(key__in=_responses(scope).values("run_key"))
    return list(rows.filter(**{f"{by}__isnull": False}).order_by(f"-{by}", "key")[:limit])


def newest_created() -> datetime | None:
    """When the newest stored response was created (an overview's default end); one query
    down the created_at index."""
    return (
        StoredResponse.objects.filter(created_at__isnull=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
