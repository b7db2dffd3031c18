"""Faults: the upstream disappears, slows past the timeout, answers 500s or garbage while a
fetch is under way; many writers at once. Pages keep answering, what is stored stays whole
and consistent, and each failure says what happened."""

import io
import json
import threading
import time
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client

from inspector import client as upstream_client
from inspector import store
from inspector.models import InputItem, StoredResponse
from tests.factories import response_body as body
from tests.factories import user_items as items
from tests.upstream import DEMO, FakeUpstream, load_bundle, serve

pytestmark = pytest.mark.django_db

STORED = sorted(DEMO.glob("02_*.json"))[0]


@pytest.fixture
def stored_one(db: Any) -> str:
    bundle = load_bundle(STORED)
    store.save_bundle(bundle["response"], bundle["input_items"], source="import")
    return str(bundle["response"]["id"])


def test_when_the_upstream_disappears_pages_still_answer_and_a_fetch_says_why(
    logged_in, stored_one, settings, monkeypatch
):
    monkeypatch.setattr(upstream_client, "pause", lambda seconds: None)
    fake = FakeUpstream()
    with serve(fake) as base_url:
        settings.OPENAI_BASE_URL = base_url
    # The server is gone: connections are refused.
    before = StoredResponse.objects.get(pk=stored_one).body
    missing = logged_in.get("/responses/resp_gone0001/")
    assert missing.status_code == 504
    assert "Could not connect to the upstream (ConnectError)" in missing.content.decode()
    refresh = logged_in.post(f"/responses/{stored_one}/refresh/")
    assert refresh.status_code == 504
    for url in (f"/responses/{stored_one}/", "/", f"/responses/{stored_one}/trace/?walk=paused"):
        assert logged_in.get(url).status_code == 200, url
    assert StoredResponse.objects.get(pk=stored_one).body == before


def test_an_upstream_slower_than_the_timeout_is_named_as_such(logged_in, settings, monkeypatch):
    monkeypatch.setattr(upstream_client, "pause", lambda seconds: None)
    settings.OPENAI_READ_TIMEOUT = 0.2
    fake = FakeUpstream()
    fake.add(body("resp_slow0001"), items(3))
    fake.override = lambda request: time.sleep(0.6)  # type: ignore[func-returns-value]
    with serve(fake) as base_url:
        settings.OPENAI_BASE_URL = base_url
        started = time.monotonic()
        answer = logged_in.get("/responses/resp_slow0001/")
        took = time.monotonic() - started
    assert answer.status_code == 504
    assert "did not answer in time (ReadTimeout)" in answer.content.decode()
    assert took < 5  # three tries of 0.2 s, not hanging
    assert not StoredResponse.objects.filter(pk="resp_slow0001").exists()


def test_500s_midway_through_the_input_items_keep_what_came_and_say_why(logged_in, upstream):
    upstream.add(body("resp_half0001"), items(250))
    calls = {"n": 0}

    def fail_page_two(request: httpx.Request) -> httpx.Response | None:
        if "input_items" in request.url.path and "after" in request.url.params:
            calls["n"] += 1
            return httpx.Response(500, json={"error": {"message": "upstream is on fire"}})
        return None

    upstream.override = fail_page_two
    assert logged_in.get("/responses/resp_half0001/").status_code == 200  # the first page
    assert logged_in.post("/responses/resp_half0001/fetch/step/").status_code == 302
    page = logged_in.get("/responses/resp_half0001/")
    stored = StoredResponse.objects.get(pk="resp_half0001")
    assert (stored.input_items_count, stored.input_items_complete) == (100, False)
    assert stored.input_items_error.endswith("upstream is on fire")
    assert "Only 100 input items could be fetched" in page.content.decode()
    assert list(stored.items.values_list("position", flat=True)) == list(range(100))
    upstream.override = None
    assert logged_in.post("/responses/resp_half0001/resume/").status_code == 302
    stored.refresh_from_db()
    assert (stored.input_items_count, stored.input_items_complete) == (250, True)
    assert list(stored.items.values_list("position", flat=True)) == list(range(250))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"}),
         "not JSON (text/html)"),
        (httpx.Response(200, json={"object": "list", "oops": True}), "Expected a Response"),
        (httpx.Response(200, content=b'{"id": "resp_garb0001", "output": [tru'),
         "not JSON"),
    ],
)  # fmt: skip
def test_garbage_from_the_upstream_changes_nothing_stored_and_is_explained(
    logged_in, upstream, stored_one, answer, says
):
    before = (StoredResponse.objects.get(pk=stored_one).body, InputItem.objects.count())
    upstream.override = lambda request: answer
    refused = logged_in.post(f"/responses/{stored_one}/refresh/")
    assert refused.status_code == 502
    assert says in refused.content.decode()
    assert (StoredResponse.objects.get(pk=stored_one).body, InputItem.objects.count()) == before
    assert logged_in.get(f"/responses/{stored_one}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_imports_writing_while_pages_read_make_no_errors_and_lose_nothing(user):
    """Four threads import (each its own connection, SQLite's one writer at a time) while two
    read pages; every import lands whole, every page answers."""
    lines = [
        [json.dumps({"kind": "responses-inspector.bundle", "version": 1,
                     "response": body(f"resp_w{w}n{n:03d}"), "input_items": items(20)})
         for n in range(25)]
        for w in range(4)
    ]  # fmt: skip
    problems: list[str] = []
    done = threading.Event()

    def write(batch: list[str]) -> None:
        try:
            report = store.import_lines(io.BytesIO("\n".join(batch).encode()))
            if report.failed or report.imported != len(batch):
                problems.append(report.summary() + str(report.failures[:3]))
        except Exception as error:  # collected for the assertion
            problems.append(repr(error))
        finally:
            connection.close()

    def read() -> None:
        client = Client()
        client.force_login(user)
        try:
            while not done.is_set():
                for url in ("/", "/tool-calls/"):
                    status = client.get(url).status_code
                    if status != 200:
                        problems.append(f"{url}: {status}")
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(batch,)) for batch in lines]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in [*readers, *writers]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert problems == []
    assert StoredResponse.objects.count() == 100
    assert InputItem.objects.count() == 100 * 20
    counts = set(StoredResponse.objects.values_list("input_items_count", flat=True))
    assert counts == {20}
