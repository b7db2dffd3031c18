"""The playground: its pure helpers (tables of cases) and every endpoint through the client."""

import html
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspector import playground, pricing, store, tokens
from inspector.models import PlaygroundSession, StoredResponse, TokenCountSample
from inspector.schemas import InputTokensRequest
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _encodings_installed() -> None:
    tokens.install_encoding_files()  # from the bpe-openai wheel, verified; never downloads


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city"}},
        "required": ["city"],
    },
}
MESSAGES = [
    {"role": "user", "content": "What's the weather in Paris?"},
    {"role": "assistant", "content": "Let me check."},
]


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "model": "gpt-5.1",
        "instructions": "You are terse.",
        "input_kind": "items",
        "input_items": json.dumps(MESSAGES, indent=2),
        "input_text": "",
        "tools": json.dumps([WEATHER_TOOL]),
        "tool_choice": "",
        "reasoning_effort": "",
        "reasoning_summary": "",
        "text_format": "",
        "verbosity": "",
        "truncation": "",
        "parallel_tool_calls": "",
        "previous_response_id": "",
        "conversation": "",
        "from_id": "",
        "from_tokens": "",
        "from_carried": "",
        "cached_share": "25",
        "output_tokens": "300",
        "reasoning_tokens": "1000",
        "requests_per_day": "2000",
    }
    return {**data, **overrides}


def local_total(data: dict[str, str]) -> int:
    form = playground.PlaygroundForm(data)
    assert form.is_valid(), form.errors
    assert form.request is not None
    return tokens.count_request(form.request).total


HTMX = {"HTTP_HX_REQUEST": "true"}


# --- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            '[{"role": "user", "content": "hi"},\n  {"role": "user" "content": "x"}]',
            "input_items",
            "Invalid JSON in input at line 2, column 19: Expecting ',' delimiter.",
        ),
        (
            '[\n  {"role": "user", "content": "hi"},\n  {"type": "function_call", "name": "f"}\n]',
            "input_items",
            "input[1] (line 3), function_call: call_id: Field required.",
        ),
        (
            '[\n  {"content": "no role"}\n]',
            "input_items",
            'input[0] (line 2): no "type" (and no "role", so it is not a message).',
        ),
        ("[1]", "input_items", "input[0] (line 1): an item is a JSON object, not 1."),
        ('{"role": "user"}', "input_items", "input must be a JSON list [ … ], not a dict."),
        ('[{"type": "function"}]', "tools", None),
        ('[{"type": "mcp", "server_label": 7}]', "tools", "tools[0] (line 1), mcp: server_label:"),
        ("{bad", "tools", "Invalid JSON in tools at line 1, column 2"),
    ],
)
def test_json_fields_name_the_line_column_or_item_that_is_wrong(text, field, message):
    form = playground.PlaygroundForm(form_data(**{field: text}))
    if message is None:
        assert form.is_valid()
    else:
        assert not form.is_valid()
        assert message in " ".join(form.errors[field])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"tool_choice": "sometimes"}, "tool_choice", 'tool_choice is "none", "auto", "required"'),
        ({"tool_choice": '{"name": "x"}'}, "tool_choice", 'A tool_choice object needs a "type".'),
        ({"text_format": '"json"'}, "text_format", 'a JSON object with a "type"'),
        ({"previous_response_id": "resp/../x"}, "previous_response_id", "letters, digits"),
        ({"previous_response_id": "resp_1", "conversation": "conv_1"}, "__all__", "cannot be used"),
        ({"cached_share": "120"}, "cached_share", "less than or equal to 100"),
    ],
)
def test_other_fields_say_what_is_wrong(overrides, field, message):
    form = playground.PlaygroundForm(form_data(**overrides))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_an_unknown_item_type_is_a_warning_and_still_sent():
    form = playground.PlaygroundForm(
        form_data(input_items='[{"type": "hologram_call", "id": "h1", "depth": 3}]')
    )
    assert form.is_valid()
    assert "hologram_call" in form.warnings[0]
    assert playground.local.request_body(form.request)["input"] == [
        {"type": "hologram_call", "id": "h1", "depth": 3}
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {},
            {
                "model": "gpt-5.1",
                "instructions": "You are terse.",
                "input": MESSAGES,
                "tools": [WEATHER_TOOL],
            },
        ),
        (
            {"input_kind": "text", "input_text": "Just this.", "tools": "", "instructions": ""},
            {"model": "gpt-5.1", "input": "Just this."},
        ),
        (
            {
                "tool_choice": "required",
                "reasoning_effort": "low",
                "reasoning_summary": "auto",
                "verbosity": "high",
                "truncation": "auto",
                "parallel_tool_calls": "false",
                "previous_response_id": "resp_prev",
                "tools": "",
                "instructions": "",
            },
            {
                "model": "gpt-5.1",
                "input": MESSAGES,
                "tool_choice": "required",
                "reasoning": {"effort": "low", "summary": "auto"},
                "text": {"verbosity": "high"},
                "truncation": "auto",
                "parallel_tool_calls": False,
                "previous_response_id": "resp_prev",
            },
        ),
        (
            {
                "tool_choice": '{"type": "function", "name": "get_weather"}',
                "text_format": '{"type": "json_object"}',
                "conversation": "conv_9",
            },
            {
                "model": "gpt-5.1",
                "instructions": "You are terse.",
                "input": MESSAGES,
                "tools": [WEATHER_TOOL],
                "tool_choice": {"type": "function", "name": "get_weather"},
                "text": {"format": {"type": "json_object"}},
                "conversation": "conv_9",
            },
        ),
    ],
)
def test_the_form_builds_exactly_the_request_it_shows(overrides, expected):
    form = playground.PlaygroundForm(form_data(**overrides))
    assert form.is_valid(), form.errors
    body = playground.local.request_body(form.request)
    # Messages gain their wire "type"; nothing else is added or dropped.
    for item in body.get("input", []) if isinstance(body.get("input"), list) else []:
        assert item.pop("type") == "message"
    assert body == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5.1", True),
        ("gpt-5-mini", True),
        ("o4-mini", True),
        ("o3", True),
        ("gpt-5-chat-latest", False),
        ("gpt-4.1", False),
        ("gpt-4o", False),
        ("acme", False),
    ],
)
def test_reasoning_tokens_apply_only_to_reasoning_models(model, expected):
    assert playground.local.is_reasoning_model(model) is expected


