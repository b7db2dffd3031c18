"""Markdown transcripts of a response and a trace, and the trace bundle's round trip."""

import io
import json
import re

import pytest
from django.core.management import call_command

from inspector import notes, store, transcript
from inspector.models import InputItem, Note, StoredResponse, ToolCall
from tests.factories import response_body, user_items

SUPPORT_LAST = "resp_07f7f8ee6cb1bd0e84eb40bb0f7febc5b7005c11b19f2f16"
MCP_LAST = "resp_897fce9ecbd1712"  # prefix of demo 10 (approved refund)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("plain", "`plain`"),
        ("a `tick`", "`` a `tick` ``"),
        ("``", "``` `` ```"),
        ("two\nlines", "`two lines`"),
        ("", "``"),
        (None, "``"),
    ],
)
def test_code_spans_cannot_be_closed_by_what_they_hold(text, span):
    assert transcript.code(text) == span


@pytest.mark.parametrize(
    ("text", "language", "block"),
    [
        ("x", "json", "```json\nx\n```"),
        ("has ``` inside", "", "````\nhas ``` inside\n````"),
        ("trailing\n\n", "text", "```text\ntrailing\n```"),
    ],
)
def test_fenced_blocks_use_a_fence_longer_than_any_inside(text, language, block):
    assert transcript.fenced(text, language) == block


@pytest.mark.django_db
def test_the_trace_transcript_has_every_turn_tool_calls_outputs_reasoning_and_usage(logged_in):
    store.load_demo()
    answer = logged_in.get(f"/responses/{SUPPORT_LAST}/trace.md")
    assert answer["Content-Type"] == "text/markdown; charset=utf-8"
    assert answer["X-Content-Type-Options"] == "nosniff"
    text = answer.content.decode()
    assert text.startswith(f"# Trace of 3 turns ending at `{SUPPORT_LAST}`")
    assert text.count("\n## Turn ") == 3
    assert (
        "**function_call `lookup_order` `call_RJFQd0PD1CLTpPKRTLgGdPwZ` (completed)"
        " → answered in turn 2**" in text
    )
    assert '```json\n{"order_number": "A-10442", "include_tracking": true}\n```' in text
    assert "**function_call_output for `call_RJFQd0PD1CLTpPKRTLgGdPwZ` (call in turn 1)" in text
    assert "**reasoning summary**\n\n```text\n**Looking up the order first**" in text
    assert "(encrypted only, " in text
    assert "- input: 1,184 tokens (1,024 cached, 86 %)" in text
    assert "running total" in text
    assert "&quot;" not in text


@pytest.mark.django_db
def test_a_response_transcript_is_one_turn(logged_in):
    store.load_demo()
    text = logged_in.get(f"/responses/{SUPPORT_LAST}.md").content.decode()
    assert text.startswith(f"# Response {SUPPORT_LAST}")
    assert text.count("\n## Turn ") == 1
    assert "Good news: order **A-10442** was delivered" in text


def outside_code(markdown):
    """The Markdown with fenced blocks and code spans taken out."""
    kept, fence = [], None
    for line in markdown.splitlines():
        if fence:
            fence = None if line == fence else fence
            continue
        if opening := re.match(r"^(`{3,})", line):
            fence = opening.group(1)
            continue
        kept.append(re.sub(r"(`+)(.+?)\1", "", line))
    return "\n".join(kept)


@pytest.mark.django_db
def test_hostile_text_stays_inside_code_in_the_transcript(logged_in):
    store.load_demo()
    hostile = StoredResponse.objects.get(pk__startswith="resp_600cba6")
    text = logged_in.get(f"/responses/{hostile.id}.md").content.decode()
    assert "<svg onload=alert(1)>" in text
    assert "<" not in outside_code(text)


@pytest.mark.django_db
def test_notes_appear_in_the_transcript(logged_in, user):
    store.load_demo()
    stored = StoredResponse.objects.get(pk=SUPPORT_LAST)
    notes.add_note(stored, "", "Customer was told the wrong date ```", user)
    text = logged_in.get(f"/responses/{SUPPORT_LAST}/trace.md").content.decode()
    assert "### Notes" in text
    assert "````text\nCustomer was told the wrong date ```\n````" in text


