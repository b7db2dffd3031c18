"""Every benchmark in bench/, on data each makes for itself, as one table (`make bench`).

    .venv/bin/python bench/run.py [--only list_page,trace_page] [--tiny]

Runs against the real code paths (Django's test client, the store, the management command
in a child process) on SQLite in a throwaway DATA_DIR, never the user's data. Each figure is
a ratio or a count measured within this one run, so it holds on a noisy machine; timings
are medians of a few rounds taken in turns. Exits 1 when a goal is missed. The numbers and
what was done to meet them: docs/benchmarks.md.
"""

import argparse
import importlib
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

#: In this order: the list first, as it needs a store of exactly 1,000 rows to begin with
#: (runs_overview then takes that store, at 1,000, as it stands).
MODULES = [
    "playground_count",
    "token_accuracy",
    "list_page",
    "runs_overview",
    "response_page",
    "fetch_steps",
    "trace_page",
    "import_file",
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        ram = f"{pages / 2**30:.0f} GiB RAM"
    except (OSError, ValueError):
        ram = "RAM unknown"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated modules: " + ", ".join(MODULES))
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: do the scripts work?")
    args = parser.parse_args()
    chosen = [m for m in MODULES if not args.only or m in args.only.split(",")]
    scale = common.TINY if args.tiny else common.FULL

    data_dir = common.setup()
    from django.db import connection

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}; {connection.vendor}")
    figures = []
    try:
        for name in chosen:
            started = time.perf_counter()
            module = importlib.import_module(f"bench.{name}")
            figures += module.figures(scale)
            print(f"  {name}: {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        connection.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    print()
    common.print_table(figures)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
