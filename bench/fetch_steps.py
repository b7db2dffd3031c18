"""Benchmark: fetching off the critical path (issue 12), against the stand-in upstream of
tests/upstream.py answering every request after 250 ms, a round trip to the real API.

    .venv/bin/python -m bench.fetch_steps

- First view: the time to the first byte of the page of a response not stored yet (the page
  is sent whole once rendered, so the time of the request), 3,000 input items and a 2 MB
  answer ÷ a one-message response. Wall time: the upstream's 250 ms are the point. Each
  round starts with neither stored; rounds in turns, the median.
- The longest single request a reader's page makes while a 10,000-item response is fetched
  to the end: the first view, then every step the page posts (htmx), as the page does; and
  whether the fetch completes.
"""

import statistics
import time
from typing import Any

from bench import common

common.django()

from django.test import override_settings
from django.urls import reverse

from bench import data
from inspector import client as upstream_client
from inspector.models import StoredResponse
from tests.upstream import FakeUpstream

LATENCY = 0.25
HUGE, SMALL, LONG = "resp_benchfirst00001", "resp_benchfirstsmall", "resp_benchsteps00001"
SETTINGS = {
    "OPENAI_API_KEY": "sk-bench",
    "OPENAI_BASE_URL": "https://upstream.test/v1",
    "FETCH_RATE_LIMIT": "",  # the fetch is measured here, not the rate limit
}


def _wall(run: Any) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def first_view_figure(client: Any, scale: common.Scale) -> common.Figure:
    fake = FakeUpstream()
    fake.latency = LATENCY
    fake.add(*data.huge_response(HUGE, scale.input_items, scale.output_chars))
    fake.add(*data.small_response(SMALL))
    times: dict[str, list[float]] = {HUGE: [], SMALL: []}
    with override_settings(**SETTINGS), upstream_client.override_transport(fake.transport()):
        for _ in range(scale.rounds):
            for rid in (HUGE, SMALL):
                StoredResponse.objects.filter(pk=rid).delete()
                url = reverse("inspector:response-detail", args=[rid])
                times[rid].append(_wall(lambda url=url: common.get_page(client, url)))
    requests = len(fake.requests) // (2 * scale.rounds)
    huge, small = (statistics.median(times[rid]) for rid in (HUGE, SMALL))
    return common.at_most(
        f"first view, time to first byte: {scale.input_items:,} input items ÷ one message, "
        f"upstream at {LATENCY * 1000:.0f} ms a request",
        huge / small,
        1.5,
        unit="ratio",
        detail=f"{huge * 1000:.0f} ms ÷ {small * 1000:.0f} ms wall; {requests} requests each "
        "(the response, the first page of items)",
    )


def longest_request_figure(client: Any, scale: common.Scale) -> common.Figure:
    body, items = data.huge_response(LONG, scale.fetched_items, 2_000)
    fake = FakeUpstream()
    fake.latency = LATENCY
    fake.add(body, items)
    page = reverse("inspector:response-detail", args=[LONG])
    step = reverse("inspector:response-fetch-step", args=[LONG])
    spent = []
    with override_settings(**SETTINGS), upstream_client.override_transport(fake.transport()):
        spent.append(_wall(lambda: common.get_page(client, page)))
        for _ in range(1000):
            if StoredResponse.objects.get(pk=LONG).input_items_complete:
                break
            spent.append(_wall(lambda: client.post(step, headers={"HX-Request": "true"})))
    stored = StoredResponse.objects.get(pk=LONG)
    complete = stored.input_items_complete and stored.input_items_count == len(items)
    return common.Figure(
        f"longest single request while a {len(items):,}-item response is fetched to the end (s)",
        max(spent),
        "≤ 10, and complete",
        max(spent) <= 10 and complete,
        detail=f"first view {spent[0]:.2f} s, then {len(spent) - 1} steps, "
        f"{sum(spent):.0f} s in all; {stored.input_items_count:,} items kept"
        + ("" if complete else " (INCOMPLETE)"),
    )


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    client = common.logged_in_client()
    return [first_view_figure(client, scale), longest_request_figure(client, scale)]


if __name__ == "__main__":
    common.print_table(figures())
