"""What every benchmark shares: a throwaway Django set-up, timing, and the figures' shape.

Each benchmark module exposes `figures(scale) -> list[Figure]` and needs Django configured
first (`setup()`), so that importing it never touches a database.
"""

import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup() -> Path:
    """Configure Django on SQLite in a new temporary DATA_DIR, migrated; returns that dir.

    Never the user's data: DATABASE_URL is ignored and DATA_DIR points at a fresh folder,
    so the database, secret key and tiktoken files all live there and go with it (a module
    run alone may be given a throwaway database instead: BENCH_DATABASE_URL).
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    data_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):  # a module's --database-url: a throwaway one
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no "Not Found" lines among the figures

    import django

    django.setup()
    from django.core.management import call_command

    from inspector import tokens

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # when CACHES is the database's
    tokens.install_encoding_files()  # offline, from the bpe-openai wheel, sha256-checked
    return data_dir


def django() -> None:
    """Set Django up for a benchmark module run on its own; a no-op once it is (run.py, tests)."""
    from django.apps import apps

    if not apps.ready:
        setup()


@dataclass(frozen=True)
class Scale:
    """The sizes of one run: `FULL` is the issue's, `TINY` proves the scripts still work."""

    input_items: int = 3_000
    output_chars: int = 2_000_000
    turns: int = 40
    list_small: int = 1_000
    list_large: int = 100_000
    playground_mb: float = 10.0
    import_small_mb: float = 2.0
    import_large_mb: float = 200.0
    throughput_responses: int = 400
    fetched_items: int = 10_000
    rounds: int = 5
    #: Request/bill pairs of ../shared/real-world read by token_accuracy (0: all of them).
    token_pairs: int = 0


FULL = Scale()
TINY = Scale(
    input_items=230,
    output_chars=30_000,
    turns=4,
    list_small=40,
    list_large=200,
    playground_mb=0.05,
    import_small_mb=0.05,
    import_large_mb=0.2,
    throughput_responses=10,
    fetched_items=450,
    rounds=1,
    token_pairs=30,
)


@dataclass(frozen=True)
class Figure:
    """One line of the table: a ratio or a count measured within one run, and its goal."""

    name: str
    value: float
    goal: str
    met: bool
    unit: str = ""
    detail: str = ""

    @property
    def shown(self) -> str:
        if self.unit == "KB":
            return f"{self.value:,.0f} KB"
        if float(self.value).is_integer() and self.unit != "ratio":
            return f"{self.value:,.0f}"
        return f"{self.value:.2f}"


def at_most(name: str, value: float, limit: float, **extra: Any) -> Figure:
    return Figure(name, value, f"≤ {limit:g}", value <= limit, **extra)


def at_least(name: str, value: float, limit: float, **extra: Any) -> Figure:
    return Figure(name, value, f"≥ {limit:g}", value >= limit, **extra)


def exactly(name: str, value: float, wanted: float, **extra: Any) -> Figure:
    return Figure(name, value, f"{wanted:g}", value == wanted, **extra)


def clock() -> float:
    """CPU seconds of this process. The measured code runs in this one process (Django's test
    client, SQLite in-process), so this is its server time, and the other work of a shared
    machine (tests, builds) does not count; wall time varied by half from run to run."""
    return time.process_time()


def median_time(
    run: Callable[[], Any], rounds: int, before: Callable[[], Any] | None = None
) -> float:
    """The median CPU time of `rounds` calls of `run`; `before` runs untimed before each.

    Each call starts from a collected heap: otherwise the full collection that one call's
    garbage sets off lands in whichever call comes next (parsing the huge response took
    32 to 158 ms by that alone). The collector still runs during the call, as it would.
    """
    times = []
    for _ in range(rounds):
        if before is not None:
            before()
        gc.collect()
        started = clock()
        run()
        times.append(clock() - started)
    return statistics.median(times)


def interleaved(
    runs: dict[str, Callable[[], Any]], rounds: int, before: Callable[[], Any] | None = None
) -> dict[str, float]:
    """Median time of each run, taken in turns, so both see the same machine state."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(median_time(run, 1, before))
    return {name: statistics.median(values) for name, values in times.items()}


def store_floor(lines: list[str]) -> None:
    """The least any store of these bundle lines does, to set a store's time against: parse
    and validate them (the "parse" runs), write each body and item out as JSON, and insert
    them as rows of the real tables, a batch to a transaction as the import does. None of
    what the store derives: columns, search text, cost, the tool-call index, notes.
    """
    import json

    from django.db import transaction

    from inspector import client, store
    from inspector.models import InputItem, StoredResponse
    from inspector.schemas import Response, item_adapter
    from inspector.store.rows import insert_rows

    for start in range(0, len(lines), store.IMPORT_BATCH):
        responses, items = [], []
        for line in lines[start : start + store.IMPORT_BATCH]:
            obj = client.parse_json(line)
            rid = Response.from_wire(obj["response"]).id
            for position, raw in enumerate(obj["input_items"]):
                item_adapter.validate_python(raw)
                text = store.JSONText(json.dumps(raw))
                items.append({"response_id": rid, "position": position, "body": text})
            responses.append({"id": rid, "body": store.JSONText(json.dumps(obj["response"]))})
        with transaction.atomic():
            insert_rows(StoredResponse, responses)
            insert_rows(InputItem, items)


def get_page(client: Any, url: str) -> Any:
    """GET `url` with the test client; anything but 200 stops the benchmark."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def page_queries(client: Any, url: str) -> tuple[Any, int]:
    """The page at `url` (get_page) and the SQL queries it took."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = get_page(client, url)
    return response, len(captured.captured_queries)


def logged_in_client() -> Any:
    """A Django test client logged in as a throwaway superuser (no usable password): every
    role's pages, no rate limit in the way of the figures."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    return client


def print_table(figures: list[Figure], file: Any = None) -> None:
    """The one table: figure, value, goal, pass or MISS, and how the value was made."""
    out = file or sys.stdout
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'value':>9}  {'goal':<20}  result  how", file=out)
    print(f"{'-' * width}  {'-' * 9}  {'-' * 20}  ------  ---", file=out)
    for f in figures:
        result = "pass" if f.met else "MISS"
        print(f"{f.name:<{width}}  {f.shown:>9}  {f.goal:<20}  {result:<6}  {f.detail}", file=out)
