"""The SSE parser, typed stream events, assembly from deltas, gaps and live-follow decisions.

Pure functions: no database, no network. Scenario streams live in tests/fixtures/events/, one
scenario per file, and are checked against the official openai package's event types.
"""

import json
import time
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai.types.responses as openai_responses
import pytest

from inspector import events
from inspector.client import APIUnavailable, Client, RequestRejected, UnexpectedPayload
from inspector.events import Follow, Gap, SSEMessage, SSEParser
from inspector.schemas.events import (
    EVENT_CLASSES,
    EVENT_TYPES,
    DeltaEvent,
    DoneEvent,
    LifecycleEvent,
    ProgressEvent,
    UnknownEvent,
    event_adapter,
)
from inspector.schemas.response import Response
from tests.upstream import FakeUpstream, serve

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "tests" / "fixtures" / "events").glob("*.json"))
TEMPLATES = ROOT / "templates" / "inspector" / "events"


def load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((ROOT / "tests/fixtures/events" / name).read_text())
    return data


def parse(*chunks: bytes | str) -> list[SSEMessage]:
    return list(events.parse_sse(chunks))


# --- the SSE parser ----------------------------------------------------------------------

SSE_CASES = [
    pytest.param([b"event: a\ndata: 1\n\n"], [SSEMessage("1", "a")], id="one event, LF line ends"),
    pytest.param([b"event: a\r\ndata: 1\r\n\r\n"], [SSEMessage("1", "a")], id="CRLF line ends"),
    pytest.param([b"event: a\rdata: 1\r\r"], [SSEMessage("1", "a")], id="CR-only line ends"),
    pytest.param(
        [b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n"],
        [SSEMessage("1"), SSEMessage("2")],
        id="CRLF split across chunks is one line end",
    ),
    pytest.param(
        [b"data: 1\r", b"\r"],
        [SSEMessage("1")],
        id="CR at a chunk end then CR is a blank line",
    ),
    pytest.param(
        [b"data: first\ndata: second\ndata:\ndata: fourth\n\n"],
        [SSEMessage("first\nsecond\n\nfourth")],
        id="multi-line data joined with LF, empty data lines kept",
    ),
    pytest.param(
        [b": keep-alive\n\n: another\ndata: 1\n\n:\n\n"],
        [SSEMessage("1")],
        id="comments and keep-alives dispatch nothing",
    ),
    pytest.param(
        [b"data:no-space\n\ndata:  two spaces\n\n"],
        [SSEMessage("no-space"), SSEMessage(" two spaces")],
        id="only one leading space is removed",
    ),
    pytest.param([b"data\n\n"], [SSEMessage("")], id="a field with no colon has an empty value"),
    pytest.param(
        [b"event: lonely\n\nid: 7\n\ndata: x\n\n"],
        [SSEMessage("x", None, "7")],
        id="blocks without data dispatch nothing; the event name does not carry over",
    ),
    pytest.param(
        [b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"],
        [SSEMessage("a", None, "1"), SSEMessage("b", None, "1"), SSEMessage("c", None, "")],
        id="the last event id carries over until reset",
    ),
    pytest.param([b"id: a\x00b\ndata: x\n\n"], [SSEMessage("x")], id="an id with NUL is ignored"),
    pytest.param(
        [b"foo: bar\nretry: 3000\ndata: x\n\n"],
        [SSEMessage("x")],
        id="unknown fields and retry do not become data",
    ),
    pytest.param(
        [b"data: last\n"],
        [SSEMessage("last", terminated=False)],
        id="final event without a trailing blank line",
    ),
    pytest.param(
        [b"data: last"],
        [SSEMessage("last", terminated=False)],
        id="final line without any line end",
    ),
    pytest.param(
        [b"\xef\xbb\xbfdata: bom\n\n"], [SSEMessage("bom")], id="a leading BOM is dropped"
    ),
    pytest.param(
        ["data: caf\u00e9\n", "\n"], [SSEMessage("caf\u00e9")], id="text chunks are accepted"
    ),
    pytest.param(
        [b"data: \xe2\x82", b"\xac\n\n"],
        [SSEMessage("\u20ac")],
        id="a UTF-8 character split across chunks survives",
    ),
    pytest.param(
        [b"data: \xff\n\n"], [SSEMessage("\ufffd")], id="invalid UTF-8 is replaced, not fatal"
    ),
    pytest.param([b"", b"\n\n\n", b""], [], id="empty chunks and blank lines alone"),
]


@pytest.mark.parametrize(("chunks", "expected"), SSE_CASES)
def test_sse_parser_reads_tricky_streams_exactly(chunks, expected):
    assert parse(*chunks) == expected


@pytest.mark.parametrize(("chunks", "expected"), SSE_CASES)
def test_sse_parser_gives_the_same_messages_when_fed_one_byte_at_a_time(chunks, expected):
    whole = b"".join(c.encode() if isinstance(c, str) else c for c in chunks)
    assert parse(*(whole[i : i + 1] for i in range(len(whole)))) == expected


def test_sse_parser_counts_comments_and_keeps_the_retry_value():
    parser = SSEParser()
    list(events.parse_sse([b": ping\n\n: ping\nretry: 2500\nretry: soon\ndata: x\n\n"], parser))
    assert parser.comments == 2
    assert parser.retry == 2500


# --- typed events ------------------------------------------------------------------------


def sse(*bodies: Any, tail: str = "\n\n") -> bytes:
    return "".join(
        f"event: {b.get('type', 'x') if isinstance(b, dict) else 'x'}\ndata: {json.dumps(b)}{tail}"
        for b in bodies
    ).encode()


def test_stream_events_are_typed_by_their_json_type():
    body = {
        "type": "response.output_text.delta",
        "sequence_number": 4,
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hi",
        "logprobs": [],
    }
    [event] = events.iter_events([sse(body)])
    assert isinstance(event, DeltaEvent)
    assert (event.sequence_number, event.delta) == (4, "Hi")
    assert event.wire == body


def test_a_done_sentinel_ends_the_stream():
    body = {"type": "response.in_progress", "sequence_number": 0, "response": {"id": "resp_1"}}
    chunks = [sse(body), b"data: [DONE]\n\n", sse({**body, "sequence_number": 1})]
    assert [e.sequence_number for e in events.iter_events(chunks)] == [0]


def test_unknown_event_types_become_unknown_events_that_keep_their_json():
    # A type no SDK knows yet (response.shell_call_command.delta was one, until openai 3.57).
    body = {"type": "response.hologram_call.delta", "sequence_number": 9, "delta": "ls"}
    [event] = events.iter_events([sse(body)])
    assert isinstance(event, UnknownEvent)
    assert event.type == "response.hologram_call.delta"
    assert events.sequence_of(event) == 9
    assert event.wire == body
    assert events.event_templates(event) == ["inspector/events/_unknown.html"]


def test_a_known_type_with_the_wrong_shape_is_unknown_with_the_reason():
    [event] = events.iter_events(
        [sse({"type": "response.output_text.delta", "sequence_number": 2})]
    )
    assert isinstance(event, UnknownEvent)
    assert "delta" in event.invalid_reason


def test_data_that_is_not_json_is_an_unknown_event_without_a_sequence_number():
    [event] = events.iter_events([b"event: weird\ndata: {not json\n\n"])
    assert isinstance(event, UnknownEvent)
    assert event.invalid_reason == "the data is not JSON"
    assert events.sequence_of(event) is None


def test_nan_is_not_json():
    [event] = events.iter_events([b'data: {"type": "error", "sequence_number": NaN}\n\n'])
    assert isinstance(event, UnknownEvent)


def test_a_truncated_last_event_is_dropped_so_the_reader_resumes_before_it():
    whole = sse({"type": "error", "sequence_number": 0, "message": "x"})
    cut = b'event: error\ndata: {"type": "error", "sequence_nu'
    assert [e.sequence_number for e in events.iter_events([whole, cut])] == [0]


def test_a_complete_last_event_without_a_blank_line_is_kept():
    body = {"type": "error", "sequence_number": 3, "message": "boom"}
    [event] = events.iter_events([f"data: {json.dumps(body)}\n".encode()])
    assert event.message == "boom"


def test_the_sse_event_name_stands_in_when_the_data_has_no_type():
    [event] = events.iter_events(
        [b'event: error\ndata: {"sequence_number": 1, "message": "m"}\n\n']
    )
    assert event.type == "error"
    assert event.wire == {"sequence_number": 1, "message": "m"}


def test_json_that_is_not_an_object_is_unknown():
    [event] = events.iter_events([b"event: x\ndata: [1, 2]\n\n"])
    assert isinstance(event, UnknownEvent)
    assert event.wire == [1, 2]


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), (0, 0), (-1, None), (True, None), ("4", None), (None, None)]
)
def test_only_non_negative_integers_are_sequence_numbers(value, expected):
    assert events.sequence_of(UnknownEvent(type="x", sequence_number=value)) == expected


