"""Charts as data: what each chart of /overview/, the trace and the response page draws, and
the table of the same numbers beside it. Pure: no store, no URLs.

A Chart is handed to the page twice from one list of values: as JSON for
static/charts.js, which draws it with Chart.js (`json_script`, no inline script), and as
rows of the table under it, each cell with its raw value (data-value) beside the value as
people read it. The browser tests compare the two.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma

from . import pricing, trace


@dataclass(frozen=True)
class UsageCell:
    """What the responses of one hour (UTC), or of one local day, on one model used
    (store.usage_cells)."""

    at: datetime | date
    model: str
    requests: int
    errors: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost: Decimal
    unpriced: int


@dataclass(frozen=True)
class ToolTotal:
    """The calls of one tool over a period (store.tool_totals)."""

    name: str
    type: str
    calls: int
    failed: int
    unanswered: int
    flagged: int


#: What a value is, for the axis and the table: a count, tokens, dollars, a percentage,
#: seconds.
UNITS = ("count", "tokens", "usd", "percent", "seconds")


def shown(value: float | Decimal | None, unit: str) -> str:
    """A chart value as the table shows it."""
    if value is None:
        return "—"
    if unit == "usd":
        return pricing.money(Decimal(str(value)))
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "seconds":
        return f"{value:,.1f} s"
    return intcomma(int(value))


@dataclass
class Dataset:
    label: str
    values: list[float | None]
    kind: str = "bar"  # or "line"
    axis: str = "y"  # or "y2", the right-hand axis (unit2)
    color: int = 0  # the palette's index (static/charts.js reads --chart-N)


@dataclass(frozen=True)
class Cell:
    value: float | None
    text: str

    @property
    def raw(self) -> str:
        """The value exactly as the chart's JSON has it (the table's data-value)."""
        return "" if self.value is None else json.dumps(self.value)


@dataclass
class Chart:
    """One chart and its table: rows are the labels, columns the datasets (then extras)."""

    id: str
    title: str
    labels: list[str]
    datasets: list[Dataset]
    unit: str = "count"
    unit2: str = ""
    stacked: bool = True
    horizontal: bool = False
    #: A sentence for screen readers (the canvas's accessible name); the table follows.
    summary: str = ""
    #: The table's first column's header.
    label_header: str = ""
    #: Columns the table adds after the datasets': (header, values, unit).
    extra: list[tuple[str, list[float | None], str]] = field(default_factory=list)
    #: A taller box for many labels (horizontal charts), or "bar": one bar of parts, drawn
    #: the width of the whole.
    size: str = ""

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"

    def spec(self) -> dict[str, Any]:
        """What static/charts.js draws."""
        return {
            "labels": self.labels,
            "unit": self.unit,
            "unit2": self.unit2,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "whole": self.size == "bar",
            "datasets": [
                {"label": d.label, "data": d.values, "kind": d.kind, "axis": d.axis,
                 "color": d.color}
                for d in self.datasets
            ],
        }  # fmt: skip

    @property
    def header(self) -> list[str]:
        return [
            self.label_header,
            *(d.label for d in self.datasets),
            *(name for name, _, _ in self.extra),
        ]

    @property
    def rows(self) -> list[tuple[str, list[Cell]]]:
        columns: list[tuple[list[float | None], str]] = [
            (d.values, self.unit2 if d.axis == "y2" else self.unit) for d in self.datasets
        ]
        columns += [(values, unit) for _, values, unit in self.extra]
        return [
            (label, [Cell(values[i], shown(values[i], unit)) for values, unit in columns])
            for i, label in enumerate(self.labels)
        ]

    @property
    def empty(self) -> bool:
        return not any(v for d in self.datasets for v in d.values)


def _number(value: int | Decimal | None, unit: str) -> float | None:
    if value is None:
        return None
    return float(value) if unit == "usd" else value  # type: ignore[return-value]


# --- the overview: usage over time by model, tools -------------------------------------------


@dataclass(frozen=True)
class Buckets:
    """The times a period is cut into, local days or hours, each with its label; `at`
    finds a local time's (naive) bucket."""

    labels: list[str]
    by_hour: bool
    zone: tzinfo
    at: dict[datetime, int]

    def index(self, at: datetime | date) -> int | None:
        """The bucket of an hour (aware, UTC) or of a local day, or None outside the period."""
        if not isinstance(at, datetime):
            return self.at.get(datetime(at.year, at.month, at.day))
        local = at.astimezone(self.zone).replace(minute=0, second=0, microsecond=0)
        return self.at.get((local if self.by_hour else local.replace(hour=0)).replace(tzinfo=None))


