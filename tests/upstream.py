"""A stand-in for the Responses API: the same handler behind httpx.MockTransport (unit and view
tests) and behind a real HTTP server on 127.0.0.1 (end-to-end tests).

Requests it does not know are answered 599 and recorded in `unexpected`, and the fixtures
fail the test when any were made.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).resolve().parent.parent / "inspector" / "demo"


def load_bundle(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


class FakeUpstream:
    def __init__(self) -> None:
        self.responses: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[httpx.Request] = []
        self.unexpected: list[str] = []
        # The count POST /responses/input_tokens answers: a number, or a function of the
        # request's JSON body (to make the count depend on what was sent).
        self.input_tokens: int | Callable[[dict[str, Any]], int] = 0
        # A function that may answer a request instead (to inject failures); None to pass.
        self.override: Callable[[httpx.Request], httpx.Response | None] | None = None
        # Stream replay (GET /responses/{id}?stream=true): the events of each response id,
        # served as text/event-stream after `starting_after`; `stream_delay` seconds before
        # each event; `stream_drops` drops the next connections mid-event after that many
        # events each (one entry per connection, used in order); `stream_keepalive` sends a
        # comment line before each event.
        self.streams: dict[str, list[dict[str, Any]]] = {}
        self.stream_delay = 0.0
        self.stream_drops: list[int] = []
        self.stream_keepalive = False
        # Recorded streams (the bytes of an .sse.txt file), served as received whatever the
        # response's `background` flag, ignoring `starting_after`.
        self.raw_streams: dict[str, bytes] = {}
        # Seconds before each answer: a round trip to a real API (issue 12 measures at 0.25).
        self.latency = 0.0
        self._lock = threading.Lock()

    def add(self, body: dict[str, Any], items: list[dict[str, Any]] | None = None) -> str:
        self.responses[body["id"]] = body
        self.items[body["id"]] = list(items or [])
        return str(body["id"])

    def add_stream(self, body: dict[str, Any], stream: list[dict[str, Any]]) -> str:
        """A response and the events its stream replays (a terminal event's response becomes
        what a later retrieve answers, as upstream)."""
        self.streams[body["id"]] = list(stream)
        return self.add(body)

    def add_bundle(self, path: Path) -> str:
        bundle = load_bundle(path)
        return self.add(bundle["response"], bundle.get("input_items"))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:  # served from several threads at once (real HTTP, two viewers)
            self.requests.append(request)
        if self.latency:
            time.sleep(self.latency)
        if self.override is not None and (answer := self.override(request)) is not None:
            return answer
        parts = request.url.path.strip("/").split("/")
        if parts and parts[0] == "v1":
            parts = parts[1:]
        if request.method == "POST" and parts == ["responses", "input_tokens"]:
            count = self.input_tokens
            if callable(count):
                count = count(json.loads(request.content or b"{}"))
            return httpx.Response(
                200, json={"object": "response.input_tokens", "input_tokens": count}
            )
        if request.method == "GET" and len(parts) in (2, 3) and parts[0] == "responses":
            response_id = parts[1]
            if response_id not in self.responses:
                return httpx.Response(
                    404,
                    json={
                        "error": {
                            "message": f"No response found with id '{response_id}'.",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": None,
                        }
                    },
                    headers={"x-request-id": "req_fake404"},
                )
            if len(parts) == 2 and request.url.params.get("stream") == "true":
                return self._stream(request, response_id)
            if len(parts) == 2:
                return httpx.Response(200, json=self.responses[response_id])
            if parts[2] == "input_items":
                return self._items_page(request, response_id)
        self.unexpected.append(f"{request.method} {request.url}")
        return httpx.Response(599, json={"error": {"message": "not served by FakeUpstream"}})

    def _items_page(self, request: httpx.Request, response_id: str) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        limit = int(query.get("limit", ["20"])[0])
        items = self.items[response_id]
        if query.get("order", ["desc"])[0] == "desc":
            items = list(reversed(items))
        start = 0
        if "after" in query:
            ids = [item.get("id") for item in items]
            start = ids.index(query["after"][0]) + 1
        page = items[start : start + limit]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": page,
                "first_id": page[0].get("id") if page else None,
                "last_id": page[-1].get("id") if page else None,
                "has_more": start + limit < len(items),
            },
        )

    def _stream(self, request: httpx.Request, response_id: str) -> httpx.Response:
        if response_id in self.raw_streams:
            return httpx.Response(
                200,
                headers={"content-type": "text/event-stream; charset=utf-8"},
                content=iter(self.raw_streams[response_id].splitlines(keepends=True)),
            )
        if self.responses[response_id].get("background") is not True:
            return httpx.Response(
                400,
                json={
                    "error": {
                        "message": "This response cannot be streamed because it was not "
                        "created with background=true.",
                        "type": "invalid_request_error",
                        "param": "stream",
                        "code": None,
                    }
                },
                headers={"x-request-id": "req_fake400"},
            )
        after = request.url.params.get("starting_after")
        chosen = [
            event
            for event in self.streams.get(response_id, [])
            if after is None or event["sequence_number"] > int(after)
        ]
        drop = self.stream_drops.pop(0) if self.stream_drops else None
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream; charset=utf-8"},
            content=self._event_chunks(response_id, chosen, drop),
        )

    def _event_chunks(
        self, response_id: str, chosen: list[dict[str, Any]], drop: int | None
    ) -> Iterator[bytes]:
        for number, event in enumerate(chosen):
            if self.stream_delay:
                time.sleep(self.stream_delay)
            data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
            if number == drop:
                # Half an event, then the connection is gone.
                yield data[: len(data) // 2]
                raise httpx.RemoteProtocolError("FakeUpstream dropped the connection mid-stream")
            if self.stream_keepalive:
                yield b": keep-alive\n\n"
            if event["type"] in ("response.completed", "response.failed", "response.incomplete"):
                self.responses[response_id] = event["response"]
            yield data

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@contextmanager
def serve(upstream: FakeUpstream) -> Iterator[str]:
    """Serve `upstream` over real HTTP on 127.0.0.1; yields the base URL (ending in /v1)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = httpx.Request(
                self.command,
                f"http://{self.headers.get('host')}{self.path}",
                headers=dict(self.headers.items()),
                content=self.rfile.read(length) if length else b"",
            )
            response = upstream.handle(request)
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                self._answer_stream(response)
                return
            body = response.read()
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _answer_stream(self, response: httpx.Response) -> None:
            """Chunk by chunk as produced; a drop closes the socket without the last chunk."""
            self.protocol_version = "HTTP/1.1"  # chunked framing makes a drop detectable
            self.close_connection = True
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("transfer-encoding", "chunked")
            self.send_header("connection", "close")
            self.end_headers()
            try:
                for chunk in response.iter_bytes():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except httpx.RemoteProtocolError:
                pass  # the drop: return without the terminating chunk, and close
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a bounded read ended)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