# --- coverage: 53 types, one family each, a template per family ---------------------------


def test_the_spec_and_newer_apis_declare_64_event_types_and_each_has_one_class():
    # 53 in spec §6.2; 9 more in the openai SDK 3.57 (shell commands and output, compaction,
    # steering); 2 the API streams for apply_patch that the SDK does not define yet.
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 64
    assert set(EVENT_TYPES) == set(events.EVENT_LABELS)


def sdk_event_classes() -> dict[str, Any]:
    classes = {}
    for union in (openai_responses.ResponseStreamEvent, openai_responses.ResponsesServerEvent):
        for cls in typing.get_args(typing.get_args(union)[0]):
            classes.setdefault(cls.model_fields["type"].annotation.__args__[0], cls)
    return classes


#: Streamed by the API for apply_patch calls (openai-php's and OpenRouter's SDKs define
#: them: delta, item_id, output_index; the `.done` carries the whole `diff`), but not by
#: the openai SDK 3.57. test_the_openai_sdk_still_lacks_the_patch_diff_events fails once it
#: has them, and then this set should be emptied.
NOT_IN_THE_SDK = {
    "response.apply_patch_call_operation_diff.delta",
    "response.apply_patch_call_operation_diff.done",
}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_events_are_shapes_the_official_openai_package_accepts(path):
    classes = sdk_event_classes()
    for body in json.loads(path.read_text()):
        if body["type"] not in NOT_IN_THE_SDK:
            classes[body["type"]].model_validate(body)


