"""The store: fetch-and-keep (exact bodies, all items, partial failure, resume, concurrency),
bundles, imports with bad lines, the export/import round trip, and the key mask and scrub
that walk only where one dump shows they may find something."""

import contextlib
import io
import json
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from django.db import connection

from inspector import scrub, store
from inspector.client import NotFound
from inspector.models import InputItem, StoredResponse
from inspector.store import rows
from tests.hostile import JSON_ODD
from tests.upstream import FakeUpstream

pytestmark = pytest.mark.django_db


def served(response_id: str = "resp_store", **extra: Any) -> dict[str, Any]:
    """A response body whose key order is not alphabetical, with an unknown nested field."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1767225600,
        "status": "completed",
        "zz_newer_field": {"b": 2, "a": 1, "c": [3, {"y": 1, "x": 0}]},
        "model": "gpt-5",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": 1.0,
        **extra,
    }


def message(i: int, item_id: str | None = None) -> dict[str, Any]:
    return {
        "id": item_id or f"msg_{i}",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": f"hello {i}"}],
    }


def items(n: int) -> list[dict[str, Any]]:
    return [message(i) for i in range(n)]


def after_of(request: httpx.Request) -> str | None:
    return parse_qs(request.url.query.decode()).get("after", [None])[0]


def kept_ids(response_id: str) -> list[str]:
    return list(
        InputItem.objects.filter(response_id=response_id)
        .order_by("position")
        .values_list("item_id", flat=True)
    )


def kept_positions(response_id: str) -> list[int]:
    return list(
        InputItem.objects.filter(response_id=response_id)
        .order_by("position")
        .values_list("position", flat=True)
    )


def fail_after(item_id: str) -> Any:
    """An override: the input-items page after `item_id` answers 500, however often asked."""

    def override(request: httpx.Request) -> httpx.Response | None:
        if after_of(request) == item_id:
            return httpx.Response(500, json={"error": {"message": "The server had an error."}})
        return None

    return override


# --- fetch and keep -----------------------------------------------------------------------


def test_fetch_keeps_the_body_exactly_as_served_and_every_item_in_order(upstream):
    body = served()
    upstream.add(body, items(250))
    store.fetch_response("resp_store")
    stored = StoredResponse.objects.get(pk="resp_store")
    # Compared as text: key order, nesting and number spelling all as served.
    assert json.dumps(stored.body) == json.dumps(body)
    assert type(stored.body["created_at"]) is int
    assert stored.body["temperature"] == 1.0
    assert type(stored.body["temperature"]) is float
    assert list(stored.body["zz_newer_field"]) == ["b", "a", "c"]
    assert stored.input_items_count == 250
    assert stored.input_items_complete
    assert stored.input_items_error == ""
    assert kept_positions("resp_store") == list(range(250))
    assert kept_ids("resp_store") == [f"msg_{i}" for i in range(250)]
    rows = StoredResponse.objects.filter(pk="resp_store").values_list("body", flat=True)
    assert json.dumps(rows[0]) == json.dumps(body)
    first = InputItem.objects.get(response_id="resp_store", position=0)
    assert first.body == message(0)
    assert first.type == "message"


def test_fetch_fills_the_indexed_columns(upstream, user):
    body = served(
        "resp_columns",
        status="failed",
        completed_at=1767225660,
        previous_response_id="resp_prev",
        conversation={"id": "conv_123"},
        error={"code": "server_error", "message": "The model failed."},
        usage={
            "input_tokens": 1200,
            "input_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 7},
            "output_tokens": 300,
            "output_tokens_details": {"reasoning_tokens": 200},
            "total_tokens": 1500,
        },
        output=[
            {"id": "rs_1", "type": "reasoning", "summary": []},
            {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_1",
                "name": "lookup_order",
                "arguments": "{}",
            },
            {"id": "ws_1", "type": "web_search_call", "status": "completed"},
            {
                "id": "mcp_1",
                "type": "mcp_call",
                "server_label": "shop",
                "name": "refund",
                "arguments": "{}",
            },
            {
                "id": "fc_2",
                "type": "function_call",
                "call_id": "call_2",
                "name": "lookup_order",
                "arguments": "{}",
            },
        ],
    )
    upstream.add(body, [])
    stored = store.fetch_response("resp_columns", user=user)
    stored = StoredResponse.objects.get(pk="resp_columns")
    assert stored.model == "gpt-5"
    assert stored.status == "failed"
    assert stored.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert stored.completed_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert stored.previous_response_id == "resp_prev"
    assert stored.conversation_id == "conv_123"
    assert (stored.input_tokens, stored.cached_tokens) == (1200, 1000)
    assert (stored.output_tokens, stored.reasoning_tokens) == (300, 200)
    assert stored.total_tokens == 1500
    assert stored.tool_name_list == ["lookup_order", "web_search", "refund"]
    assert stored.error_code == "server_error"
    assert stored.source == StoredResponse.Source.API
    assert stored.fetched_by == user


def test_second_view_reads_the_store_and_makes_no_request(upstream, logged_in):
    upstream.add(served(), items(3))
    assert logged_in.get("/responses/resp_store/").status_code == 200
    assert len(upstream.requests) == 2
    assert logged_in.get("/responses/resp_store/").status_code == 200
    assert len(upstream.requests) == 2


def test_refetch_replaces_the_body_and_the_items_in_place(upstream):
    upstream.add(served(status="in_progress"), items(150))
    first = store.fetch_response("resp_store")
    upstream.add(served(status="completed", model="gpt-5-mini"), [message(7, "msg_new")])
    store.fetch_response("resp_store")
    stored = StoredResponse.objects.get(pk="resp_store")
    assert stored.body["status"] == "completed"
    assert stored.model == "gpt-5-mini"
    assert stored.fetched_at > first.fetched_at
    assert kept_ids("resp_store") == ["msg_new"]
    assert stored.input_items_count == 1
    assert StoredResponse.objects.count() == 1


def test_a_failure_midway_keeps_the_first_page_and_says_why_then_resume_completes_it(upstream):
    upstream.add(served(), items(250))
    upstream.override = fail_after("msg_99")
    stored = store.fetch_response("resp_store")
    assert stored.input_items_count == 100
    assert not stored.input_items_complete
    assert "down or too slow" in stored.input_items_error
    assert "The server had an error." in stored.input_items_error
    assert kept_ids("resp_store") == [f"msg_{i}" for i in range(100)]
    # 1 response + page 1 + page 2 tried 3 times (2 retries)
    assert len(upstream.requests) == 5

    upstream.override = None
    upstream.requests.clear()
    stored = store.resume_input_items(StoredResponse.objects.get(pk="resp_store"))
    assert [after_of(r) for r in upstream.requests] == ["msg_99", "msg_199"]
    assert stored.input_items_complete
    assert stored.input_items_error == ""
    assert stored.input_items_count == 250
    assert kept_positions("resp_store") == list(range(250))
    assert kept_ids("resp_store") == [f"msg_{i}" for i in range(250)]


def test_a_failing_resume_keeps_what_it_added_and_can_be_resumed_again(upstream):
    upstream.add(served(), items(250))
    upstream.override = fail_after("msg_99")
    store.fetch_response("resp_store")
    upstream.override = fail_after("msg_199")
    stored = store.resume_input_items(StoredResponse.objects.get(pk="resp_store"))
    assert stored.input_items_count == 200
    assert not stored.input_items_complete
    upstream.override = None
    stored = store.resume_input_items(stored)
    assert kept_ids("resp_store") == [f"msg_{i}" for i in range(250)]
    assert stored.input_items_complete


def test_resuming_a_complete_response_makes_no_request(upstream):
    upstream.add(served(), items(3))
    stored = store.fetch_response("resp_store")
    upstream.requests.clear()
    store.resume_input_items(stored)
    assert upstream.requests == []
    assert stored.input_items_count == 3


def test_resume_after_an_item_without_an_id_fetches_the_items_again(upstream):
    no_ids = [{"type": "message", "role": "user", "content": "hi"}] * 2
    store.save_bundle(served(), no_ids, source="import", complete=False)
    upstream.add(served(), items(3))
    stored = store.resume_input_items(StoredResponse.objects.get(pk="resp_store"))
    assert after_of(upstream.requests[0]) is None
    assert kept_ids("resp_store") == ["msg_0", "msg_1", "msg_2"]
    assert stored.input_items_complete


def test_fetch_of_an_unknown_id_raises_not_found_and_keeps_nothing(upstream):
    with pytest.raises(NotFound):
        store.fetch_response("resp_missing")
    assert not StoredResponse.objects.exists()


def test_fetch_refuses_a_bad_id_before_any_request(upstream):
    with pytest.raises(ValueError, match="letters, digits"):
        store.fetch_response("../x")
    assert upstream.requests == []


# --- concurrency ----------------------------------------------------------------------------


class Overlap:
    """A slow upstream where the first request of each of `parties` threads waits for the
    others (up to 10 s), so their fetches certainly overlap; records the most in flight."""

    def __init__(self, fake: FakeUpstream, parties: int = 2, delay: float = 0.02) -> None:
        self.lock = threading.Lock()
        self.rendezvous = threading.Barrier(parties)
        self.arrived = 0
        self.in_flight = 0
        self.most = 0
        self.delay = delay
        fake.override = self

    def __call__(self, request: httpx.Request) -> None:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            first = self.arrived < self.rendezvous.parties
            self.arrived += 1
        if first:
            # Each thread asks one request at a time, so the first `parties` requests come
            # from different threads; a fetch that serialised them would time out here.
            with contextlib.suppress(threading.BrokenBarrierError):
                self.rendezvous.wait(timeout=10)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1


def run_together(count: int, work: Any) -> list[BaseException]:
    """Run `work()` in `count` threads released at once; each closes its DB connection."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_fetches_of_the_same_id_at_once_end_with_one_row_and_one_item_set(upstream):
    upstream.add(served(), items(250))
    overlap = Overlap(upstream)
    errors = run_together(2, lambda: store.fetch_response("resp_store"))
    assert errors == []
    assert overlap.most >= 2
    assert StoredResponse.objects.count() == 1
    stored = StoredResponse.objects.get()
    assert stored.input_items_complete
    assert stored.input_items_count == 250
    assert kept_positions("resp_store") == list(range(250))
    assert kept_ids("resp_store") == [f"msg_{i}" for i in range(250)]


