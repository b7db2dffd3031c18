"""One notion of a problem on every page: each kind appears in the response page's Problems
box, in the list's badge and filter, on the trace and (a tool call's kinds) on /tool-calls/;
and a call answered in a later stored response links to that answer instead."""

import re
from typing import Any

import pytest
from django.utils.html import escape

from inspector import problems, store
from inspector.models import StoredResponse, ToolCall
from tests.factories import response_body

pytestmark = pytest.mark.django_db

LOOKUP = {"type": "function", "name": "lookup", "strict": True,
          "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}  # fmt: skip
SHELL = {"type": "shell_call", "id": "sh_1", "call_id": "call_sh",
         "action": {"commands": ["pytest -x"]}, "status": "completed"}  # fmt: skip


def shell_output(outcome: dict[str, Any], call_id: str = "call_sh") -> dict[str, Any]:
    return {"type": "shell_call_output", "id": f"sho_{call_id}", "call_id": call_id,
            "output": [{"stdout": "..F", "stderr": "", "outcome": outcome}]}  # fmt: skip


#: kind -> (response id, its body's fields, its input items): one response with that problem.
CASES: dict[str, tuple[str, dict[str, Any], list[Any]]] = {
    "error": ("resp_kind_error", {"status": "failed",
              "error": {"code": "server_error", "message": "The server broke"}}, []),
    "incomplete": ("resp_kind_incomplete", {"status": "incomplete",
                   "incomplete_details": {"reason": "max_output_tokens"},
                   "max_output_tokens": 64}, []),
    "failed-call": ("resp_kind_failed", {"output": [
        {"type": "mcp_call", "id": "mcp_f", "server_label": "billing", "name": "list_refunds",
         "arguments": "{}", "status": "failed", "error": "upstream timed out"}]}, []),
    "shell": ("resp_kind_shell", {"output": [
        SHELL, shell_output({"type": "exit", "exit_code": 1})]}, []),
    "refusal": ("resp_kind_refusal", {"output": [
        {"type": "message", "id": "msg_r", "role": "assistant",
         "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]}, []),
    "unanswered": ("resp_kind_unanswered", {"output": [
        {"type": "function_call", "id": "fc_u", "call_id": "call_u", "name": "lookup",
         "arguments": '{"n": 1}'}], "tools": [LOOKUP]}, []),
    "approval": ("resp_kind_approval", {"output": [
        {"type": "mcp_approval_request", "id": "mcpr_p", "server_label": "billing",
         "name": "issue_refund", "arguments": "{}"}]}, []),
    "arguments": ("resp_kind_arguments", {"output": [
        {"type": "function_call", "id": "fc_a", "call_id": "call_a", "name": "lookup",
         "arguments": '{"n": "seven"}'},
        {"type": "function_call_output", "id": "fco_a", "call_id": "call_a", "output": "ok"}],
        "tools": [LOOKUP]}, []),
}  # fmt: skip
#: The kinds a tool call can have (/tool-calls/ lists calls, not responses).
CALL_KINDS = ["failed-call", "shell", "unanswered", "approval", "arguments"]


def badge(kind: str) -> re.Pattern[str]:
    """The badge of a problem of `kind` in a Problems box (coloured by its level)."""
    label = re.escape(escape(problems.LABELS[kind]))
    return re.compile(rf'class="badge problem problem-{kind} (error|warning)">{label}<')


@pytest.fixture
def cases() -> None:
    for rid, fields, items in CASES.values():
        store.save_bundle(response_body(rid, **fields), items, source="import")
    store.save_bundle(response_body("resp_kind_none"), [], source="import")


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_in_the_problems_box_of_its_response(logged_in, cases, kind):
    rid = CASES[kind][0]
    html = logged_in.get(f"/responses/{rid}/").content.decode()
    box = html.split('id="errors-h"', 1)[1].split("</section>", 1)[0]
    assert badge(kind).search(box)
    assert "Go to it" in box or kind in ("error", "incomplete")
    assert 'id="errors-h"' not in logged_in.get("/responses/resp_kind_none/").content.decode()


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_a_badge_and_a_filter_of_the_list(logged_in, cases, kind):
    rid = CASES[kind][0]
    assert StoredResponse.objects.get(pk=rid).problems == f"\n{kind}\n"
    listed = logged_in.get("/", {"problem": kind}).content.decode()
    rows = listed.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rid in rows
    assert rows.count("<tr ") == 1
    assert f"problem-{kind}" in rows or kind == "error"  # a failed response shows its status


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_in_the_problems_of_the_trace(logged_in, cases, kind):
    rid = CASES[kind][0]
    html = logged_in.get(f"/responses/{rid}/trace/").content.decode()
    box = html.split('id="errors-h"', 1)[1].split("</section>", 1)[0]
    assert badge(kind).search(box)


@pytest.mark.parametrize("kind", CALL_KINDS)
def test_each_kind_of_call_problem_is_a_badge_and_a_filter_of_the_tool_calls(
    logged_in, cases, kind
):
    rid = CASES[kind][0]
    html = logged_in.get("/tool-calls/", {"problem": kind}).content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert f"/responses/{rid}/goto/?output=1" in rows
    assert rows.count('<tr class="call-row') == 1
    assert f'class="badge problem problem-{kind}"' in rows


def test_a_shell_call_says_exit_1_or_timed_out_not_completed(logged_in):
    timeout = {**SHELL, "id": "sh_2", "call_id": "call_t"}
    store.save_bundle(
        response_body("resp_shells", output=[
            SHELL, shell_output({"type": "exit", "exit_code": 1}),
            timeout, shell_output({"type": "timeout"}, "call_t")]),
        [], source="import",
    )  # fmt: skip
    assert sorted(ToolCall.objects.values_list("status", flat=True)) == ["exit 1", "timed out"]
    rows = logged_in.get("/tool-calls/").content.decode().split("<tbody>", 1)[1]
    assert ">exit 1</span>" in rows and ">timed out</span>" in rows
    assert ">completed</span>" not in rows
    page = logged_in.get("/responses/resp_shells/").content.decode()
    assert "Output item 1, shell “pytest -x”: exit 1" in page
    assert "Output item 3, shell “pytest -x”: timed out" in page


def test_the_filter_of_each_call_kind_keeps_exactly_the_calls_of_that_kind(cases):
    for kind, match in store.TOOL_CALL_PROBLEMS.items():
        filtered = set(ToolCall.objects.filter(match).values_list("pk", flat=True))
        judged = {row.pk for row in ToolCall.objects.all() if kind in problems.row_kinds(row)}
        assert filtered == judged, kind
    assert set(store.TOOL_CALL_PROBLEMS) == set(CALL_KINDS)


# --- answers found in later responses --------------------------------------------------------

CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup",
        "arguments": '{"n": 1}', "status": "completed"}  # fmt: skip
ANSWER = {"type": "function_call_output", "id": "fco_1", "call_id": "call_1",
          "output": "THE-ANSWER"}  # fmt: skip


def test_a_call_answered_in_the_next_response_links_to_its_answer_and_is_no_problem(logged_in):
    store.save_bundle(response_body("resp_ask", output=[CALL], tools=[LOOKUP]), [], source="import")
    assert StoredResponse.objects.get(pk="resp_ask").problems == "\nunanswered\n"
    store.save_bundle(
        response_body("resp_next", previous_response_id="resp_ask"),
        [{"type": "message", "role": "user", "content": "before"}, ANSWER],
        source="import",
    )
    assert StoredResponse.objects.get(pk="resp_ask").problems == ""
    assert "/?problem=unanswered" not in logged_in.get("/?problem=unanswered").content.decode()
    html = logged_in.get("/responses/resp_ask/").content.decode()
    assert 'id="errors-h"' not in html
    card = html.split('id="item-fc_1"', 1)[1].split("</article>", 1)[0]
    assert "THE-ANSWER" in card
    assert 'href="/responses/resp_next/goto/?input=2">in a later response' in card
    assert "Not answered in this response" not in card
    markdown = logged_in.get("/responses/resp_ask.md").content.decode()
    assert "answered in a later response, `resp_next` input item 2" in markdown
    assert "NO OUTPUT" not in markdown
    calls = logged_in.get("/tool-calls/").content.decode()
    assert 'href="/responses/resp_next/goto/?input=2">the answer, in a later response' in calls


def test_a_call_replayed_with_its_answer_elsewhere_links_there_too(logged_in):
    """A manual replay: no previous_response_id, the call and its answer in the input."""
    store.save_bundle(
        response_body("resp_made", output=[CALL], tools=[LOOKUP]), [], source="import"
    )
    store.save_bundle(response_body("resp_replay"), [CALL, ANSWER], source="import")
    html = logged_in.get("/responses/resp_made/").content.decode()
    card = html.split('id="item-fc_1"', 1)[1].split("</article>", 1)[0]
    assert 'href="/responses/resp_replay/goto/?input=2">in a later response' in card
    assert "NO OUTPUT" not in logged_in.get("/responses/resp_made.md").content.decode()


def test_the_trace_of_a_turn_answered_later_links_to_that_answer(logged_in):
    store.save_bundle(
        response_body("resp_made", output=[CALL], tools=[LOOKUP]), [], source="import"
    )
    store.save_bundle(response_body("resp_replay"), [CALL, ANSWER], source="import")
    html = logged_in.get("/responses/resp_made/trace/").content.decode()
    assert "no later turn of this trace answers it" not in html
    assert 'href="/responses/resp_replay/goto/?input=2">in a later response' in html
    assert "Turn 1: Output item 1, lookup: no answer" not in html
