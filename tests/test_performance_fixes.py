"""What `make bench` led to (docs/benchmarks.md), held by tests that do not time anything:
long JSON cut without being written out whole, schemas checked once per tool, the trace
page's later turns loaded when scrolled to, the store's one-dump key mask and scrub, and the
list's cost from one price calculation."""

import json
import random

import pytest

from bench import data
from inspector import rendering, scrub, store, trace
from inspector.store import rows

# --- JSON cut at a limit, without writing out a 2 MB string -----------------------------

ODD = [
    "a",
    "é",
    "😀",
    '"',
    "\\",
    "\n",
    "\t",
    "\b",
    "\f",
    "\r",
    "\x01",
    "\x1f",
    " ",
    "\ud800",
    "\u2028",
]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        'a "quoted" \\ path',
        "tab\tnew\nline\r\x08\x0c",
        "\x00\x01\x1f",
        "é😀\u2028",
        "\ud800",
    ],
)
def test_a_json_string_is_measured_as_json_writes_it(text):
    written = json.dumps(text, ensure_ascii=False)
    assert rendering._json_size(text) == (
        len(written),
        len(written.encode("utf-8", "surrogatepass")),
    )


def test_clipped_json_shows_and_counts_what_the_whole_pretty_json_would():
    rng = random.Random(3)

    def text(longest: int) -> str:
        return "".join(rng.choice(ODD) for _ in range(rng.randint(0, longest)))

    for _ in range(300):
        value = {
            "a": [text(60) for _ in range(3)],
            "b": {"c": text(120), "n": 1.5, "t": None},
            "long": text(300),
        }
        limit = rng.randint(1, 150)
        whole = rendering.pretty_json(value)
        shown, size = rendering.clipped_json(value, limit)
        assert shown == rendering.clip(whole, limit=limit)
        assert size == len(whole.encode("utf-8", "surrogatepass"))


def test_the_raw_json_of_a_two_megabyte_answer_says_how_much_is_not_shown():
    answer = data.message("msg_1", "assistant", "x\n" * 1_000_000)
    part, size = rendering.clipped_json(answer, rendering.LONG_TEXT)
    whole = rendering.pretty_json(answer)
    assert part.shown == whole[: rendering.LONG_TEXT]
    assert part.hidden == len(whole) - rendering.LONG_TEXT
    assert size == len(whole.encode())


# --- a tool's schema is checked once, its verdicts unchanged -----------------------------

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


@pytest.mark.parametrize(
    ("arguments", "parameters", "problem"),
    [
        ({"n": 1}, SCHEMA, None),
        ({"n": "1"}, SCHEMA, 'n: "1" is not of type "integer"'),
        ({}, SCHEMA, '"n" is a required property'),
        ({"n": 1}, {"type": "no-such-type"}, "the declared schema is not valid JSON Schema"),
    ],
)
def test_a_checked_schema_gives_the_same_verdict_every_time(arguments, parameters, problem):
    verdicts = {trace.schema_violation(arguments, parameters, False) for _ in range(3)}
    assert len(verdicts) == 1
    (verdict,) = verdicts
    assert verdict == problem or (problem and verdict and verdict.startswith(problem))


# --- the trace page: the first turns in full, the later ones when scrolled to ------------

TURNS = rendering.TRACE_FULL_TURNS + 4


@pytest.fixture
def long_chain(db):  # type: ignore[no-untyped-def]
    turns = data.chain("lazy", TURNS)
    for body, items in turns:
        store.save_bundle(body, items, source="import")
    return turns


def test_a_long_trace_shows_its_first_turns_in_full_and_loads_the_others_when_scrolled_to(
    logged_in, long_chain
):
    end = long_chain[-1][0]["id"]
    html = logged_in.get(f"/responses/{end}/trace/").content.decode()
    assert html.count('class="card turn"') == TURNS
    first_late = rendering.TRACE_FULL_TURNS + 1
    for number in range(1, TURNS + 1):
        late = number >= first_late
        link = (
            f'<a href="?turns=all#turn-{number}" '
            f'hx-get="/responses/{end}/trace/turns/{number}/" hx-trigger="revealed"'
        )
        assert (link in html) == late
        call_id = long_chain[number - 1][0]["output"][-1]["id"]
        assert (f'id="item-{call_id}"' in html) == (not late)
    # The audit table links to a call in a later turn through the page that shows them all.
    late_call = long_chain[first_late - 1][0]["output"][-1]["id"]
    assert f'href="?turns=all#item-{late_call}"' in html


