"""Pages that answer first (issue 15), through the test client: the response page's summary
before anything else and its output before its input; moving through a long response (an
item link that loads its page, ?page=, filters, the outline); the list as a log; the one
lookup box that finds part of a stored id before anything goes upstream."""

import importlib
import re
from typing import Any

import pytest

from inspector import store
from inspector.models import StoredResponse
from tests.factories import response_body

pytestmark = pytest.mark.django_db


def keep(response_id: str, items: list[Any] | None = None, **fields: Any) -> str:
    store.save_bundle(response_body(response_id, **fields), items or [], source="import")
    return response_id


def agent_run(count: int) -> list[dict[str, Any]]:
    """`count` input items: turns of a user message, a call and its output."""
    items: list[dict[str, Any]] = []
    for n in range(count):
        turn, step = divmod(n, 3)
        if step == 0:
            items.append({"type": "message", "id": f"msg_{n}", "role": "user",
                          "content": f"question {turn}"})  # fmt: skip
        elif step == 1:
            name = "lookup" if turn % 2 else "search"
            items.append({"type": "function_call", "id": f"fc_{n}", "call_id": f"c{turn}",
                          "name": name, "arguments": "{}"})  # fmt: skip
        else:
            items.append({"type": "function_call_output", "id": f"fco_{n}",
                          "call_id": f"c{turn}", "output": f"answer {turn}"})  # fmt: skip
    return items


TEXT = {"type": "output_text", "text": "THE ANSWER", "annotations": []}
ANSWER = {"type": "message", "id": "msg_out", "role": "assistant", "content": [TEXT]}


def html_of(client: Any, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


# --- the response page answers first -----------------------------------------------------


def test_the_summary_line_comes_first_and_the_output_before_the_input(logged_in):
    usage = {"input_tokens": 3915, "output_tokens": 141, "total_tokens": 4056,
             "input_tokens_details": {"cached_tokens": 0},
             "output_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip
    calls = [
        {"type": "function_call", "id": "fc_a", "call_id": "a", "name": "f", "arguments": "{}"},
        {"type": "mcp_call", "id": "mcp_b", "server_label": "s", "name": "g", "arguments": "{}",
         "status": "failed", "error": "down"},
    ]  # fmt: skip
    keep("resp_sum", agent_run(3), output=[*calls, ANSWER], usage=usage, completed_at=1767225607)
    html = html_of(logged_in, "/responses/resp_sum/")
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('id="summary"')[1]))
    assert summary.startswith("> gpt-5 · 2 tool calls , 1 failed · 2 problems · 4,056 tokens")
    assert "7.0 s" in summary.split("</p>")[0]
    order = [html.index(marker) for marker in
             ('id="summary"', 'id="errors-h"', 'id="context"', 'id="output-h"', 'id="input-h"',
              'id="usage-h"', 'id="raw-h"')]  # fmt: skip
    assert order == sorted(order)
    # The parameters wait behind one line.
    assert '<details class="card context" id="context">' in html


def test_an_answer_beside_its_call_is_a_line_not_a_second_card(logged_in):
    keep("resp_pair", agent_run(3))
    html = html_of(logged_in, "/responses/resp_pair/")
    assert '<p class="item-stub" id="item-fco_2" data-place="input-2">' in html
    assert '<article class="item item-function_call_output' not in html
    card = html.split('id="item-fc_1"', 1)[1].split("</article>", 1)[0]
    assert "answer 0" in card


def test_notes_and_raw_json_are_small_controls_in_the_item_header(logged_in):
    keep("resp_tools", [], output=[ANSWER])
    card = html_of(logged_in, "/responses/resp_tools/").split('id="item-msg_out"', 1)[1]
    head = card.split("</header>", 1)[0]
    assert 'data-open="item-msg_out-note"' in head and ">Note</a>" in head
    assert 'data-open="item-msg_out-raw"' in head and ">JSON</a>" in head
    assert '<details class="raw" id="item-msg_out-raw">' in card


# --- moving through a long response ------------------------------------------------------