@pytest.mark.parametrize(
    ("pairs", "samples", "mean", "percent", "worst"),
    [
        ([(100, 110)], 1, Decimal(10), Decimal("100") / 11, 10),
        (
            [(100, 110), (200, 190)],
            2,
            Decimal(0),
            (Decimal(1000) / 110 + Decimal(1000) / 190) / 2,
            10,
        ),
        ([(50, 50), (50, 50), (40, 50)], 3, Decimal(10) / 3, Decimal(20) / 3, 10),
    ],
)
def test_history_summarizes_how_far_local_estimates_ran(pairs, samples, mean, percent, worst):
    summary = playground.remote.summarize("gpt-5.1", pairs)
    assert summary is not None
    assert summary.samples == samples
    assert summary.mean_difference == mean
    assert abs(summary.mean_abs_percent - percent) < Decimal("1e-20")
    assert summary.max_abs_difference == worst


def test_history_says_whether_the_api_counted_more_or_fewer():
    assert playground.remote.summarize("m", [(120, 100)]).direction == "fewer"
    assert playground.remote.summarize("m", [(100, 120)]).direction == "more"
    assert playground.remote.summarize("m", [(120, 100)]).mean_size == Decimal(20)


def test_no_samples_means_no_history():
    assert playground.remote.summarize("gpt-5.1", []) is None


def breakdown(**body):  # type: ignore[no-untyped-def]
    return tokens.count_request(InputTokensRequest.model_validate(body))


@pytest.mark.parametrize(
    ("body", "api_delta", "expected"),
    [
        ({"model": "gpt-4o", "input": "hi"}, 0, "The local count matches the API's exactly."),
        (
            {"model": "gpt-4o", "input": "hi"},
            7,
            "The API counted 7 more: framing and tool overhead the local rules do not capture.",
        ),
        (
            {"model": "gpt-4o", "input": "hi", "tools": [{"type": "web_search"}]},
            900,
            "The API counted 900 more: 1 part only the API can count (web_search); framing and "
            "tool overhead the local rules do not capture.",
        ),
        (
            {"model": "gpt-4o", "input": "hi"},
            -2,
            "The API counted 2 fewer: the local framing and tool estimates (cookbook constants, "
            "image formulas) run high for this model.",
        ),
    ],
)
def test_the_difference_with_the_api_is_named(body, api_delta, expected):
    local = breakdown(**body)
    assert playground.remote.explain_difference(local, local.total + api_delta) == expected


def test_units_are_the_instructions_each_item_and_each_tool():
    request = InputTokensRequest.model_validate(
        {"instructions": "x", "input": MESSAGES, "tools": [WEATHER_TOOL, {"type": "web_search"}]}
    )
    assert [u.key for u in playground.remote.units(request)] == [
        "instructions",
        "input.0",
        "input.1",
        "tools.0",
        "tools.1",
    ]
    left = playground.remote.without(request, "input.0")
    assert [m.content for m in left.input] == ["Let me check."]
    assert [t.type for t in playground.remote.without(request, "tools.1").tools] == ["function"]
    assert playground.remote.without(request, "instructions").instructions is None
    assert request.input[0].content == "What's the weather in Paris?"  # not changed in place


