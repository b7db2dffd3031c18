"""trace.py: calls paired with their answers, approvals with their requests, references."""

import pytest

from inspector import trace
from inspector.schemas import Response, item_adapter


def items(*raws):
    return [item_adapter.validate_python(raw) for raw in raws]


FC = {"type": "function_call", "call_id": "call_1", "name": "get_order", "arguments": "{}"}
FCO = {"type": "function_call_output", "call_id": "call_1", "output": "{}"}
CTC = {"type": "custom_tool_call", "call_id": "call_2", "name": "run_sql", "input": "SELECT 1"}
CTCO = {"type": "custom_tool_call_output", "call_id": "call_2", "output": "1"}
CC = {"id": "cu_1", "type": "computer_call", "call_id": "call_3", "action": {"type": "wait"}}
CCO = {
    "type": "computer_call_output",
    "call_id": "call_3",
    "output": {"type": "computer_screenshot", "file_id": "file-1"},
}
SH = {"id": "sh_1", "type": "shell_call", "call_id": "call_4", "action": {"commands": ["ls"]}}
SHO = {"id": "sho_1", "type": "shell_call_output", "call_id": "call_4", "output": []}
AP = {
    "id": "apc_1",
    "type": "apply_patch_call",
    "call_id": "call_5",
    "operation": {"type": "delete_file", "path": "a"},
}
APO = {"id": "apco_1", "type": "apply_patch_call_output", "call_id": "call_5", "status": "failed"}
LSH = {"id": "lsh_1", "type": "local_shell_call", "call_id": "call_6", "action": {"command": []}}
LSHO_BY_CALL_ID = {"type": "local_shell_call_output", "id": "call_6", "output": "{}"}
LSHO_BY_ID = {"type": "local_shell_call_output", "id": "lsh_1", "output": "{}"}
MAR = {"id": "mcpr_1", "type": "mcp_approval_request", "server_label": "s", "name": "refund"}
MAA = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
MCP = {
    "id": "mcp_1",
    "type": "mcp_call",
    "server_label": "s",
    "name": "refund",
    "approval_request_id": "mcpr_1",
}


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (FC, FCO),
        (CTC, CTCO),
        (CC, CCO),
        (SH, SHO),
        (AP, APO),
        (LSH, LSHO_BY_CALL_ID),
        (LSH, LSHO_BY_ID),
        (MAR, MAA),
    ],
)
def test_each_call_pairs_with_its_answer_in_either_order(call, answer):
    for order in ((call, answer), (answer, call)):
        parsed = items(*order)
        by_type = {i.type: i for i in parsed}
        pairs = trace.pair(parsed)
        assert pairs.answer_to(by_type[call["type"]]) is by_type[answer["type"]]
        assert pairs.call_of(by_type[answer["type"]]) is by_type[call["type"]]


def test_an_unanswered_call_has_no_answer():
    (call,) = items(FC)
    assert trace.pair([call]).answer_to(call) is None


def test_an_answer_never_pairs_with_a_call_of_another_kind_sharing_its_call_id():
    shell_output = {**SHO, "call_id": "call_1"}
    call, answer = items(FC, shell_output)
    pairs = trace.pair([call, answer])
    assert pairs.answer_to(call) is None
    assert pairs.call_of(answer) is None


def test_the_first_answer_wins_when_a_call_id_repeats():
    call, first, second = items(FC, {**FCO, "output": "first"}, {**FCO, "output": "second"})
    assert trace.pair([call, first, second]).answer_to(call).output == "first"


def test_items_that_are_neither_call_nor_answer_pair_with_nothing():
    (message,) = items({"type": "message", "role": "user", "content": "hi"})
    pairs = trace.pair([message])
    assert pairs.answer_to(message) is None
    assert pairs.call_of(message) is None
    assert trace.call_keys(message) == []
    assert trace.answer_key(message) is None


def test_an_approved_mcp_call_finds_its_approval_request():
    request, call = items(MAR, MCP)
    assert trace.pair([request, call]).approval_request_of(call) is request


def test_an_item_reference_finds_the_item_with_that_id():
    target, reference = items(SH, {"type": "item_reference", "id": "sh_1"})
    pairs = trace.pair([reference, target])
    assert pairs.referenced(reference) is target


def test_a_reference_or_a_local_shell_output_is_never_found_by_its_borrowed_id():
    reference, output = items({"type": "item_reference", "id": "x"}, LSHO_BY_CALL_ID)
    pairs = trace.pair([reference, output])
    assert pairs.by_id == {}


def test_entries_keep_their_context_through_item_of():
    call, answer = items(FC, FCO)
    entries = [("turn 1", call), ("turn 2", answer)]
    pairs = trace.pair(entries, item_of=lambda entry: entry[1])
    assert pairs.answer_to(call) == ("turn 2", answer)


def test_pairs_of_two_turns_merge_into_one():
    call, answer = items(FC, FCO)
    merged = trace.pair([call]).merge(trace.pair([answer]))
    assert merged.answer_to(call) is answer