def test_the_openai_sdk_still_lacks_the_patch_diff_events():
    assert NOT_IN_THE_SDK & set(sdk_event_classes()) == set()


def test_the_scenarios_together_use_every_spec_event_type_and_parse_to_known_classes():
    seen = set()
    for path in SCENARIOS:
        for body in json.loads(path.read_text()):
            event = event_adapter.validate_python(body)
            assert not isinstance(event, UnknownEvent), body["type"]
            seen.add(body["type"])
    assert seen == set(EVENT_TYPES)


def test_every_event_family_has_a_template_and_every_template_is_a_family():
    families = {cls.family for cls in EVENT_CLASSES}  # type: ignore[attr-defined]
    files = {p.stem for p in TEMPLATES.glob("*.html") if not p.stem.startswith("_")}
    assert families == files
    assert (TEMPLATES / "_unknown.html").exists()


def test_progress_events_name_their_tool_and_stage():
    event = event_adapter.validate_python(
        {"type": "response.mcp_list_tools.in_progress", "sequence_number": 1}
    )
    assert isinstance(event, ProgressEvent)
    assert (event.tool, event.stage) == ("mcp_list_tools", "in_progress")


# --- assembly ----------------------------------------------------------------------------


def typed(bodies: list[dict[str, Any]]) -> list[Any]:
    return [events.parse_event(b) for b in bodies]


def by_kind(assemblies: list[events.Assembly]) -> dict[str, events.Assembly]:
    return {a.kind: a for a in assemblies}


def test_texts_are_rebuilt_from_deltas_and_match_done_and_the_final_response():
    found = by_kind(
        events.assemble(typed(load("background_reasoning_answer_and_function_call.json")))
    )
    assert set(found) == {"reasoning_summary_text", "output_text", "function_call_arguments"}
    text = found["output_text"]
    assert text.text == (
        "Let me look up order **A-1042** for you — one moment. <b>Status</b> follows shortly 📦."
    )
    assert text.deltas == 8
    assert (text.done_check, text.final_check) == ("match", "match")
    assert text.final_source == "response.completed"
    assert found["function_call_arguments"].text == '{"order": "A-1042"}'
    assert not any(a.mismatch for a in found.values())


