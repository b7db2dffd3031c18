"""Compare: the pure diff and alignment functions (tables of cases) and the page."""

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from inspector import compare, pricing, store
from inspector.models import StoredResponse
from inspector.schemas import Response, item_adapter
from tests.factories import response_body


def item(raw: dict[str, Any]) -> Any:
    return item_adapter.validate_python(raw)


def fc(name: str, call_id: str, arguments: str = "{}", **extra: Any) -> Any:
    return item(
        {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
            **extra,
        }
    )


def out(call_id: str, output: str = "ok") -> Any:
    return item({"type": "function_call_output", "call_id": call_id, "output": output})


def msg(text: str, role: str = "assistant", item_id: str = "msg_x") -> Any:
    kind = "output_text" if role == "assistant" else "input_text"
    return item(
        {"type": "message", "id": item_id, "role": role, "content": [{"type": kind, "text": text}]}
    )


def reasoning(item_id: str = "rs_1") -> Any:
    return item({"type": "reasoning", "id": item_id, "summary": [], "encrypted_content": item_id})


def response(**fields: Any) -> Response:
    return Response.model_validate({"id": "resp_x", "model": "gpt-5", "output": [], **fields})


# --- text diff -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "", []),
        ("same", "same", [("same", 1, 1, "same")]),
        ("", "new", [("added", None, 1, "new")]),
        ("old", "", [("removed", 1, None, "old")]),
        (
            "one\ntwo\nthree",
            "one\n2\nthree",
            [
                ("same", 1, 1, "one"),
                ("removed", 2, None, "two"),
                ("added", None, 2, "2"),
                ("same", 3, 3, "three"),
            ],
        ),
        (
            "a\nb",
            "x\na\nb",
            [("added", None, 1, "x"), ("same", 1, 2, "a"), ("same", 2, 3, "b")],
        ),
        ("<b>x</b>", "<b>x</b>", [("same", 1, 1, "<b>x</b>")]),
    ],
)
def test_text_diff_marks_every_line_once(a, b, expected):
    got = [(d.kind, d.left_number, d.right_number, d.text) for d in compare.text_diff(a, b)]
    assert got == expected


@pytest.mark.parametrize(
    ("instructions", "text"),
    [
        (None, ""),
        ("Be brief.", "Be brief."),
        (
            [
                {"type": "message", "role": "developer", "content": "Rules."},
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Hi"}],
                },
            ],
            "developer: Rules.\n\nuser: Hi",
        ),
    ],
)
def test_instructions_as_text(instructions, text):
    assert compare.instructions_text(response(instructions=instructions).instructions) == text


# --- parameters and tools ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("auto", "auto"),
        (0.7, "0.7"),
        (True, "true"),
        ({"b": 1, "a": 2}, '{\n  "a": 2,\n  "b": 1\n}'),
    ],
)
def test_value_text(value, text):
    assert compare.value_text(value) == text


def test_parameters_mark_what_differs():
    a = response(model="gpt-5", temperature=1.0, reasoning={"effort": "low"}, metadata={"k": "v"})
    b = response(model="gpt-5-mini", temperature=1.0, reasoning={"effort": "high"})
    rows = {p.name: p for p in compare.parameters(a, b)}
    assert not rows["model"].same
    assert rows["temperature"].same
    assert not rows["reasoning"].same
    assert (rows["metadata"].left, rows["metadata"].right) == ('{\n  "k": "v"\n}', "")
    assert rows["top_p"].same and rows["top_p"].left == ""


def test_text_format_differences_are_a_parameter_difference():
    schema = {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}}
    a, b = response(text=schema), response(text={"format": {"type": "text"}})
    assert not {p.name: p for p in compare.parameters(a, b)}["text"].same


@pytest.mark.parametrize(
    ("tool", "key"),
    [
        ({"type": "function", "name": "get_order", "parameters": {}}, "function get_order"),
        ({"type": "custom", "name": "sql"}, "custom sql"),
        ({"type": "mcp", "server_label": "stripe", "server_url": "https://x"}, "mcp stripe"),
        ({"type": "web_search"}, "web_search"),
    ],
)
def test_tool_keys(tool, key):
    assert compare.tool_key(response(tools=[tool]).tools[0]) == key


