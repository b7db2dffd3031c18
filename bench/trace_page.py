"""Benchmark: the trace page of a 40-turn agent run against a 1-turn one.

    .venv/bin/python -m bench.trace_page

Both chains are stored first (as an import would), then each trace page is read from the
store, nothing cached, the median of a few rounds taken in turns.
"""

from bench import common

common.django()

from django.core.cache import cache
from django.urls import reverse

from bench import data
from inspector import store


def keep(turns: list[tuple[dict, list]]) -> str:
    for body, items in turns:
        store.save_bundle(body, items, source="import")
    return str(turns[-1][0]["id"])


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    client = common.logged_in_client()
    ends = {
        "long": keep(data.chain("benchlong", scale.turns)),
        "one": keep(data.chain("benchone", 1)),
    }
    urls = {name: reverse("inspector:response-trace", args=[end]) for name, end in ends.items()}

    queries = {}
    for name, url in urls.items():
        cache.clear()
        queries[name] = common.page_queries(client, url)[1]
    times = common.interleaved(
        {name: lambda url=url: common.get_page(client, url) for name, url in urls.items()},
        scale.rounds,
        before=cache.clear,
    )
    return [
        common.at_most(
            f"trace page: {scale.turns} turns ÷ 1 turn, first view from the store",
            times["long"] / times["one"],
            8,
            unit="ratio",
            detail=(
                f"{times['long'] * 1000:.0f} ms ÷ {times['one'] * 1000:.0f} ms; "
                f"{queries['long']} and {queries['one']} SQL queries"
            ),
        )
    ]


if __name__ == "__main__":
    common.print_table(figures())