def test_curl_and_python_never_hold_the_key_and_send_the_same_body(settings):
    body = {
        "model": "gpt-5.1",
        "input": [{"role": "user", "content": 'it\'s "quoted" ü'}],
        "parallel_tool_calls": True,
        "tool_choice": None,
    }
    curl = playground.local.curl_command(body, "https://api.openai.com/v1")
    python = playground.local.python_snippet(body, "https://gateway.example/v1")
    assert TEST_KEY not in curl + python
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in curl
    assert json.loads(curl.split("<<'JSON'\n", 1)[1].rsplit("\nJSON", 1)[0]) == body
    assert "OpenAI(base_url='https://gateway.example/v1')" in python
    assert "parallel_tool_calls=True" in python
    assert "tool_choice=None" in python
    namespace: dict[str, object] = {}
    arguments = python.split("count(\n", 1)[1].rsplit("\n)", 1)[0]
    exec(f"def collect(**kw): return kw\nresult = collect(\n{arguments}\n)", namespace)  # noqa: S102
    assert namespace["result"] == body


# --- the page ---------------------------------------------------------------------------------


def test_the_playground_requires_login(client):
    assert client.get("/playground/").status_code == 302


def test_the_playground_opens_with_a_count_a_price_table_and_the_rules(logged_in):
    page = logged_in.get("/playground/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="local-total"' in text
    assert "gpt-5-mini" in text and "cheapest" in text
    assert "How to count tokens with tiktoken" in text
    assert "Images and vision" in text
    assert 'href="/playground/"' in text  # the nav link


def test_typing_gets_the_count_fragment_with_the_exact_local_total(logged_in):
    data = form_data()
    answer = logged_in.post("/playground/count/", data, **HTMX)
    text = answer.content.decode()
    assert answer.status_code == 200
    assert f'<span id="local-total">{local_total(data):,}</span>' in text
    assert '<section id="prices" class="card" hx-swap-oob="true"' in text
    assert '<section id="breakdown" class="card" hx-swap-oob="true"' in text
    assert "<html" not in text


def test_without_javascript_the_count_is_a_whole_page(logged_in):
    answer = logged_in.post("/playground/count/", form_data())
    assert answer.status_code == 200
    assert "<html" in answer.content.decode()


def test_invalid_json_is_shown_beside_its_field_and_nothing_typed_is_lost(logged_in):
    typed = '[\n  {"role": "user", "content": "keep <me>"}\n  {"role": "user"}\n]'
    answer = logged_in.post("/playground/count/", form_data(input_items=typed))
    text = answer.content.decode()
    assert answer.status_code == 400
    assert "Invalid JSON in input at line 3, column 3" in text
    assert html.escape(typed) in text


def test_invalid_json_in_a_fragment_swaps_the_errors_out_of_band(logged_in):
    answer = logged_in.post("/playground/count/", form_data(tools="[{]"), **HTMX)
    text = answer.content.decode()
    assert answer.status_code == 400
    assert re.search(
        r'id="errors-tools"[^>]*hx-swap-oob="true"><p class="error">Invalid JSON', text
    )
    assert 'id="prices"' not in text  # the last good price table stays


def test_whitespace_can_be_shown_in_the_token_view(logged_in):
    data = form_data(input_kind="text", input_text="a b\tc", tools="", instructions="")
    plain = logged_in.post("/playground/count/", data, **HTMX).content.decode()
    shown = logged_in.post(
        "/playground/count/", {**data, "show_whitespace": "on"}, **HTMX
    ).content.decode()
    assert "show-ws" not in plain
    assert "·" in shown and "→" in shown


def test_the_breakdown_labels_estimates_with_their_rule(logged_in):
    text = logged_in.post("/playground/count/", form_data(), **HTMX).content.decode()
    assert "3 per message + the role “user”" in text
    assert 'href="#rule-functions"' in text
    assert "exact (o200k_base)" in text


def test_an_unknown_model_is_counted_with_o200k_and_the_page_says_so(logged_in):
    text = logged_in.post("/playground/count/", form_data(model="acme-7b"), **HTMX).content.decode()
    assert "tiktoken does not know the model “acme-7b”, so it is counted with o200k_base" in text
    assert "no price known" in text


def test_local_count_unavailable_when_the_encoding_file_is_missing(
    logged_in, settings, tmp_path, monkeypatch
):
    settings.TIKTOKEN_CACHE_DIR = tmp_path
    monkeypatch.setattr(tokens, "_encodings", {})
    page = logged_in.get("/playground/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Local count unavailable." in text
    assert "install_tokenizers" in text
    assert "Count with the API" in text
    assert "snippet-curl" in text  # copy-as still works


# --- from a stored response ---------------------------------------------------------------------

STORED = {
    "id": "resp_from1",
    "object": "response",
    "created_at": 1767225600,
    "model": "gpt-4.1",
    "status": "completed",
    "instructions": "You help with orders.",
    "output": [],
    "tools": [
        WEATHER_TOOL,
        {
            "type": "mcp",
            "server_label": "crm",
            "server_url": "https://crm.example/mcp",
            "authorization": "SECRET-OAUTH-TOKEN",
            "headers": {"X-Key": "SECRET-HEADER"},
        },
    ],
    "tool_choice": {"type": "function", "name": "get_weather"},
    "parallel_tool_calls": True,
    "reasoning": {"effort": "low", "summary": "auto"},
    "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}},
    "previous_response_id": "resp_before",
    "usage": {
        "input_tokens": 812,
        "input_tokens_details": {"cached_tokens": 203},
        "output_tokens": 150,
        "output_tokens_details": {"reasoning_tokens": 50},
        "total_tokens": 962,
    },
}
STORED_ITEMS = [
    {
        "id": "msg_1",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Where is order 7?"}],
    },
]


def test_from_a_stored_response_the_form_is_rebuilt_and_its_usage_shown(logged_in):
    store.save_bundle(STORED, STORED_ITEMS, source="demo")
    page = logged_in.get("/playground/?from=resp_from1")
    state = page.context["form"].state()
    text = page.content.decode()
    assert page.status_code == 200
    assert state["model"] == "gpt-4.1"
    assert state["instructions"] == "You help with orders."
    assert json.loads(state["input_items"]) == STORED_ITEMS
    assert json.loads(state["tools"])[0] == WEATHER_TOOL
    assert json.loads(state["tool_choice"]) == {"type": "function", "name": "get_weather"}
    assert (state["reasoning_effort"], state["reasoning_summary"]) == ("low", "auto")
    assert json.loads(state["text_format"])["name"] == "answer"
    assert state["previous_response_id"] == "resp_before"
    assert (state["output_tokens"], state["reasoning_tokens"], state["cached_share"]) == (
        "100",
        "50",
        "25",
    )
    assert '<strong id="origin-tokens">812</strong>' in text
    assert "SECRET" not in text
    assert "MCP authorization and headers were left out" in text


def test_the_response_page_links_to_the_playground(logged_in):
    store.save_bundle(STORED, STORED_ITEMS, source="demo")
    text = logged_in.get("/responses/resp_from1/").content.decode()
    assert 'href="/playground/?from=resp_from1"' in text


def test_from_an_unknown_response_the_page_says_it_is_not_stored(logged_in):
    page = logged_in.get("/playground/?from=resp_nowhere")
    assert page.status_code == 404
    assert "resp_nowhere is not stored here" in page.content.decode()


def count_queries(client, data: dict[str, str]) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/playground/count/", data, **HTMX)
    assert answer.status_code == 200
    return answer.content.decode(), [query["sql"] for query in queries]


def test_a_count_shows_the_origin_the_page_carries_without_reading_the_store(logged_in):
    store.save_bundle(STORED, STORED_ITEMS, source="demo")
    data = logged_in.get("/playground/?from=resp_from1").context["form"].state()
    text, queries = count_queries(logged_in, data)
    _, without_origin = count_queries(logged_in, {**data, "from_id": "", "from_tokens": ""})
    assert data["from_tokens"] == "812"
    assert '<strong id="origin-tokens">812</strong>' in text
    assert not [sql for sql in queries if "inspector_storedresponse" in sql]
    assert not [sql for sql in queries if "inspector_inputitem" in sql]
    assert len(queries) == len(without_origin)


def test_an_origin_that_is_not_a_response_id_is_no_origin(logged_in):
    data = form_data(from_id="x/../y z", from_tokens="5")
    text = logged_in.post("/playground/count/", data, **HTMX).content.decode()
    assert "Rebuilt from" not in text


def test_a_session_rebuilt_from_a_response_reads_its_origin_once_when_reopened(logged_in):
    store.save_bundle(STORED, STORED_ITEMS, source="demo")
    data = logged_in.get("/playground/?from=resp_from1").context["form"].state()
    saved = logged_in.post("/playground/save/", {**data, "name": "from a response"})
    with CaptureQueriesContext(connection) as queries:
        text = logged_in.get(saved["Location"]).content.decode()
    assert '<strong id="origin-tokens">812</strong>' in text
    assert len([q for q in queries if "inspector_storedresponse" in q["sql"]]) == 1


def test_a_session_whose_response_is_gone_shows_no_origin(logged_in):
    store.save_bundle(STORED, STORED_ITEMS, source="demo")
    data = logged_in.get("/playground/?from=resp_from1").context["form"].state()
    saved = logged_in.post("/playground/save/", {**data, "name": "from a response"})
    store.delete_response(StoredResponse.objects.get(pk="resp_from1"))
    page = logged_in.get(saved["Location"])
    assert "Rebuilt from" not in page.content.decode()
    assert page.context["form"].state()["from_id"] == ""


# --- the API's count ----------------------------------------------------------------------------


def test_the_api_count_sends_exactly_the_forms_request_and_names_the_difference(
    logged_in, upstream
):
    data = form_data()
    local = local_total(data)
    upstream.input_tokens = local + 42
    answer = logged_in.post("/playground/api-count/", data, **HTMX)
    text = answer.content.decode()
    sent = json.loads(upstream.requests[-1].content)
    form = playground.PlaygroundForm(data)
    assert form.is_valid()
    assert answer.status_code == 200
    assert upstream.paths() == ["/v1/responses/input_tokens"]
    assert sent == playground.local.request_body(form.request)
    assert f'<dd id="api-total">{local + 42:,}</dd>' in text
    assert '<dd id="api-difference">+42</dd>' in text
    assert "The API counted 42 more: framing and tool overhead" in text
    sample = TokenCountSample.objects.get()
    assert (sample.model, sample.local_count, sample.api_count) == ("gpt-5.1", local, local + 42)


def test_the_api_count_shows_how_far_estimates_have_been_for_that_model(logged_in, upstream):
    TokenCountSample.objects.create(model="gpt-5.1", local_count=100, api_count=120)
    TokenCountSample.objects.create(model="gpt-4o", local_count=100, api_count=500)
    data = form_data()
    upstream.input_tokens = local_total(data)
    text = logged_in.post("/playground/api-count/", data, **HTMX).content.decode()
    assert "For <code>gpt-5.1</code> so far (2 counts)" in text
    assert "10.0 tokens more than the local estimate on average" in text


def test_without_a_key_the_api_button_explains_what_to_set(logged_in, settings, upstream):
    settings.OPENAI_API_KEY = ""
    answer = logged_in.post("/playground/api-count/", form_data(), **HTMX)
    text = answer.content.decode()
    assert answer.status_code == 503
    assert "No API key is configured" in text
    assert "OPENAI_API_KEY" in text
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (401, "The API key was refused"),
        (400, "The upstream API rejected the request"),
        (500, "The upstream API is down or too slow"),
    ],
)
def test_upstream_errors_are_shown_in_words(logged_in, upstream, status, title):
    upstream.override = lambda request: httpx.Response(
        status, json={"error": {"message": "Model <b>nope</b> does not exist."}}
    )
    text = logged_in.post("/playground/api-count/", form_data(), **HTMX).content.decode()
    assert title in text
    assert "Model &lt;b&gt;nope&lt;/b&gt; does not exist." in text
    assert TokenCountSample.objects.count() == 0