def buckets(first: date, last: date, zone: tzinfo, by_hour: bool) -> Buckets:
    """Every day (or hour) from the start of `first` to the end of `last`, in `zone`. An
    hour bucket is a local hour: on a day clocks change, one is empty or holds two."""
    labels: list[str] = []
    at: dict[datetime, int] = {}
    day = first
    while day <= last:
        for hour in range(24) if by_hour else (0,):
            at[datetime(day.year, day.month, day.day, hour)] = len(labels)
            labels.append(f"{day:%Y-%m-%d} {hour:02d}:00" if by_hour else f"{day:%Y-%m-%d}")
        day += timedelta(days=1)
    return Buckets(labels, by_hour, zone, at)


#: (chart id, title, the cell's value, unit) of the usage charts, each stacked by model.
USAGE_CHARTS: tuple[tuple[str, str, str, str], ...] = (
    ("requests", "Requests", "requests", "count"),
    ("input-uncached", "Input tokens, uncached", "uncached", "tokens"),
    ("input-cached", "Input tokens, cached", "cached_tokens", "tokens"),
    ("output", "Output tokens, visible", "visible", "tokens"),
    ("reasoning", "Reasoning tokens", "reasoning_tokens", "tokens"),
    ("cost", "Cost", "cost", "usd"),
)


def _cell_value(cell: UsageCell, name: str) -> int | Decimal:
    if name == "uncached":
        return cell.input_tokens - cell.cached_tokens
    if name == "visible":
        return cell.output_tokens - cell.reasoning_tokens
    value: int | Decimal = getattr(cell, name)
    return value


@dataclass
class Totals:
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Decimal = Decimal(0)
    unpriced: int = 0

    @property
    def cached_share(self) -> float | None:
        return 100 * self.cached_tokens / self.input_tokens if self.input_tokens else None


#: The models a usage chart tells apart, the last place going to "N other models" when
#: there are more: a legend of twenty models is read by no one (the palette has eight).
MODELS_SHOWN = 7


def usage_charts(cells: Iterable[UsageCell], spans: Buckets) -> tuple[list[Chart], Chart, Totals]:
    """The usage charts (each stacked by model, with all models' sums in the table), the
    cache-hit share by model, and the period's totals."""
    size = len(spans.labels)
    names = [name for _, _, name, _ in USAGE_CHARTS] + ["input_tokens"]
    sums: dict[str, dict[str, list[int | Decimal]]] = {}
    totals = Totals()
    for cell in cells:
        at = spans.index(cell.at)
        if at is None:
            continue
        model = sums.setdefault(cell.model or "(no model)", {n: [0] * size for n in names})
        for name in names:
            model[name][at] += _cell_value(cell, name)
        for name in vars(totals):
            setattr(totals, name, getattr(totals, name) + getattr(cell, name))
    models = sorted(sums, key=lambda m: (-sum(sums[m]["requests"]), m))
    every = {n: [sum(sums[m][n][i] for m in models) for i in range(size)] for n in names}
    if len(models) > MODELS_SHOWN:
        rest = models[MODELS_SHOWN - 1 :]
        other = f"{len(rest)} other models"
        sums[other] = {n: [sum(sums[m][n][i] for m in rest) for i in range(size)] for n in names}
        models = [*models[: MODELS_SHOWN - 1], other]
    unit_of = "hour" if spans.by_hour else "day"

    def chart(chart_id: str, title: str, name: str, unit: str) -> Chart:
        def values(row: list[int | Decimal]) -> list[float | None]:
            return [_number(v, unit) for v in row]

        return Chart(
            id=f"chart-{chart_id}",
            title=title,
            labels=spans.labels,
            datasets=[Dataset(m, values(sums[m][name]), color=i) for i, m in enumerate(models)],
            unit=unit,
            summary=f"{title} per {unit_of}, stacked by model; the table below has the numbers.",
            label_header=unit_of.capitalize(),
            extra=[("All models", values(every[name]), unit)] if len(models) > 1 else [],
        )

    share = Chart(
        id="chart-cache-share",
        title="Cache hit share (cached of input tokens)",
        labels=spans.labels,
        datasets=[
            Dataset(m, _shares(sums[m]["cached_tokens"], sums[m]["input_tokens"]), "line", color=i)
            for i, m in enumerate(models)
        ],
        unit="percent",
        stacked=False,
        summary=f"The share of input tokens read from the cache per {unit_of}, by model; the "
        "table below has the numbers.",
        label_header=unit_of.capitalize(),
    )
    if len(models) > 1:
        every_share = _shares(every["cached_tokens"], every["input_tokens"])
        share.datasets.append(Dataset("All models", every_share, "line", color=7))
    return [chart(*spec) for spec in USAGE_CHARTS], share, totals


def _shares(parts: Sequence[int | Decimal], wholes: Sequence[int | Decimal]) -> list[float | None]:
    return [
        round(100 * float(p) / float(w), 1) if w else None
        for p, w in zip(parts, wholes, strict=True)
    ]


