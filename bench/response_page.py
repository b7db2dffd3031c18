"""Benchmark: the response page of a huge response (3,000 input items, a 2 MB answer).

    .venv/bin/python -m bench.response_page

Fetches it through the real client from the fake upstream (tests/upstream.py, no network),
then times the page read from the store against a one-message response, counts its SQL
queries and HTML bytes, follows every "load more" and "show all" link to prove nothing is
out of reach, and times storing the same JSON against parsing and validating it.
"""

import json
import math
import re
from typing import Any

from bench import common

common.django()

from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from bench import data
from inspector import client as upstream_client
from inspector import store
from inspector.models import StoredResponse
from inspector.schemas import Response, item_adapter
from tests.upstream import FakeUpstream

HUGE, SMALL = "resp_benchhuge000001", "resp_benchsmall00001"
HTML_BUDGET_KB = 400
#: The upstream's page size the client asks for (DESIGN.md: limit=100).
UPSTREAM_PAGE = 100
#: An item on the page: its card, or the line that stands for an answer shown beside its call.
_ITEM_ANCHOR = re.compile(r'<(?:article class="item [^"]*"|p class="item-stub") id="([^"]+)"')


def fetch_figures(client: Any, huge: tuple[dict, list], small: tuple[dict, list]) -> list:
    """Open both responses as a person would (fetched and kept: the first view, then the
    steps its page posts), then open the huge again."""
    fake = FakeUpstream()
    fake.add(*huge)
    fake.add(*small)
    settings = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": "https://upstream.test/v1"}
    with override_settings(**settings), upstream_client.override_transport(fake.transport()):
        first = client.get(reverse("inspector:response-detail", args=[HUGE]))
        assert first.status_code == 200, first.status_code
        fetch_to_the_end(client, HUGE)
        fetched = len(fake.requests)
        again = client.get(reverse("inspector:response-detail", args=[HUGE]))
        assert again.status_code == 200, again.status_code
        viewed_again = len(fake.requests) - fetched
        assert client.get(reverse("inspector:response-detail", args=[SMALL])).status_code == 200
    assert not fake.unexpected, fake.unexpected
    pages = 1 + math.ceil(len(huge[1]) / UPSTREAM_PAGE)
    return [
        common.exactly(
            "upstream requests to fetch the huge response",
            fetched,
            pages,
            detail=f"1 response + {pages - 1} input-item pages of {UPSTREAM_PAGE}",
        ),
        common.exactly("upstream requests to view it again", viewed_again, 0),
    ]


def fetch_to_the_end(client: Any, response_id: str, most: int = 1000) -> int:
    """Post the steps the response page posts (htmx) until all its input items are kept;
    returns how many steps it took."""
    step = reverse("inspector:response-fetch-step", args=[response_id])
    for steps in range(1, most + 1):
        answer = client.post(step, headers={"HX-Request": "true"})
        assert answer.status_code == 200, answer.status_code
        if StoredResponse.objects.get(pk=response_id).input_items_complete:
            return steps
    raise AssertionError(f"{response_id}: not complete after {most} steps")


def reachable(client: Any, html: str, items: list[dict], output_text: str) -> str:
    """Why some part of the huge response cannot be reached from its page, or ""."""
    seen = set(_ITEM_ANCHOR.findall(html))
    more = reverse("inspector:response-input-items", args=[HUGE])
    next_page = re.compile(rf'hx-get="({re.escape(more)}\?page=\d+)"')
    page = html
    while match := next_page.search(page):
        page = client.get(match.group(1).replace("&amp;", "&")).content.decode()
        seen.update(_ITEM_ANCHOR.findall(page))
    missing = [item["id"] for item in items if f"item-{item['id']}" not in seen]
    if missing:
        return f"{len(missing)} input items never load (first: {missing[0]})"
    full = reverse("inspector:response-item", args=[HUGE, "output", 1])
    if f'href="{full}"' not in html:
        return "no 'show all' link to the long answer"
    whole = client.get(full, headers={"HX-Request": "true"}).content.decode()
    if output_text[-200:] not in whole:
        return "'show all' does not show the end of the answer"
    return ""


