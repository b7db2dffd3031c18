"""rendering.py and markdown.py: pure helpers, each with a table of cases; long JSON cut at
a limit without being written out whole."""

import json
import math
import random
from decimal import Decimal
from pathlib import Path

import pytest

from bench import data
from inspector import markdown, rendering, trace
from inspector.schemas import Response, item_adapter
from inspector.schemas.content import Logprob, OutputTextPart
from tests.hostile import JSON_ODD

STATIC = Path(__file__).resolve().parent.parent / "static"


def item(raw):
    return item_adapter.validate_python(raw)


def response(**fields):
    return Response.model_validate({"id": "resp_1", "output": [], **fields})


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0 B"), (561, "561 B"), (1536, "1.5 KB"), (3 * 1024 * 1024, "3.0 MB")],
)
def test_sizes_are_in_powers_of_1024(count, shown):
    assert rendering.size_words(count) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (-1, ""),
        (math.inf, ""),
        (2.04, "2.0 s"),
        (65, "1 min 05 s"),
        (3725, "1 h 02 min"),
    ],
)
def test_durations_read_naturally(seconds, shown):
    assert rendering.duration_words(seconds) == shown


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (1, 0, ""),
        (None, 5, ""),
        (0, 5, "0 %"),
        (1, 10_000, "<0.1 %"),
        (1, 3, "33 %"),
        (1, 40, "2.5 %"),
    ],
)
def test_percentages_guard_an_empty_whole(part, whole, shown):
    assert rendering.percent(part, whole) == shown


@pytest.mark.parametrize(
    ("seconds", "timeout_ms", "shown"),
    [(None, None, ""), (None, 500, "500 ms"), (None, 120_000, "2 min 00 s")],
)
def test_timeouts_are_milliseconds(seconds, timeout_ms, shown):
    assert rendering.timeout_words(timeout_ms) == shown


# --- long texts and JSON ------------------------------------------------------------------


def test_a_long_text_is_cut_and_the_rest_counted():
    part = rendering.clip("x" * 25_000)
    assert (len(part.shown), part.hidden, part.cut) == (20_000, 5_000, True)
    assert rendering.clip("x" * 25_000, full=True).hidden == 0


def test_a_cut_text_links_to_the_item_in_full_with_htmx_and_a_plain_href():
    html = rendering.text_block("y" * 20_010, False, "/responses/resp_1/items/output/0/")
    assert 'href="/responses/resp_1/items/output/0/"' in html
    assert 'hx-get="/responses/resp_1/items/output/0/"' in html
    assert "Show all (10 more characters)" in html
    assert html.count("y") == 20_000


def test_a_full_view_of_a_huge_text_is_plain_text_not_markdown():
    html = rendering.markdown_block("**b** " * 40_000, True, None)
    assert "too long to render as Markdown" in html
    assert "<strong>" not in html


@pytest.mark.parametrize(
    ("raw", "valid", "text"),
    [
        ('{"a":1}', True, '{\n  "a": 1\n}'),
        ("", True, ""),
        ('{"a": ', False, '{"a": '),
        ('"<b>"', True, '"<b>"'),
    ],
)
def test_arguments_are_formatted_json_or_kept_raw_with_the_reason(raw, valid, text):
    result = rendering.json_text(raw)
    assert (result.valid, result.text) == (valid, text)
    assert bool(result.error) is not valid


def test_mcp_authorization_and_header_values_are_masked_everywhere():
    body = {
        "tools": [
            {"type": "mcp", "server_label": "b", "authorization": "sk-x", "headers": {"A": "sk-y"}},
            {"type": "function", "name": "f"},
        ]
    }
    masked = rendering.mask_secrets(body)
    assert "sk-x" not in str(masked) and "sk-y" not in str(masked)
    assert masked["tools"][0]["headers"] == {"A": rendering.MASK}
    assert masked["tools"][1] == {"type": "function", "name": "f"}
    assert body["tools"][0]["authorization"] == "sk-x"  # the stored body is untouched


# --- parameters in words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "words"),
    [
        (None, "not set"),
        ("auto", "auto: the model decides"),
        ("required", "required: at least one tool call"),
        ({"type": "function", "name": "get_order"}, "must call the function tool get_order"),
        ({"type": "mcp", "server_label": "billing"}, "must use MCP billing"),
        (
            {"type": "mcp", "server_label": "b", "name": "refund"},
            "must call refund on MCP server b",
        ),
        ({"type": "file_search"}, "must use file_search"),
        (
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "a"}, {"type": "image_generation"}],
            },
            "only a, image_generation (required)",
        ),
    ],
)
def test_tool_choice_in_words(choice, words):
    assert rendering.tool_choice_words(choice) == words


