"""Benchmark: the local token count against what the Responses API really billed.

    .venv/bin/python -m bench.token_accuracy [--evidence]

Reads ../shared/real-world/input-tokens.jsonl (exact request bodies and the usage.input_tokens
billed for each; its README says where they come from) and counts each request locally, as
the playground does. Of the pairs whose whole context is in the request (no part only the API
can count) and that were billed since April 2025, the figure is the share where the local
count is within max(2 tokens, 2 %) of the bill: overall (goal >= 0.9) and per kind of request
(goal >= 0.75 each). The rest are measured apart: what only the API can count, by kind, and the
bills of March 2025, when the API counted the same text differently. `--evidence` prints the
table tokens.EVIDENCE holds. docs/token-counting.md gives each rule and its evidence.
"""

import argparse
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import common

common.django()

from inspector import tokens
from inspector.schemas import InputTokensRequest

REAL = common.ROOT.parent / "shared" / "real-world"
#: Bills before this day were counted as the API counted in March 2025 (18 to 230 tokens
#: more than today for the same requests): measured apart.
FIRST_DAY = date(2025, 4, 1)
MARCH_2025 = tokens.MARCH_2025
OVERALL = "all"


@dataclass(frozen=True)
class Pair:
    name: str
    request: dict[str, Any]
    billed: int
    billed_on: date


def load_pairs(folder: Path = REAL, limit: int = 0) -> list[Pair]:
    """The request/bill pairs of input-tokens.jsonl that hold a request, with the day each
    was billed (the created_at of the recorded response, found through sources.jsonl)."""
    sources = [json.loads(line) for line in (folder / "sources.jsonl").read_text().splitlines()]
    responses = {
        (Path(s["path"]).name, s["how"].split(":")[0].removeprefix("interaction ")): s["file"]
        for s in sources
    }
    pairs = []
    for line in (folder / "input-tokens.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["request"] is None:
            continue
        body = json.loads(
            (folder / responses[(row["cassette"], str(row["interaction"]))]).read_text()
        )
        billed_on = datetime.fromtimestamp(body["created_at"], UTC).date()
        name = f"{row['cassette'].removesuffix('.yaml')} #{row['interaction']}"
        request = {"model": row["model"], **row["request"]}
        pairs.append(Pair(name, request, int(row["input_tokens"]), billed_on))
        if limit and len(pairs) >= limit:
            break
    return pairs


def within(billed: int, local: int) -> bool:
    return abs(billed - local) <= max(2, 0.02 * billed)


MEASURED = {*tokens.MEASURED_KINDS, OVERALL}


@dataclass
class Measurement:
    differences: dict[str, list[int]]
    hits: dict[str, int]
    misses: list[tuple[str, int]]

    def evidence(self, kind: str) -> tokens.Evidence:
        found = self.differences.get(kind, [])
        if not found:
            return tokens.Evidence(0, 0, 0, 0, 0)
        return tokens.Evidence(
            pairs=len(found),
            within=self.hits.get(kind, 0),
            low=min(found),
            high=max(found),
            median=round(statistics.median(found)),
        )

    def share(self, kind: str) -> float:
        found = self.evidence(kind)
        return found.within / found.pairs if found.pairs else 0.0


def measure(pairs: list[Pair]) -> Measurement:
    """Count every pair locally and group billed less local by kind of request."""
    differences: dict[str, list[int]] = defaultdict(list)
    hits: dict[str, int] = defaultdict(int)
    misses: list[tuple[str, int]] = []
    for pair in pairs:
        request = InputTokensRequest.model_validate(pair.request)
        breakdown = tokens.count_request(request)
        difference = pair.billed - breakdown.total
        if pair.billed_on < FIRST_DAY:
            kinds = [MARCH_2025]
        else:
            kinds = tokens.request_kinds(request, breakdown)
            if not breakdown.needs_api:
                kinds = [OVERALL, *kinds]
                if not within(pair.billed, breakdown.total):
                    misses.append((pair.name, difference))
        for kind in kinds:
            differences[kind].append(difference)
            hits[kind] += within(pair.billed, breakdown.total)
    return Measurement(dict(differences), dict(hits), misses)


def figures(scale: common.Scale) -> list[common.Figure]:
    if not (REAL / "input-tokens.jsonl").exists():
        detail = f"no real bills at {REAL.resolve()}"
        return [
            common.at_least(
                "token count within 2 tokens or 2 % of real bills", 0, 0.9, detail=detail
            )
        ]
    measured = measure(load_pairs(limit=scale.token_pairs))
    overall = measured.evidence(OVERALL)
    apart = [k for k in measured.differences if k not in MEASURED]
    detail = f"{overall.within} of {overall.pairs} bills; apart: " + ", ".join(
        f"{k} {len(measured.differences[k])}" for k in sorted(apart)
    )
    found = [
        common.at_least(
            "token count within 2 tokens or 2 % of real bills",
            measured.share(OVERALL),
            0.9,
            unit="ratio",
            detail=detail,
        )
    ]
    for kind in tokens.MEASURED_KINDS:
        evidence = measured.evidence(kind)
        if evidence.pairs:
            found.append(
                common.at_least(
                    f"  … {kind}",
                    measured.share(kind),
                    0.75,
                    unit="ratio",
                    detail=f"{evidence.within} of {evidence.pairs}",
                )
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evidence", action="store_true", help="print tokens.EVIDENCE")
    args = parser.parse_args()
    measured = measure(load_pairs())
    if args.evidence:
        for kind in sorted(measured.differences, key=str):
            if kind != OVERALL:
                print(f"    {kind!r}: tokens.{measured.evidence(kind)!r},")
        return
    common.print_table(figures(common.FULL))
    for name, difference in measured.misses:
        print(f"  miss: {difference:+,} {name}")


if __name__ == "__main__":
    main()
