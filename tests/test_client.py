"""The upstream client against httpx.MockTransport: every error path, the wire, the retries."""

import email.utils
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from inspector import client as upstream
from inspector.client import (
    ALL_INCLUDES,
    APIUnavailable,
    AuthenticationFailed,
    Client,
    NotFound,
    RateLimited,
    RequestRejected,
    UnexpectedPayload,
    extract_response_id,
    retry_delay,
)
from inspector.schemas import InputTokensRequest
from tests.conftest import TEST_KEY
from tests.factories import response_body
from tests.upstream import FakeUpstream

BASE_URL = "https://upstream.test/v1"

# The 8 `include` values of spec §1.1, spelled out here so the client cannot drift from them.
SPEC_INCLUDES = [
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
]

HOSTILE_PAGE = (
    "<html><head><title>502 Bad Gateway</title><script>alert(document.cookie)</script></head>"
    "<body><h1>502 Bad Gateway</h1><img src=x onerror=alert(1)></body></html>"
)


def body(response_id: str = "resp_abc", **extra: Any) -> dict[str, Any]:
    return response_body(response_id, **extra)


def api_error(message: str, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


class Recorder:
    """A handler that answers from a list (the last answer repeats) and keeps each request."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[[httpx.Request], Any]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)  # type: ignore[no-any-return]
        return answer


def make_client(handler: Any, **options: Any) -> tuple[Client, list[float]]:
    sleeps: list[float] = []
    api = Client(
        api_key=TEST_KEY,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **options,
    )
    return api, sleeps


# --- error paths ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_authentication_failed_and_not_retried(status):
    handler = Recorder(httpx.Response(status, json=api_error("Incorrect API key provided.")))
    api, sleeps = make_client(handler)
    with pytest.raises(AuthenticationFailed) as caught:
        api.retrieve_response("resp_abc")
    assert caught.value.status_code == status
    assert caught.value.message == "Incorrect API key provided."
    assert len(handler.requests) == 1
    assert sleeps == []


def test_404_is_not_found_with_the_upstream_message_and_request_id():
    handler = Recorder(
        httpx.Response(
            404,
            json=api_error("No response found with id 'resp_gone'."),
            headers={"x-request-id": "req_0123abc"},
        )
    )
    api, _ = make_client(handler)
    with pytest.raises(NotFound) as caught:
        api.retrieve_response("resp_gone")
    assert caught.value.message == "No response found with id 'resp_gone'."
    assert caught.value.request_id == "req_0123abc"
    assert caught.value.status_code == 404
    assert len(handler.requests) == 1


def test_429_then_success_waits_as_the_server_asks_and_returns_the_response():
    handler = Recorder(
        httpx.Response(429, json=api_error("Slow down."), headers={"retry-after": "2"}),
        httpx.Response(429, json=api_error("Slow down."), headers={"retry-after-ms": "250"}),
        httpx.Response(200, json=body()),
    )
    api, sleeps = make_client(handler)
    response = api.retrieve_response("resp_abc")
    assert response.id == "resp_abc"
    assert len(handler.requests) == 3
    assert sleeps == [2.0, 0.25]


@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
def test_429_forever_is_rate_limited_after_max_retries_plus_one_attempts(max_retries):
    handler = Recorder(httpx.Response(429, json=api_error("Rate limit reached.")))
    api, sleeps = make_client(handler, max_retries=max_retries)
    with pytest.raises(RateLimited) as caught:
        api.retrieve_response("resp_abc")
    assert caught.value.message == "Rate limit reached."
    assert len(handler.requests) == max_retries + 1
    assert len(sleeps) == max_retries


def test_500_is_retried_with_backoff_then_unavailable():
    handler = Recorder(httpx.Response(500, json=api_error("The server had an error.")))
    api, sleeps = make_client(handler)
    with pytest.raises(APIUnavailable) as caught:
        api.retrieve_response("resp_abc")
    assert caught.value.status_code == 500
    assert len(handler.requests) == 3
    # min(0.5 * 2**n, 8) less up to 25 % jitter, n = retries so far
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [400, 422])
def test_other_4xx_is_rejected_with_its_message_and_not_retried(status):
    handler = Recorder(
        httpx.Response(status, json=api_error("Invalid 'include[]' value.", "invalid_value"))
    )
    api, sleeps = make_client(handler)
    with pytest.raises(RequestRejected) as caught:
        api.retrieve_response("resp_abc")
    assert caught.value.message == "Invalid 'include[]' value."
    assert caught.value.code == "invalid_value"
    assert len(handler.requests) == 1
    assert sleeps == []


def test_x_should_retry_false_on_a_500_stops_retries():
    handler = Recorder(
        httpx.Response(500, json=api_error("Broken."), headers={"x-should-retry": "false"})
    )
    api, sleeps = make_client(handler)
    with pytest.raises(APIUnavailable):
        api.retrieve_response("resp_abc")
    assert len(handler.requests) == 1
    assert sleeps == []


def test_x_should_retry_true_on_a_400_retries_it():
    handler = Recorder(
        httpx.Response(400, json=api_error("Try again."), headers={"x-should-retry": "true"}),
        httpx.Response(200, json=body()),
    )
    api, _ = make_client(handler)
    assert api.retrieve_response("resp_abc").id == "resp_abc"
    assert len(handler.requests) == 2


def test_timeout_is_retried_then_unavailable():
    handler = Recorder(httpx.ReadTimeout("timed out"))
    api, sleeps = make_client(handler)
    with pytest.raises(APIUnavailable) as caught:
        api.retrieve_response("resp_abc")
    assert "did not answer in time" in caught.value.message
    assert len(handler.requests) == 3
    assert len(sleeps) == 2


def test_timeout_then_success_returns_the_response():
    handler = Recorder(httpx.ReadTimeout("timed out"), httpx.Response(200, json=body()))
    api, _ = make_client(handler)
    assert api.retrieve_response("resp_abc").id == "resp_abc"


def test_connection_error_is_retried_then_unavailable():
    handler = Recorder(httpx.ConnectError("[Errno 111] Connection refused"))
    api, _ = make_client(handler)
    with pytest.raises(APIUnavailable) as caught:
        api.retrieve_response("resp_abc")
    assert "Could not connect" in caught.value.message
    assert len(handler.requests) == 3


def test_502_html_page_is_unavailable_and_its_html_is_never_in_the_message():
    handler = Recorder(
        httpx.Response(502, text=HOSTILE_PAGE, headers={"content-type": "text/html"})
    )
    api, _ = make_client(handler)
    with pytest.raises(APIUnavailable) as caught:
        api.retrieve_response("resp_abc")
    error = caught.value
    assert error.status_code == 502
    assert len(handler.requests) == 3
    for text in (error.message, str(error)):
        assert "<" not in text
        assert "script" not in text
        assert "alert" not in text


@pytest.mark.parametrize(
    "content",
    [
        HOSTILE_PAGE,
        '{"id": "resp_abc", "object": "response",',
        "",
        '{"id": "resp_abc", "object": "response", "created_at": NaN, "output": []}',
    ],
    ids=["html", "truncated-json", "empty", "nan"],
)
def test_200_with_a_body_that_is_not_json_is_unexpected_payload(content):
    handler = Recorder(httpx.Response(200, text=content, headers={"content-type": "text/html"}))
    api, _ = make_client(handler)
    with pytest.raises(UnexpectedPayload) as caught:
        api.retrieve_response("resp_abc")
    assert "not JSON" in caught.value.message
    assert "<" not in caught.value.message
    assert len(handler.requests) == 1


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "resp_abc",
        {"object": "response", "model": "gpt-5"},
        {"id": 42, "object": "response"},
        body(output="not a list"),
        body(usage={"input_tokens": "many"}),
    ],
    ids=["array", "string", "no-id", "id-not-a-string", "output-not-a-list", "usage-wrong-type"],
)
def test_200_with_json_of_the_wrong_shape_is_unexpected_payload(payload):
    api, _ = make_client(Recorder(httpx.Response(200, json=payload)))
    with pytest.raises(UnexpectedPayload) as caught:
        api.retrieve_response("resp_abc")
    assert caught.value.message.startswith("Expected a Response")


def test_a_response_with_another_id_than_asked_is_unexpected_payload():
    api, _ = make_client(Recorder(httpx.Response(200, json=body("resp_other"))))
    with pytest.raises(UnexpectedPayload):
        api.retrieve_response("resp_abc")


def test_a_huge_upstream_error_message_is_cut_short():
    api, _ = make_client(Recorder(httpx.Response(400, json=api_error("x" * 100_000))))
    with pytest.raises(RequestRejected) as caught:
        api.retrieve_response("resp_abc")
    assert len(caught.value.message) == upstream.MAX_MESSAGE


def test_an_upstream_message_echoing_the_key_is_masked():
    echo = f"Incorrect API key provided: {TEST_KEY}."
    api, _ = make_client(Recorder(httpx.Response(401, json=api_error(echo))))
    with pytest.raises(AuthenticationFailed) as caught:
        api.retrieve_response("resp_abc")
    assert TEST_KEY not in caught.value.message
    assert TEST_KEY not in str(caught.value)
    assert "[OPENAI_API_KEY]" in caught.value.message


def test_no_key_raises_not_configured_naming_the_variable(settings):
    settings.OPENAI_API_KEY = ""
    with pytest.raises(upstream.NotConfigured) as caught:
        upstream.get_client()
    assert "OPENAI_API_KEY" in caught.value.message


# --- what goes on the wire ------------------------------------------------------------------


def test_headers_are_the_sdks_and_name_the_dashboard():
    handler = Recorder(httpx.Response(200, json=body()))
    api, _ = make_client(handler)
    api.retrieve_response("resp_abc")
    headers = handler.requests[0].headers
    assert headers["authorization"] == f"Bearer {TEST_KEY}"
    assert headers["accept"] == "application/json"
    assert "responses-inspector" in headers["user-agent"]
    assert "openai-organization" not in headers
    assert "openai-project" not in headers


def test_organization_and_project_headers_are_sent_when_configured():
    handler = Recorder(httpx.Response(200, json=body()))
    api, _ = make_client(handler, org_id="org_123", project_id="proj_456")
    api.retrieve_response("resp_abc")
    headers = handler.requests[0].headers
    assert headers["openai-organization"] == "org_123"
    assert headers["openai-project"] == "proj_456"


def test_the_factory_builds_the_client_from_settings(settings):
    settings.OPENAI_ORG_ID = "org_from_settings"
    settings.OPENAI_PROJECT_ID = ""
    handler = Recorder(httpx.Response(200, json=body()))
    with upstream.override_transport(httpx.MockTransport(handler)), upstream.get_client() as api:
        api.retrieve_response("resp_abc")
    request = handler.requests[0]
    assert str(request.url).startswith("https://upstream.test/v1/responses/resp_abc?")
    assert request.headers["openai-organization"] == "org_from_settings"
    assert "openai-project" not in request.headers


def test_retrieve_asks_for_all_eight_includes_with_brackets_percent_encoded():
    handler = Recorder(httpx.Response(200, json=body()))
    api, _ = make_client(handler)
    api.retrieve_response("resp_abc")
    url = handler.requests[0].url
    assert url.path == "/v1/responses/resp_abc"
    query = url.query.decode()
    assert "[" not in query
    assert query.count("include%5B%5D=") == 8
    assert parse_qs(query)["include[]"] == SPEC_INCLUDES
    assert list(ALL_INCLUDES) == SPEC_INCLUDES


def test_count_input_tokens_posts_json_and_is_retried_like_a_get():
    handler = Recorder(
        httpx.Response(503, json=api_error("Overloaded.")),
        httpx.Response(200, json={"object": "response.input_tokens", "input_tokens": 1234}),
    )
    api, _ = make_client(handler)
    result = api.count_input_tokens(InputTokensRequest(model="gpt-5", input="Hello"))
    assert result.input_tokens == 1234
    request = handler.requests[-1]
    assert request.method == "POST"
    assert request.url.path == "/v1/responses/input_tokens"
    assert request.headers["content-type"] == "application/json"
    assert request.read() == b'{"input":"Hello","model":"gpt-5"}'
    assert len(handler.requests) == 2


# --- input items: pages and the cursor ------------------------------------------------------

AWKWARD_ID = "msg_a+b/c&d=e f"


def test_input_items_come_in_pages_of_100_oldest_first_with_the_cursor_intact():
    fake = FakeUpstream()
    items = [
        {
            "id": AWKWARD_ID if i == 99 else f"msg_{i}",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": f"hello {i}"}],
        }
        for i in range(250)
    ]
    fake.add(body(), items)
    api, _ = make_client(fake.handle)
    pages = list(api.iter_input_items("resp_abc"))
    assert [len(page.data) for page in pages] == [100, 100, 50]
    assert [i for page in pages for i in page.wire["data"]] == items
    queries = [parse_qs(r.url.query.decode()) for r in fake.requests]
    for query in queries:
        assert query["limit"] == ["100"]
        assert query["order"] == ["asc"]
        assert query["include[]"] == SPEC_INCLUDES
    assert "after" not in queries[0]
    assert queries[1]["after"] == [AWKWARD_ID]
    assert queries[2]["after"] == ["msg_199"]
    raw = fake.requests[1].url.query.decode()
    assert "after=msg_a%2Bb%2Fc%26d%3De+f" in raw or "after=msg_a%2Bb%2Fc%26d%3De%20f" in raw
    assert all(r.url.path == "/v1/responses/resp_abc/input_items" for r in fake.requests)


def test_input_items_resume_after_a_given_item():
    fake = FakeUpstream()
    fake.add(body(), [{"id": f"msg_{i}", "type": "message", "role": "user"} for i in range(5)])
    api, _ = make_client(fake.handle)
    pages = list(api.iter_input_items("resp_abc", after="msg_2"))
    assert [i["id"] for page in pages for i in page.wire["data"]] == ["msg_3", "msg_4"]


def list_page(data: list[dict[str, Any]], has_more: bool) -> httpx.Response:
    return httpx.Response(
        200, json={"object": "list", "data": data, "has_more": has_more, "first_id": None}
    )


def test_a_page_that_says_has_more_but_is_empty_is_unexpected_payload():
    api, _ = make_client(Recorder(list_page([], True)))
    with pytest.raises(UnexpectedPayload):
        list(api.iter_input_items("resp_abc"))


def test_a_cursor_that_does_not_advance_is_unexpected_payload_not_a_loop():
    handler = Recorder(list_page([{"id": "msg_1", "type": "message", "role": "user"}], True))
    api, _ = make_client(handler)
    with pytest.raises(UnexpectedPayload):
        list(api.iter_input_items("resp_abc"))
    assert len(handler.requests) == 2


def test_an_input_items_page_of_the_wrong_shape_is_unexpected_payload():
    api, _ = make_client(Recorder(httpx.Response(200, json={"object": "list", "data": "x"})))
    with pytest.raises(UnexpectedPayload):
        list(api.iter_input_items("resp_abc"))


# --- ids ------------------------------------------------------------------------------------

BAD_IDS = ["../x", "resp_a/b", "r" * 129, "", "resp_a b", "resp_%2e%2e", "resp_a?b=c", "résp_1"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_response_ids_are_rejected_before_any_request(bad):
    handler = Recorder(httpx.Response(200, json=body()))
    api, _ = make_client(handler)
    with pytest.raises(ValueError, match="letters, digits"):
        api.retrieve_response(bad)
    with pytest.raises(ValueError, match="letters, digits"):
        next(api.iter_input_items(bad))
    assert handler.requests == []


def test_an_id_of_128_characters_is_accepted():
    long_id = "resp_" + "a" * 123
    handler = Recorder(httpx.Response(200, json=body(long_id)))
    api, _ = make_client(handler)
    assert api.retrieve_response(long_id).id == long_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("resp_677efb5139a88190b512bc3fef8e535d", "resp_677efb5139a88190b512bc3fef8e535d"),
        ("  resp_abc123\n", "resp_abc123"),
        ("https://platform.openai.com/logs/resp_abc123", "resp_abc123"),
        ("https://platform.openai.com/logs/resp_abc123/", "resp_abc123"),
        ("https://platform.openai.com/logs/resp_abc123?project=proj_1", "resp_abc123"),
        ("https://platform.openai.com/logs/resp_abc123#output", "resp_abc123"),
        ("platform.openai.com/logs/resp_A-b_9", "resp_A-b_9"),
        ("http://127.0.0.1:8000/responses/resp_abc123/", "resp_abc123"),
        ("see resp_abc123, please", "resp_abc123"),
        ("custom-id_42", "custom-id_42"),
        ("resp_" + "a" * 123, "resp_" + "a" * 123),
    ],
)
def test_extract_response_id_finds_the_id(text, expected):
    assert extract_response_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "https://platform.openai.com/logs/",
        "https://platform.openai.com/logs/resp_" + "a" * 124,
        "resp_" + "a" * 124,
        "../etc/passwd",
        "<script>alert(1)</script>",
        "a" * 129,
    ],
)
def test_extract_response_id_refuses_text_without_a_usable_id(text):
    with pytest.raises(ValueError, match="letters, digits"):
        extract_response_id(text)


# --- retry delays ---------------------------------------------------------------------------


def answer(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"retry-after": "3"}, 3.0, 3.0),
        ({"retry-after": "0.5"}, 0.5, 0.5),
        ({"retry-after": "60"}, 60.0, 60.0),
        ({"retry-after-ms": "250"}, 0.25, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5, 1.5),
        ({"retry-after": "<date in 10 s>"}, 8.0, 10.0),
        ({"retry-after": "<date in 30 s, -0000>"}, 28.0, 30.0),
    ],
)
def test_retry_delay_honours_the_server(headers, low, high):
    if headers.get("retry-after") == "<date in 10 s>":
        headers = {"retry-after": http_date(10)}
    elif headers.get("retry-after") == "<date in 30 s, -0000>":
        headers = {"retry-after": email.utils.formatdate(time.time() + 30)}
    assert low <= retry_delay(answer(**headers), 0) <= high


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"retry-after": "120"},
        {"retry-after": "-1"},
        {"retry-after-ms": "60001"},
        {"retry-after": "soon"},
        {"retry-after": "<date 10 s ago>"},
        {"retry-after-ms": "nan"},
    ],
)
@pytest.mark.parametrize("retries_so_far", [0, 1, 2, 3, 4, 5])
def test_retry_delay_out_of_range_falls_back_to_jittered_backoff(headers, retries_so_far):
    if headers.get("retry-after") == "<date 10 s ago>":
        headers = {"retry-after": http_date(-10)}
    base = min(0.5 * 2**retries_so_far, 8.0)
    for _ in range(20):
        assert 0.75 * base <= retry_delay(answer(**headers), retries_so_far) <= base


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 1.0), (0.5, 0.875), (0.999999, 0.75)])
def test_backoff_jitter_takes_up_to_a_quarter_off(monkeypatch, draw, factor):
    monkeypatch.setattr(random, "random", lambda: draw)
    assert retry_delay(None, 1) == pytest.approx(1.0 * factor, abs=1e-5)
    assert retry_delay(None, 10) == pytest.approx(8.0 * factor, abs=1e-5)


@pytest.mark.parametrize("previous", ["../x", "resp_a/b", "resp_" + "a" * 124])
def test_a_previous_response_id_that_is_not_a_usable_id_is_unexpected_payload(previous):
    handler = Recorder(httpx.Response(200, json=body(previous_response_id=previous)))
    api, _ = make_client(handler)
    with pytest.raises(UnexpectedPayload, match="previous_response_id"):
        api.retrieve_response("resp_abc")