@pytest.mark.django_db(transaction=True)
def test_two_resumes_at_once_never_append_the_same_page_twice(upstream):
    upstream.add(served(), items(250))
    upstream.override = fail_after("msg_99")
    store.fetch_response("resp_store")
    overlap = Overlap(upstream)
    errors = run_together(
        2, lambda: store.resume_input_items(StoredResponse.objects.get(pk="resp_store"))
    )
    assert errors == []
    assert overlap.most >= 2
    stored = StoredResponse.objects.get()
    assert stored.input_items_complete
    assert stored.input_items_count == 250
    assert kept_positions("resp_store") == list(range(250))
    assert kept_ids("resp_store") == [f"msg_{i}" for i in range(250)]


# --- bundles --------------------------------------------------------------------------------


def test_save_bundle_says_imported_updated_or_skipped():
    body, kept = served(), items(3)
    assert store.save_bundle(body, kept, source="import") == "imported"
    assert store.save_bundle(body, kept, source="import") == "skipped"
    assert store.save_bundle(body, None, source="import") == "skipped"
    assert store.save_bundle(body, items(4), source="import") == "updated"
    assert store.save_bundle(body, items(4), source="import", complete=False) == "updated"
    assert store.save_bundle(served(status="failed"), items(4), source="import") == "updated"
    stored = StoredResponse.objects.get()
    assert stored.status == "failed"
    assert stored.input_items_complete
    assert kept_ids("resp_store") == ["msg_0", "msg_1", "msg_2", "msg_3"]


