"""Benchmark: the list on / at 1,000 and at 100,000 stored responses.

    .venv/bin/python bench/list_page.py [--small 1000] [--large 100000] [--rounds 7]

Fills a throwaway database (SQLite in a temporary DATA_DIR, or DATABASE_URL if set: use an
empty one) with realistic rows, then requests the list page through Django's test client,
unfiltered and with each filter and sort, and prints for each: the best time of the whole
request out of --rounds at both sizes (the best, not the median: other work on the machine
only ever adds time), their ratio (goal: under 2 for the plain list and the indexed filters
and sorts) and the SQL queries per page (goal: the same at both sizes).

Free-text search (`q`) and the metadata filter scan every row (`LIKE '%…%'` cannot use a
B-tree index), so they grow with the store; they are printed too, for the record.

Not a test: budgets are measured here, never asserted by timed tests (DESIGN.md).
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="bench-list-")
os.environ["ALLOWED_HOSTS"] = "testserver"

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from inspector.models import Note, StoredResponse  # noqa: E402

MODELS = ["gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "o4-mini"]
STATUSES = ["completed"] * 90 + ["failed"] * 4 + ["incomplete"] * 4 + ["in_progress"] * 2
TOOLS = [f"tool_{n}" for n in range(40)] + ["lookup_order", "issue_refund", "web_search"]
REVIEWS = ["unreviewed"] * 90 + ["approved"] * 7 + ["flagged"] * 3
WORDS = [
    *("order", "refund", "parcel", "customer", "invoice", "shipping", "delay", "agent"),
    *("tool", "call", "search", "result", "summary", "answer", "question", "account"),
    *("password", "reset", "billing", "plan", "upgrade", "cancel", "weather"),
]
START = datetime(2025, 1, 1, tzinfo=UTC)

# The last three scan every row (LIKE / INSTR / JSON cannot use a B-tree index).
SCENARIOS = [
    ("plain list, newest first", ""),
    ("page 20", "page=20"),
    ("sort by tokens", "sort=-tokens"),
    ("sort by cost", "sort=-cost"),
    ("model", "model=gpt-5-mini"),
    ("status", "status=failed"),
    ("review flagged", "review=flagged"),
    ("has error", "error=true"),
    ("date range", "created_from=2025-03-01&created_to=2025-03-31"),
    ("tool name (scan)", "tool=issue_refund"),
    ("metadata (scan)", "meta_key=customer&meta_value=c42"),
    ("free text (scan)", "q=parcel+refund"),
]


def fill(start: int, stop: int, rng: random.Random) -> None:
    """Rows start..stop-1, in batches; bodies are small (the list never reads them)."""
    user = get_user_model().objects.get(username="bench")
    for batch in range(start, stop, 5000):
        rows, notes = [], []
        for i in range(batch, min(stop, batch + 5000)):
            rid = f"resp_bench{i:08d}"
            status = rng.choice(STATUSES)
            tokens = rng.randint(200, 200_000) if status != "in_progress" else None
            tools = rng.sample(TOOLS, rng.randint(0, 3))
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120)))
            rows.append(
                StoredResponse(
                    id=rid,
                    body={"id": rid, "object": "response", "output": []},
                    model=rng.choice(MODELS),
                    status=status,
                    created_at=START + timedelta(seconds=i * 300 + rng.randint(0, 299)),
                    total_tokens=tokens,
                    input_tokens=tokens,
                    output_tokens=0 if tokens else None,
                    cost=Decimal(tokens) / 10**6 if tokens and rng.random() > 0.05 else None,
                    tool_names="\n" + "\n".join(tools) + "\n",
                    error_code="server_error" if status == "failed" else "",
                    search_text=text,
                    metadata={"customer": f"c{i % 500}", "env": "prod"},
                    review_status=rng.choice(REVIEWS),
                    source=StoredResponse.Source.IMPORT,
                )
            )
            if rng.random() < 0.03:
                notes.append(Note(response_id=rid, author=user, author_name="bench", text="n"))
        StoredResponse.objects.bulk_create(rows)
        Note.objects.bulk_create(notes)


def measure(client: Client, query: str, rounds: int) -> tuple[float, int]:
    client.get(f"/?{query}")  # warm caches (templates, the database's pages)
    times = []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(f"/?{query}")
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return min(times), len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if StoredResponse.objects.exists():
        sys.exit("the database is not empty: point DATABASE_URL at an empty one")
    # An unusable password: the client logs in with force_login.
    user = get_user_model().objects.create_user("bench")
    client = Client()
    client.force_login(user)
    rng = random.Random(42)

    results = {}
    filled = 0
    for size in (args.small, args.large):
        started = time.perf_counter()
        fill(filled, size, rng)
        filled = size
        print(f"filled {size:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results[size] = {label: measure(client, q, args.rounds) for label, q in SCENARIOS}

    print(f"{connection.vendor}: list page at {args.small:,} and {args.large:,} responses\n")
    print(f"{'scenario':<28}{'small ms':>10}{'large ms':>10}{'ratio':>8}{'queries':>10}")
    for label, _ in SCENARIOS:
        (small, q_small), (large, q_large) = results[args.small][label], results[args.large][label]
        queries = f"{q_small}" if q_small == q_large else f"{q_small}->{q_large}"
        times = f"{small * 1000:>10.1f}{large * 1000:>10.1f}{large / small:>8.2f}"
        print(f"{label:<28}{times}{queries:>10}")


if __name__ == "__main__":
    main()