def test_an_item_link_loads_the_page_of_input_items_that_shows_it(logged_in):
    keep("resp_long", agent_run(300), output=[ANSWER])
    size = store.INPUT_PAGE_SIZE
    answer = logged_in.get("/responses/resp_long/goto/", {"input": 300})
    assert answer.status_code == 302
    assert answer["Location"] == f"/responses/resp_long/?page={299 // size + 1}#item-fco_299"
    assert logged_in.get("/responses/resp_long/goto/?input=1")["Location"] == (
        "/responses/resp_long/#item-msg_0"
    )
    assert logged_in.get("/responses/resp_long/goto/?output=1")["Location"] == (
        "/responses/resp_long/#item-msg_out"
    )
    by_anchor = logged_in.get("/responses/resp_long/goto/?anchor=item-fc_100")
    assert by_anchor["Location"] == f"/responses/resp_long/?page={100 // size + 1}#item-fc_100"
    assert logged_in.get("/responses/resp_long/goto/?input=301").status_code == 404
    assert logged_in.get("/responses/resp_long/goto/?input=x").status_code == 404
    assert logged_in.get("/responses/resp_long/goto/?anchor=nope").status_code == 404


def test_any_page_of_input_items_opens_with_the_ones_before_it_a_click_away(logged_in):
    keep("resp_long", agent_run(300))
    html = html_of(logged_in, "/responses/resp_long/", page=15)
    assert 'id="item-fco_299"' in html and 'id="item-msg_0"' not in html
    earlier_link = 'hx-get="/responses/resp_long/items/?page=14&amp;dir=up"'
    assert f'href="/responses/resp_long/?page=14" {earlier_link}' in html
    earlier = html_of(logged_in, "/responses/resp_long/items/", page=14, dir="up")
    assert f'id="item-msg_{13 * store.INPUT_PAGE_SIZE}"' in earlier or "item-fc_" in earlier
    assert "?page=13&amp;dir=up" in earlier
    assert 'hx-trigger="revealed"' not in earlier  # the page below is there already
    assert "Newest input item" in html
    assert 'href="/responses/resp_long/goto/?input=300" class="newest"' in html


def test_items_can_be_filtered_by_type_role_and_tool_name(logged_in):
    keep("resp_long", agent_run(300), output=[ANSWER])
    html = html_of(logged_in, "/responses/resp_long/", type="function_call", name="lookup")
    assert "Only items with type <code>function_call</code> name <code>lookup</code>" in html
    assert "0 of 1 output, 50 of 300 input" in html
    assert html.count('<article class="item item-function_call"') == store.INPUT_PAGE_SIZE
    assert "item-msg_" not in html.split('id="output-h"', 1)[1]
    users = html_of(logged_in, "/responses/resp_long/", role="user")
    assert "100 of 300 input" in users
    # The next page keeps the filter.
    assert "/responses/resp_long/items/?role=user&amp;page=2" in users