def test_save_bundle_keeps_a_bundle_whole_or_not_at_all():
    with pytest.raises(ValueError, match="letters, digits"):
        store.save_bundle(served("../x"), items(2), source="import")
    assert not StoredResponse.objects.exists()
    assert not InputItem.objects.exists()


def test_negative_or_huge_token_counts_are_kept_in_the_body_but_not_the_columns():
    usage = {"input_tokens": -5, "output_tokens": 2**70, "total_tokens": 10}
    assert store.save_bundle(served(usage=usage), [], source="import") == "imported"
    stored = StoredResponse.objects.get()
    assert (stored.input_tokens, stored.output_tokens, stored.total_tokens) == (None, None, 10)
    assert stored.body["usage"]["output_tokens"] == 2**70


# --- imports --------------------------------------------------------------------------------


def lines(text: str) -> io.BytesIO:
    """What iterating a file opened with "rb" gives: byte lines."""
    return io.BytesIO(text.encode())


def bundle(body: dict[str, Any], input_items: list[Any]) -> dict[str, Any]:
    return {"kind": store.BUNDLE_KIND, "version": 1, "response": body, "input_items": input_items}


def test_import_of_one_pretty_printed_json_object():
    report = store.import_lines(lines(json.dumps(served("resp_one"), indent=2)))
    assert (report.imported, report.failures) == (1, [])
    assert StoredResponse.objects.get().source == StoredResponse.Source.IMPORT