def test_file_search_filters_in_words():
    spec = {
        "type": "and",
        "filters": [
            {"key": "region", "type": "in", "value": ["DE", "EU"]},
            {"key": "doc_year", "type": "gte", "value": 2025},
            {
                "type": "or",
                "filters": [
                    {"key": "s", "type": "eq", "value": "x"},
                    {"key": "t", "type": "ne", "value": True},
                ],
            },
        ],
    }
    assert (
        rendering.filter_words(spec)
        == 'region in [DE, EU] and doc_year ≥ 2025 and (s = "x" or t ≠ true)'
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "not set (the API asks for approval by default)"),
        ("never", "never: calls run without approval"),
        (
            {"always": {"tool_names": ["refund"]}, "never": {"read_only": True}},
            "always for refund; never for read-only tools",
        ),
    ],
)
def test_mcp_approval_policy_in_words(value, words):
    assert rendering.approval_words(value) == words


def test_schema_fields_list_types_enums_and_required():
    fields = rendering.schema_fields(
        {
            "properties": {
                "s": {"type": "string", "enum": ["a", "b"], "description": "d"},
                "n": {"type": ["integer", "null"]},
            },
            "required": ["s"],
        }
    )
    assert [(f.name, f.kind, f.required, f.description) for f in fields] == [
        ("s", 'string: "a" | "b"', True, "d"),
        ("n", "integer | null", False, ""),
    ]
    assert rendering.schema_fields(None) == []


@pytest.mark.parametrize(
    ("tools", "own", "fmt"),
    [
        ([], None, "png"),
        ([{"type": "image_generation", "output_format": "webp"}], None, "webp"),
        ([], "jpg", "jpeg"),
        ([], "svg", "png"),
    ],
)
def test_the_generated_image_format_comes_from_the_item_then_the_tool(tools, own, fmt):
    raw = {"type": "image_generation_call", "id": "ig_1", "result": "AAAA"}
    if own:
        raw["output_format"] = own
    assert rendering.image_format(response(tools=tools), item(raw)) == fmt


# --- items in words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ({"type": "click", "button": "left", "x": 412, "y": 318}, "click left at (412, 318)"),
        ({"type": "double_click", "x": 1, "y": 2}, "double-click at (1, 2)"),
        (
            {"type": "drag", "path": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]},
            "drag along (1, 2) → (3, 4)",
        ),
        ({"type": "keypress", "keys": ["CTRL", "A"]}, "press CTRL + A"),
        ({"type": "move", "x": 5, "y": 6}, "move the pointer to (5, 6)"),
        ({"type": "screenshot"}, "take a screenshot"),
        (
            {"type": "scroll", "x": 1, "y": 2, "scroll_x": 0, "scroll_y": 300},
            "scroll by (0, 300) at (1, 2)",
        ),
        ({"type": "type", "text": "42.50"}, "type “42.50”"),
        ({"type": "wait"}, "wait"),
        ({"type": "teleport"}, "unknown action teleport"),
        (None, "no action"),
    ],
)
def test_computer_actions_in_words(action, words):
    call = item({"type": "computer_call", "id": "cu_1", "call_id": "c", "action": action})
    assert rendering.computer_action_words(call.action) == words


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ({"type": "search", "query": "q", "queries": ["a", "b"]}, "searched for “a”, “b”"),
        ({"type": "search", "query": "q"}, "searched for “q”"),
        ({"type": "open_page", "url": "https://x"}, "opened a page"),
        (
            {"type": "find_in_page", "pattern": "Tuesday", "url": "https://x"},
            "looked for “Tuesday” in a page",
        ),
        ({"type": "find", "pattern": "p"}, "looked for “p” in a page"),
        (None, "searched (the action was not included)"),
    ],
)
def test_web_search_actions_in_words(action, words):
    call = item({"type": "web_search_call", "id": "ws_1", "action": action})
    assert rendering.web_search_action_words(call.action) == words


@pytest.mark.parametrize(
    ("operation", "words"),
    [
        ({"type": "create_file", "path": "a.py", "diff": "+x"}, "create a.py"),
        ({"type": "update_file", "path": "b.py", "diff": "-x"}, "update b.py"),
        ({"type": "delete_file", "path": "c.py"}, "delete c.py"),
        ({"type": "rename_file", "path": "d"}, "unknown operation rename_file"),
    ],
)
def test_patch_operations_in_words(operation, words):
    call = item({"type": "apply_patch_call", "id": "a", "call_id": "c", "operation": operation})
    assert rendering.patch_operation_words(call.operation) == words