def test_the_outline_groups_the_turns_counts_the_items_and_marks_the_problems(logged_in):
    items = agent_run(300)
    items[151] = {**items[151], "status": "failed"}  # a failed call, replayed in the input
    keep("resp_long", items, output=[ANSWER])
    html = html_of(logged_in, "/responses/resp_long/outline/")
    assert "300 items, 100 turns, 34 groups of turns" in html
    assert '<a href="/responses/resp_long/goto/?input=1">Turns 1\u20133</a>' in html
    assert (
        "items 1\u20139: user message \xd73, search \xd72, function_call_output \xd73, lookup"
        in html
    )
    flagged = '<a class="flag-count" href="/responses/resp_long/goto/?input=152">1 problem</a>'
    assert flagged in html
    assert '<a href="/responses/resp_long/goto/?input=300">newest item</a>' in html
    assert '<a href="/responses/resp_long/goto/?output=1">Output item 1</a>' in html
    assert "<option>function_call_output</option>" in html and "<option>lookup</option>" in html
    fragment = logged_in.get("/responses/resp_long/outline/", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b"Turns 1" in fragment.content


def test_the_response_page_loads_its_outline_when_it_is_opened(logged_in):
    keep("resp_long", agent_run(30))
    html = html_of(logged_in, "/responses/resp_long/")
    loads = 'hx-get="/responses/resp_long/outline/" hx-trigger="intersect once"'
    assert f'<div class="outline-body" {loads}' in html
    assert '<a href="/responses/resp_long/outline/">Open the outline</a>' in html


# --- the list reads like a log -----------------------------------------------------------


def test_each_row_says_what_was_asked_and_answered_or_the_error(logged_in):
    keep("resp_asked", [{"type": "message", "role": "developer", "content": "Be brief."},
                        {"type": "message", "role": "user", "content": "Where is\n my order?"}],
         output=[ANSWER])  # fmt: skip
    keep("resp_broke", [{"type": "message", "role": "user", "content": "Solve it"}],
         status="failed", error={"code": "server_error", "message": "It broke"})  # fmt: skip
    rows = html_of(logged_in, "/").split("<tbody>", 1)[1]
    assert ">Where is my order?</a>" in rows
    assert '<span class="answered">THE ANSWER</span>' in rows
    assert '<span class="answered error">Error (server_error): It broke</span>' in rows
    head = html_of(logged_in, "/").split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert all(re.sub(r"<[^>]+>", "", cell).strip() for cell in head.split("</th>")[:-1])


def test_a_first_fetch_keeps_what_the_response_was_asked(upstream, settings, logged_in):
    settings.OPENAI_API_KEY = "sk-test"
    upstream.add(
        response_body("resp_fetched", output=[ANSWER]),
        [{"type": "message", "id": "m1", "role": "user", "content": "Fetched question"}],
    )
    store.fetch_response("resp_fetched")
    stored = StoredResponse.objects.get(pk="resp_fetched")
    assert (stored.input_preview, stored.output_preview) == ("Fetched question", "THE ANSWER")


def test_part_of_a_stored_id_opens_it_before_anything_goes_upstream(logged_in, upstream):
    keep("resp_1ebe77952b3e7f47")
    keep("resp_00aa11bb22cc33dd")
    keep("resp_00aa11bb22cc99ee")
    assert logged_in.get("/lookup/", {"q": "1ebe77952b3e"})["Location"] == (
        "/responses/resp_1ebe77952b3e7f47/"
    )
    several = logged_in.get("/lookup/", {"q": "00aa11bb22cc"})
    assert several.status_code == 200
    page = several.content.decode()
    assert "2 stored responses match “00aa11bb22cc”" in page
    assert page.count('href="/responses/resp_00aa11bb22cc') >= 2
    assert upstream.requests == []
    # A whole id that is not stored goes to its page (which fetches it).
    assert logged_in.get("/lookup/", {"q": "resp_notstored123"})["Location"] == (
        "/responses/resp_notstored123/"
    )


def test_the_list_page_has_one_lookup_box(logged_in):
    html = html_of(logged_in, "/")
    assert html.count('name="q" type="search"') == 1
    assert "Open a response" not in html


def test_the_migration_fills_the_new_columns_of_responses_stored_before(logged_in):
    from django.apps import apps

    migration = importlib.import_module(
        "inspector.migrations.0018_problems_previews_and_answer_places"
    )
    shell = {"type": "shell_call", "id": "sh_1", "call_id": "c", "action": {"commands": ["ls"]}}
    out = {"type": "shell_call_output", "call_id": "c",
           "output": [{"stdout": "", "outcome": {"type": "timeout"}}]}  # fmt: skip
    keep("resp_old", [{"type": "message", "role": "user", "content": "Old question"}],
         output=[shell, out, ANSWER])  # fmt: skip
    StoredResponse.objects.update(problems="", input_preview="", output_preview="")
    migration.backfill(apps, None)
    stored = StoredResponse.objects.get(pk="resp_old")
    assert (stored.input_preview, stored.output_preview) == ("Old question", "THE ANSWER")
    assert stored.problems == "\nshell\n"