def test_import_of_a_json_array_reports_failures_by_position():
    doc = [served("resp_a"), {"object": "list"}, bundle(served("resp_b"), items(2))]
    report = store.import_lines(lines(json.dumps(doc, indent=1)))
    assert report.imported == 2
    assert report.failures == [(2, "neither a Response object nor a responses-inspector bundle")]
    assert kept_ids("resp_b") == ["msg_0", "msg_1"]


def test_import_of_jsonl_keeps_valid_lines_and_gives_each_failure_its_line_and_reason():
    text = "\n".join(
        [
            json.dumps(served("resp_ok1")),
            '{"id": "resp_broken", "object": ',
            "",
            json.dumps({"object": "list", "data": []}),
            json.dumps(served("../etc/passwd")),
            json.dumps(served("resp_badtype", created_at="yesterday")),
            json.dumps(bundle(served("resp_ok2"), items(3))),
            '{"id": "resp_nan", "object": "response", "created_at": NaN}',
            json.dumps(bundle(served("resp_baditem"), [message(1), "not an item"])),
            "[1, 2]",
        ]
    )
    report = store.import_lines(lines(text + "\n"))
    assert (report.imported, report.updated, report.skipped) == (2, 0, 0)
    assert sorted(StoredResponse.objects.values_list("id", flat=True)) == ["resp_ok1", "resp_ok2"]
    assert kept_ids("resp_ok2") == ["msg_0", "msg_1", "msg_2"]
    reasons = dict(report.failures)
    assert [number for number, _ in report.failures] == [2, 4, 5, 6, 8, 9, 10]
    assert reasons[2].startswith("invalid JSON")
    assert reasons[4] == "neither a Response object nor a responses-inspector bundle"
    assert "letters, digits" in reasons[5]
    assert reasons[6].startswith("not a valid response: created_at:")
    assert "NaN is not a JSON value" in reasons[8]
    assert reasons[9] == "input_items[1] is not a JSON object"
    assert reasons[10] == "expected a JSON object, got list"
    assert report.summary() == "2 imported, 0 updated, 0 skipped, 7 failed"


def test_import_reads_jsonl_with_a_byte_order_mark_and_refuses_lines_that_are_not_utf8():
    data = (
        b"\xef\xbb\xbf"
        + json.dumps(served("resp_bom")).encode()
        + b"\n"
        + json.dumps(served("resp_latin1", model="caf\xe9"), ensure_ascii=False).encode("latin-1")
        + b"\n"
    )
    report = store.import_lines(io.BytesIO(data))
    assert report.imported == 1
    assert report.failures == [(2, "not UTF-8 text")]


def test_importing_the_same_file_twice_skips_everything_the_second_time():
    text = "\n".join(json.dumps(bundle(served(f"resp_{i}"), items(i))) for i in range(4))
    assert store.import_lines(lines(text)).imported == 4
    again = store.import_lines(lines(text))
    assert (again.imported, again.updated, again.skipped) == (0, 0, 4)


