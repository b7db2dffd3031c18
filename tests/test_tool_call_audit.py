"""The tool-call audit: flags per call, the index behind /tool-calls/, and that page."""

import io

import pytest
from django.core.management import call_command

from inspector import store, trace
from inspector.models import Run, ToolCall
from inspector.schemas import item_adapter
from inspector.schemas.tools import FunctionTool

ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "order": {"type": "string", "pattern": "^A-\\d{3}$"},
        "tracking": {"type": "boolean"},
    },
    "required": ["order"],
}


def tool(parameters=ORDER_SCHEMA, strict=False, name="lookup"):
    return FunctionTool(type="function", name=name, parameters=parameters, strict=strict)


def entry(raw, turn=1, where="output", position=0):
    return trace.Entry(turn, where, position, item_adapter.validate_python(raw))


def call(arguments, name="lookup", call_id="call_1"):
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


ANSWER = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}


@pytest.mark.parametrize(
    ("arguments", "strict", "flags"),
    [
        ('{"order": "A-123"}', False, []),
        ('{"order": "A-123", "tracking": true}', True, []),
        # strict mode: every property is required, and no others are allowed
        ('{"order": "A-123"}', True, ["schema"]),
        ('{"order": "A-123", "tracking": true, "extra": 1}', True, ["schema"]),
        ('{"order": "A-123", "extra": 1}', False, []),
        ('{"order": "B-1"}', False, ["schema"]),
        ('{"tracking": true}', False, ["schema"]),
        ('{"order": "A-1', False, ["bad-json"]),
        ("", False, ["bad-json"]),
    ],
)
def test_function_arguments_are_checked_against_the_declared_schema(arguments, strict, flags):
    audit = trace.audit_call(
        entry(call(arguments)), entry(ANSWER, 2, "input"), {"lookup": tool(strict=strict)}
    )
    assert audit.flags == flags


def test_a_schema_violation_says_where_and_why():
    audit = trace.audit_call(entry(call('{"order": "B-1"}')), None, {"lookup": tool()})
    assert audit.schema_error == 'order: "B-1" does not match "^A-\\d{3}$"'
    assert audit.flags == ["no-output", "schema"]


def test_a_call_to_a_function_that_was_not_declared_is_flagged():
    audit = trace.audit_call(entry(call("{}", name="drop_db")), None, {"lookup": tool()})
    assert audit.flags == ["no-output", "undeclared"]


def test_an_invalid_declared_schema_is_reported_not_raised():
    bad = tool(parameters={"type": "object", "properties": {"a": {"type": "no-such-type"}}})
    audit = trace.audit_call(entry(call('{"a": 1}')), None, {"lookup": bad})
    assert "schema" in audit.flags
    assert audit.schema_error.startswith("the declared schema is not valid JSON Schema")


def test_strict_mode_closes_nested_objects_and_requires_every_property():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}},
    }
    assert trace.strict_schema(schema) == {
        "type": "object",
        "properties": {
            "a": {
                "type": "object",
                "properties": {"b": {"type": "string"}},
                "required": ["b"],
                "additionalProperties": False,
            }
        },
        "required": ["a"],
        "additionalProperties": False,
    }


SHELL = {"id": "sh_1", "type": "shell_call", "call_id": "c_sh", "action": {"commands": ["ls"]}}
PATCH = {
    "id": "ap_1",
    "type": "apply_patch_call",
    "call_id": "c_ap",
    "operation": {"type": "delete_file", "path": "x"},
}


@pytest.mark.parametrize(
    ("raw", "answer", "flags"),
    [
        (
            SHELL,
            {
                "type": "shell_call_output",
                "call_id": "c_sh",
                "output": [
                    {"stdout": "", "stderr": "no", "outcome": {"type": "exit", "exit_code": 2}}
                ],
            },
            ["failed"],
        ),
        (
            SHELL,
            {
                "type": "shell_call_output",
                "call_id": "c_sh",
                "output": [{"stdout": "ok", "outcome": {"type": "exit", "exit_code": 0}}],
            },
            [],
        ),
        (
            SHELL,
            {
                "type": "shell_call_output",
                "call_id": "c_sh",
                "output": [{"outcome": {"type": "timeout"}}],
            },
            ["failed"],
        ),
        (
            PATCH,
            {"type": "apply_patch_call_output", "call_id": "c_ap", "status": "failed"},
            ["failed"],
        ),
        (PATCH, None, ["no-output"]),
        (
            {
                "id": "mcp_1",
                "type": "mcp_call",
                "server_label": "s",
                "name": "n",
                "arguments": "{}",
                "error": "down",
            },
            None,
            ["failed"],
        ),
        (
            {"id": "mcp_2", "type": "mcp_call", "server_label": "s", "name": "n", "arguments": "{"},
            None,
            ["bad-json"],
        ),
        ({"id": "ws_1", "type": "web_search_call", "status": "failed"}, None, ["failed"]),
        ({"id": "ws_2", "type": "web_search_call", "status": "completed"}, None, []),
    ],
)
def test_failures_and_missing_outputs_are_flagged_per_call_type(raw, answer, flags):
    answer_entry = entry(answer, 2, "input") if answer else None
    assert trace.audit_call(entry(raw), answer_entry, {}).flags == flags


