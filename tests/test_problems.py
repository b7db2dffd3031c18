"""What went wrong (inspector/problems.py): one notion of a problem, tables of cases for each
kind, the words it is said in, and how the list keeps the kinds."""

import pytest

from inspector import problems, rendering, trace
from inspector.schemas import Response, item_adapter


def item(raw):
    return item_adapter.validate_python(raw)


def response(**fields):
    return Response.model_validate({"id": "resp_1", "output": [], **fields})


# --- the response and its items -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "failure"),
    [
        ({"type": "mcp_call", "id": "m", "status": "failed", "error": "down"}, "failed: down"),
        (
            {"type": "mcp_call", "id": "m", "status": "completed", "error": {"message": "x"}},
            "error: x",
        ),
        (
            {
                "type": "apply_patch_call_output",
                "call_id": "c",
                "status": "failed",
                "output": "no such file",
            },
            "failed: no such file",
        ),
        ({"type": "function_call", "call_id": "c", "name": "f", "status": "completed"}, None),
    ],
)
def test_failed_items_say_why(raw, failure):
    assert problems.item_failure(item(raw)) == failure


@pytest.mark.parametrize(
    ("fields", "texts"),
    [
        (
            {"status": "failed", "error": {"code": "server_error", "message": "Sorry"}},
            ["The response failed (server_error): Sorry"],
        ),
        (
            {
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "max_output_tokens": 1200,
                "usage": {
                    "input_tokens": 1,
                    "output_tokens": 1200,
                    "total_tokens": 1201,
                    "output_tokens_details": {"reasoning_tokens": 832},
                },
            },
            [
                "Stopped at the output limit: max_output_tokens is 1,200 and 1,200 tokens were"
                " generated (832 of them reasoning)."
            ],
        ),
        (
            {"status": "incomplete", "incomplete_details": {"reason": "content_filter"}},
            ["Stopped by the content filter: the output was cut where the filter fired."],
        ),
        ({"status": "cancelled"}, ["The response was cancelled before it finished."]),
        ({"status": "completed"}, []),
    ],
)
def test_problems_are_said_in_words(fields, texts):
    assert [p.text for p in problems.of_response(response(**fields))] == texts


def test_failed_calls_are_problems_with_a_link_to_them():
    failed = item(
        {"type": "mcp_call", "id": "mcp_1", "name": "list_refunds", "status": "failed",
         "arguments": "{}", "error": "timeout"}
    )  # fmt: skip
    audit = trace.audit_call(trace.Entry(1, "output", 4, failed, response_id="resp_1"), None, {})
    (problem,) = problems.of_audit(audit)
    assert (problem.kind, problem.level) == ("failed-call", "error")
    assert problem.text == "Output item 5, list_refunds: failed: timeout"
    assert problem.anchor == "item-mcp_1"


def test_an_item_that_failed_and_is_no_call_is_a_problem_with_a_link_to_it():
    listed = item({"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "billing",
                   "error": {"message": "401 from the server"}})  # fmt: skip
    (problem,) = problems.of_items([rendering.Row(listed, "output", 0, "resp_1")])
    assert problem.kind == "failed-call"
    assert problem.text == "Output item 1, billing: error: 401 from the server"
    assert problem.anchor == "item-mcpl_1"


def test_a_refusal_is_a_problem_of_its_message():
    refused = response(
        output=[{"type": "message", "id": "msg_1", "role": "assistant",
                 "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]
    )  # fmt: skip
    (problem,) = problems.own(refused)
    assert (problem.kind, problem.level, problem.anchor) == ("refusal", "warning", "")
    assert problem.text == "Output item 1, assistant message: refused: “I can't help with that.”"


# --- tool calls: one verdict, fresh or as the index keeps it --------------------------------

SHELL = {
    "type": "shell_call",
    "id": "sh_1",
    "call_id": "c_sh",
    "action": {"commands": ["make test"]},
}


def shell_output(*outcomes):
    return item({"type": "shell_call_output", "call_id": "c_sh",
                 "output": [{"stdout": "", "outcome": o} for o in outcomes]})  # fmt: skip


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ([{"type": "exit", "exit_code": 0}], "exit 0"),
        ([{"type": "exit", "exit_code": 0}, {"type": "exit", "exit_code": 2}], "exit 2"),
        ([{"type": "exit", "exit_code": 1}, {"type": "timeout"}], "timed out"),
        ([], ""),
    ],
)
def test_a_shell_output_says_how_its_commands_ended(outcomes, status):
    assert trace.shell_status(shell_output(*outcomes)) == status