def test_tools_are_matched_by_key_and_marked():
    a = response(
        tools=[
            {"type": "function", "name": "get_order", "parameters": {"type": "object"}},
            {"type": "web_search"},
        ]
    )
    b = response(
        tools=[
            {"type": "function", "name": "get_order", "parameters": {"type": "object", "x": 1}},
            {"type": "function", "name": "refund", "parameters": {}},
        ]
    )
    rows = [(t.name, bool(t.left), bool(t.right), t.same) for t in compare.tools(a.tools, b.tools)]
    assert rows == [
        ("function get_order", True, True, False),
        ("web_search", True, False, False),
        ("function refund", False, True, False),
    ]


# --- alignment ---------------------------------------------------------------------------


def shape(pairs: list[compare.Aligned]) -> list[tuple[int | None, int | None, str]]:
    return [(p.left_position, p.right_position, p.kind) for p in pairs]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ([], [], []),
        ([msg("hi")], [msg("hi", item_id="msg_other")], [(0, 0, "same")]),
        ([msg("hi")], [msg("hello")], [(0, 0, "changed")]),
        ([msg("hi")], [], [(0, None, "removed")]),
        ([], [msg("hi")], [(None, 0, "added")]),
        # An inserted item does not shift what follows it out of line.
        (
            [msg("a"), fc("f", "c1")],
            [reasoning(), msg("a"), fc("f", "c9")],
            [(None, 0, "added"), (0, 1, "same"), (1, 2, "same")],
        ),
        # Different types at one position are not paired.
        ([msg("a")], [reasoning()], [(0, None, "removed"), (None, 0, "added")]),
        # Calls pair by name before position...
        (
            [fc("lookup", "c1"), fc("refund", "c2")],
            [fc("refund", "c7")],
            [(0, None, "removed"), (1, 0, "same")],
        ),
        # ... and by call id when both sides share it, whatever else changed.
        (
            [fc("lookup", "c1", '{"id": 1}'), out("c1")],
            [fc("lookup", "c1", '{"id": 2}'), out("c1", "other")],
            [(0, 0, "changed"), (1, 1, "changed")],
        ),
        (
            [out("c1"), out("c2")],
            [out("c2"), out("c3")],
            [(0, None, "removed"), (1, 0, "same"), (None, 1, "added")],
        ),
        # Messages pair by role.
        (
            [msg("q", role="user"), msg("a")],
            [msg("a")],
            [(0, None, "removed"), (1, 0, "same")],
        ),
        # Reasoning differs only in its id and encrypted content: the same.
        ([reasoning("rs_1")], [reasoning("rs_2")], [(0, 0, "same")]),
    ],
)
def test_align(left, right, expected):
    assert shape(compare.align(left, right)) == expected


def test_alignment_keeps_every_item_once_in_order():
    left = [msg("a"), fc("f", "c1"), out("c1"), msg("b"), reasoning()]
    right = [fc("g", "c2"), msg("a"), out("c1"), msg("c"), msg("d")]
    pairs = compare.align(left, right)
    lefts = [p.left_position for p in pairs if p.left_position is not None]
    rights = [p.right_position for p in pairs if p.right_position is not None]
    assert lefts == list(range(len(left)))
    assert rights == list(range(len(right)))


@pytest.mark.parametrize(
    ("raw", "summary"),
    [
        (msg("Hello\nthere"), "Hello\nthere"),
        (fc("f", "c1", '{"a": 1}'), '{"a": 1}'),
        (out("c1", "result"), "result"),
        (
            item({"type": "shell_call", "call_id": "s", "action": {"commands": ["ls", "pwd"]}}),
            "ls pwd",
        ),
        (
            item(
                {
                    "type": "computer_call_output",
                    "call_id": "c",
                    "output": {
                        "type": "computer_screenshot",
                        "image_url": "data:image/png;base64,AAAA",
                    },
                }
            ),
            "",
        ),
        (
            item({"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thought."}]}),
            "Thought.",
        ),
        (None, ""),
    ],
)
def test_item_summary(raw, summary):
    assert compare.item_summary(raw) == summary


