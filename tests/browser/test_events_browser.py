"""The events page in a browser: a background response streams slowly from the real-HTTP
stand-in upstream, the connection drops midway, and the page resumes and finishes."""

import copy
import json
from pathlib import Path

import pytest

from inspector import store
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db(transaction=True)

STORY = Path(__file__).parent.parent / "fixtures" / "events"
STORY = STORY / "background_reasoning_answer_and_function_call.json"
ANSWER = "Let me look up order **A-1042** for you — one moment. <b>Status</b> follows shortly 📦."


def test_live_follow_survives_a_drop_and_shows_every_event_once(watched, settings):
    stream = json.loads(STORY.read_text())
    running = copy.deepcopy(
        next(e["response"] for e in stream if e["type"] == "response.in_progress")
    )
    fake = FakeUpstream()
    response_id = fake.add_stream(running, stream)
    fake.stream_delay = 0.04
    fake.stream_drops = [12]
    with serve(fake) as url:
        settings.OPENAI_BASE_URL = url
        store.fetch_response(response_id)
        page = watched.page

        watched.goto(f"/responses/{response_id}/events/")
        assert page.locator("#events-status").inner_text() == "in_progress"
        page.wait_for_selector("#event-11")
        # Events arrive while the response runs, before the stream has finished.
        assert page.locator("#timeline .event").count() < len(stream)
        page.wait_for_selector("#follow .ok-line", timeout=20_000)

        numbers = [
            int(n)
            for n in page.locator("#timeline .event").evaluate_all(
                "rows => rows.map(row => row.dataset.seq)"
            )
        ]
        assert numbers == list(range(len(stream)))
        log = page.locator("#read-log").inner_text()
        assert "The connection to the upstream was lost after 12 new events" in log
        assert "Resumed after #11: 22 more events, none twice." in log
        assert page.locator("#events-status").inner_text() == "completed"
        assert ANSWER in page.locator("#assembled").inner_text()
        assert page.locator("#assembled .check-mismatch").count() == 0
        assert "No gaps" in page.locator("#event-summary").inner_text()
        assert page.locator("#follow form[hx-trigger*=load]").count() == 0
    requests = [
        r.url.params.get("starting_after")
        for r in fake.requests
        if r.url.params.get("stream") == "true"
    ]
    assert requests == [None, "11"]
    watched.assert_clean()
