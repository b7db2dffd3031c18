"""Benchmark: /runs/ and /overview/ at 1,000 and at 100,000 stored responses.

    .venv/bin/python -m bench.runs_overview [--small 1000] [--large 100000] [--rounds 5]
        [--database-url postgres://…]   # a throwaway database: it is filled

The list benchmark's store (bench/list_page.py `fill`: a year of responses over six models),
with every four responses made one chain of four turns (previous_response_id) and a tool
call row for each tool a response called (5 % of them failed); the runs are recognised with
`store.rebuild_runs`, as the migration does, and the hourly rollups fill themselves (their
triggers run on every insert). Then each page is requested through Django's test client at
both sizes: /runs/ (newest first, and by cost) and /overview/ (its default 30 days by day,
and 7 days by hour). Goals: large ÷ small at most 2 for each, and the same number of SQL
queries at both sizes. Times are medians of rounds taken in turns on two SQLite files, as
the list benchmark does (in CPU time), or on two PostgreSQL databases (in wall time: the
database works in a process of its own).
"""

import argparse
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import common

if "--database-url" in sys.argv:  # before Django is set up: it reads the environment once
    os.environ["BENCH_DATABASE_URL"] = sys.argv[sys.argv.index("--database-url") + 1]
common.django()

from django.db import connection
from django.db.models import CharField, IntegerField, Value
from django.db.models.functions import Cast, Concat, LPad, Mod, Substr

from bench import list_page
from inspector import store
from inspector.models import StoredResponse, ToolCall

#: (label, URL): what each page is asked for.
RUNS = [("runs, newest first", "/runs/"), ("runs by cost", "/runs/?sort=-cost")]
OVERVIEW = [
    ("overview, 30 days by day", "/overview/"),
    ("overview, 7 days by hour", "/overview/?by=hour&period_from=2025-12-25&period_to=2025-12-31"),
]
#: Turns per chain: every response whose number is not a multiple of this continues the
#: one before it.
TURNS = 4
FAILED_SHARE = 0.05
PREFIX = "resp_benchlist"  # list_page's ids: PREFIX and an 8-digit number


def fill(total: int, rng: random.Random) -> None:
    """Grow the store to `total` responses, link those in no run yet into chains, give them
    their tool calls, and recognise the runs."""
    list_page.fill(total, rng)
    new = StoredResponse.objects.filter(run_key="").order_by()
    number = Cast(Substr("id", len(PREFIX) + 1), IntegerField())
    previous = Concat(
        Value(PREFIX), LPad(Cast(number - 1, output_field=CharField()), 8, Value("0"))
    )
    new.alias(turn=Mod(number, TURNS)).filter(turn__gt=0).update(previous_response_id=previous)
    rows = new
    calls = []
    for rid, names, created, model in rows.values_list("id", "tool_names", "created_at", "model"):
        for position, name in enumerate(n for n in names.split("\n") if n):
            failed = rng.random() < FAILED_SHARE
            calls.append(
                ToolCall(response_id=rid, where="output", position=position, type="function_call",
                         name=name, call_id=f"call_{rid}_{position}", answered=not failed,
                         failed=failed, created_at=created, model=model)
            )  # fmt: skip
        if len(calls) >= 5000:
            ToolCall.objects.bulk_create(calls)
            calls = []
    ToolCall.objects.bulk_create(calls)
    store.rebuild_runs()


def _time(client: Any, url: str, rounds: int = 1) -> float:
    """The median time of `rounds` requests for the page: CPU time of this process on
    SQLite (common.clock); wall time on PostgreSQL, whose work happens in its own process."""
    if connection.vendor == "sqlite":
        return common.median_time(lambda: common.get_page(client, url), rounds)
    times = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        common.get_page(client, url)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _copy(large: int) -> tuple[Any, Any, Any]:
    """A copy of the database as it stands, for the large store: (this one's name, the
    copy's, how to drop the copy). SQLite: VACUUM INTO a file beside it; PostgreSQL: a
    database made from this one as a template (no one may be connected to it meanwhile)."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        path = Path(name).with_name(f"runs-{large}.sqlite3")
        path.unlink(missing_ok=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
        return name, str(path), path.unlink
    copy = f"{name}_{large}"

    def drop() -> None:
        _use("postgres")
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy}"')

    drop()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    return name, copy, drop


def _use(name: Any) -> None:
    """Point Django's connection at another database (it connects again when asked)."""
    connection.close()
    connection.settings_dict["NAME"] = str(name)


