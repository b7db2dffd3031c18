"""Hostile or hung upstreams are bounded (issue 13, finding 7): a byte cap on each body after
decompression, one time limit per fetch step for connecting, dripping and retrying together,
and the failure on the page and in the audit trail. (The upstream that always says has_more:
test_fetch_steps.py, the page limit.)

As found: a 300 MB body was read and stored; a 1 MB gzip that inflates to 1 GB peaked at
4.4 GB; an upstream dripping a byte every 5 s held a worker for 400 s and more; a hung one
cost 30 s x 3 attempts, past gunicorn's 60 s, and the failed fetch never reached the audit
trail. Here at a smaller scale (seconds and megabytes), the same shapes.
"""

import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from inspector import client as upstream_client
from inspector.models import AuditEntry, StoredResponse

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
CAP = 4 * MB


@pytest.fixture(autouse=True)
def small_cap(settings: Any) -> None:
    settings.OPENAI_MAX_BODY_BYTES = CAP


def test_a_300_mb_body_is_read_only_up_to_the_cap_and_nothing_is_stored(logged_in, upstream):
    sent = {"bytes": 0}

    def huge() -> Iterator[bytes]:
        yield b'{"id": "resp_huge0001", "object": "response", "output": [], "padding": "'
        for _ in range(300 * 16):
            sent["bytes"] += 64 * 1024
            yield b"x" * (64 * 1024)
        yield b'"}'

    upstream.override = lambda request: httpx.Response(200, content=huge())
    answer = logged_in.get("/responses/resp_huge0001/")
    assert answer.status_code == 502
    assert "larger than 4,194,304 bytes (OPENAI_MAX_BODY_BYTES)" in answer.content.decode()
    assert sent["bytes"] <= CAP + 64 * 1024
    assert len(upstream.requests) == 1  # not retried
    assert not StoredResponse.objects.exists()


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of zeros that inflates to `inflated` bytes (~1,000:1)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = b"\0" * MB
    return b"".join([packer.compress(zeros) for _ in range(inflated // MB)] + [packer.flush()])


def test_a_gzip_bomb_stops_at_the_cap_after_decompression_in_bounded_memory(logged_in, settings):
    bomb = gzip_bomb(128 * MB)  # 32x the cap once inflated, a few hundred KB on the wire
    assert len(bomb) < MB
    head = (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
            f"content-length: {len(bomb)}\r\n\r\n").encode()  # fmt: skip

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head + bomb)

    with raw_server(reply) as base_url:
        settings.OPENAI_BASE_URL = base_url
        tracemalloc.start()
        try:
            answer = logged_in.get("/responses/resp_bomb0001/")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert answer.status_code == 502
    assert "larger than 4,194,304 bytes (OPENAI_MAX_BODY_BYTES)" in answer.content.decode()
    # The cap, the pieces joined, a piece being inflated: never the 128 MB.
    assert peak < 3 * CAP


@contextmanager
def raw_server(reply: Any) -> Iterator[str]:
    """A server on 127.0.0.1 that reads each request and calls `reply(conn, stop)`; `stop`
    is set when the test is done with it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            try:
                reply(conn, stop)
            except OSError:
                return  # the client gave up

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def dripping(conn: socket.socket, stop: threading.Event) -> None:
    """Headers, then one byte of the body every 0.2 s, for as long as anyone reads."""
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"content-length: 100000\r\n\r\n")  # fmt: skip
    while not stop.wait(0.2):
        conn.sendall(b" ")


def hung(conn: socket.socket, stop: threading.Event) -> None:
    """Takes the request and never answers."""
    stop.wait(60)


@pytest.mark.parametrize(("reply", "how"), [(dripping, "a byte at a time"), (hung, "hung")])
def test_a_slow_upstream_costs_one_step_timeout_in_all_and_the_failure_is_audited(
    logged_in, settings, monkeypatch, reply, how
):
    monkeypatch.setattr(upstream_client, "pause", lambda seconds: None)
    settings.OPENAI_READ_TIMEOUT = 30  # per read: never reached by a drip
    settings.OPENAI_STEP_TIMEOUT = 1.5
    with raw_server(reply) as base_url:
        settings.OPENAI_BASE_URL = base_url
        started = time.monotonic()
        answer = logged_in.get("/responses/resp_slow0002/")
        took = time.monotonic() - started
    assert answer.status_code == 504, how
    assert took < 3.5, (how, took)  # 1.5 s, not 30 s x 3 attempts
    assert "The upstream API is down or too slow" in answer.content.decode()
    failed = AuditEntry.objects.get(action="fetched", response_id="resp_slow0002")
    assert failed.detail == "failed: The upstream API is down or too slow"
    assert not StoredResponse.objects.exists()


def test_the_time_limit_covers_retries_too():
    """503s with a server asking for 0.4 s between tries, five retries allowed, one second in
    all: the client tries three times and gives up when the next wait would end past it."""
    answer = httpx.Response(
        503, json={"error": {"message": "busy"}}, headers={"retry-after-ms": "400"}
    )
    api = upstream_client.Client(
        api_key="sk-test", base_url="https://upstream.test/v1", max_retries=5,
        transport=httpx.MockTransport(lambda request: answer), sleep=time.sleep,
        time_limit=1.0,
    )  # fmt: skip
    started = time.monotonic()
    with pytest.raises(upstream_client.APIUnavailable):
        api.retrieve_response("resp_busy0001")
    assert api.requests_sent == 3
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15), ("deflate", -15)])
def test_a_compressed_body_under_the_cap_is_read_whole(encoding, wbits):
    """gzip, and deflate as a zlib stream or raw (some servers send that), over real HTTP."""
    body = b'{"id": "resp_zip00001", "object": "response", "output": [], "model": "m"}'
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    packed = packer.compress(body) + packer.flush()
    head = (f"HTTP/1.1 200 OK\r\ncontent-encoding: {encoding}\r\n"
            f"content-length: {len(packed)}\r\n\r\n").encode()  # fmt: skip

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head + packed)

    with (
        raw_server(reply) as base_url,
        upstream_client.Client(api_key="sk-test", base_url=base_url) as api,
    ):
        assert api.retrieve_response("resp_zip00001").model == "m"