# --- usage and cost ---------------------------------------------------------------------------


def usage(inp: int, out_: int) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": out_,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": inp + out_,
    }


@pytest.fixture
def test_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    def price(model: str, *, input_tokens: int, output_tokens: int = 0, **_: Any) -> Any:
        if model == "unpriced":
            return None
        return SimpleNamespace(total=Decimal(input_tokens + 2 * output_tokens) / 1000)

    monkeypatch.setattr(pricing, "price", price)
    # What the store keeps for the list: the same made-up total.
    monkeypatch.setattr(
        pricing, "total", lambda model, **kw: getattr(price(model, **kw), "total", None)
    )


def test_usage_deltas(test_prices):
    a = response(usage=usage(1000, 100))
    b = response(usage=usage(1500, 50))
    rows = {d.label: d for d in compare.usage_deltas(a, b)}
    assert rows["input tokens"].change == 500
    assert rows["input tokens"].percent == Decimal("50.0")
    assert rows["output tokens"].change == -50
    assert rows["total tokens"].change == 450
    assert (rows["cost"].left, rows["cost"].right) == (Decimal("1.2"), Decimal("1.6"))
    assert rows["cost"].change == Decimal("0.4")
    assert rows["cost"].is_money


def test_usage_deltas_without_usage_or_price_are_unknown(test_prices):
    rows = {d.label: d for d in compare.usage_deltas(response(), response(model="unpriced"))}
    assert rows["input tokens"].change is None
    assert rows["cost"].change is None
    assert rows["cost"].percent is None


# --- the page -----------------------------------------------------------------------------


def body(rid: str, **extra: Any) -> dict[str, Any]:
    return response_body(rid, tools=[], **extra)


@pytest.fixture
def pair(user: Any) -> None:
    store.save_bundle(
        body(
            "resp_a",
            instructions="Be kind.\nAnswer <b>briefly</b>.",
            usage=usage(1000, 100),
            output=[
                {
                    "type": "function_call",
                    "id": "fc_1",
                    "call_id": "c1",
                    "name": "lookup",
                    "arguments": "{}",
                },
            ],
        ),
        [{"role": "user", "content": "hi"}],
        source=StoredResponse.Source.IMPORT,
    )
    store.save_bundle(
        body(
            "resp_b",
            model="gpt-5-mini",
            instructions="Be kind.\nAnswer at length.",
            usage=usage(2000, 100),
            previous_response_id="resp_a",
            output=[
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {
                    "type": "function_call",
                    "id": "fc_2",
                    "call_id": "c2",
                    "name": "lookup",
                    "arguments": "{}",
                },
            ],
        ),
        [{"role": "user", "content": "hi"}, {"role": "user", "content": "more"}],
        source=StoredResponse.Source.IMPORT,
    )


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_the_compare_page_shows_differences(logged_in, pair, test_prices):
    response = logged_in.get("/responses/resp_a/compare/resp_b/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="row">model <span class="badge diff-badge">differs</span></th>' in html
    assert '<tr class="diff-removed">' in html
    assert "<code>Answer &lt;b&gt;briefly&lt;/b&gt;.</code>" in html
    assert '<tr class="diff-added">' in html
    assert "<code>Answer at length.</code>" in html
    assert "+1,000" in html
    assert "+100.0 %" in html
    kinds = [row.pair.kind for row in dict(response.context["sections"])["output"]]
    assert kinds == ["added", "same"]
    inputs = [row.pair.kind for row in dict(response.context["sections"])["input"]]
    assert inputs == ["same", "added"]
    assert 'href="/responses/resp_b/#item-fc_2"' in html
    assert 'href="/responses/resp_a/#item-input-0"' in html


@pytestmark_db
def test_the_response_page_offers_compare_with_another_and_with_the_previous_turn(logged_in, pair):
    html = logged_in.get("/responses/resp_b/").content.decode()
    assert '<form class="compare-with" method="get" action="/compare/">' in html
    assert '<input type="hidden" name="r" value="resp_b">' in html
    assert 'href="/responses/resp_a/compare/resp_b/">with the previous turn</a>' in html


@pytestmark_db
@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("r=resp_a&r=resp_b", "/responses/resp_a/compare/resp_b/"),
        (
            "r=resp_b&r=https%3A%2F%2Fplatform.openai.com%2Flogs%2Fresp_a",
            "/responses/resp_b/compare/resp_a/",
        ),
    ],
)
def test_picking_two_responses_goes_to_their_comparison(logged_in, query, location):
    response = logged_in.get(f"/compare/?{query}")
    assert response.status_code == 302
    assert response["Location"] == location