def test_every_streamed_kind_is_assembled_and_a_done_that_differs_is_marked():
    found = by_kind(events.assemble(typed(load("hosted_tools_refusal_and_audio_incomplete.json"))))
    assert set(found) == {
        "code_interpreter_call_code",
        "mcp_call_arguments",
        "reasoning_text",
        "custom_tool_call_input",
        "refusal",
    }
    assert found["refusal"].text == "I can't help with that request."
    assert found["code_interpreter_call_code"].final_check == "match"
    mcp = found["mcp_call_arguments"]
    assert mcp.text == '{"id": "T-7"}'
    assert (mcp.done_check, mcp.final_check) == ("mismatch", "mismatch")
    assert mcp.done_difference == 11
    assert mcp.mismatch


def delta(kind: str, seq: int, text: str, **where: Any) -> dict[str, Any]:
    return {"type": f"response.{kind}.delta", "sequence_number": seq, "delta": text, **where}


def done(kind: str, seq: int, **fields: Any) -> dict[str, Any]:
    return {"type": f"response.{kind}.done", "sequence_number": seq, **fields}


def completed(seq: int, output: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "response.completed",
        "sequence_number": seq,
        "response": {"id": "resp_1", "status": "completed", "output": output},
    }


def test_parts_of_one_item_are_kept_apart_by_content_and_summary_index():
    where = {"item_id": "msg_1", "output_index": 0}
    found = events.assemble(
        typed(
            [
                delta("output_text", 0, "A", content_index=0, **where),
                delta("output_text", 1, "B", content_index=1, **where),
                delta("output_text", 2, "a", content_index=0, **where),
                delta(
                    "reasoning_summary_text", 3, "s0", summary_index=0, item_id="rs", output_index=1
                ),
                delta(
                    "reasoning_summary_text", 4, "s1", summary_index=1, item_id="rs", output_index=1
                ),
            ]
        )
    )
    assert [(a.kind, a.part_index, a.text) for a in found] == [
        ("output_text", 0, "Aa"),
        ("output_text", 1, "B"),
        ("reasoning_summary_text", 0, "s0"),
        ("reasoning_summary_text", 1, "s1"),
    ]


def test_a_final_response_that_differs_from_the_deltas_is_a_mismatch_with_its_position():
    where = {"item_id": "fc_1", "output_index": 0}
    [args] = events.assemble(
        typed(
            [
                delta("function_call_arguments", 0, '{"a": 1', **where),
                delta("function_call_arguments", 1, "}", **where),
                done("function_call_arguments", 2, arguments='{"a": 1}', **where),
                completed(
                    3,
                    [
                        {
                            "type": "function_call",
                            "id": "fc_1",
                            "call_id": "c",
                            "name": "f",
                            "arguments": '{"a": 2}',
                        }
                    ],
                ),
            ]
        )
    )
    assert (args.done_check, args.final_check) == ("match", "mismatch")
    assert args.final_difference == 6


def test_the_final_item_is_found_by_id_when_its_index_moved():
    [code] = events.assemble(
        typed(
            [
                delta("code_interpreter_call_code", 0, "print(1)", item_id="ci_1", output_index=0),
                completed(
                    1,
                    [
                        {"type": "message", "id": "msg_x", "content": []},
                        {"type": "code_interpreter_call", "id": "ci_1", "code": "print(1)"},
                    ],
                ),
            ]
        )
    )
    assert code.final_check == "match"


def test_without_a_terminal_event_the_output_item_done_is_the_reference():
    where = {"item_id": "ctc_1", "output_index": 0}
    [custom] = events.assemble(
        typed(
            [
                delta("custom_tool_call_input", 0, "SELECT 1", **where),
                {
                    "type": "response.output_item.done",
                    "sequence_number": 1,
                    "output_index": 0,
                    "item": {
                        "type": "custom_tool_call",
                        "id": "ctc_1",
                        "call_id": "c",
                        "name": "sql",
                        "input": "SELECT 1",
                    },
                },
            ]
        )
    )
    assert (custom.done_check, custom.final_check) == ("missing", "match")
    assert custom.final_source == "response.output_item.done"