@pytest.mark.django_db
def test_exports_of_unknown_responses_are_404(logged_in):
    for url in ("/responses/resp_nope.md", "/responses/resp_nope/trace.md"):
        assert logged_in.get(url).status_code == 404
    assert logged_in.get("/responses/resp_nope/trace.json").status_code == 404


def snapshot():
    """Everything stored that a round trip must keep, in a comparable form."""
    return {
        "responses": sorted(
            StoredResponse.objects.values_list(
                "id", "body", "input_items_complete", "review_status", "reviewed_by_name"
            )
        ),
        "items": sorted(InputItem.objects.values_list("response_id", "position", "body")),
        "notes": sorted(Note.objects.values_list("response_id", "anchor", "author_name", "text")),
        "calls": sorted(
            ToolCall.objects.values_list("response_id", "where", "position", "answered", "output")
        ),
    }


@pytest.mark.django_db
def test_a_trace_bundle_read_back_into_an_empty_store_loses_nothing(logged_in, user, tmp_path):
    store.load_demo()
    last = StoredResponse.objects.get(pk__startswith="resp_c4881f9").id  # 10-turn CUA run
    notes.add_note(StoredResponse.objects.get(pk=last), "", "flag: clicked the wrong row", user)
    notes.set_review(StoredResponse.objects.get(pk=last), "flagged", user)
    exported = logged_in.get(f"/responses/{last}/trace.json")
    bundle = exported.json()
    assert bundle["kind"] == "responses-inspector.trace"
    assert bundle["version"] == 1
    assert len(bundle["responses"]) == 10
    ids = [b["response"]["id"] for b in bundle["responses"]]
    StoredResponse.objects.exclude(pk__in=ids).delete()
    before = snapshot()
    markdown = logged_in.get(f"/responses/{last}/trace.md").content
    StoredResponse.objects.all().delete()
    assert snapshot()["responses"] == []
    path = tmp_path / "trace.json"
    path.write_bytes(exported.content)
    out = io.StringIO()
    call_command("import_responses", str(path), stdout=out)
    assert "10 imported, 0 updated, 0 skipped, 0 failed" in out.getvalue()
    assert snapshot() == before
    assert logged_in.get(f"/responses/{last}/trace.md").content == markdown
    assert logged_in.get(f"/responses/{last}/trace.json").json() == bundle


@pytest.mark.django_db
def test_a_trace_bundle_with_a_bad_responses_list_fails_its_line_only():
    lines = [
        json.dumps({"kind": "responses-inspector.trace", "version": 1, "responses": "nope"}),
        json.dumps(
            {
                "kind": "responses-inspector.trace",
                "version": 1,
                "responses": [
                    {
                        "kind": "responses-inspector.bundle",
                        "response": {"id": "resp_ok", "output": []},
                    }
                ],
            }
        ),
    ]
    report = store.import_lines(lines)
    assert report.imported == 1
    assert report.failures == [(1, "a trace bundle's responses must be a list")]


# --- the JSON twin of a response -------------------------------------------------------------

RID = "resp_views0123"


def test_the_json_twin_returns_the_stored_bundle(logged_in, upstream):
    store.save_bundle(response_body(RID), user_items(3), source="import")
    response = logged_in.get(f"/responses/{RID}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    bundle = json.loads(response.content)
    assert bundle["kind"] == store.BUNDLE_KIND
    assert bundle["response"] == response_body(RID)
    assert bundle["input_items"] == user_items(3)
    assert upstream.requests == []


def test_the_json_twin_of_an_unstored_id_is_404_without_fetching(logged_in, upstream):
    assert logged_in.get("/responses/resp_unknown.json").status_code == 404
    assert upstream.requests == []


@pytest.mark.django_db
def test_the_transcript_says_in_words_what_tools_settings_and_compaction_come_in(logged_in):
    store.load_demo()
    text = logged_in.get("/responses/resp_73475cb40a568e8da8a045ced110137e159f890ac4da883b.md")
    text = text.content.decode()
    assert "From here on, more tools are available: function page_oncall." in text
    assert "From here on, reasoning effort becomes high" in text
    assert "Asks the API to compact the conversation here." in text
    assert '"type": "additional_tools"' not in text  # no JSON dump of them