def _settle() -> None:
    """PostgreSQL: vacuumed and analysed, as a maintained database is, rather than timed
    against autovacuum's first pass over 100,000 fresh rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def run(small: int, large: int, rounds: int) -> dict[int, dict[str, tuple[float, int]]]:
    """size -> label -> (median seconds, SQL queries) of each page.

    Both stores are kept (two SQLite files, or two PostgreSQL databases) and each page is
    timed on one and then the other in turns, so a slow spell of a shared machine falls on
    both sizes alike. Inside a test's transaction (the smoke test) the small store is timed
    first, then grown to the large one and timed again.
    """
    client = common.logged_in_client()
    rng = random.Random(7)
    pages = RUNS + OVERVIEW
    fill(small, rng)
    results: dict[int, dict[str, tuple[float, int]]] = {small: {}, large: {}}
    if connection.in_atomic_block:
        for size in (small, large):
            fill(size, rng)
            for label, url in pages:
                queries = common.page_queries(client, url)[1]
                results[size][label] = (_time(client, url, rounds), queries)
        return results
    _settle()
    names = {}
    names[small], names[large], drop = _copy(large)
    try:
        _use(names[large])
        fill(large, rng)
        _settle()
        _time_in_turns(client, pages, names, rounds, results)
    finally:  # back on the small store, whatever failed: the caller's database
        _use(names[small])
        drop()
        _use(names[small])
    return results


def _time_in_turns(
    client: Any,
    pages: list[tuple[str, str]],
    names: dict[int, Any],
    rounds: int,
    results: dict[int, dict[str, tuple[float, int]]],
) -> None:
    """Time each page on each store in turns, into `results` (size -> label -> figures)."""
    small, large = sorted(names)
    for label, url in pages:
        times: dict[int, list[float]] = {small: [], large: []}
        queries = {}
        for size in (small, large):
            _use(names[size])
            queries[size] = common.page_queries(client, url)[1]  # also warms the pages
        for _ in range(rounds):
            for size in (small, large):
                _use(names[size])
                times[size].append(_time(client, url))
        for size in (small, large):
            results[size][label] = (statistics.median(times[size]), queries[size])


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    results = run(scale.list_small, scale.list_large, scale.rounds)
    small, large = results[scale.list_small], results[scale.list_large]
    sizes = f"{scale.list_large:,} ÷ {scale.list_small:,} stored"
    found = []
    for name, pages in (("runs page", RUNS), ("overview page", OVERVIEW)):
        ratios = {label: large[label][0] / small[label][0] for label, _ in pages}
        worst = max(ratios, key=ratios.__getitem__)
        growth = {label: large[label][1] - small[label][1] for label, _ in pages}
        grown = max(growth, key=growth.__getitem__)
        found += [
            common.at_most(
                f"{name}: {sizes} (worst)",
                ratios[worst],
                2,
                unit="ratio",
                detail=f"worst: {worst}, {large[worst][0] * 1000:.0f} ms ÷ "
                f"{small[worst][0] * 1000:.0f} ms",
            ),
            common.exactly(
                f"{name} SQL queries: large minus small (worst)",
                growth[grown],
                0,
                detail=f"{small[grown][1]} queries per page ({grown})",
            ),
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="a throwaway PostgreSQL: it is filled")
    args = parser.parse_args()
    results = run(args.small, args.large, args.rounds)
    print(f"{connection.vendor}: /runs/ and /overview/ at {args.small:,} and {args.large:,}\n")
    print(f"{'page':<28}{'small ms':>10}{'large ms':>10}{'ratio':>8}{'queries':>10}")
    for label, _ in RUNS + OVERVIEW:
        (small, q_small), (large, q_large) = results[args.small][label], results[args.large][label]
        queries = f"{q_small}" if q_small == q_large else f"{q_small}->{q_large}"
        print(f"{label:<28}{small * 1000:>10.1f}{large * 1000:>10.1f}{large / small:>8.2f}"
              f"{queries:>10}")  # fmt: skip


if __name__ == "__main__":
    main()