def test_a_finished_stored_response_is_the_reference_when_the_stream_has_none():
    [text] = events.assemble(
        typed([delta("output_text", 5, "Hi", item_id="m", output_index=0, content_index=0)]),
        final=Response.model_validate(
            {
                "id": "resp_1",
                "output": [
                    {
                        "type": "message",
                        "id": "m",
                        "content": [{"type": "output_text", "text": "Hi!"}],
                    }
                ],
            }
        ),
    )
    assert (text.final_check, text.final_source) == ("mismatch", "the stored response")


def test_a_refusal_is_not_compared_with_an_output_text_part_at_its_index():
    [refusal] = events.assemble(
        typed(
            [
                delta("refusal", 0, "No.", item_id="m", output_index=0, content_index=0),
                completed(
                    1,
                    [
                        {
                            "type": "message",
                            "id": "m",
                            "content": [{"type": "output_text", "text": "No."}],
                        }
                    ],
                ),
            ]
        )
    )
    assert refusal.final_check == "missing"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("abc", "abc", None), ("abc", "abd", 2), ("ab", "abc", 2), ("abc", "", 0), ("", "", None)],
)
def test_first_difference(a, b, expected):
    assert events.first_difference(a, b) == expected


# --- counts and gaps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "start", "expected"),
    [
        ([0, 1, 2], 0, []),
        ([0, 2, 3], 0, [Gap(1, 1)]),
        ([3, 4], 0, [Gap(0, 2)]),
        ([0, 1, 5, 9], 0, [Gap(2, 4), Gap(6, 8)]),
        ([9, 5, 0, 1, 5], 0, [Gap(2, 4), Gap(6, 8)]),
        ([3, 4], None, []),
        ([], 0, []),
    ],
)
def test_gaps_in_sequence_numbers_are_found(numbers, start, expected):
    assert events.find_gaps(numbers, start) == expected


def test_a_gap_counts_its_missing_events():
    assert Gap(6, 8).count == 3


def test_counts_per_type_list_the_most_frequent_first():
    counts = events.count_types(["b", "a", "response.output_text.delta", "a", "error"])
    assert [(c.type, c.count) for c in counts] == [
        ("a", 2),
        ("b", 1),
        ("error", 1),
        ("response.output_text.delta", 1),
    ]
    assert counts[3].label == "text delta"
    assert counts[0].label == "unknown event type"


# --- the timeline ------------------------------------------------------------------------

T0 = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


def records(bodies: list[dict[str, Any]], step_ms: int = 250) -> list[events.Record]:
    return [
        events.Record(b["sequence_number"], b["type"], b, T0 + timedelta(milliseconds=i * step_ms))
        for i, b in enumerate(bodies)
    ]


def test_the_timeline_times_each_event_from_the_first_and_flags_gaps_where_they_are():
    bodies = [
        b
        for b in load("background_reasoning_answer_and_function_call.json")
        if b["sequence_number"] not in (5, 6, 13)
    ]
    timeline = events.build_timeline(records(bodies))
    assert timeline.gaps == [Gap(5, 6), Gap(13, 13)]
    assert timeline.missing == 3
    assert [r.sequence_number for r in timeline.rows if r.gap] == [7, 14]
    assert timeline.rows[0].offset_ms == 0
    assert timeline.rows[2].offset_seconds == 0.5
    assert (timeline.terminal, timeline.status) == ("response.completed", "completed")
    assert timeline.mismatches == 1  # the summary lost two deltas


def test_rows_after_a_sequence_number_are_only_the_new_ones_with_whole_stream_summaries():
    timeline = events.build_timeline(records(load("server_error_then_failed.json")), after=1)
    assert [r.type for r in timeline.rows] == ["error", "response.failed"]
    assert timeline.total == 4
    assert {c.type: c.count for c in timeline.counts} == {
        "response.created": 1,
        "response.in_progress": 1,
        "error": 1,
        "response.failed": 1,
    }


