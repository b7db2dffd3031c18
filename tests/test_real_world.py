"""Real data nobody here wrote: every recorded response imports and renders with no unknown
card, and every recorded stream replays with every event kept and explained.

The files are in ../shared/real-world/ (its README says where they come from); they are read
by that path relative to the project root and never copied in. Without the folder (a checkout
elsewhere) these tests are skipped, saying why.
"""

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from inspector import store
from inspector.models import StoredResponse
from inspector.schemas import Response
from inspector.schemas.base import Schema, Unknown

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / ".." / "shared" / "real-world"
RESPONSES = sorted((REAL / "responses").glob("*.json"))
STREAMS = sorted((REAL / "streams").glob("*.sse.txt"))

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not RESPONSES, reason=f"no real-world data in {REAL.resolve()}"),
]

#: What a page says when it shows something as an unknown type or as raw JSON instead of words.
UNKNOWN_MARKS = (
    "does not know the item type",
    "unknown type:",
    "does not have the shape the API documents",
    "a type this dashboard does not know yet",
    "An event type this dashboard does not know yet",
    "<h3>Other fields</h3>",
)


def unknowns(html: str) -> list[str]:
    return [mark for mark in UNKNOWN_MARKS if mark in html]


def walk_unknowns(value: Any, path: str = "") -> list[str]:
    """Every schema object below `value` that fell back to Unknown, by where it sits."""
    if isinstance(value, Unknown):
        return [f"{path}: {value.type} ({value.invalid_reason or 'unknown type'})"]
    found = []
    if isinstance(value, Schema):
        for name in type(value).model_fields:
            found += walk_unknowns(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += walk_unknowns(inner, f"{path}[{index}]")
    return found


def import_file(path: Path) -> str:
    body = json.loads(path.read_text())
    report = store.import_lines(io.BytesIO(json.dumps(body).encode()))
    assert (report.imported + report.updated, report.failed) == (1, 0), report.failures
    return str(body["id"])


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.stem)
def test_every_real_response_parses_with_nothing_unknown(path):
    response = Response.model_validate(json.loads(path.read_text()))
    assert walk_unknowns(response) == []


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.stem)
def test_every_real_response_imports_and_renders_with_no_unknown_card(path, logged_in):
    response_id = import_file(path)
    answer = logged_in.get(f"/responses/{response_id}/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert unknowns(html) == []
    body = json.loads(path.read_text())
    # Every output item is on the page: a card, or the line of an answer beside its call.
    shown = html.count('class="item item-') + html.count('class="item-stub"')
    assert shown >= len(body["output"])


def data_lines(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in path.read_text().splitlines()
        if line.startswith("data: ")
    ]


def stored_for(path: Path) -> StoredResponse:
    """The response a stream belongs to, stored as its final event left it."""
    final = [e["response"] for e in data_lines(path) if "response" in e][-1]
    store.import_lines(io.BytesIO(json.dumps(final).encode()))
    return StoredResponse.objects.get(pk=final["id"])


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".sse.txt"))
def test_every_real_stream_replays_with_every_event_kept(path, upstream, logged_in):
    stored = stored_for(path)
    upstream.add(stored.body)
    upstream.raw_streams[stored.id] = path.read_bytes()
    sent = data_lines(path)
    result = store.replay_events(stored)
    assert (result.kept, result.unsequenced, result.ended) == (len(sent), 0, "terminal")
    timeline = store.event_timeline(stored)
    assert timeline.total == len(sent)
    assert [a.label for a in timeline.assemblies if a.mismatch] == []
    if all("sequence_number" not in e for e in sent):
        assert timeline.unsequenced == len(sent)
        assert [r.type for r in timeline.rows] == [e["type"] for e in sent]
    html = logged_in.get(f"/responses/{stored.id}/events/").content.decode()
    assert unknowns(html) == []
    assert len(re.findall(r'data-seq="\d+"', html)) == len(sent)


def page_text(client: Any, name: str) -> str:
    response_id = import_file(REAL / "responses" / f"{name}.json")
    plain = re.sub(r"<[^>]+>", " ", client.get(f"/responses/{response_id}/").content.decode())
    return re.sub(r"\s+", " ", plain.replace("&#x27;", "'"))


@pytest.mark.parametrize(
    ("name", "phrases"),
    [
        (
            "test_openai_responses_moderation_0",
            [
                "The input was not flagged by omni-moderation-latest (13 categories checked)",
                "Billed to the developer (this API key's organization)",
                "No hosted tool usage reported",
                "Sampling penalties frequency 0, presence 0",
            ],
        ),
        (
            "test_openai_responses_moderation_block_policy_0",
            [
                "The input was flagged by omni-moderation-latest: harassment, "
                "harassment/threatening, violence.",
                "The output was not flagged by omni-moderation-latest",
            ],
        ),
        (
            "test_azure_responses_reasoning_context_default_wire_contract[gpt-5.4]_0",
            [
                "The content filter passed the prompt (5 categories checked)",
                "jailbreak: not detected, not filtered",
                "protected material code: not detected, not filtered",
            ],
        ),
        (
            "test_openai_responses_model_web_search_tool_without_external_access_0",
            ["Hosted tools used besides: 1 billable web search"],
        ),
        (
            "test_openai_native_tool_search_round_trip_0",
            ["in namespace get_exchange_rate", "Searched the deferred tools for the tool named"],
        ),
        ("test_openai_responses_phase_live_0", ["commentary: the model's working notes"]),
    ],
)
def test_the_newer_fields_of_real_responses_are_said_in_words(name, phrases, logged_in):
    shown = page_text(logged_in, name)
    assert [phrase for phrase in phrases if phrase not in shown] == []