def test_an_api_count_goes_stale_when_the_request_changes(logged_in, upstream):
    data = form_data()
    upstream.input_tokens = 5
    api = logged_in.post("/playground/api-count/", data, **HTMX).content.decode()
    counted_for = html.unescape(
        re.search(r'name="api_for" form="playground-form" value="([^"]*)"', api)[1]
    )
    same = logged_in.post("/playground/count/", {**data, "api_for": counted_for}, **HTMX)
    changed = logged_in.post(
        "/playground/count/", {**data, "model": "gpt-4.1", "api_for": counted_for}, **HTMX
    )
    assert 'id="api-result" hx-swap-oob' not in same.content.decode()
    assert "The request changed since the API count" in changed.content.decode()


# --- attribution --------------------------------------------------------------------------------


def priced_by_parts(body: dict) -> int:  # type: ignore[type-arg]
    """A stand-in count: 1000, +10 for instructions, +100 an item, +50 a tool."""
    items = body.get("input") or []
    return (
        1000
        + (10 if body.get("instructions") else 0)
        + 100 * (len(items) if isinstance(items, list) else 1)
        + 50 * len(body.get("tools") or [])
    )


def progress_of(text: str) -> str | None:
    found = re.search(r'name="attribution" form="playground-form" value="([^"]*)"', text)
    return html.unescape(found[1]) if found else None