@pytest.mark.parametrize(
    ("output", "status", "failed"),
    [
        ('{"output": "ok", "metadata": {"exit_code": 0}}', "exit 0", False),
        ('{"output": "boom", "metadata": {"exit_code": 2}}', "exit 2", True),
        ("plain text, no exit code", "", False),
    ],
)
def test_a_local_shell_output_says_its_exit_code(output, status, failed):
    answer = item({"type": "local_shell_call_output", "id": "c", "output": output})
    assert trace.shell_status(answer) == status
    assert trace.is_failed(answer) is failed


def audit(call, answer=None, functions=None):
    entry = trace.Entry(1, "output", 0, item(call), response_id="resp_1")
    partner = trace.Entry(1, "output", 1, answer, response_id="resp_1") if answer else None
    return trace.audit_call(entry, partner, functions or {})


NUMBER = {"type": "object", "properties": {"n": {"type": "integer"}}}
LOOKUP = trace.declared_functions(
    response(
        tools=[{"type": "function", "name": "lookup", "strict": True, "parameters": NUMBER}]
    ).tools
)


@pytest.mark.parametrize(
    ("made", "kinds", "text"),
    [
        (audit(SHELL, shell_output({"type": "exit", "exit_code": 1})), ["shell"],
         "Output item 1, shell “make test”: exit 1"),
        (audit(SHELL, shell_output({"type": "timeout"})), ["shell"],
         "Output item 1, shell “make test”: timed out"),
        (audit(SHELL), ["unanswered"],
         "Output item 1, shell: no answer in this response or any stored one"),
        (audit({"type": "mcp_approval_request", "id": "mcpr_1", "name": "refund",
                "server_label": "billing", "arguments": "{}"}), ["approval"],
         "Output item 1, refund: waits for approval (no mcp_approval_response is stored)"),
        (audit({"type": "mcp_approval_request", "id": "mcpr_1", "name": "refund",
                "server_label": "billing", "arguments": "{}"},
               item({"type": "mcp_approval_response", "approval_request_id": "mcpr_1",
                     "approve": False})), ["approval"],
         "Output item 1, refund: approval denied"),
        (audit({"type": "function_call", "call_id": "c", "name": "lookup",
                "arguments": '{"n": "x"}'}, item({"type": "function_call_output",
                "call_id": "c", "output": "ok"}), LOOKUP), ["arguments"],
         "Output item 1, lookup: the arguments break the tool's schema: "
         'n: "x" is not of type "integer"'),
        (audit({"type": "function_call", "call_id": "c", "name": "lookup", "arguments": "{"},
               item({"type": "function_call_output", "call_id": "c", "output": "ok"}), LOOKUP),
         ["arguments"], "Output item 1, lookup: the arguments are not valid JSON"),
        (audit({"type": "function_call", "call_id": "c", "name": "lookup",
                "arguments": '{"n": 1}'}, item({"type": "function_call_output",
                "call_id": "c", "output": "ok"}), LOOKUP), [], None),
    ],
)  # fmt: skip
def test_each_kind_of_call_problem_is_said_in_words(made, kinds, text):
    found = problems.of_audit(made)
    assert problems.kinds(found) == kinds
    assert [p.text for p in found] == ([text] if text else [])


def test_a_kept_call_has_the_same_problems_as_a_fresh_one():
    fresh = audit(SHELL, shell_output({"type": "exit", "exit_code": 1}))
    flags = set(fresh.flags)

    class Row:  # a ToolCall row as the index writes it from that audit
        type, name, arguments, status, output = "shell_call", "shell", "make test", "exit 1", ""
        failed, no_output, bad_json, breaks_schema = "failed" in flags, False, False, False
        schema_error, approval, where, position = "", "", "output", 0

    assert problems.of_row(Row()) == problems.of_audit(fresh, anchor="")
    assert problems.row_kinds(Row()) == ["shell"]


# --- the list's column ------------------------------------------------------------------------


def test_kinds_are_kept_in_one_order_and_read_back():
    column = problems.column(["unanswered", "error", "shell", "error"])
    assert column == "\nerror\nshell\nunanswered\n"
    assert problems.from_column(column) == ["error", "shell", "unanswered"]
    assert problems.column([]) == ""
    assert problems.from_column("\nnot-a-kind\n") == []


def test_answerable_kinds_are_only_those_a_later_answer_takes_away():
    assert {"unanswered", "approval"} == problems.ANSWERABLE
    assert set(problems.LABELS) >= problems.ANSWERABLE