def test_partial_images_become_data_urls_in_the_requested_format():
    bodies = [
        b
        for b in load("hosted_tools_refusal_and_audio_incomplete.json")
        if b["type"] == "response.image_generation_call.partial_image"
    ]
    rows = events.build_timeline(records(bodies), default_image_format="webp").rows
    assert [r.image_url[:30] for r in rows] == ["data:image/webp;base64,iVBORw0"] * 2


@pytest.mark.parametrize(
    ("b64", "fmt", "expected"),
    [
        ("iVBORw0KGgo=", None, "data:image/png;base64,iVBORw0KGgo="),
        ("iVBORw0KGgo=", "JPEG", "data:image/jpeg;base64,iVBORw0KGgo="),
        ("iVBORw0KGgo=", "tiff", "data:image/png;base64,iVBORw0KGgo="),
        ('x" onerror="alert(1)', None, None),
        ("", None, None),
        (None, None, None),
        ("A" * (events.MAX_INLINE_IMAGE + 4), None, None),
    ],
)
def test_partial_image_urls_are_only_built_from_capped_base64(b64, fmt, expected):
    assert events.partial_image_url(b64, fmt) == expected


def test_the_image_format_comes_from_the_image_generation_tool():
    response = Response.model_validate(
        {"id": "r", "tools": [{"type": "image_generation", "output_format": "jpeg"}]}
    )
    assert events.image_format(response) == "jpeg"
    assert events.image_format(Response.model_validate({"id": "r"})) is None


def test_lifecycle_snapshots_give_the_latest_status():
    timeline = events.build_timeline(records(load("server_error_then_failed.json")[:2]))
    assert (timeline.status, timeline.terminal) == ("in_progress", None)
    assert isinstance(timeline.rows[0].event, LifecycleEvent)


def test_done_events_expose_their_final_value_whatever_its_field():
    event = events.parse_event(done("custom_tool_call_input", 1, input="SELECT 1"))
    assert isinstance(event, DoneEvent)
    assert event.value == "SELECT 1"


# --- live following ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "terminal", "total", "expected"),
    [
        ("in_progress", None, 0, True),
        ("queued", None, 0, True),
        ("completed", None, 0, False),
        ("completed", None, 12, True),
        ("in_progress", "response.completed", 12, False),
    ],
)
def test_following_starts_for_a_live_response_or_an_unfinished_stream(
    status, terminal, total, expected
):
    assert events.follow_on_load(status=status, terminal=terminal, total=total) is expected


@pytest.mark.parametrize(
    ("ended", "status", "terminal", "failures", "expected"),
    [
        ("time", "in_progress", None, 0, True),
        ("dropped", "in_progress", None, 1, True),
        ("dropped", "in_progress", None, events.MAX_FOLLOW_FAILURES, False),
        ("terminal", "in_progress", "response.completed", 0, False),
        ("failed", "in_progress", None, 1, False),
        ("closed", "in_progress", None, 0, True),
        ("closed", "cancelled", None, 0, False),
        ("time", "completed", "error", 0, False),
    ],
)
def test_following_stops_at_a_terminal_event_a_refusal_or_too_many_failures(
    ended, status, terminal, failures, expected
):
    got = events.keep_following(ended=ended, status=status, terminal=terminal, failures=failures)
    assert got is expected


@pytest.mark.parametrize(
    ("ended", "failures", "quiet", "expected"),
    [
        ("time", 0, 0, 100),
        ("dropped", 0, 0, 100),
        ("dropped", 1, 0, 500),
        ("dropped", 3, 0, 2000),
        ("dropped", 9, 0, 8000),
        ("closed", 0, 0, 500),
        ("closed", 0, 2, 2000),
        ("closed", 0, 30, 8000),
    ],
)
def test_the_next_poll_starts_at_once_after_a_bounded_read_and_backs_off_otherwise(
    ended, failures, quiet, expected
):
    assert events.next_poll_delay_ms(ended=ended, failures=failures, quiet=quiet) == expected


def timeline_until(last: int | None, terminal: str | None = None) -> events.Timeline:
    return events.Timeline(
        [], [], [], [], 0 if last is None else last + 1, 0, last, 0, terminal, None
    )