def test_attribution_first_says_how_many_calls_it_will_make(logged_in, upstream):
    text = logged_in.post("/playground/attribute/", form_data(), **HTMX).content.decode()
    assert '<strong id="attribution-calls">5 times</strong>' in text  # 1 + instructions, 2, 1
    assert 'name="confirm" value="1"' in text
    assert upstream.requests == []


def test_attribution_gives_each_items_exact_marginal_tokens_beside_its_estimate(
    logged_in, upstream
):
    upstream.input_tokens = priced_by_parts
    data = form_data()
    text = logged_in.post("/playground/attribute/", {**data, "confirm": "1"}, **HTMX)
    text = text.content.decode()
    steps = 1
    while 'hx-trigger="load' in text:
        steps += 1
        text = logged_in.post(
            "/playground/attribute/",
            {**data, "confirm": "1", "attribution": progress_of(text)},
            **HTMX,
        ).content.decode()
    form = playground.PlaygroundForm(data)
    assert form.is_valid()
    local = tokens.count_request(form.request)
    assert steps == 2  # 5 calls, 4 a step
    assert len(upstream.requests) == 5
    assert '<strong id="attribution-base">1,260</strong>' in text
    for key, exact in (("instructions", 10), ("input-0", 100), ("input-1", 100), ("tools-0", 50)):
        row = re.search(rf'<tr id="marginal-{key}">(.*?)</tr>', text, re.S)[1]
        estimate = local.entry(key.replace("-", ".")).tokens
        assert f"<strong>{exact}</strong>" in row
        assert f">{estimate:,}<" in row