@pytest.mark.parametrize(
    ("outcome", "words", "failed"),
    [
        ({"type": "exit", "exit_code": 0}, "exit code 0", False),
        ({"type": "exit", "exit_code": 1}, "exit code 1", True),
        ({"type": "timeout"}, "timed out", True),
    ],
)
def test_shell_outcomes_in_words(outcome, words, failed):
    output = item(
        {
            "type": "shell_call_output",
            "call_id": "c",
            "output": [{"stdout": "", "outcome": outcome}],
        }
    )
    chunk = output.output[0]
    assert rendering.shell_outcome_words(chunk.outcome) == words
    assert rendering.outcome_failed(chunk.outcome) is failed


def test_shell_commands_pair_with_the_output_chunk_at_their_index():
    call = item({"type": "shell_call", "call_id": "c", "action": {"commands": ["ruff", "mypy"]}})
    answer = item({"type": "shell_call_output", "call_id": "c", "output": [{"stdout": "ok"}]})
    steps = rendering.shell_steps(call, answer)
    assert [(s.command, s.chunk.stdout if s.chunk else None) for s in steps] == [
        ("ruff", "ok"),
        ("mypy", None),
    ]
    assert [s.command for s in rendering.shell_steps(call)] == ["ruff", "mypy"]


def test_shell_steps_read_the_output_from_a_page_row_or_a_trace_entry_alike():
    call = item({"type": "shell_call", "call_id": "c", "action": {"commands": ["ruff"]}})
    answer = item({"type": "shell_call_output", "call_id": "c", "output": [{"stdout": "ok"}]})
    for holder in (rendering.Row(answer, "input", 0, "resp_1"), trace.Entry(2, "input", 0, answer)):
        (step,) = rendering.shell_steps(call, holder)
        assert step.chunk is not None and step.chunk.stdout == "ok"


@pytest.mark.parametrize(
    ("output", "text", "exit_code", "parsed"),
    [
        (
            '{"output": "done\\n", "metadata": {"exit_code": 2, "duration_seconds": 1.5}}',
            "done\n",
            2,
            True,
        ),
        ("plain text", "plain text", None, False),
        ('["not", "a", "dict"]', '["not", "a", "dict"]', None, False),
    ],
)
def test_local_shell_output_is_read_from_its_json_string(output, text, exit_code, parsed):
    result = rendering.local_shell_result(output)
    assert (result.text, result.exit_code, result.parsed) == (text, exit_code, parsed)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (None, ""),
        ("boom", "boom"),
        (
            {
                "type": "mcp_tool_execution_error",
                "content": [{"type": "text", "text": "timed out"}],
            },
            "mcp_tool_execution_error: timed out",
        ),
        ({"message": "bad"}, "bad"),
        ({"weird": 1}, '{"weird": 1}'),
    ],
)
def test_errors_as_strings_or_objects_read_as_text(error, text):
    assert rendering.error_text(error) == text


# --- content ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", "inline"),
        ("DATA:IMAGE/JPEG;base64,AAAA", "inline"),
        ("data:image/svg+xml;base64,PHN2Zz4=", "unsafe"),
        ("data:text/html;base64,PHNjcmlwdD4=", "unsafe"),
        ("javascript:alert(1)", "unsafe"),
        ("https://example.com/a.png", "remote"),
        ("http://example.com/a.png", "link"),
    ],
)
def test_images_are_inlined_only_as_data_images_and_remote_only_on_request(url, kind):
    assert rendering.image_ref(url).kind == kind


def test_a_huge_data_image_waits_for_show_all():
    url = "data:image/png;base64," + "A" * (rendering.INLINE_IMAGE_MAX + 1)
    assert rendering.image_ref(url).kind == "too_big"
    assert rendering.image_ref(url, full=True).kind == "inline"


def test_generated_images_become_data_urls_never_text():
    ref = rendering.generated_image(
        item({"type": "image_generation_call", "id": "i", "result": "iVBORw0KGgo="}), response()
    )
    assert ref.url == "data:image/png;base64,iVBORw0KGgo="
    bad = rendering.generated_image(
        item({"type": "image_generation_call", "id": "i", "result": '"><script>'}), response()
    )
    assert bad.kind == "unsafe"


