"""Template filters for the charts (`{% load charts %}`): thin wrappers over charts.py, for
the includes that draw a trace's or a response's charts from what the page already has.

Pure, as the other tags: no store, no client, no request (tests/test_layers.py).
"""

from decimal import Decimal
from typing import Any

from django import template

from .. import charts

register = template.Library()


@register.filter
def trace_charts(built: Any) -> list[charts.Chart]:
    return charts.trace_charts(built)


@register.filter
def tool_strip(built: Any) -> list[tuple[int, list[charts.Mark]]]:
    return charts.tool_strip(built)


@register.filter
def cost_chart(usage: Any) -> charts.Chart | None:
    return charts.cost_chart(usage)


@register.filter
def cost_parts(usage: Any) -> list[tuple[str, int, Decimal, int]]:
    return charts.cost_parts(usage)