def test_attribution_shows_when_leaving_one_out_makes_the_request_invalid(logged_in, upstream):
    def refuse_orphans(request: httpx.Request) -> httpx.Response | None:
        body = json.loads(request.content)
        if "input" in body and len(body["input"]) == 1:
            message = "No tool call found for function call output with call_id c1."
            return httpx.Response(400, json={"error": {"message": message}})
        return None

    upstream.override = refuse_orphans
    upstream.input_tokens = priced_by_parts
    data = form_data(
        tools="",
        instructions="",
        input_items=json.dumps(
            [
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"},
            ]
        ),
    )
    text = logged_in.post("/playground/attribute/", {**data, "confirm": "1"}, **HTMX)
    text = text.content.decode()
    assert "No tool call found for function call output" in text
    assert "The upstream API rejected the request" in text


def test_attribution_refuses_a_request_that_needs_too_many_calls(logged_in, upstream):
    many = [
        {"role": "user", "content": f"m{i}"} for i in range(playground.remote.ATTRIBUTION_MAX_CALLS)
    ]
    data = form_data(input_items=json.dumps(many))
    text = logged_in.post("/playground/attribute/", {**data, "confirm": "1"}, **HTMX).content
    assert b"it makes at most 100" in text
    assert upstream.requests == []


def test_attribution_starts_again_when_the_request_changed_between_steps(logged_in, upstream):
    upstream.input_tokens = priced_by_parts
    data = form_data()
    first = logged_in.post("/playground/attribute/", {**data, "confirm": "1"}, **HTMX)
    changed = {
        **data,
        "instructions": "Something else.",
        "confirm": "1",
        "attribution": progress_of(first.content.decode()),
    }
    text = logged_in.post("/playground/attribute/", changed, **HTMX).content.decode()
    assert "attribution started again" in text


def test_attribution_without_a_key_explains_what_to_set(logged_in, settings, upstream):
    settings.OPENAI_API_KEY = ""
    answer = logged_in.post("/playground/attribute/", {**form_data(), "confirm": "1"}, **HTMX)
    assert answer.status_code == 503
    assert "OPENAI_API_KEY" in answer.content.decode()


# --- saved sessions -----------------------------------------------------------------------------


def test_a_saved_session_reopens_identical_at_its_permalink(logged_in, user):
    data = form_data(
        instructions='Hostile? <script>alert("x")</script> & ünïcode\n\n  indented',
        tool_choice="required",
        reasoning_effort="high",
        show_whitespace="on",
        input_items='[\n  {"role": "user", "content": "half-finished',  # invalid: kept as typed
    )
    answer = logged_in.post("/playground/save/", {**data, "name": "Support agent, 10 turns"})
    session = PlaygroundSession.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/playground/{session.slug}/"
    assert session.slug.startswith("support-agent-10-turns-")
    assert session.author == user
    page = logged_in.get(answer["Location"])
    text = page.content.decode()
    assert page.context["form"].state() == {**data, "show_whitespace": "on"}
    assert "<script>alert" not in text
    assert 'id="session-title">Support agent, 10 turns<' in text
    listed = logged_in.get("/playground/").content.decode()
    assert f'href="/playground/{session.slug}/">Support agent, 10 turns</a>' in listed
    assert "alice" in listed


def test_saving_through_htmx_redirects_the_browser(logged_in):
    answer = logged_in.post("/playground/save/", {**form_data(), "name": "x"}, **HTMX)
    assert answer["HX-Redirect"] == f"/playground/{PlaygroundSession.objects.get().slug}/"


def test_a_session_needs_a_name(logged_in):
    answer = logged_in.post("/playground/save/", {**form_data(), "name": "  "}, **HTMX)
    assert answer.status_code == 400
    assert "This field is required." in answer.content.decode()
    assert PlaygroundSession.objects.count() == 0


def test_an_unknown_session_is_not_found(logged_in):
    assert logged_in.get("/playground/no-such-session-abc123/").status_code == 404


def test_the_token_view_escapes_every_token_and_labels_its_ids(logged_in):
    data = form_data(
        input_kind="text", input_text='<img src=x onerror=alert(1)> "q"', tools="", instructions=""
    )
    text = logged_in.post("/playground/count/", data, **HTMX).content.decode()
    assert "<img src=x" not in text
    assert "&lt;" in text
    assert re.search(r'<span class="tok t0" tabindex="0" title="token \d+" data-ids="\d+">', text)


def test_a_chat_completions_field_in_the_input_is_named_and_not_counted(logged_in):
    chat = [{"role": "user", "name": "alice", "content": "Hi"}, {"role": "tool", "content": "42"}]
    data = form_data(input_items=json.dumps(chat), tools="", instructions="")
    text = logged_in.post("/playground/count/", data, **HTMX).content.decode()
    assert "input[0] has “name”, a participant&#x27;s name" in text
    assert "a Chat Completions field the Responses API does not have" in text
    assert "input[1] has the role “tool”" in text