@pytest.mark.parametrize(
    ("data", "media_type", "size"),
    [
        ("data:application/pdf;base64,QUJD", "application/pdf", 3),
        ("QUJDRA==", "", 4),
        ("not base64!", "", 11),
    ],
)
def test_inline_file_data_is_measured_not_shown(data, media_type, size):
    found = rendering.inline_file(data)
    assert (found.media_type, found.size) == (media_type, size)


def test_citations_are_numbered_with_their_clamped_span():
    part = OutputTextPart.model_validate(
        {
            "type": "output_text",
            "text": "Hello world",
            "annotations": [
                {"type": "url_citation", "url": "https://a", "start_index": 6, "end_index": 99},
                {"type": "file_citation", "file_id": "f", "index": 3},
            ],
        }
    )
    cited = rendering.citations(part)
    assert [(c.number, c.quote) for c in cited] == [(1, "world"), (2, "")]


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://a", "https://a"),
        ("HTTP://a", "HTTP://a"),
        ("mailto:x@y", "mailto:x@y"),
        ("javascript:alert(1)", None),
        ("/admin/", None),
        (None, None),
    ],
)
def test_only_web_and_mail_addresses_become_links(url, link):
    assert rendering.safe_link(url) == link


def test_logprob_tokens_are_bucketed_with_their_alternatives():
    logprobs = [
        Logprob.model_validate(
            {
                "token": "yes",
                "bytes": [121, 101, 115],
                "logprob": -0.01,
                "top_logprobs": [{"token": "no", "logprob": -4.6}],
            }
        ),
        Logprob.model_validate({"token": "!", "bytes": [33], "logprob": -2.3}),
    ]
    view = rendering.logprob_tokens(logprobs)
    assert [(t.text, t.bucket) for t in view.tokens] == [("yes", 9), ("!", 1)]
    assert '"no" 1.01 %' in view.tokens[0].title


def test_a_character_split_across_tokens_is_joined_with_the_product_of_probabilities():
    euro = "€".encode()  # three bytes, two tokens
    logprobs = [
        Logprob.model_validate(
            {"token": "bytes:\\xe2", "bytes": list(euro[:1]), "logprob": math.log(0.5)}
        ),
        Logprob.model_validate(
            {"token": "bytes:\\x82\\xac", "bytes": list(euro[1:]), "logprob": math.log(0.5)}
        ),
    ]
    (token,) = rendering.logprob_tokens(logprobs).tokens
    assert token.text == "€"
    assert token.bucket == 2  # 0.25


def test_only_the_first_tokens_are_shown_until_show_all():
    logprobs = [Logprob.model_validate({"token": "a", "bytes": [97], "logprob": 0})] * (
        rendering.LOGPROB_TOKENS + 5
    )
    assert rendering.logprob_tokens(logprobs).hidden == 5
    assert len(rendering.logprob_tokens(logprobs, full=True).tokens) == rendering.LOGPROB_TOKENS + 5


def test_encrypted_only_reasoning_says_so_with_its_size_tokens_and_the_setting_to_change():
    reasoning = item(
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x" * 3207}
    )
    usage = {
        "input_tokens": 1,
        "output_tokens": 900,
        "total_tokens": 901,
        "output_tokens_details": {"reasoning_tokens": 832},
    }
    notes = " ".join(
        rendering.reasoning_notes(
            reasoning, response(usage=usage, reasoning={"summary": None}), "output"
        )
    )
    assert "3,207 characters of encrypted_content" in notes
    assert "832 reasoning tokens" in notes
    assert 'set reasoning.summary to "auto"' in notes


def test_reasoning_with_nothing_at_all_names_the_include_that_returns_it():
    reasoning = item({"type": "reasoning", "id": "rs_1", "summary": []})
    notes = rendering.reasoning_notes(reasoning, response(reasoning={"summary": "auto"}), "output")
    assert notes[0] == "No reasoning text, summary or encrypted content was returned."
    assert notes[-1] == (
        'The encrypted reasoning was not returned: add include=["reasoning.encrypted_content"] '
        "to carry it into the next turn with store=false."
    )


