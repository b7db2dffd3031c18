"""The API key (conftest's TEST_KEY) never leaves the server: not in a page of any route, an
error page, a log record (DEBUG, httpx and httpcore included), an export, a stored body or an
audit entry, even when the upstream echoes it back in every way it can."""

import io
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from inspector import client as upstream_client
from inspector import store
from inspector.models import AuditEntry, PlaygroundSession, SearchText, StoredResponse
from tests import hostile
from tests.conftest import TEST_KEY
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db

#: Enough of the key to recognise it, also if cut short or re-encoded.
PIECES = (TEST_KEY, TEST_KEY[8:24], "RECOGNISABLE-KEY")


def leaks(text: str | bytes) -> list[str]:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return [piece for piece in PIECES if piece in text]


def error(status: int, message: str, **headers: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "x", "param": TEST_KEY, "code": TEST_KEY}}
    return httpx.Response(status, json=body, headers=headers)


ECHO_BODY = {
    "id": "resp_echo200",
    "object": "response",
    "created_at": 1767225600,
    "status": "completed",
    "model": "gpt-5",
    "background": True,
    "instructions": f"gateway saw Authorization: Bearer {TEST_KEY}",
    "metadata": {"forwarded_headers": f"Bearer {TEST_KEY}", TEST_KEY: "as a key"},
    "output": [
        {"type": "message", "id": "msg_e", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": f"your key is {TEST_KEY}",
                      "annotations": []}]},
    ],
}  # fmt: skip


def echoing(request: httpx.Request) -> httpx.Response | None:
    """An upstream that puts the key it was sent in every answer it can."""
    url = str(request.url)
    if "input_tokens" in url:
        return error(400, f"bad request from key {TEST_KEY}")
    if "resp_echo401" in url:
        return error(401, f"Incorrect API key provided: {TEST_KEY}.")
    if "resp_echo500" in url:
        return error(500, f"internal error for {TEST_KEY}", **{"x-request-id": TEST_KEY})
    if "resp_echo502" in url:
        page = f"<html><body>502 Bad Gateway<br>Authorization: Bearer {TEST_KEY}</body></html>"
        return httpx.Response(502, text=page, headers={"content-type": "text/html"})
    if "resp_echo429" in url:
        return error(429, f"rate limit for {TEST_KEY}", **{"retry-after": "0"})
    if "stream=true" in url:
        return error(401, f"streaming refused for {TEST_KEY}")
    if "resp_echo200/input_items" in url:
        items = [{"type": "message", "id": "msg_i", "role": "user", "content": TEST_KEY}]
        data = {"object": "list", "data": items, "has_more": False,
                "first_id": "msg_i", "last_id": "msg_i"}  # fmt: skip
        return httpx.Response(200, json=data)
    if "resp_echo200" in url:
        return httpx.Response(200, json=ECHO_BODY)
    return None


ECHO_IDS = ["resp_echo401", "resp_echo500", "resp_echo502", "resp_echo429", "resp_echo200"]


def named_patterns(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, list[str]]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", list(entry.pattern.converters)


def urls(ids: list[str], slug: str) -> Iterator[str]:
    """Every named route, once for each of `ids` where it takes a response id."""
    values = {"response_id": ids, "other_id": ids[:2], "section": ["output", "input"],
              "position": ["0"], "slug": [slug]}  # fmt: skip
    for name, params in named_patterns(get_resolver().url_patterns):
        if (name.startswith("admin:") and params) or name.endswith("logout"):
            continue  # the admin's own object pages; logging out would end the sweep
        choices = [values.get(param, ["x"]) for param in params]
        for combination in itertools.product(*choices):
            try:
                yield reverse(name, kwargs=dict(zip(params, combination, strict=True)))
            except Exception:  # noqa: S112 - a combination the route does not take
                continue


@pytest.fixture
def sweep(django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("root", "", "a-long-test-password-42")
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    return client


def every_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "django", "django.request", "inspector"):
        caplog.set_level(logging.DEBUG, logger=name)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(exc_info)s"))
    return "\n".join(handler.format(record) for record in caplog.records)