REQUEST = {
    "id": "mcpr_1",
    "type": "mcp_approval_request",
    "server_label": "s",
    "name": "refund",
    "arguments": "{}",
}
APPROVED = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
DENIED = {**APPROVED, "approve": False, "reason": "too large"}
APPROVED_CALL = {
    "id": "mcp_9",
    "type": "mcp_call",
    "server_label": "s",
    "name": "refund",
    "arguments": "{}",
    "approval_request_id": "mcpr_1",
    "output": "done",
}


@pytest.mark.parametrize(
    ("raw", "answer", "approval", "flags", "verdict"),
    [
        (REQUEST, None, None, ["no-output", "approval"], "pending"),
        (REQUEST, APPROVED, None, ["approval"], "approved"),
        (REQUEST, DENIED, None, ["approval", "denied"], "denied"),
        (APPROVED_CALL, None, APPROVED, ["approval"], "approved"),
        (APPROVED_CALL, None, None, ["approval"], "pending"),
    ],
)
def test_mcp_calls_that_needed_approval_say_whether_they_got_it(
    raw, answer, approval, flags, verdict
):
    audit = trace.audit_call(
        entry(raw),
        entry(answer, 2, "input") if answer else None,
        {},
        item_adapter.validate_python(approval) if approval else None,
    )
    assert (audit.flags, audit.approval) == (flags, verdict)


@pytest.mark.parametrize(
    ("raw", "arguments"),
    [
        (call('{"a": 1}'), '{"a": 1}'),
        (
            {"type": "custom_tool_call", "call_id": "c", "name": "sql", "input": "SELECT 1"},
            "SELECT 1",
        ),
        (SHELL, "ls"),
        (
            {
                "id": "l",
                "type": "local_shell_call",
                "call_id": "c",
                "action": {"command": ["git", "status"]},
            },
            "git status",
        ),
        (PATCH, '{"type": "delete_file", "path": "x"}'),
        ({"id": "f", "type": "file_search_call", "queries": ["a", "b"]}, "a\nb"),
    ],
)
def test_call_arguments_read_as_text_per_type(raw, arguments):
    assert trace.call_arguments(item_adapter.validate_python(raw)) == arguments


# --- the index behind /tool-calls/ ---------------------------------------------------


def body(rid, output, previous=None, tools=()):
    return {
        "id": rid,
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "m",
        "status": "completed",
        "output": output,
        "tools": list(tools),
        "previous_response_id": previous,
    }


LOOKUP_TOOL = {"type": "function", "name": "lookup", "parameters": ORDER_SCHEMA, "strict": False}


@pytest.mark.django_db
@pytest.mark.parametrize("answer_first", [False, True])
def test_an_answer_in_the_next_response_reaches_the_indexed_call_in_either_order(answer_first):
    first = (body("resp_1", [call('{"order": "A-123"}')], tools=[LOOKUP_TOOL]), [])
    second = (body("resp_2", [], previous="resp_1"), [ANSWER])
    for bundle in [second, first] if answer_first else [first, second]:
        store.save_bundle(*bundle, source="import")
    row = ToolCall.objects.get()
    assert (row.response_id, row.name, row.answered, row.no_output, row.output) == (
        "resp_1",
        "lookup",
        True,
        False,
        "ok",
    )


@pytest.mark.django_db
def test_a_call_replayed_in_input_before_its_response_is_stored_ends_up_as_one_row():
    replay = [{"type": "message", "role": "user", "content": "hi"}, call("{}"), ANSWER]
    store.save_bundle(body("resp_replay", []), replay, source="import")
    assert list(ToolCall.objects.values_list("response_id", "where", "answered")) == [
        ("resp_replay", "input", True)
    ]
    store.save_bundle(body("resp_origin", [call("{}")]), [], source="import")
    assert list(ToolCall.objects.values_list("response_id", "where", "answered", "output")) == [
        ("resp_origin", "output", True, "ok")
    ]


@pytest.mark.django_db
def test_the_demo_is_indexed_with_its_approvals_failures_and_pairs():
    store.load_demo()
    refund = ToolCall.objects.get(type="mcp_approval_request", name="issue_refund")
    assert (refund.approval, refund.answered, refund.needs_approval) == ("approved", True, True)
    assert ToolCall.objects.get(type="mcp_call", name="list_refunds").failed
    lookup = ToolCall.objects.get(name="lookup_order")
    assert lookup.answered and not lookup.flag_labels
    assert ToolCall.objects.filter(type="computer_call", where="output", answered=True).count() == 9