def test_a_reasoning_summary_needs_no_advice():
    reasoning = item(
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "s"}]}
    )
    assert rendering.reasoning_notes(reasoning, response(), "output") == []


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ({"type": "function_call", "call_id": "c", "name": "get_order"}, "get_order"),
        (
            {
                "type": "apply_patch_call",
                "call_id": "c",
                "operation": {"type": "delete_file", "path": "a"},
            },
            "delete a",
        ),
        ({"type": "shell_call", "call_id": "c", "action": {"commands": ["ls", "pwd"]}}, "ls; pwd"),
        (
            {"type": "local_shell_call", "call_id": "c", "action": {"command": ["echo", "a b"]}},
            "echo 'a b'",
        ),
        ({"type": "computer_call", "call_id": "c", "action": {"type": "wait"}}, "wait"),
        ({"type": "message", "role": "user", "content": "x"}, ""),
    ],
)
def test_item_titles_say_what_an_item_is_about(raw, title):
    assert rendering.item_title(item(raw)) == title


# --- usage, problems, rows ----------------------------------------------------------------


def test_usage_splits_and_prices_as_of_the_response_creation(monkeypatch):
    calls = []

    def fake_price(model, **kw):
        calls.append((model, kw["when"]))
        if model == "mystery":
            return None
        return rendering.pricing.Cost(
            model,
            model,
            Decimal("0.002"),
            Decimal("0.001"),
            Decimal("0.008"),
            Decimal("0.011"),
            kw["when"],
            1000,
        )

    monkeypatch.setattr(rendering.pricing, "price", fake_price)
    monkeypatch.setattr(rendering.pricing, "COMPARE_MODELS", ("cheap", "mystery"))
    usage = {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 40},
        "output_tokens": 80,
        "output_tokens_details": {"reasoning_tokens": 20},
        "total_tokens": 180,
    }
    view = rendering.usage_view(response(model="m", created_at=1767225600, usage=usage))
    assert (view.cached, view.uncached, view.reasoning, view.visible) == (40, 60, 20, 60)
    assert view.reasoning_cost == Decimal("0.002") and view.visible_cost == Decimal("0.006")
    assert view.input_cost == Decimal("0.003")
    assert view.context_share == "10 %"
    assert {when.year for _, when in calls} == {2026}
    assert [(c.model, c.ratio, c.fits) for c in view.comparisons] == [
        ("cheap", "\u00d71.00", True),
        ("mystery", "", None),
    ]


def test_no_usage_means_no_usage_view():
    assert rendering.usage_view(response()) is None


@pytest.mark.parametrize(
    ("raw", "section", "anchor"),
    [
        (
            {"type": "message", "id": "msg_1", "role": "user", "content": "hi"},
            "input",
            "item-msg_1",
        ),
        ({"type": "function_call", "call_id": "c", "name": "f"}, "output", "item-output-3"),
        (
            {"type": "message", "id": 'x" onload="y', "role": "user", "content": "hi"},
            "input",
            "item-input-3",
        ),
        ({"type": "item_reference", "id": "msg_1"}, "input", "item-input-3"),
        (
            {"type": "local_shell_call_output", "id": "call_1", "output": ""},
            "input",
            "item-input-3",
        ),
    ],
)
def test_anchors_use_the_item_id_only_when_it_is_its_own_and_safe(raw, section, anchor):
    assert rendering.Row(item(raw), section, 3, "resp_1").anchor == anchor


# --- markdown and highlighting ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "present", "absent"),
    [
        ("<script>window.__pwned=1</script>", "&lt;script&gt;", "<script"),
        ('<img src=x onerror="window.__pwned=1">', "&lt;img", "<img"),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))", "href="),
        ("[x](/admin/)", "<a rel=", 'href="/admin/"'),
        (
            "[x](https://a.example/?q=1)",
            'href="https://a.example/?q=1" rel="noopener noreferrer nofollow"',
            "javascript",
        ),
        ("<mailto:a@b.example>", 'href="mailto:a@b.example"', "<script"),
        (
            "![alt](https://evil.example/p.png)",
            '<a class="md-image" href="https://evil.example/p.png"',
            "<img",
        ),
        ("![alt](data:image/png;base64,AAAA)", "[image: alt]", "data:image"),
        ("```python\nprint('<b>')\n```", '<span class="nb">print</span>', "<b>"),
        ('```js" onclick="x\nx\n```', "<pre><code>x", "onclick"),
        ("| a |\n|:-|\n| 1 |", "<td>1</td>", "style="),
    ],
)
def test_markdown_is_rendered_with_raw_html_off_and_sanitized(source, present, absent):
    html = markdown.render_markdown(source)
    assert present in html
    assert absent not in html


def test_highlighting_escapes_every_token():
    html = markdown.highlight('{"a": "<script>"}', "json")
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '<span class="nt">' in html