def test_every_turn_is_on_the_page_with_turns_all(logged_in, long_chain):
    end = long_chain[-1][0]["id"]
    html = logged_in.get(f"/responses/{end}/trace/?turns=all").content.decode()
    assert 'hx-trigger="revealed"' not in html
    for body, _ in long_chain:
        assert f'id="item-{body["output"][-1]["id"]}"' in html


def test_a_later_turn_comes_as_its_items_for_htmx_and_as_the_whole_page_without(
    logged_in, long_chain
):
    end = long_chain[-1][0]["id"]
    number = TURNS - 1
    url = f"/responses/{end}/trace/turns/{number}/"
    part = logged_in.get(url, headers={"HX-Request": "true"})
    call_id = long_chain[number - 1][0]["output"][-1]["id"]
    assert part.status_code == 200
    assert f'id="item-{call_id}"' in part.content.decode()
    assert "<html" not in part.content.decode()
    plain = logged_in.get(url)
    assert plain.status_code == 302
    assert plain["Location"] == f"/responses/{end}/trace/?turns=all#turn-{number}"
    assert logged_in.get(f"/responses/{end}/trace/turns/{TURNS + 1}/").status_code == 404


# --- storing: the key mask and the scrub walk only where one dump shows they may find ------

SECRET = 'sk-test-"quoted"\\key-é😀'
PIECES = [*ODD, "\x00", "\udc00", "\ud83d\ude00", "\\u0000", "u0000", "\\ud800", SECRET, "sk-"]


def _value(rng: random.Random, depth: int = 0) -> object:
    def text() -> str:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))

    if depth >= 3 or rng.random() < 0.4:
        return rng.choice([text(), rng.randint(-5, 5), None, True, 1.5])
    if rng.random() < 0.5:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {text(): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def test_kept_json_is_the_walk_of_as_kept_written_out(settings):
    """For every value (strings of NUL, lone and paired surrogates, the key in keys and
    values, escapes that look like bad characters): the same value, the same places found
    and the same text as as_kept followed by json.dumps, which is what the store wrote."""
    settings.OPENAI_API_KEY = SECRET
    rng = random.Random(11)
    walked = 0
    for _ in range(2_000):
        value = _value(rng)
        expected, found = store.as_kept(value, "at")
        got_found = scrub.Found()
        kept, text = store.as_kept_json(value, "at", got_found)
        assert kept == expected
        assert text == json.dumps(expected)
        assert isinstance(text, store.JSONText)
        assert (got_found.places, got_found.nul, got_found.surrogates) == (
            found.places,
            found.nul,
            found.surrogates,
        )
        walked += kept is not value
    assert walked > 100  # the corpus does reach the walk


def test_kept_json_skips_the_walk_when_the_text_is_clean(settings, monkeypatch):
    settings.OPENAI_API_KEY = "sk-live-key"
    monkeypatch.setattr(rows, "as_kept", lambda *a: pytest.fail("walked a clean value"))
    value = {"text": "plain é 中文 \\ path", "n": [1, 2, {"sk": "sk-live"}]}
    kept, text = store.as_kept_json(value, "", scrub.Found())
    assert kept is value and text == json.dumps(value)


def test_the_stored_cost_is_the_total_of_the_full_price():
    from datetime import UTC, datetime

    from inspector import pricing

    rng = random.Random(5)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for model in (*pricing.COMPARE_MODELS, "no-such-model"):
        for _ in range(20):
            counts = {
                "input_tokens": rng.randint(0, 400_000),
                "output_tokens": rng.randint(0, 50_000),
                "cache_write_tokens": rng.choice([0, rng.randint(0, 1000)]),
            }
            counts["cached_tokens"] = rng.randint(0, counts["input_tokens"] + 10)
            whole = pricing.price(model, when=when, **counts)
            assert pricing.total(model, when=when, **counts) == (whole and whole.total)
