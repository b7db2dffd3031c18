"""Benchmark: the list on / at 1,000 and at 100,000 stored responses.

    .venv/bin/python -m bench.list_page [--small 1000] [--large 100000] [--rounds 5]

Fills a throwaway database (SQLite in a temporary DATA_DIR, see bench/common.py) with
realistic rows (bulk inserts; small bodies: the list never reads them), then requests the
list page through Django's test client, unfiltered and with each filter and sort, and prints
for each: the median time of the whole request at both sizes, their ratio (goal: at most 2
for the plain list and the indexed filters and sorts) and the SQL queries per page (goal: the
same at both sizes). `make bench` (bench/run.py) reports the worst of the indexed ones.

The free text (`q`) reads the full-text index (FTS5 here): its cost follows the responses
that match, not those stored. Its figure searches what a person looks for in a store, an
order number mentioned in one response (at both sizes); words found in most responses
(two of the 23 common words every row is made of) match 100 times as many rows at 100,000,
and the page counts them: printed for the record. The tool-name, problem and metadata filters
scan every row (INSTR and JSON cannot use a B-tree index), so they grow with the store;
they are printed too, for the record, and have no budget.
"""

import argparse
import random
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import common

common.django()

from django.contrib.auth import get_user_model
from django.db import connection

from inspector.models import Note, StoredResponse
from inspector.store import search_index

MODELS = ["gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "o4-mini"]
STATUSES = ["completed"] * 90 + ["failed"] * 4 + ["incomplete"] * 4 + ["in_progress"] * 2
TOOLS = [f"tool_{n}" for n in range(40)] + ["lookup_order", "issue_refund", "web_search"]
REVIEWS = ["unreviewed"] * 90 + ["approved"] * 7 + ["flagged"] * 3
WORDS = [
    *("order", "refund", "parcel", "customer", "invoice", "shipping", "delay", "agent"),
    *("tool", "call", "search", "result", "summary", "answer", "question", "account"),
    *("password", "reset", "billing", "plan", "upgrade", "cancel", "weather"),
]
#: Rows are spread over one year whatever their number, so a date range matches the same
#: share of the store at both sizes.
START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600

#: (label, query string); the indexed ones have the budget, the scans are for the record.
INDEXED = [
    ("plain list, newest first", ""),
    ("page 20", "page=20"),
    ("sort by tokens", "sort=-tokens"),
    ("sort by cost", "sort=-cost"),
    ("model", "model=gpt-5-mini"),
    ("status", "status=failed"),
    ("review flagged", "review=flagged"),
    ("has error", "error=true"),
    ("date range", "created_from=2025-03-01&created_to=2025-03-31"),
]
#: Filters together: the count of matches then walks one index and checks the rest.
COMBINED = [("model + status + date", "model=gpt-5&status=completed&created_from=2025-06-01")]
#: The free text, on the full-text index: an order number one response mentions.
FREE_TEXT = [("free text: an order number", "q=order+A-000007")]
SCANS = [
    ("tool name (scan)", "tool=issue_refund"),
    ("problem (scan)", "problem=shell"),
    ("metadata (scan)", "meta_key=customer&meta_value=c42"),
    ("free text: common words", "q=parcel+refund"),
]


def fill(total: int, rng: random.Random) -> None:
    """Add rows until the store holds `total` responses, in batches of 5,000."""
    user, _ = get_user_model().objects.get_or_create(username="bench")
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))) for _ in range(997)]
    start = StoredResponse.objects.count()
    for batch in range(start, total, 5000):
        rows, notes, texts_of = [], [], []
        for i in range(batch, min(total, batch + 5000)):
            rid = f"resp_benchlist{i:08d}"
            status = rng.choice(STATUSES)
            tokens = rng.randint(200, 200_000) if status != "in_progress" else None
            tools = rng.sample(TOOLS, rng.randint(0, 3))
            rows.append(
                StoredResponse(
                    id=rid,
                    body={"id": rid, "object": "response", "output": []},
                    model=rng.choice(MODELS),
                    status=status,
                    created_at=START + timedelta(seconds=rng.randrange(YEAR_SECONDS)),
                    total_tokens=tokens,
                    input_tokens=tokens,
                    output_tokens=0 if tokens else None,
                    cost=Decimal(tokens) / 10**6 if tokens and rng.random() > 0.05 else None,
                    tool_names="\n" + "\n".join(tools) + "\n",
                    error_code="server_error" if status == "failed" else "",
                    # What the list shows of each row, and a few rows with a problem.
                    input_preview=texts[i % len(texts)][:300],
                    output_preview=texts[(i + 1) % len(texts)][:300],
                    problems="\nshell\n" if i % 31 == 0 else "",
                    metadata={"customer": f"c{i % 500}", "env": "prod"},
                    review_status=rng.choice(REVIEWS),
                    source=StoredResponse.Source.IMPORT,
                )
            )
            # Its text in the full-text index, as the store writes it for an answer, with the
            # order number it is about.
            text = f"{texts[i % len(texts)]} order A-{i:06d}"
            texts_of.append(
                {"response_id": rid, "section": "output", "position": 0, "part": 0,
                 "anchor": "item-output-0", "text": text}
            )  # fmt: skip
            if rng.random() < 0.03:
                notes.append(Note(response_id=rid, author=user, author_name="bench", text="n"))
        StoredResponse.objects.bulk_create(rows, batch_size=1000)
        search_index.add(texts_of, whole=True)
        Note.objects.bulk_create(notes)