def test_an_unknown_language_is_escaped_but_not_highlighted():
    assert markdown.highlight("<b>", "no-such-language") == "&lt;b&gt;"


def test_the_committed_pygments_css_is_the_generated_one():
    assert (STATIC / "pygments.css").read_text() == markdown.pygments_css()


# --- JSON cut at a limit, without writing out a 2 MB string -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        'a "quoted" \\ path',
        "tab\tnew\nline\r\x08\x0c",
        "\x00\x01\x1f",
        "é😀\u2028",
        "\ud800",
    ],
)
def test_a_json_string_is_measured_as_json_writes_it(text):
    written = json.dumps(text, ensure_ascii=False)
    assert rendering._json_size(text) == (
        len(written),
        len(written.encode("utf-8", "surrogatepass")),
    )


def test_clipped_json_shows_and_counts_what_the_whole_pretty_json_would():
    rng = random.Random(3)

    def text(longest: int) -> str:
        return "".join(rng.choice(JSON_ODD) for _ in range(rng.randint(0, longest)))

    for _ in range(300):
        value = {
            "a": [text(60) for _ in range(3)],
            "b": {"c": text(120), "n": 1.5, "t": None},
            "long": text(300),
        }
        limit = rng.randint(1, 150)
        whole = rendering.pretty_json(value)
        shown, size = rendering.clipped_json(value, limit)
        assert shown == rendering.clip(whole, limit=limit)
        assert size == len(whole.encode("utf-8", "surrogatepass"))


def test_the_raw_json_of_a_two_megabyte_answer_says_how_much_is_not_shown():
    answer = data.message("msg_1", "assistant", "x\n" * 1_000_000)
    part, size = rendering.clipped_json(answer, rendering.LONG_TEXT)
    whole = rendering.pretty_json(answer)
    assert part.shown == whole[: rendering.LONG_TEXT]
    assert part.hidden == len(whole) - rendering.LONG_TEXT
    assert size == len(whole.encode())


SCHEMA = {"type": "object", "properties": {"sentiment": {"type": "string",
          "enum": ["positive", "negative"]}}, "required": ["sentiment"]}  # fmt: skip


def with_format(fmt: dict) -> Response:
    return Response.model_validate({"id": "resp_s", "output": [], "text": {"format": fmt}})


@pytest.mark.parametrize(
    ("text", "strict", "valid", "violation"),
    [
        ('{"sentiment":"negative"}', True, True, ""),
        ('{"sentiment":"angry"}', False, True,
         'sentiment: "angry" is not one of "positive" or "negative"'),
        ('{"sentiment":"negative","extra":1}', True, True,
         "Additional properties are not allowed ('extra' was unexpected)"),
        ('{"sentiment": "neg', True, False, None),
    ],
)  # fmt: skip
def test_structured_output_is_pretty_printed_and_checked_against_its_schema(
    text, strict, valid, violation
):
    fmt = {"type": "json_schema", "name": "review", "schema": SCHEMA, "strict": strict}
    found = rendering.structured_output(text, with_format(fmt))
    assert found is not None
    assert (found.name, found.json.valid, found.violation) == ("review", valid, violation)
    if valid:
        assert found.json.text.startswith('{\n  "sentiment":')


def test_output_text_of_other_formats_is_not_structured():
    assert rendering.structured_output('{"a": 1}', with_format({"type": "text"})) is None
    assert rendering.structured_output('{"a": 1}', with_format({"type": "json_object"})) is None
    assert rendering.structured_output('{"a": 1}', None) is None


def incomplete(reason, status="incomplete"):  # type: ignore[no-untyped-def]
    text = {"type": "output_text", "text": "The answer stops mid", "annotations": []}
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "incomplete",
               "content": [{**text, "text": "First part."}, text]}  # fmt: skip
    details = {"reason": reason} if reason else None
    return Response.model_validate({"id": "resp_i", "status": status, "output": [message],
                                    "incomplete_details": details})  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "status", "cut"),
    [("max_output_tokens", "incomplete", "max_output_tokens"),
     ("content_filter", "incomplete", "content_filter"),
     (None, "incomplete", "no reason given"),
     (None, "completed", None)],
)  # fmt: skip
def test_an_incomplete_responses_last_text_is_marked_where_it_was_cut(reason, status, cut):
    response = incomplete(reason, status)
    first, last = response.output[0].content
    assert rendering.cut_here(last, response) == cut
    assert rendering.cut_here(first, response) is None
