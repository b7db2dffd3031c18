"""Benchmark: importing JSONL files of bundles, by memory and by throughput.

    .venv/bin/python -m bench.import_file

Memory: the `import_responses` command runs in a child process on a 2 MB and on a 200 MB
file (each into its own fresh database), and each child reports its peak resident memory
(VmHWM, Linux): an import that streams holds one line at a time, so the two peaks are about
the same. Throughput: in this process, responses per second stored
(`store.import_lines`, what the command and /import/ run) against the floor of storing them
at all (common.store_floor: parse and validate, write the JSON, insert the rows), on the same
lines; responses per second only parsed are printed beside it.
"""

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common

common.django()

from bench import data
from inspector import client as upstream_client
from inspector import store
from inspector.schemas import Response, item_adapter


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "dashboard.settings"}


#: The child: a fresh database, then the import command, then its own peak resident memory
#: from the kernel. VmHWM counts this process image only (ru_maxrss would also count the
#: benchmark's own memory, which Linux carries into a child's figure across fork and exec),
#: and clear_refs starts it afresh after the migration.
CHILD = """
import sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
try:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
except OSError:
    pass  # then both peaks include the migration's memory alike
call_command("import_responses", sys.argv[1])
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(line.split()[1])
"""


def import_in_child(path: Path, workdir: Path) -> tuple[int, float]:
    """(peak RSS in KB, seconds) of the import_responses command on a fresh database."""
    data_dir = Path(tempfile.mkdtemp(prefix="db-", dir=workdir))
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        env=_env(data_dir),
        cwd=common.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    took = time.perf_counter() - started
    return int(child.stdout.split()[-1]), took


def memory_figure(scale: common.Scale, workdir: Path) -> common.Figure:
    runs = {}
    for name, megabytes in (("small", scale.import_small_mb), ("large", scale.import_large_mb)):
        path = workdir / f"{name}.jsonl"
        lines = data.write_jsonl(path, megabytes, prefix=f"benchimp{name}")
        peak, took = import_in_child(path, workdir)
        runs[name] = (path.stat().st_size / 1e6, lines, peak / 1024, took)
        path.unlink()
    (s_mb, _, s_peak, _), (l_mb, l_lines, l_peak, l_took) = runs["small"], runs["large"]
    return common.at_most(
        f"import peak memory: {l_mb:.0f} MB JSONL ÷ {s_mb:.0f} MB",
        l_peak / s_peak,
        1.5,
        unit="ratio",
        detail=f"{l_peak:.0f} MB ÷ {s_peak:.0f} MB peak RSS; {l_lines:,} responses, "
        f"the child ran {l_took:.0f} s",
    )


def throughput_figure(scale: common.Scale) -> common.Figure:
    pool = data.ProsePool(random.Random(5))
    count = scale.throughput_responses
    rounds = [
        [data.import_line(n, f"benchrate{r}", pool) for n in range(count)]
        for r in range(max(3, scale.rounds))
    ]

    def parse(lines: list[str]) -> None:
        for line in lines:
            obj = upstream_client.parse_json(line)
            Response.from_wire(obj["response"])
            for item in obj["input_items"]:
                item_adapter.validate_python(item)

    def keep(lines: list[str]) -> None:
        report = store.import_lines(lines)
        assert report.imported == len(lines), report.summary()

    times: dict[str, list[float]] = {"parse": [], "store": [], "floor": []}
    for lines in rounds:  # fresh ids each round: a second import of the same lines skips
        other = [line.replace('"resp_', '"resp_floor') for line in lines]  # ids of its own
        for name, run, given in (
            ("parse", parse, lines),
            ("store", keep, lines),
            ("floor", common.store_floor, other),
        ):
            times[name].append(common.median_time(lambda r=run, g=given: r(g), 1))
    rate = {name: count / sorted(spent)[len(rounds) // 2] for name, spent in times.items()}
    size = sum(len(line) for line in rounds[0]) / 1e6
    return common.at_least(
        "import throughput: stored ÷ its floor",
        rate["store"] / rate["floor"],
        0.4,
        unit="ratio",
        detail=f"{rate['store']:.0f} ÷ floor {rate['floor']:.0f} responses/s (parse, write "
        f"the JSON, insert the rows, nothing derived); parsed only {rate['parse']:.0f}/s; "
        f"{count} responses ({size:.0f} MB) a round",
    )


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as workdir:
        memory = memory_figure(scale, Path(workdir))
    return [memory, throughput_figure(scale)]


if __name__ == "__main__":
    common.print_table(figures())