def page_figures(client: Any, huge: tuple[dict, list], rounds: int) -> list:
    urls = {name: reverse("inspector:response-detail", args=[name]) for name in (HUGE, SMALL)}

    queries = {}
    for name, url in urls.items():
        cache.clear()
        response, queries[name] = common.page_queries(client, url)
        if name == HUGE:
            html = response.content.decode()
            size = len(response.content)
            unreachable = reachable(
                client, html, huge[1], huge[0]["output"][1]["content"][0]["text"]
            )
    # "First view": nothing this process caches (rendered fragments) helps any of the rounds.
    times = common.interleaved(
        {name: lambda url=url: common.get_page(client, url) for name, url in urls.items()},
        rounds,
        before=cache.clear,
    )
    ratio = times[HUGE] / times[SMALL]
    return [
        common.at_most(
            "response page: huge ÷ one-message, first view from the store",
            ratio,
            5,
            unit="ratio",
            detail=f"{times[HUGE] * 1000:.0f} ms ÷ {times[SMALL] * 1000:.0f} ms",
        ),
        common.exactly(
            "response page SQL queries: huge minus one-message",
            queries[HUGE] - queries[SMALL],
            0,
            detail=f"{queries[HUGE]} and {queries[SMALL]} queries",
        ),
        common.Figure(
            "response page HTML of the huge response (KB)",
            size / 1024,
            f"≤ {HTML_BUDGET_KB}, all reachable",
            size <= HTML_BUDGET_KB * 1024 and not unreachable,
            unit="KB",
            detail=unreachable or "every input item loads on scroll; the answer on 'show all'",
        ),
    ]


#: What the search inside the huge response looks for: a word of the generated text, found in
#: hundreds of its items and in its answer.
SEARCHED = "refund"


def search_figure(client: Any, rounds: int) -> common.Figure:
    """The search inside the huge response (its results, as htmx swaps them in) ÷ one page of
    its input items (as htmx loads it)."""
    htmx = {"HX-Request": "true"}
    search = reverse("inspector:response-search", args=[HUGE]) + f"?q={SEARCHED}"
    items = reverse("inspector:response-input-items", args=[HUGE]) + "?page=2"
    found = len(store.search_hits([HUGE], [SEARCHED]))
    runs = {
        "search": lambda: client.get(search, headers=htmx),
        "items": lambda: client.get(items, headers=htmx),
    }
    times = common.interleaved(runs, rounds, before=cache.clear)
    return common.at_most(
        "search inside the huge response ÷ one page of its input items",
        times["search"] / times["items"],
        2,
        unit="ratio",
        detail=f"{times['search'] * 1000:.0f} ms ÷ {times['items'] * 1000:.0f} ms; "
        f"'{SEARCHED}' is in {found:,} items, 20 listed",
    )


def store_figure(huge: tuple[dict, list], rounds: int) -> Any:
    """Storing the huge bundle from its JSON ÷ the floor of storing it at all (issue 12):
    parsing and validating it, writing its JSON and inserting its rows, nothing derived.

    Stored as new each round (what a first fetch or an import does): it is deleted first,
    untimed, with everything hanging on it.
    """
    text = json.dumps(data.bundle(*huge))

    def parse() -> None:
        obj = upstream_client.parse_json(text)
        Response.from_wire(obj["response"])
        for item in obj["input_items"]:
            item_adapter.validate_python(item)

    def keep() -> None:
        report = store.import_lines([text])
        assert report.imported == 1, report.summary()

    def forget() -> None:
        StoredResponse.objects.filter(pk=HUGE).delete()

    runs = {"parse": parse, "store": keep, "floor": lambda: common.store_floor([text])}
    times = common.interleaved(runs, rounds, before=forget)
    return common.at_most(
        "storing the huge response ÷ its floor",
        times["store"] / times["floor"],
        2,
        unit="ratio",
        detail=f"{times['store'] * 1000:.0f} ms ÷ floor {times['floor'] * 1000:.0f} ms (parse, "
        f"write the JSON, insert the rows, nothing derived); parsing alone "
        f"{times['parse'] * 1000:.0f} ms",
    )


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    client = common.logged_in_client()
    huge = data.huge_response(HUGE, scale.input_items, scale.output_chars)
    small = data.small_response(SMALL)
    return [
        *fetch_figures(client, huge, small),
        *page_figures(client, huge, scale.rounds),
        search_figure(client, scale.rounds),
        store_figure(huge, scale.rounds),
    ]


if __name__ == "__main__":
    common.print_table(figures())
