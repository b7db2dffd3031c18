"""Benchmark: the playground's local count against raw tiktoken on the same ~10 MB of text.

    .venv/bin/python -m bench.playground_count [--megabytes 10] [--rounds 5]

Prints the throughput of `tokens.count_request` (what the playground runs on every keystroke)
as a ratio of `tiktoken`'s `encode_ordinary` on the same text, from one run (goal: >= 0.9),
and the time of one whole count fragment (count, prices on every compare model, token view,
render) for a request of about 10,000 tokens (goal: well under a second).

Not a test: budgets are measured here, never asserted by timed tests (DESIGN.md).
"""

import argparse
import json
import random
import statistics
import time

from bench import common

common.django()

import tiktoken
from django.template.loader import render_to_string
from django.test import RequestFactory

from inspector import playground, tokens
from inspector.schemas import InputTokensRequest

PROSE = [
    *[
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
    ],
    *[
        "which",
        "but",
        "have",
        "an",
        "they",
        "you",
        "were",
        "her",
        "she",
        "there",
        "been",
        "one",
        "all",
        "we",
        "their",
        "has",
        "would",
        "when",
    ],
    *[
        "if",
        "so",
        "what",
        "report",
        "revenue",
        "quarter",
        "growth",
        "customer",
        "order",
        "refund",
        "shipment",
        "delayed",
    ],
]
OTHER = [
    "Съешь же ещё этих мягких французских булок",
    "お誕生日おめでとう。東京は晴れです。",
    "مرحبا بالعالم، كيف حالك؟",
    "नमस्ते दुनिया, आप कैसे हैं?",
    "👩‍👩‍👧‍👦 🇯🇵 ✨ 🎉",
    "Größenverhältnisse übermäßig Straße",
]
CODE = [
    "def handler(event, context):\n    return {'status': 200, 'body': json.dumps(event)}\n",
    "for (let i = 0; i < items.length; i++) { total += items[i].price * items[i].qty; }\n",
    "SELECT id, email FROM users WHERE created_at > NOW() - INTERVAL '7 days';\n",
]


def varied_text(megabytes: float, seed: int = 4) -> str:
    """Prose, numbers, code, JSON and several scripts, deterministic for a given seed."""
    rng = random.Random(seed)
    parts, size, target = [], 0, int(megabytes * 1_000_000)
    while size < target:
        kind = rng.random()
        if kind < 0.6:
            chunk = (
                " ".join(rng.choice(PROSE) for _ in range(rng.randint(8, 40))).capitalize() + ". "
            )
        elif kind < 0.7:
            chunk = f"Order #{rng.randint(1, 10**7)} cost ${rng.randint(1, 10**5) / 100:.2f}. "
        elif kind < 0.8:
            chunk = rng.choice(CODE)
        elif kind < 0.9:
            chunk = json.dumps({"id": rng.randint(1, 10**9), "tags": rng.sample(PROSE, 3)}) + "\n"
        else:
            chunk = rng.choice(OTHER) + (" " if rng.random() < 0.7 else "\n\n")
        parts.append(chunk)
        size += len(chunk.encode())
    return "".join(parts)


def best_of(rounds: int, run) -> float:  # type: ignore[no-untyped-def]
    """The best of `rounds` runs, in CPU seconds of this process: the counting is
    single-threaded, and wall-clock time on a shared machine measures the neighbours."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def measure(megabytes: float, rounds: int) -> tuple[float, float, float, int]:
    """(MB, tiktoken seconds, playground seconds, tokens): the median CPU time of each."""
    text = varied_text(megabytes)
    size = len(text.encode()) / 1_000_000
    # tokens.get_encoding points tiktoken at the installed files (it never downloads); the
    # object it returns is tiktoken's own Encoding, timed here without the playground around it.
    tokens.get_encoding("o200k_base")
    raw = tiktoken.get_encoding("o200k_base")
    request = InputTokensRequest(model="gpt-4o", input=text)
    expected = len(raw.encode_ordinary(text))
    counted = tokens.count_request(request)
    assert counted.exact == expected, (counted.exact, expected)

    # Interleaved: both see the same machine state.
    raw_times, local_times = [], []
    for _ in range(rounds):
        raw_times.append(best_of(1, lambda: raw.encode_ordinary(text)))
        local_times.append(best_of(1, lambda: tokens.count_request(request)))
    return size, statistics.median(raw_times), statistics.median(local_times), expected


def figures(scale: common.Scale = common.FULL) -> list[common.Figure]:
    size, raw_time, local_time, count = measure(scale.playground_mb, max(3, scale.rounds))
    return [
        common.at_least(
            f"playground local count ÷ raw tiktoken, {size:.0f} MB",
            raw_time / local_time,
            0.9,
            unit="ratio",
            detail=f"throughput; {count:,} tokens in {local_time:.2f} s against "
            f"{raw_time:.2f} s, median CPU time of each",
        )
    ]


def throughput(megabytes: float, rounds: int) -> None:
    size, raw_time, local_time, expected = measure(megabytes, rounds)
    print(f"text: {size:.1f} MB, {expected:,} tokens (o200k_base)")
    print(f"tiktoken encode_ordinary : {raw_time:.3f} s  ({size / raw_time:.2f} MB/s)")
    print(f"playground count_request : {local_time:.3f} s  ({size / local_time:.2f} MB/s)")
    print(f"throughput ratio (playground / tiktoken): {raw_time / local_time:.3f}  (goal >= 0.9)")


def fragment(rounds: int) -> None:
    """One keystroke's work on a ~10,000-token agent request, rendered as htmx would ask."""
    words = varied_text(0.0042, seed=7)
    items = [{"role": ("user", "assistant")[i % 2], "content": words} for i in range(10)]
    data = {
        **playground.EMPTY_STATE,
        "instructions": "You are a support agent for an online shop. Be concise.",
        "input_items": json.dumps(items),
        "tools": json.dumps(
            [
                {
                    "type": "function",
                    "name": f"tool_{n}",
                    "description": "Look something up.",
                    "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
                }
                for n in range(4)
            ]
        ),
    }
    request = RequestFactory().post("/playground/count/", data, HTTP_HX_REQUEST="true")
    request.htmx = True  # type: ignore[attr-defined]

    def run() -> None:
        form = playground.PlaygroundForm(data)
        form.is_valid()
        context = playground.page(form)
        render_to_string("inspector/playground.html#results", context, request=request)

    run()
    form = playground.PlaygroundForm(data)
    form.is_valid()
    assert form.request is not None
    total = tokens.count_request(form.request).total
    took = best_of(rounds, run)
    print(
        f"count fragment for a {total:,}-token request: {took * 1000:.0f} ms (goal: well under 1 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    throughput(args.megabytes, args.rounds)
    fragment(args.rounds)


if __name__ == "__main__":
    main()