@pytest.mark.django_db
def test_reindexing_rebuilds_the_same_rows():
    store.load_demo()
    before = sorted(ToolCall.objects.values_list("response_id", "where", "position", "answered"))
    ToolCall.objects.all().delete()
    out = io.StringIO()
    call_command("reindex_tool_calls", stdout=out)
    indexed, runs = out.getvalue().splitlines()
    assert indexed == f"indexed {len(before)} tool calls"
    assert runs == f"summed up {Run.objects.count()} runs"  # the runs count failed calls
    after = sorted(ToolCall.objects.values_list("response_id", "where", "position", "answered"))
    assert after == before


# --- the page ------------------------------------------------------------------------


def table(response):
    """The rows of the audit table, without the filter menus."""
    return response.content.decode().split("<tbody>")[1].split("</tbody>")[0]


@pytest.mark.django_db
def test_the_tool_calls_page_lists_every_indexed_call_with_filters_in_the_url(logged_in):
    store.load_demo()
    page = logged_in.get("/tool-calls/").content.decode()
    assert f"({ToolCall.objects.count()})" in page
    assert "issue_refund" in page
    by_name = table(logged_in.get("/tool-calls/?name=lookup_order"))
    assert "lookup_order" in by_name
    assert "issue_refund" not in by_name
    failed = table(logged_in.get("/tool-calls/?flag=failed"))
    assert "list_refunds" in failed
    assert "lookup_order" not in failed
    shells = table(logged_in.get("/tool-calls/?type=shell_call"))
    assert "shell_call" in shells
    assert "computer_call" not in shells


@pytest.mark.django_db
def test_the_tool_calls_page_paginates_and_keeps_the_filters(logged_in):
    for n in range(60):
        store.save_bundle(body(f"resp_{n:02d}", [call("{}", call_id=f"c{n}")]), [], source="import")
    first = logged_in.get("/tool-calls/?flag=no-output").content.decode()
    assert first.count('<tr class="call-row') == 50
    assert "?flag=no-output&amp;page=2" in first
    second = logged_in.get("/tool-calls/?flag=no-output&page=2").content.decode()
    assert second.count('<tr class="call-row') == 10


@pytest.mark.django_db
def test_hostile_tool_names_and_arguments_are_escaped(logged_in):
    store.load_demo()
    page = logged_in.get("/tool-calls/").content.decode()
    assert "<svg onload=alert(1)>" not in page
    assert "&lt;svg onload=alert(1)&gt;" in page


@pytest.mark.django_db
def test_the_trace_page_shows_the_audit_table_with_flags(logged_in):
    schema_break = call('{"order": "nope"}', call_id="call_x")
    store.save_bundle(body("resp_a", [schema_break], tools=[LOOKUP_TOOL]), [], source="import")
    page = logged_in.get("/responses/resp_a/trace/").content.decode()
    audit = page.split('id="audit-h"')[1].split("</section>")[0]
    assert "arguments break the tool&#x27;s schema" in audit
    assert "no output" in audit
    assert "order: &quot;nope&quot; does not match" in audit


def test_flags_are_listed_in_a_fixed_order_with_labels():
    assert [flag for flag, _ in trace.FLAGS] == [
        "no-output",
        "bad-json",
        "schema",
        "undeclared",
        "failed",
        "approval",
        "denied",
    ]
    assert store.TOOL_CALL_FLAG_CHOICES == trace.FLAGS


# --- hostile schemas: a response's tool definitions are data from outside ----------------


def test_a_catastrophic_pattern_gets_its_verdict_without_stalling():
    # Python's re takes hours on this (2^40 ways to split the a's); the check answers at once.
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}}
    problem = trace.schema_violation({"a": "a" * 40 + "!"}, schema, False)
    assert problem is not None and problem.startswith('a: "aaaa') and "does not match" in problem


def test_a_pattern_that_must_backtrack_stops_at_the_limit_and_says_so():
    schema = {"type": "string", "pattern": "^(?=a)(a|aa)+(?!b)$"}
    problem = trace.schema_violation("a" * 5_000 + "c", schema, False)
    assert problem is not None and "backtracking" in problem


@pytest.mark.parametrize("ref", ["https://schemas.example.com/order.json", "file:///etc/passwd"])
def test_a_ref_elsewhere_is_never_fetched(ref):
    problem = trace.schema_violation({"order": "A-1"}, {"$ref": ref}, False)
    assert problem is not None
    assert problem.startswith("the declared schema could not be checked:")
    assert "root:" not in problem


def test_a_local_ref_is_followed():
    schema = {"$defs": {"n": {"type": "integer"}}, "properties": {"n": {"$ref": "#/$defs/n"}}}
    assert trace.schema_violation({"n": 1}, schema, False) is None
    assert trace.schema_violation({"n": "1"}, schema, False) == 'n: "1" is not of type "integer"'


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