@pytestmark_db
@pytest.mark.parametrize("query", ["r=resp_a", "r=resp_a&r=resp_b&r=resp_c", "r=resp_a&r=bad id!"])
def test_picking_anything_but_two_ids_says_why(logged_in, query):
    response = logged_in.get(f"/compare/?{query}")
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


@pytestmark_db
def test_the_pick_page_without_ids_is_a_form(logged_in):
    response = logged_in.get("/compare/")
    assert response.status_code == 200
    assert 'name="r"' in response.content.decode()


@pytestmark_db
def test_the_pick_page_shows_no_error_before_anything_is_picked(logged_in):
    html = logged_in.get("/compare/").content.decode()
    assert "Pick exactly two" not in html
    assert 'class="error"' not in html


@pytestmark_db
def test_comparing_with_a_response_not_stored_fetches_it(logged_in, pair, upstream):
    upstream.add(body("resp_c", model="gpt-4.1"), [])
    assert logged_in.get("/responses/resp_a/compare/resp_c/").status_code == 200
    assert StoredResponse.objects.filter(pk="resp_c").exists()


@pytestmark_db
def test_comparing_with_a_response_the_upstream_does_not_know_says_so(logged_in, pair, upstream):
    response = logged_in.get("/responses/resp_a/compare/resp_missing/")
    assert response.status_code == 404


@pytestmark_db
def test_compare_requires_login(client):
    assert client.get("/responses/resp_a/compare/resp_b/").status_code == 302


@pytest.mark.parametrize(
    ("a", "b", "segments", "removed", "added"),
    [
        ("same text", "same text", [("same", "same text")], 0, 0),
        (
            "The order ships today.",
            "The order ships on Monday.",
            [("same", "The order ships "), ("removed", "today"), ("added", "on Monday"),
             ("same", ".")],
            1,
            2,
        ),
        (
            "one\ntwo\nthree\n",
            "one\n2\nthree\n",
            [("same", "one\n"), ("removed", "two"), ("added", "2"), ("same", "\nthree\n")],
            1,
            1,
        ),
        ("", "new", [("added", "new")], 0, 1),
    ],
)  # fmt: skip
def test_word_diff_marks_words_only_one_side_has(a, b, segments, removed, added):
    diff = compare.word_diff(a, b)
    assert [(s.kind, s.text) for s in diff.segments] == segments
    assert (diff.removed, diff.added) == (removed, added)


def test_a_long_changed_stretch_is_removed_and_added_whole(monkeypatch):
    monkeypatch.setattr(compare, "WORD_DIFF_MAX", 5)
    diff = compare.word_diff("a b c d e f", "a b c d e g")
    assert [s.kind for s in diff.segments] == ["removed", "added"]
    assert (diff.removed, diff.added) == (6, 6)


@pytestmark_db
def test_the_compare_page_diffs_changed_output_texts_word_by_word_and_renders_markdown(logged_in):
    for rid, text in (
        ("resp_x", "The order **ships** today."),
        ("resp_y", "The order **ships** on Monday."),
    ):
        message = {
            "type": "message",
            "id": f"msg_{rid}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        store.save_bundle(body(rid, output=[message]), [], source=StoredResponse.Source.IMPORT)
    response = logged_in.get("/responses/resp_x/compare/resp_y/")
    html = response.content.decode()
    assert "1 output item</a> and" in html
    assert response.context["output_differences"] == 1
    assert "<del>today</del><ins>on Monday</ins>" in html
    assert "1 word only in A" in html and "2 only in B" in html
    assert "<strong>ships</strong>" in html  # rendered Markdown
    assert 'data-md-toggle aria-pressed="false">Raw text</button>' in html