def test_no_route_error_page_log_or_export_shows_the_key(sweep, upstream, caplog, settings):
    every_log(caplog)
    settings.FETCH_RATE_LIMIT = "10000/min"
    store.load_demo()
    store.import_lines(io.BytesIO(hostile.jsonl(hostile.corpus()[:3])))
    upstream.override = echoing
    session = PlaygroundSession.objects.create(name="s", slug="s", state={"instructions": "x"})
    stored = list(StoredResponse.objects.values_list("id", flat=True)[:2])
    answers: list[tuple[str, int, bytes]] = []
    statuses: dict[str, int] = {}
    for url in urls([*stored, *ECHO_IDS], session.slug):
        for method in (sweep.get, sweep.post):
            answer = method(url)
            answers.append((url, answer.status_code, answer.content))
        statuses[url] = answers[-2][1]  # the GET's
    # The upstream calls a form starts: the API count and the per-item attribution.
    form = {"model": "gpt-5", "input_kind": "text", "input_text": "hi", "confirm": "1"}
    for url in ("/playground/api-count/", "/playground/attribute/"):
        answer = sweep.post(url, form)
        answers.append((url, answer.status_code, answer.content))
        statuses[f"POST {url}"] = answer.status_code
    assert statuses["/responses/resp_echo401/"] == 502
    assert statuses["/responses/resp_echo500/"] == 504
    assert statuses["/responses/resp_echo502/"] == 504
    assert statuses["/responses/resp_echo200/"] == 200
    assert statuses["POST /playground/api-count/"] == 400
    assert len(answers) > 150
    for url, status, content in answers:
        assert leaks(content) == [], (url, status)
    assert leaks(logged(caplog)) == []
    assert AuditEntry.objects.count() > 50
    assert leaks(str(list(AuditEntry.objects.values()))) == []
    assert "Incorrect API key provided: [OPENAI_API_KEY]." in logged_page(sweep, "resp_echo401")


def logged_page(client: Client, response_id: str) -> str:
    return client.get(f"/responses/{response_id}/").content.decode()


def test_a_key_echoed_in_a_successful_body_is_never_stored(sweep, upstream):
    upstream.override = echoing
    stored = store.fetch_response("resp_echo200")
    kept = json.dumps([stored.body, list(stored.items.values_list("body", flat=True))])
    assert leaks(kept) == []
    assert "[OPENAI_API_KEY]" in stored.body["instructions"]
    indexed = SearchText.objects.filter(response=stored).values_list("text", flat=True)
    assert leaks("\n".join(indexed)) == []
    store.replay_events(stored)  # refused, with the key in the refusal
    assert leaks(json.dumps(store.export_events(stored))) == []


def test_the_exports_never_hold_the_key_in_any_form(sweep, upstream):
    upstream.override = echoing
    store.fetch_response("resp_echo200")
    out = io.StringIO()
    call_command("export_responses", stdout=out, stderr=io.StringIO())
    unredacted = io.StringIO()
    call_command("export_responses", "--no-redact", stdout=unredacted, stderr=io.StringIO())
    for text in (
        out.getvalue(),
        unredacted.getvalue(),
        sweep.get("/responses/resp_echo200.json").content,
        sweep.get("/responses/resp_echo200.json?redact=0").content,
        sweep.get("/responses/resp_echo200.md").content,
        sweep.get("/responses/resp_echo200/trace.json").content,
        sweep.get("/responses/resp_echo200/trace.md?redact=0").content,
    ):
        assert leaks(text) == []


def test_a_crash_page_in_debug_mode_hides_the_key(sweep, settings, monkeypatch, caplog):
    every_log(caplog)
    settings.DEBUG = True
    store.load_demo()
    stored = StoredResponse.objects.first()

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "export_bundle", crash)
    answer = sweep.get(f"/responses/{stored.id}.json")
    assert answer.status_code == 500
    assert b"OPENAI_API_KEY" in answer.content  # the settings are listed, the key masked
    assert leaks(answer.content) == []
    assert leaks(logged(caplog)) == []


def test_over_real_http_no_debug_log_line_of_httpx_or_httpcore_holds_the_key(
    sweep, settings, caplog, monkeypatch
):
    every_log(caplog)
    monkeypatch.setattr(upstream_client, "pause", lambda seconds: None)
    fake = FakeUpstream()
    fake.add(dict(ECHO_BODY, id="resp_real"), [])
    fake.override = echoing
    with serve(fake) as base_url:
        settings.OPENAI_BASE_URL = base_url
        pages = [
            sweep.get("/responses/resp_real/").content,
            sweep.get("/responses/resp_echo401/").content,
            sweep.get("/responses/resp_echo502/").content,
        ]
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    assert all(leaks(page) == [] for page in pages)
    assert leaks(logged(caplog)) == []
    sent = [request.headers.get("authorization") for request in fake.requests]
    assert sent and all(header == f"Bearer {TEST_KEY}" for header in sent)


def test_an_upstream_that_echoes_the_key_in_a_refused_stream_is_masked(upstream):
    upstream.override = echoing
    api = upstream_client.get_client()
    with pytest.raises(upstream_client.AuthenticationFailed) as refused:
        list(api.stream_events("resp_echo200"))
    assert "[OPENAI_API_KEY]" in refused.value.message
    assert leaks(str(refused.value)) == []


def test_the_echo_upstream_really_echoes(upstream):
    """So the tests above cannot pass for want of an echo."""
    upstream.override = echoing
    answer = httpx.Client(transport=upstream.transport()).get(
        "https://upstream.test/v1/responses/resp_echo401"
    )
    assert TEST_KEY in answer.text
