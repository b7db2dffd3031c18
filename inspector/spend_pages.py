"""The data of /runs/ and /overview/ (runs and spend at a glance), gathered from the store as
pages.py gathers the other pages': the views call these, and nothing here knows the request.

Both read aggregates, never every response: /runs/ the Run table (inspector/store/runs.py),
/overview/ the hourly rollups and the top-10 indexes (inspector/store/overview.py); the
charts are made from them by the pure charts.py.
"""

from datetime import timedelta
from typing import Any

from django.core.paginator import Paginator
from django.utils import timezone

from . import charts, store

#: Runs per page of /runs/.
PER_PAGE = 50
#: The longest and the dearest responses and runs /overview/ lists.
TOP = 10
#: The periods /overview/ offers in one click: so many days up to the newest response.
PRESET_DAYS = (7, store.DEFAULT_DAYS, 90, 365)


def runs_page(filters: store.RunFilters, number: Any) -> dict[str, Any]:
    """One page of the runs the filters keep."""
    return {"page": Paginator(store.filtered_runs(filters), PER_PAGE).get_page(number)}


def overview_page(asked: store.Asked) -> dict[str, Any]:
    """Usage, cost and tool calls of a period by model, as charts with their tables, and
    the slowest and most expensive responses and runs of it."""
    zone = timezone.get_current_timezone()
    newest = store.newest_created()
    anchor = timezone.localdate(newest) if newest else timezone.localdate()
    period = asked.period(anchor)
    scope = asked.scope(period)
    spans = charts.buckets(period.first, period.last, zone, period.by_hour)
    # By day, the days are summed in SQL when the zone keeps one offset all period long.
    days_at = None if period.by_hour else store.fixed_offset(period, zone)
    usage, share, totals = charts.usage_charts(store.usage_cells(scope, days_at), spans)
    tools = store.tool_totals(scope)
    return {
        "period": period,
        "scope": scope,
        "newest": newest,
        "anchor": anchor,
        "presets": [(days, anchor - timedelta(days=days - 1), anchor) for days in PRESET_DAYS],
        "totals": totals,
        "usage_charts": usage,
        "share_chart": share,
        "tools": tools,
        "tools_chart": charts.tools_chart(tools),
        "dearest": store.top_responses(scope, "cost", TOP),
        "slowest": store.top_responses(scope, "duration", TOP),
        "dearest_runs": store.top_runs(scope, "cost", TOP),
        "slowest_runs": store.top_runs(scope, "duration", TOP),
    }