def _get(client: Any, query: str) -> None:
    common.get_page(client, f"/?{query}")


def _queries(client: Any, query: str) -> int:
    """Untimed: the SQL queries of one page; also warms the database's pages, as a page
    in use is."""
    return common.page_queries(client, f"/?{query}")[1]


def _use(path: Path) -> None:
    """Point Django's connection at another SQLite file (it connects again when asked)."""
    connection.close()
    connection.settings_dict["NAME"] = str(path)


def run(small: int, large: int, rounds: int, scans: bool) -> dict[int, dict[str, tuple]]:
    """size -> label -> (median seconds, SQL queries) of the list page with each query.

    On a SQLite file (make bench) both stores are kept, as two files, and each page is
    timed on one and then the other in turns, so a slow spell of a shared machine falls on
    both sizes alike. Elsewhere (the smoke test, inside a test's transaction) the small
    store is timed first, then grown to the large one and timed again.
    """
    client = common.logged_in_client()
    rng = random.Random(42)
    chosen = INDEXED + COMBINED + FREE_TEXT + (SCANS if scans else [])
    fill(small, rng)
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        results = {}
        for size in (small, large):
            fill(size, rng)
            results[size] = {}
            for label, query in chosen:
                count = _queries(client, query)
                spent = common.median_time(lambda q=query: _get(client, q), rounds)
                results[size][label] = (spent, count)
        return results
    files = {small: Path(connection.settings_dict["NAME"])}
    files[large] = files[small].with_name(f"list-{large}.sqlite3")
    files[large].unlink(missing_ok=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(files[large])])
    _use(files[large])
    fill(large, rng)
    results = {small: {}, large: {}}
    for label, query in chosen:
        times: dict[int, list[float]] = {small: [], large: []}
        count = {}
        for size in (small, large):
            _use(files[size])
            count[size] = _queries(client, query)
        for _ in range(rounds):
            for size in (small, large):
                _use(files[size])
                times[size].append(common.median_time(lambda q=query: _get(client, q), 1))
        for size in (small, large):
            results[size][label] = (statistics.median(times[size]), count[size])
    _use(files[small])
    files[large].unlink()
    return results


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    results = run(scale.list_small, scale.list_large, scale.rounds, scans=False)
    small, large = results[scale.list_small], results[scale.list_large]
    ratios = {
        label: large[label][0] / small[label][0] for label, _ in INDEXED + COMBINED + FREE_TEXT
    }
    worst = max((label for label, _ in INDEXED), key=ratios.__getitem__)
    growth = {
        label: large[label][1] - small[label][1] for label, _ in INDEXED + COMBINED + FREE_TEXT
    }
    grown = max(growth, key=growth.__getitem__)
    sizes = f"{scale.list_large:,} ÷ {scale.list_small:,} stored"
    (combined, _), times = COMBINED[0], (large[COMBINED[0][0]][0], small[COMBINED[0][0]][0])
    (free, _), free_times = FREE_TEXT[0], (large[FREE_TEXT[0][0]][0], small[FREE_TEXT[0][0]][0])
    return [
        common.at_most(
            f"list page, each filter and sort: {sizes} (worst)",
            ratios[worst],
            2,
            unit="ratio",
            detail=f"worst: {worst}, {large[worst][0] * 1000:.0f} ms ÷ "
            f"{small[worst][0] * 1000:.0f} ms; median of all {len(INDEXED)}: "
            f"{sorted(ratios[label] for label, _ in INDEXED)[len(INDEXED) // 2]:.2f}",
        ),
        common.at_most(
            f"list page, {combined}: {sizes}",
            ratios[combined],
            2,
            unit="ratio",
            detail=f"{times[0] * 1000:.0f} ms ÷ {times[1] * 1000:.0f} ms",
        ),
        common.at_most(
            f"list page, {free} (full-text index): {sizes}",
            ratios[free],
            2,
            unit="ratio",
            detail=f"{free_times[0] * 1000:.0f} ms ÷ {free_times[1] * 1000:.0f} ms",
        ),
        common.exactly(
            "list page SQL queries: large minus small (worst)",
            growth[grown],
            0,
            detail=f"{small[grown][1]} queries per page ({grown})",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = run(args.small, args.large, args.rounds, scans=True)
    print(f"{connection.vendor}: list page at {args.small:,} and {args.large:,} responses\n")
    print(f"{'scenario':<30}{'small ms':>10}{'large ms':>10}{'ratio':>8}{'queries':>10}")
    for label, _ in INDEXED + COMBINED + FREE_TEXT + SCANS:
        (small, q_small), (large, q_large) = results[args.small][label], results[args.large][label]
        queries = f"{q_small}" if q_small == q_large else f"{q_small}->{q_large}"
        times = f"{small * 1000:>10.1f}{large * 1000:>10.1f}{large / small:>8.2f}"
        print(f"{label:<30}{times}{queries:>10}")


if __name__ == "__main__":
    main()