def test_a_drop_after_new_events_resumes_at_once_and_a_drop_without_counts_as_a_failure():
    after_drop = events.follow_next(
        Follow(True, shown=4), ended="dropped", timeline=timeline_until(11), status="in_progress"
    )
    assert after_drop == Follow(True, shown=11, failures=0, quiet=0, dropped=True, delay_ms=100)
    again = events.follow_next(
        after_drop, ended="dropped", timeline=timeline_until(11), status="in_progress"
    )
    assert (again.active, again.failures, again.delay_ms) == (True, 1, 500)


def test_following_ends_when_the_terminal_event_arrives():
    state = events.follow_next(
        Follow(True, shown=11),
        ended="terminal",
        timeline=timeline_until(33, "response.completed"),
        status="completed",
    )
    assert (state.active, state.shown) == (False, 33)


# --- the client against the stand-in upstream ----------------------------------------------


def story_upstream() -> tuple[FakeUpstream, str, list[dict[str, Any]]]:
    stream = load("background_reasoning_answer_and_function_call.json")
    fake = FakeUpstream()
    body = next(e["response"] for e in stream if e["type"] == "response.in_progress")
    return fake, fake.add_stream(dict(body), stream), stream


def mock_client(fake: FakeUpstream) -> Client:
    return Client(
        api_key="sk-test", base_url="https://upstream.test/v1", transport=fake.transport()
    )


def test_stream_events_yields_typed_events_after_starting_after():
    fake, response_id, _ = story_upstream()
    got = list(mock_client(fake).stream_events(response_id, starting_after=30))
    assert [e.sequence_number for e in got] == [31, 32, 33]
    assert isinstance(got[-1], LifecycleEvent)
    assert fake.requests[-1].url.params["starting_after"] == "30"


def test_a_drop_mid_stream_raises_api_unavailable_after_the_events_before_it():
    fake, response_id, _ = story_upstream()
    fake.stream_drops = [5]
    got: list[int] = []
    with pytest.raises(APIUnavailable, match="dropped mid-stream"):
        for event in mock_client(fake).stream_events(response_id):
            got.append(event.sequence_number)
    assert got == [0, 1, 2, 3, 4]


def test_a_response_that_is_not_background_is_rejected_with_the_upstreams_words():
    fake, response_id, _ = story_upstream()
    fake.responses[response_id]["background"] = False
    with pytest.raises(RequestRejected) as caught:
        list(mock_client(fake).stream_events(response_id))
    assert caught.value.status_code == 400
    assert "not created with background=true" in caught.value.message


def test_a_json_answer_to_a_stream_request_is_an_unexpected_payload():
    fake, response_id, _ = story_upstream()
    fake.override = lambda request: httpx.Response(200, json={"id": response_id})
    with pytest.raises(UnexpectedPayload, match="text/event-stream"):
        list(mock_client(fake).stream_events(response_id))


def test_over_real_http_a_drop_closes_the_socket_mid_stream():
    fake, response_id, _ = story_upstream()
    fake.stream_drops = [7]
    with serve(fake) as url:
        api = Client(api_key="sk-test", base_url=url)
        got: list[int] = []
        with pytest.raises(APIUnavailable, match="RemoteProtocolError"):
            for event in api.stream_events(response_id):
                got.append(event.sequence_number)
        assert got == list(range(7))
        assert [e.sequence_number for e in api.stream_events(response_id, 6)] == list(range(7, 34))


def test_a_bounded_read_of_a_slow_stream_ends_quietly_at_its_time_bound():
    fake, response_id, _ = story_upstream()
    fake.stream_delay = 0.05
    with serve(fake) as url:
        api = Client(api_key="sk-test", base_url=url)
        started = time.monotonic()
        got = [e.sequence_number for e in api.stream_events(response_id, max_seconds=0.3)]
        elapsed = time.monotonic() - started
    assert 2 <= len(got) < 34
    assert got == list(range(len(got)))
    assert elapsed < 1.0


# --- newer than the spec: shell commands, patch diffs, no deltas, no sequence numbers -------


