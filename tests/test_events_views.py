"""The events page: replay keeps events, re-replay replaces them, live follow resumes after a
drop without duplicates, and what a person reads there (assembled texts, gaps, refusals)."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from inspector import store
from inspector.models import StoredResponse, StreamEvent

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "events"
HTMX = {"HX-Request": "true"}


def scenario(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
    return data


STORY = "background_reasoning_answer_and_function_call.json"
TOOLS = "hosted_tools_refusal_and_audio_incomplete.json"


def running(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The response as a retrieve answers while it runs: the in_progress snapshot."""
    body = next(e["response"] for e in events if e["type"] == "response.in_progress")
    return copy.deepcopy(body)


def add(upstream, name: str) -> tuple[str, list[dict[str, Any]]]:
    """A running background response, stored as it was when first looked at."""
    events = scenario(name)
    response_id = upstream.add_stream(running(events), events)
    store.fetch_response(response_id)
    return response_id, events


def kept(response_id: str) -> list[int]:
    return list(
        StreamEvent.objects.filter(response_id=response_id)
        .order_by("sequence_number")
        .values_list("sequence_number", flat=True)
    )


def seqs(html: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb'data-seq="(\d+)"', html)]


def stream_requests(upstream) -> list[Any]:
    return [r for r in upstream.requests if r.url.params.get("stream") == "true"]