def tools_chart(totals: Sequence[ToolTotal]) -> Chart:
    """The tools called most, by calls that failed and those that did not."""
    labels = [t.name or t.type for t in totals]
    return Chart(
        id="chart-tools",
        title="Tools by calls",
        labels=labels,
        datasets=[
            Dataset("Calls that did not fail", [t.calls - t.failed for t in totals]),
            Dataset("Failed calls", [t.failed for t in totals], color=3),
        ],
        horizontal=True,
        summary="Calls per tool, failed ones apart; the table below has the failure rates.",
        label_header="Tool",
        extra=[
            ("Calls", [t.calls for t in totals], "count"),
            (
                "Failure rate",
                _shares([t.failed for t in totals], [t.calls for t in totals]),
                "percent",
            ),
            ("No output", [t.unanswered for t in totals], "count"),
            ("Flagged by the audit", [t.flagged for t in totals], "count"),
        ],
        size="tall" if len(totals) > 8 else "",
    )


# --- the trace: tokens, running cost and duration per turn ----------------------------------


def _less(whole: int | None, part: int | None) -> int | None:
    return None if whole is None else whole - (part or 0)


def trace_charts(built: trace.Trace) -> list[Chart]:
    """Tokens per turn as stacked bars with the running cost as a line, and the duration
    of each turn."""
    labels = [f"Turn {t.number}" for t in built.turns]
    usage = [t.usage for t in built.turns]
    tokens = Chart(
        id="chart-turn-tokens",
        title="Tokens per turn, and the running cost",
        labels=labels,
        datasets=[
            Dataset("Input, uncached", [_less(u.input_tokens, u.cached_tokens) for u in usage]),
            Dataset("Input, cached", [u.cached_tokens for u in usage], color=5),
            Dataset(
                "Output, visible",
                [_less(u.output_tokens, u.reasoning_tokens) for u in usage],
                color=2,
            ),
            Dataset("Reasoning", [u.reasoning_tokens for u in usage], color=4),
            Dataset(
                "Running cost",
                [float(u.running_cost) for u in usage],
                kind="line",
                axis="y2",
                color=1,
            ),
        ],
        unit="tokens",
        unit2="usd",
        summary="Input (uncached, cached), visible output and reasoning tokens of each turn, "
        "stacked, with the run's cost so far as a line; the table below has the numbers.",
        label_header="Turn",
    )
    durations = Chart(
        id="chart-turn-duration",
        title="Duration per turn",
        labels=labels,
        datasets=[Dataset("Seconds", [t.response.duration for t in built.turns], color=7)],
        unit="seconds",
        stacked=False,
        summary="How long each turn took, from created to completed; the table below has "
        "the numbers.",
        label_header="Turn",
    )
    return [tokens, durations]


@dataclass(frozen=True)
class Mark:
    """One tool call on the trace's strip: where it is, what it called, whether it failed."""

    name: str
    anchor: str
    turn: int
    failed: bool
    flags: list[tuple[str, str]]


def tool_strip(built: trace.Trace) -> list[tuple[int, list[Mark]]]:
    """Each turn's tool calls, in order: (turn number, marks)."""
    strip: dict[int, list[Mark]] = {t.number: [] for t in built.turns}
    for call in built.calls:
        labels = [(flag, trace.FLAG_LABELS.get(flag, flag)) for flag in call.flags]
        strip.setdefault(call.entry.turn, []).append(
            Mark(call.name or call.type, call.entry.anchor, call.entry.turn,
                 "failed" in call.flags, labels)
        )  # fmt: skip
    return sorted(strip.items())


# --- the response page: what each part of the usage cost ------------------------------------


def cost_parts(usage: Any) -> list[tuple[str, int, Decimal, int]]:
    """(part, tokens, cost, palette index) of a response's cost, four ways; `usage` is a
    rendering.UsageView with a price."""
    cost = usage.cost
    return [
        ("Input, cached", usage.cached, cost.input_cached, 5),
        ("Input, uncached", usage.uncached, cost.input_uncached, 0),
        ("Reasoning", usage.reasoning, usage.reasoning_cost or Decimal(0), 4),
        ("Output, visible", usage.visible, usage.visible_cost or Decimal(0), 2),
    ]


def cost_chart(usage: Any) -> Chart | None:
    """The cost of a response as one bar split four ways (None without a price); its
    table is `cost_parts`, a row a part."""
    if usage is None or usage.cost is None:
        return None
    return Chart(
        id="chart-response-cost",
        title="What the cost is made of",
        labels=["Cost"],
        datasets=[
            Dataset(label, [float(amount)], color=color)
            for label, _, amount, color in cost_parts(usage)
        ],
        unit="usd",
        horizontal=True,
        summary="The response's cost split into cached input, uncached input, reasoning and "
        "visible output; the table beside it has the numbers.",
        size="bar",
    )