def test_the_count_says_how_close_it_came_to_real_bills_for_requests_like_this(logged_in):
    tools = logged_in.post("/playground/count/", form_data(model="gpt-4o"), **HTMX)
    text = tools.content.decode()
    found = tokens.EVIDENCE[tokens.FUNCTION_TOOLS]
    assert (
        f"Requests with function tools: the local count came within 2 tokens (or 2 %) of the "
        f"bill in {found.within} of {found.pairs} real bills"
    ) in text
    hosted = form_data(tools=json.dumps([{"type": "web_search"}]))
    text = logged_in.post("/playground/count/", hosted, **HTMX).content.decode()
    assert "Requests with hosted tools were billed" in text and "ask the API for this one" in text


# --- estimating: the assumed output, the gap to a stored response, a batch ---------------------


def test_the_price_says_when_the_assumed_output_is_most_of_it(logged_in):
    text = logged_in.post("/playground/count/", form_data(), **HTMX).content.decode()
    counted = local_total(form_data())
    cost = pricing.price(
        "gpt-5.1", input_tokens=counted, cached_tokens=counted // 4, output_tokens=1300
    )
    assert cost is not None and cost.output * 2 > cost.total
    sentence = (
        f"{pricing.money(cost.output)} of {pricing.money(cost.total)} is the 300 output tokens "
        "and 1,000 reasoning tokens you assumed"
    )
    assert sentence in html.unescape(text)
    quiet = logged_in.post(
        "/playground/count/", form_data(output_tokens="0", reasoning_tokens="0"), **HTMX
    )
    assert 'id="assumed-output"' not in quiet.content.decode()


DEMO = Path(__file__).resolve().parent.parent / "inspector" / "demo"


def test_the_gap_to_a_stored_turn_names_the_earlier_turns_and_what_they_carried(logged_in):
    for path in sorted(DEMO.glob("0[123]_support_chain_*.json")):
        with path.open("rb") as handle:
            store.import_lines(handle)
    last, previous = (StoredResponse.objects.get(pk=rid) for rid in (SUPPORT_3, SUPPORT_2))
    page = logged_in.get(f"/playground/?from={last.id}")
    text = html.unescape(re.sub(r"<[^>]+>", "", page.content.decode()))
    local = page.context["result"].breakdown.total
    carried = previous.input_tokens + previous.output_tokens
    assert page.context["form"].state()["from_carried"] == str(carried)
    assert f'name="from_carried" value="{carried}"' in page.content.decode()  # sent on counts
    recount = logged_in.post("/playground/count/", page.context["form"].state(), **HTMX)
    assert f"previous_response_id</strong>: up to {carried:,} tokens" in recount.content.decode()
    assert f"{last.input_tokens - local:,} more than the local count of {local:,}" in text
    assert f"previous_response_id: up to {carried:,} tokens" in text
    assert "input_file returns-policy-2026.pdf: no local size" in text


def test_the_gap_says_when_the_earlier_turn_is_not_stored(logged_in):
    store.save_bundle(STORED, STORED_ITEMS, source="demo")  # its previous turn is not stored
    text = logged_in.get("/playground/?from=resp_from1").content.decode()
    assert "<strong>previous_response_id</strong>: no local size" in text
    assert "which are not stored here" in text


SUPPORT_2 = "resp_fc76d09c0c4338a83dd3e9ecf0fb99151899dedb8683eb14"
SUPPORT_3 = "resp_07f7f8ee6cb1bd0e84eb40bb0f7febc5b7005c11b19f2f16"