def test_import_reports_progress_for_every_entry():
    seen: list[int] = []
    text = "\n".join(json.dumps(served(f"resp_{i}")) for i in range(3))
    store.import_lines(lines(text), progress=lambda number, report: seen.append(number))
    assert seen == [1, 2, 3]


def test_export_then_import_into_an_empty_database_gives_identical_bodies_and_items(upstream):
    store.load_demo()
    upstream.add(served("resp_long"), items(250))
    store.fetch_response("resp_long")
    store.save_bundle(served("resp_partial"), items(2), source="import", complete=False)
    before = {
        s.id: (json.dumps(s.body), json.dumps(store.export_bundle(s)["input_items"]), s.source)
        for s in StoredResponse.objects.all()
    }
    exported = "".join(
        json.dumps(store.export_bundle(s), ensure_ascii=False) + "\n"
        for s in StoredResponse.objects.all()
    )
    StoredResponse.objects.all().delete()
    assert not InputItem.objects.exists()

    report = store.import_lines(lines(exported))
    assert report.failures == []
    assert report.imported == len(before) >= 17
    after = {
        s.id: (json.dumps(s.body), json.dumps(store.export_bundle(s)["input_items"]), s.source)
        for s in StoredResponse.objects.all()
    }
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    assert not StoredResponse.objects.get(pk="resp_partial").input_items_complete
    assert StoredResponse.objects.get(pk="resp_long").input_items_count == 250


def test_import_refuses_a_previous_response_id_that_could_not_be_linked():
    text = "\n".join(
        [
            json.dumps(served("resp_prev_ok", previous_response_id="resp_store")),
            json.dumps(served("resp_prev_bad", previous_response_id="../../admin")),
        ]
    )
    report = store.import_lines(lines(text))
    assert report.imported == 1
    assert [n for n, _ in report.failures] == [2]
    assert report.failures[0][1].startswith("previous_response_id: A response id has only")


# --- storing: the key mask and the scrub walk only where one dump shows they may find ------

SECRET = 'sk-test-"quoted"\\key-é😀'
PIECES = [*JSON_ODD, "\x00", "\udc00", "\ud83d\ude00", "\\u0000", "u0000", "\\ud800", SECRET, "sk-"]


def _value(rng: random.Random, depth: int = 0) -> object:
    def text() -> str:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))

    if depth >= 3 or rng.random() < 0.4:
        return rng.choice([text(), rng.randint(-5, 5), None, True, 1.5])
    if rng.random() < 0.5:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {text(): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def test_kept_json_is_the_walk_of_as_kept_written_out(settings):
    """For every value (strings of NUL, lone and paired surrogates, the key in keys and
    values, escapes that look like bad characters): the same value, the same places found
    and the same text as as_kept followed by json.dumps, which is what the store wrote."""
    settings.OPENAI_API_KEY = SECRET
    rng = random.Random(11)
    walked = 0
    for _ in range(2_000):
        value = _value(rng)
        expected, found = store.as_kept(value, "at")
        got_found = scrub.Found()
        kept, text = store.as_kept_json(value, "at", got_found)
        assert kept == expected
        assert text == json.dumps(expected)
        assert isinstance(text, store.JSONText)
        assert (got_found.places, got_found.nul, got_found.surrogates) == (
            found.places,
            found.nul,
            found.surrogates,
        )
        walked += kept is not value
    assert walked > 100  # the corpus does reach the walk


def test_kept_json_skips_the_walk_when_the_text_is_clean(settings, monkeypatch):
    settings.OPENAI_API_KEY = "sk-live-key"
    monkeypatch.setattr(rows, "as_kept", lambda *a: pytest.fail("walked a clean value"))
    value = {"text": "plain é 中文 \\ path", "n": [1, 2, {"sk": "sk-live"}]}
    kept, text = store.as_kept_json(value, "", scrub.Found())
    assert kept is value and text == json.dumps(value)