def test_replay_keeps_every_event_and_the_page_shows_the_assembled_text(logged_in, upstream):
    response_id, events = add(upstream, STORY)
    answer = logged_in.post(f"/responses/{response_id}/events/replay/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/responses/{response_id}/events/"
    assert kept(response_id) == list(range(len(events)))
    page = logged_in.get(f"/responses/{response_id}/events/")
    html = page.content.decode()
    assert seqs(page.content) == list(range(34))
    assert "34 events kept" in html
    assert "No gaps: every sequence number from #0 to #33 was received, each once." in html
    assert "Let me look up order **A-1042** for you — one moment." in html
    assert "✓ matches its .done event" in html
    assert "✓ matches the final item (response.completed)" in html
    assert "function-call argument delta" in html
    assert "The stream ended with <code>response.completed</code> at #33" in html
    # The stream finished while the stored copy said in_progress: it was fetched again.
    assert StoredResponse.objects.get(pk=response_id).status == "completed"


def test_the_stream_request_asks_for_every_include_without_obfuscation(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    [request] = stream_requests(upstream)
    params = request.url.params
    assert params["stream"] == "true"
    assert params["include_obfuscation"] == "false"
    assert "reasoning.encrypted_content" in params.get_list("include[]")
    assert "starting_after" not in params
    assert request.headers["accept"] == "application/json"


def test_model_text_in_deltas_is_escaped(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert "&lt;b&gt;Status&lt;/b&gt;" in html
    assert "<b>Status</b>" not in html


def test_a_re_replay_from_the_start_replaces_the_kept_events(logged_in, upstream):
    response_id, events = add(upstream, STORY)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    assert len(kept(response_id)) == 34
    upstream.streams[response_id] = events[:10]
    logged_in.post(f"/responses/{response_id}/events/replay/")
    assert kept(response_id) == list(range(10))


def test_a_replay_after_a_sequence_number_replaces_only_what_follows(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    first = dict(
        StreamEvent.objects.filter(response_id=response_id).values_list(
            "sequence_number", "received_at"
        )
    )
    logged_in.post(f"/responses/{response_id}/events/replay/", {"starting_after": "20"})
    assert stream_requests(upstream)[-1].url.params["starting_after"] == "20"
    again = dict(
        StreamEvent.objects.filter(response_id=response_id).values_list(
            "sequence_number", "received_at"
        )
    )
    assert sorted(again) == list(range(34))
    assert all(again[n] == first[n] for n in range(21))
    assert all(again[n] > first[n] for n in range(21, 34))


def test_a_failed_replay_keeps_the_timeline_it_would_have_replaced(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    upstream.responses[response_id]["background"] = False
    page = logged_in.post(f"/responses/{response_id}/events/replay/")
    assert page.status_code == 400
    assert len(kept(response_id)) == 34


def test_live_follow_resumes_after_a_drop_and_shows_each_event_once(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    page = logged_in.get(f"/responses/{response_id}/events/")
    assert 'hx-trigger="load delay:100ms, submit"' in page.content.decode()
    upstream.stream_drops = [12]
    follow = f"/responses/{response_id}/events/follow/"

    first = logged_in.post(follow, {"shown": "", "failures": "0", "quiet": "0"}, headers=HTMX)
    assert first.status_code == 200
    assert seqs(first.content) == list(range(12))
    text = first.content.decode()
    assert (
        "The connection to the upstream was lost after 12 new events: The connection dropped"
        in text
    )
    assert "Resuming after #11." in text
    assert '<input type="hidden" name="shown" value="11">' in text
    assert '<input type="hidden" name="dropped" value="1">' in text

    second = logged_in.post(
        follow, {"shown": "11", "failures": "0", "quiet": "0", "dropped": "1"}, headers=HTMX
    )
    assert stream_requests(upstream)[-1].url.params["starting_after"] == "11"
    assert seqs(second.content) == list(range(12, 34))
    text = second.content.decode()
    assert "Resumed after #11: 22 more events, none twice." in text
    assert "The stream ended with <code>response.completed</code> at #33." in text
    assert "load delay" not in text  # following stops at the terminal event
    assert kept(response_id) == list(range(34))
    whole = logged_in.get(f"/responses/{response_id}/events/")
    assert seqs(whole.content) == list(range(34))


def test_the_follow_answer_updates_the_status_counts_and_assembled_text_out_of_band(
    logged_in, upstream
):
    response_id, _ = add(upstream, STORY)
    logged_in.get(f"/responses/{response_id}/events/")
    answer = logged_in.post(f"/responses/{response_id}/events/follow/", {}, headers=HTMX)
    text = answer.content.decode()
    for target in (
        "events-status",
        "starting-after",
        "events-notice",
        "follow",
        "event-summary",
        "assembled",
    ):
        assert f'id="{target}"' in text
    assert text.count('hx-swap-oob="true"') == 6
    assert 'hx-swap-oob="beforeend:#read-log"' in text
    assert '<span id="events-status" class="badge status-completed" hx-swap-oob="true">' in text


def test_follow_without_htmx_reads_and_returns_to_the_page(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    logged_in.get(f"/responses/{response_id}/events/")
    answer = logged_in.post(f"/responses/{response_id}/events/follow/", {})
    assert answer.status_code == 302
    assert len(kept(response_id)) == 34


def test_keep_alive_comments_between_events_are_harmless(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    upstream.stream_keepalive = True
    logged_in.post(f"/responses/{response_id}/events/replay/")
    assert kept(response_id) == list(range(34))


def test_a_response_that_is_not_a_background_one_is_said_so_in_words(logged_in, upstream):
    events = scenario(STORY)
    body = {**running(events), "background": False, "status": "completed"}
    response_id = upstream.add_stream(body, events)
    store.fetch_response(response_id)
    page = logged_in.post(f"/responses/{response_id}/events/replay/")
    assert page.status_code == 400
    text = page.content.decode()
    assert "The upstream will not stream this response's events." in text
    assert (
        "This response cannot be streamed because it was not created with background=true." in text
    )
    assert "this one was not created in the background" in text
    assert "Not following: the upstream refused the stream." in text
    assert kept(response_id) == []


def test_a_live_response_the_upstream_refuses_to_stream_stops_following(logged_in, upstream):
    events = scenario(STORY)
    response_id = upstream.add_stream({**running(events), "background": False}, events)
    logged_in.get(f"/responses/{response_id}/events/")
    answer = logged_in.post(f"/responses/{response_id}/events/follow/", {}, headers=HTMX)
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "was not created with background=true" in text
    assert "load delay" not in text


def test_without_an_api_key_the_replay_says_which_variable_to_set(logged_in, upstream, settings):
    response_id, _ = add(upstream, STORY)
    logged_in.get(f"/responses/{response_id}/events/")
    settings.OPENAI_API_KEY = ""
    page = logged_in.post(f"/responses/{response_id}/events/replay/")
    assert page.status_code == 503
    assert "Set OPENAI_API_KEY" in page.content.decode()


def test_every_event_family_renders_with_mismatches_partial_images_and_progress(
    logged_in, upstream
):
    response_id, events = add(upstream, TOOLS)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert seqs(html.encode()) == list(range(len(events)))
    assert "1 mismatch" in html
    assert "✗ differs from its .done event at character 11" in html
    assert html.count('<img src="data:image/png;base64,iVBORw0KGgo') == 2
    assert "web search searching" in html
    assert "MCP tool listing failed" in html
    assert "I can&#x27;t help with that request." in html
    assert "base64 characters of audio" in html
    assert "Incomplete: max_output_tokens" in html
    assert "unknown event type" not in html


def test_unknown_event_types_are_kept_and_shown_as_json(logged_in, upstream):
    response_id, events = add(upstream, STORY)
    novel = {"type": "response.hologram_call.delta", "sequence_number": 34, "delta": "ls -la"}
    upstream.streams[response_id] = [*events[:-1], {**events[-1], "sequence_number": 35}]
    upstream.streams[response_id].insert(33, novel)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert "An event type this dashboard does not know yet" in html
    assert "response.hologram_call.delta" in html
    assert "ls -la" in html
    assert "Event #33 was never received." in html
    assert "1 event is missing: #33." in html


def test_the_events_json_twin_has_every_body_as_received(logged_in, upstream):
    response_id, events = add(upstream, STORY)
    logged_in.post(f"/responses/{response_id}/events/replay/")
    data = logged_in.get(f"/responses/{response_id}/events.json").json()
    assert data["response_id"] == response_id
    assert [e["event"] for e in data["events"]] == events
    assert data["events"][0]["received_ms"] == 0


def test_a_stored_response_without_events_offers_a_replay(logged_in, upstream):
    events = scenario(STORY)
    final = next(e["response"] for e in events if e["type"] == "response.completed")
    response_id = upstream.add_stream(final, events)
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert "No events kept for this response yet." in html
    assert "Not following: this response is completed." in html
    assert "load delay" not in html
    assert stream_requests(upstream) == []


def test_the_response_page_links_to_its_event_stream(logged_in, upstream):
    response_id, _ = add(upstream, STORY)
    html = logged_in.get(f"/responses/{response_id}/").content.decode()
    assert f'href="/responses/{response_id}/events/"' in html


def test_two_readers_of_one_stream_keep_each_event_once(upstream):
    response_id, _ = add(upstream, STORY)
    stored = StoredResponse.objects.get(pk=response_id)
    store.follow_events(stored)
    StreamEvent.objects.filter(response_id=response_id, sequence_number__gt=20).delete()
    # A second reader that started before the first kept anything reads it all again.
    result = store.replay_events(stored, None, replace=False)
    assert kept(response_id) == list(range(34))
    assert (result.kept, result.duplicates) == (13, 21)


def test_an_error_and_the_failed_response_after_it_are_both_kept_and_explained(logged_in, upstream):
    response_id, _ = add(upstream, "server_error_then_failed.json")
    result = store.replay_events(StoredResponse.objects.get(pk=response_id))
    assert (result.kept, result.ended) == (4, "terminal")
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert "An <code>error</code> event at #2 (<code>server_error</code>)" in html
    assert "Then <code>response.failed</code> at #3 gave the response's final state" in html
    assert "The stream ended with <code>response.failed</code> at #3" in html
    assert StoredResponse.objects.get(pk=response_id).status == "failed"


def test_a_stream_without_sequence_numbers_is_kept_in_arrival_order_and_says_so(
    logged_in, upstream
):
    response_id, events = add(upstream, STORY)
    upstream.streams[response_id] = [
        {k: v for k, v in e.items() if k != "sequence_number"} for e in events
    ]
    result = store.replay_events(StoredResponse.objects.get(pk=response_id))
    assert (result.kept, result.unsequenced) == (len(events), 0)
    page = logged_in.get(f"/responses/{response_id}/events/")
    html = page.content.decode()
    assert seqs(page.content) == list(range(len(events)))
    assert "None of these events carried a sequence number" in html
    assert "kept in the order they arrived, numbered by that order" in html
    assert "✓ matches its .done event" in html


def test_a_done_event_with_no_deltas_before_it_is_not_called_a_mismatch(logged_in, upstream):
    response_id, events = add(upstream, STORY)
    upstream.streams[response_id] = [
        e for e in events if e["type"] != "response.function_call_arguments.delta"
    ]
    logged_in.post(f"/responses/{response_id}/events/replay/")
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert "no deltas were sent: the whole value came in its .done event" in html
    assert "differs from its .done event" not in html


def test_shell_patch_compaction_and_steering_events_are_explained_in_words(logged_in, upstream):
    response_id, events = add(upstream, "codex_shell_patch_compaction_and_steering.json")
    logged_in.post(f"/responses/{response_id}/events/replay/")
    html = logged_in.get(f"/responses/{response_id}/events/").content.decode()
    assert seqs(html.encode()) == list(range(len(events)))
    assert "Command 1 of the shell call at output #0 begins; its text follows in deltas." in html
    assert "Shell command" in html and "· command 1" in html
    assert "1 failed, 1 passed in 0.21s" in html
    assert "exit code 1" in html
    assert "Patch diff" in html
    assert "compacting the context" in html
    assert "<code>apply_patch_call_output</code> for <code>call_ap_3Kd9</code>" in html
    assert "The steering input was refused (<code>too_many_pending_steers</code>)" in html
    assert "a successor (<code>steer_01</code>) continues with it" in html
    assert "mismatch" not in html
    assert "unknown event type" not in html


DEMO_RUNNING = "resp_c60cb322ee76670bcbd55e54cca1f0bea7987c993b921dbf"  # 32_background_…


def test_the_demo_ships_the_events_of_its_background_responses(logged_in):
    store.load_demo()
    store.load_demo()  # loading again replaces them, once each
    running = StoredResponse.objects.get(pk=DEMO_RUNNING)
    assert running.events.count() == 25
    html = logged_in.get(f"/responses/{DEMO_RUNNING}/events/").content.decode()
    assert "response.web_search_call.searching" in html
    assert "Look for 2025 installation statistics and subsidy (ISDE) changes for 2026." in html
    queued = StoredResponse.objects.get(status="queued", source="demo")
    assert list(queued.events.values_list("type", flat=True)) == [
        "response.created",
        "response.queued",
    ]


def test_a_response_not_made_in_the_background_offers_no_replay_and_says_why(logged_in):
    store.save_bundle(
        {"id": "resp_fg", "object": "response", "status": "completed", "background": False,
         "output": [], "tools": []}, [], source="demo",
    )  # fmt: skip
    html = logged_in.get("/responses/resp_fg/events/").content.decode()
    assert "/events/replay/" not in html
    assert '<button type="button" disabled aria-describedby="replay-why">' in html
    assert "Only a background response (created with background=true)" in html


def test_without_a_key_a_running_response_is_not_followed_and_says_why(logged_in, settings):
    settings.OPENAI_API_KEY = ""
    store.load_demo()
    html = logged_in.get(f"/responses/{DEMO_RUNNING}/events/").content.decode()
    assert "load delay" not in html
    assert "Not following live: reading the stream needs OPENAI_API_KEY" in html
    assert "/events/replay/" not in html