@pytest.fixture
def test_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dollar per thousand tokens, half that through the Batch API but for "no-batch"; no
    price for "unpriced"."""

    def price(model: str, *, input_tokens: int, output_tokens: int = 0, batch: bool = False,
              **_: Any) -> Any:  # fmt: skip
        if model == "unpriced":
            return None
        total = Decimal(input_tokens + output_tokens) / 1000
        if batch and model != "no-batch":
            total /= 2
        output = Decimal(output_tokens) / (2000 if batch and model != "no-batch" else 1000)
        return pricing.Cost(model, model, total - output, Decimal(0), output, total,
                            datetime(2026, 1, 1, tzinfo=UTC), None)  # fmt: skip

    monkeypatch.setattr(pricing, "price", price)


BATCH_LINES = [
    {"custom_id": "a", "method": "POST", "url": "/v1/responses",
     "body": {"model": "gpt-5.1", "input": "Summarise the refund policy."}},
    {"model": "gpt-4.1", "input": [{"role": "user", "content": "Where is my parcel?"}],
     "instructions": "You are terse."},
    {"custom_id": "c", "method": "POST", "url": "/v1/responses",
     "body": {"input": "No model here: the form's.", "tools": [WEATHER_TOOL]}},
    {"model": "no-batch", "input": "Hi"},
]  # fmt: skip


def single(logged_in: Any, body: dict[str, Any]) -> Decimal:
    """The playground's own estimate of one request (its count view), as a batch line would
    be priced: gpt-4.1 when the line names no model, 200 output tokens, 0 reasoning."""
    items = body.get("input")
    data = form_data(
        model=body.get("model", "gpt-4.1"),
        instructions=body.get("instructions", ""),
        input_kind="text" if isinstance(items, str) else "items",
        input_text=items if isinstance(items, str) else "",
        input_items=json.dumps(items) if not isinstance(items, str) else "[]",
        tools=json.dumps(body.get("tools", [])) if body.get("tools") else "",
        cached_share="0",
        output_tokens="200",
        reasoning_tokens="0",
    )
    page = logged_in.post("/playground/count/", data, **HTMX)
    return page.context["result"].prices.selected.cost.total


def batch_form(text: str, **extra: Any) -> dict[str, Any]:
    return {"batch-requests": text, "batch-model": "gpt-4.1", "batch-output_tokens": "200",
            "batch-reasoning_tokens": "0", "batch-cached_share": "0", **extra}  # fmt: skip


def test_a_batch_costs_the_sum_of_its_requests_estimated_one_by_one(logged_in, test_prices):
    text = "\n".join(json.dumps(line) for line in BATCH_LINES) + "\n\n"
    page = logged_in.post("/playground/batch/", batch_form(text), **HTMX)
    assert page.status_code == 200
    estimate = page.context["batch"]
    bodies = [line.get("body", line) for line in BATCH_LINES]
    expected = {"gpt-5.1": single(logged_in, bodies[0]),
                "gpt-4.1": single(logged_in, bodies[1]) + single(logged_in, bodies[2]),
                "no-batch": single(logged_in, bodies[3])}  # fmt: skip
    assert {t.model: t.cost for t in estimate.totals} == expected
    assert {t.model: t.requests for t in estimate.totals} == {"gpt-5.1": 1, "gpt-4.1": 2,
                                                            "no-batch": 1}  # fmt: skip
    assert estimate.cost == sum(expected.values())
    by_model = {t.model: t for t in estimate.totals}
    assert by_model["gpt-4.1"].batch_cost == expected["gpt-4.1"] / 2
    assert by_model["gpt-4.1"].batch_known and not by_model["no-batch"].batch_known
    shown = page.content.decode()
    assert f'<strong id="batch-cost">{pricing.money(estimate.cost)}</strong>' in shown
    assert "no Batch API price known" in shown


def test_batch_lines_that_are_not_requests_fail_alone_with_their_numbers(logged_in, test_prices):
    lines = [
        json.dumps(BATCH_LINES[0]),
        "{not json",
        json.dumps(
            {
                "custom_id": "x",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "gpt-4.1", "messages": []},
            }
        ),
        json.dumps({"model": "unpriced", "input": "hello"}),
        "[1, 2]",
    ]
    estimate = logged_in.post("/playground/batch/", batch_form("\n".join(lines)),
                              **HTMX).context["batch"]  # fmt: skip
    assert estimate.requests == 2
    assert [number for number, _ in estimate.failures] == [2, 3, 5]
    assert "only /v1/responses requests" in estimate.failures[1][1]
    (unpriced,) = [t for t in estimate.totals if t.model == "unpriced"]
    assert unpriced.unpriced == 1 and unpriced.cost == 0


def test_a_batch_file_is_read_like_pasted_lines(logged_in, test_prices):
    text = "\n".join(json.dumps(line) for line in BATCH_LINES)
    upload = SimpleUploadedFile("batch.jsonl", text.encode(), "application/jsonl")
    pasted = logged_in.post("/playground/batch/", batch_form(text), **HTMX).context["batch"]
    page = logged_in.post("/playground/batch/", batch_form("", **{"batch-file": upload}))
    assert page.status_code == 200  # no htmx: the whole page, with the estimate
    uploaded = page.context["batch"]
    assert (uploaded.requests, uploaded.cost) == (pasted.requests, pasted.cost)


def test_a_batch_needs_requests(logged_in):
    page = logged_in.post("/playground/batch/", batch_form(""), **HTMX)
    assert page.status_code == 400
    assert "Paste some requests or choose a file." in page.content.decode()


def test_the_save_bar_and_both_input_views_are_on_the_page(logged_in):
    text = logged_in.get("/playground/").content.decode()
    assert 'class="pg-savebar"' in text and 'id="session-name"' in text
    assert 'data-input-view="rows"' in text and 'data-input-view="json"' in text
    assert "save one above" not in text


@pytest.mark.django_db
def test_without_a_key_counting_with_the_api_is_disabled_and_says_why(logged_in, settings):
    settings.OPENAI_API_KEY = ""
    html = logged_in.get("/playground/").content.decode()
    assert 'id="api-count-button"' not in html
    assert (
        '<button type="button" disabled aria-describedby="api-count-why">Count with the API' in html
    )
    assert "Needs OPENAI_API_KEY, which this server does not have." in html