@pytest.mark.parametrize(
    ("raw", "call_ids", "ids", "approval_ids", "types"),
    [
        (FC, {"call_1"}, set(), set(), {"function_call_output"}),
        (FCO, {"call_1"}, set(), set(), {"function_call"}),
        (LSH, set(), {"call_6", "lsh_1"}, set(), {"local_shell_call_output"}),
        (LSHO_BY_CALL_ID, {"call_6"}, {"call_6"}, set(), {"local_shell_call"}),
        (MAR, set(), set(), {"mcpr_1"}, {"mcp_approval_response"}),
        (MAA, set(), {"mcpr_1"}, set(), {"mcp_approval_request"}),
        (MCP, set(), {"mcpr_1"}, set(), {"mcp_approval_request"}),
    ],
)
def test_wanted_names_what_to_look_up_for_each_kind(raw, call_ids, ids, approval_ids, types):
    want = trace.wanted(items(raw))
    assert set(want.call_ids) == call_ids
    assert set(want.ids) == ids
    assert set(want.approval_ids) == approval_ids
    assert set(want.types) == types


def test_wanted_is_empty_when_everything_is_already_paired():
    parsed = items(FC, FCO, MAR, MAA)
    assert not trace.wanted(parsed, trace.pair(parsed))


def test_wanted_asks_for_the_target_of_an_item_reference():
    want = trace.wanted(items({"type": "item_reference", "id": "msg_9"}))
    assert want.reference_ids == {"msg_9"}


# --- tool search and programs (newer than the seeds) ---------------------------------------

TSC_CLIENT = {"id": "tsc_1", "type": "tool_search_call", "call_id": "call_7", "execution": "client"}
TSO_CLIENT = {"id": "tso_1", "type": "tool_search_output", "call_id": "call_7", "tools": []}
TSC_SERVER = {"id": "tsc_2", "type": "tool_search_call", "call_id": None, "execution": "server"}
TSO_SERVER = {"id": "tso_2", "type": "tool_search_output", "call_id": None, "execution": "server"}
PROGRAM = {"id": "prg_1", "type": "program", "call_id": "call_8", "code": "return 1;"}
PROGRAM_OUTPUT = {"id": "prgo_1", "type": "program_output", "call_id": "call_8", "result": "1"}


@pytest.mark.parametrize(("call", "answer"), [(TSC_CLIENT, TSO_CLIENT), (PROGRAM, PROGRAM_OUTPUT)])
def test_a_client_tool_search_and_a_program_pair_by_call_id_in_either_order(call, answer):
    for order in ((call, answer), (answer, call)):
        found = trace.pair(items(*order))
        call_item, answer_item = items(call, answer)
        assert found.answer_to(call_item).id == answer_item.id
        assert found.call_of(answer_item).id == call_item.id


def test_a_server_tool_search_pairs_with_the_output_right_after_it():
    call, output = items(TSC_SERVER, TSO_SERVER)
    found = trace.pair([call, output])
    assert found.answer_to(call) is output
    assert found.call_of(output) is call


def test_a_server_tool_search_output_pairs_only_with_the_call_just_before_it():
    call, message, output = items(TSC_SERVER, {"role": "user", "content": "hi"}, TSO_SERVER)
    found = trace.pair([call, message, output])
    assert found.answer_to(call) is None
    assert found.call_of(output) is None
    assert trace.pair([output, call]).answer_to(call) is None


def test_server_tool_search_pairs_survive_a_merge():
    call, output = items(TSC_SERVER, TSO_SERVER)
    merged = trace.Pairs().merge(trace.pair([call, output]))
    assert merged.answer_to(call) is output and merged.call_of(output) is call


@pytest.mark.parametrize(
    ("call", "answer", "arguments", "output"),
    [
        (TSC_SERVER, TSO_SERVER, "null", "loaded: no tools"),
        (
            {**TSC_CLIENT, "arguments": {"paths": ["crm"]}},
            TSO_CLIENT,
            '{"paths": ["crm"]}',
            "loaded: no tools",
        ),
        (PROGRAM, PROGRAM_OUTPUT, "return 1;", "1"),
    ],
)
def test_the_audit_reads_what_a_tool_search_or_a_program_asked_and_got(
    call, answer, arguments, output
):
    call_item, answer_item = items(call, answer)
    audit = trace.audit_call(
        trace.Entry(0, "output", 0, call_item), trace.Entry(0, "output", 1, answer_item), {}
    )
    assert (audit.arguments, audit.output, audit.flags) == (arguments, output, [])


def test_a_tool_search_with_no_output_is_flagged_like_any_unanswered_call():
    (call_item,) = items(TSC_CLIENT)
    audit = trace.audit_call(trace.Entry(0, "output", 0, call_item), None, {})
    assert audit.flags == ["no-output"]
    assert audit.name == "tool_search"


def test_a_call_that_does_not_fit_its_class_still_pairs_and_is_audited_by_its_type():
    """A function_call whose arguments are an object, not a JSON string (some gateways send
    that): the page shows it as an unknown item, and it still pairs with its output."""
    call, answer = items({**FC, "arguments": {"id": 1}}, FCO)
    assert call.invalid_reason
    pairs = trace.pair([call, answer])
    assert pairs.answer_to(call) is answer
    assert pairs.call_of(answer) is call
    response = Response.model_validate({"id": "resp_1", "output": [{**FC, "arguments": {}}, FCO]})
    built = trace.build_trace([(response, None, [])])
    (audit,) = built.calls
    assert audit.answer is not None and "bad-json" in audit.flags