def test_shell_commands_and_patch_diffs_are_rebuilt_and_checked_against_the_final_items():
    found = events.assemble(typed(load("codex_shell_patch_compaction_and_steering.json")))
    commands = [a for a in found if a.kind == "shell_call_command"]
    assert [(a.part_index, a.text, a.deltas) for a in commands] == [
        (0, "pytest -q tests/test_dates.py", 2),
        (1, "git diff --stat", 2),
    ]
    assert all((a.done_check, a.final_check) == ("match", "match") for a in commands)
    [diff] = [a for a in found if a.kind == "apply_patch_operation_diff"]
    assert diff.text.startswith("@@ -10,3 +10,3 @@") and diff.deltas == 2
    assert (diff.done_check, diff.final_check) == ("match", "match")
    assert diff.final_source == "response.incomplete"
    assert len(found) == 3


def test_a_done_event_without_deltas_says_no_deltas_were_sent_not_a_mismatch():
    where = {"item_id": "fc_1", "output_index": 0}
    item = {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f"}
    [args] = events.assemble(
        typed(
            [
                done("function_call_arguments", 0, arguments='{"a": 1}', **where),
                completed(1, [{**item, "arguments": '{"a": 1}'}]),
            ]
        )
    )
    assert (args.deltas, args.no_deltas, args.done_check) == (0, True, "no_deltas")
    assert (args.text, args.final_check, args.mismatch) == ('{"a": 1}', "match", False)
    assert args.done_difference is None


def test_a_done_event_without_deltas_that_differs_from_the_final_item_is_still_a_mismatch():
    item = {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f"}
    [args] = events.assemble(
        typed(
            [
                done("function_call_arguments", 0, arguments="{}", item_id="fc_1", output_index=0),
                completed(1, [{**item, "arguments": '{"a": 1}'}]),
            ]
        )
    )
    assert (args.done_check, args.final_check, args.final_difference) == (
        "no_deltas",
        "mismatch",
        1,
    )


@pytest.mark.parametrize(
    ("kept", "starting_after", "expected"),
    [([], None, 0), ([0, 1, 2], None, 3), ([], 6, 7), ([7, 9], 6, 10)],
)
def test_an_event_without_a_sequence_number_is_numbered_after_the_last_kept(
    kept, starting_after, expected
):
    assert events.arrival_number(kept, starting_after) == expected


@pytest.mark.parametrize(
    ("kind", "ends"),
    [("response.completed", True), ("response.failed", True), ("error", False), ("x", False)],
)
def test_only_a_final_state_ends_a_stream_an_error_may_be_followed_by_one(kind, ends):
    assert events.ends_stream(kind) is ends


def test_events_without_sequence_numbers_parse_and_are_counted_on_the_timeline():
    bodies = [
        {"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
         "content_index": 0, "delta": "Par"},
        {"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
         "content_index": 0, "delta": "is"},
    ]  # fmt: skip
    rows = [events.Record(n, b["type"], b, T0) for n, b in enumerate(bodies)]
    timeline = events.build_timeline(rows)
    assert timeline.unsequenced == 2
    assert [type(r.event).__name__ for r in timeline.rows] == ["DeltaEvent", "DeltaEvent"]
    assert [r.event.sequence_number for r in timeline.rows] == [0, 1]
    assert timeline.assemblies[0].text == "Paris"


def test_an_error_followed_by_the_final_state_is_explained_with_both():
    timeline = events.build_timeline(records(load("server_error_then_failed.json")))
    assert timeline.terminal == "response.failed"
    error = timeline.error
    assert (error.sequence_number, error.code) == (2, "server_error")
    assert (error.then, error.then_sequence_number) == ("response.failed", 3)


def test_an_error_that_ends_the_stream_has_nothing_after_it():
    timeline = events.build_timeline(records(load("server_error_then_failed.json")[:3]))
    assert timeline.terminal == "error"
    assert (timeline.error.sequence_number, timeline.error.then) == (2, None)


def test_steering_shell_and_compaction_events_are_typed_in_their_families():
    families = {
        b["type"]: events.parse_event(b).family
        for b in load("codex_shell_patch_compaction_and_steering.json")
    }
    assert families["response.shell_call_command.added"] == "shell_command"
    assert families["response.shell_call_output_content.delta"] == "shell_output"
    assert families["response.compaction.compacting"] == "progress"
    assert {families[f"response.steer.{s}"] for s in ("accepted", "pending", "failed")} == {"steer"}
