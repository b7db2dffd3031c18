"""The trace walk in a real browser: htmx steps against a stand-in upstream over real HTTP."""

import re
import time

import pytest

from inspector import store
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db(transaction=True)

TURNS = 6
PROGRESS = re.compile(r"Fetched (\d+) of ≥(\d+) turns")


def agent_run(upstream: FakeUpstream) -> None:
    """A run of TURNS responses; each turn's input answers the call of the turn before."""
    previous = None
    for n in range(TURNS):
        rid = f"resp_walk{n}"
        first_input = {
            "id": "msg_walk",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "<script>window.__pwned=1</script>"}],
        }
        answer = {
            "id": f"fco_walk{n}",
            "type": "function_call_output",
            "call_id": f"call_walk{n - 1}",
            "output": f'{{"step": {n - 1}}}',
        }
        upstream.add(
            {
                "id": rid,
                "object": "response",
                "created_at": 1_770_000_000 + n,
                "model": "gpt-5",
                "status": "completed",
                "previous_response_id": previous,
                "output": [
                    {
                        "id": f"fc_walk{n}",
                        "type": "function_call",
                        "call_id": f"call_walk{n}",
                        "name": "next_step",
                        "arguments": f'{{"n": {n}}}',
                        "status": "completed",
                    }
                ],
                "tools": [],
                "usage": {
                    "input_tokens": 100 * (n + 1),
                    "input_tokens_details": {"cached_tokens": 50 * n},
                    "output_tokens": 20,
                    "output_tokens_details": {"reasoning_tokens": 5},
                    "total_tokens": 100 * (n + 1) + 20,
                },
            },
            [answer] if n else [first_input],
        )
        previous = rid


def test_the_trace_walk_fetches_every_ancestor_with_progress_and_pairs_the_calls(watched, settings):
    upstream = FakeUpstream()
    agent_run(upstream)

    def slowly(request):  # each fetch takes long enough for the progress to be seen
        time.sleep(0.25)
        return None  # then answer as usual

    upstream.override = slowly
    with serve(upstream) as base_url:
        settings.OPENAI_BASE_URL = base_url
        store.fetch_response(f"resp_walk{TURNS - 1}")
        watched.goto(f"/responses/resp_walk{TURNS - 1}/trace/")
        seen: list[tuple[int, int]] = []
        deadline = time.monotonic() + 30
        page = watched.page
        while time.monotonic() < deadline:
            try:
                texts = page.locator(".walk-progress").all_inner_texts()
                done = page.locator(f"#turn-{TURNS}").count() and not texts
            except Exception:  # the page navigates away when the walk completes
                texts, done = [], False
            if done:
                break
            for text in texts:
                found = PROGRESS.search(text)
                if found and (int(found[1]), int(found[2])) not in seen:
                    seen.append((int(found[1]), int(found[2])))
            time.sleep(0.05)
    assert upstream.unexpected == []
    assert seen[0] == (1, 2)
    assert len(seen) >= 3
    assert [have for have, _ in seen] == sorted(have for have, _ in seen)
    assert all(at_least == have + 1 for have, at_least in seen)
    page.wait_for_selector(f"#turn-{TURNS}")
    assert page.locator(".walk-progress").count() == 0
    assert page.locator("#trace-turns").inner_text() == str(TURNS)
    answers = page.locator(".pair-title a").all_inner_texts()
    calls = " ".join(page.locator(".item-stub").all_inner_texts())  # answers beside their calls
    for n in range(1, TURNS):
        assert f"turn {n + 1}, input item 1" in answers
        assert f"Answers function_call next_step (turn {n}, output item 1)" in calls
    assert page.locator(".trace-entry.unanswered").count() == 1
    assert page.evaluate("window.__pwned") is None
    watched.assert_clean()
