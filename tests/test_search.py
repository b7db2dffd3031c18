"""Full-text search (issue 12): the index follows store, refresh, import, status and delete on
either database; the list's free text, and the search inside a response and a trace, read
it; results come in context with the words marked and escaped, each linked to its item on the
right page of input items, with earlier / later results and previous / next result."""

import json
from typing import Any

import pytest

from inspector import search, store
from inspector.models import SearchText, StoredResponse
from inspector.store import search_index
from tests.factories import response_body, user_items

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def said(text: str, item_id: str, role: str = "user") -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": role, "content": text}


def found(*words: str) -> set[str]:
    """The ids of the responses the index finds for these words."""
    rows = search_index.matching(list(words)).values_list("response_id", flat=True)
    return set(rows)


def matching_ids(client: Any, response_id: str, query: str) -> list[str]:
    page = client.get(f"/responses/{response_id}/search/?q={query}", headers=HTMX)
    return [hit.anchor for hit in page.context["results"].hits]


AGENT_OUTPUT = [
    {"id": "rs_1", "type": "reasoning", "summary": [
        {"type": "summary_text", "text": "Checking the parcel tracker first."}]},
    {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "track_parcel",
     "arguments": '{"tracking": "ZX-4471"}', "status": "completed"},
    {"id": "sh_1", "type": "shell_call", "call_id": "call_2", "status": "completed",
     "action": {"commands": ["grep -r quokka /var/log"]}},
    {"id": "msg_out", "type": "message", "role": "assistant", "status": "completed",
     "content": [{"type": "output_text", "text": "Your parcel is in Zürich.", "annotations": []}]},
]  # fmt: skip


# --- what is searched, and the index following the store -------------------------------------


def test_every_kind_of_text_is_indexed_messages_arguments_outputs_reasoning_commands():
    items = [
        said("where is my order", "msg_1"),
        {"id": "fco_1", "type": "function_call_output", "call_id": "call_1",
         "output": "status: held at customs"},
    ]  # fmt: skip
    store.save_bundle(response_body("resp_kinds", instructions="Be terse, matey.",
                                    output=AGENT_OUTPUT), items, source="import")  # fmt: skip
    for words in (["matey"], ["order"], ["customs"], ["tracker"], ["zx", "4471"],
                  ["track", "parcel"], ["quokka"], ["zürich"], ["ZÜRICH"]):  # fmt: skip
        assert found(*search.words(" ".join(words))) == {"resp_kinds"}, words


def test_words_match_whole_in_any_case_the_last_also_as_typed_all_in_one_item():
    store.save_bundle(
        response_body("resp_words"),
        [said("Refunds are processed weekly", "msg_1"), said("parcel lost", "msg_2")],
        source="import",
    )
    assert found("refund") == {"resp_words"}  # the last word: the start of a word
    assert found("efund") == set()  # never the middle of one
    assert found("weekly", "refund") == {"resp_words"}
    assert found("refund", "weekly") == set()  # not the last: a whole word
    assert found("refunds", "week") == {"resp_words"}
    assert found("lo") == set()  # two letters: a whole word only
    assert found("refunds", "parcel") == set()  # in two items, not one


def test_the_index_follows_a_fetch_a_refresh_a_status_change_and_a_delete(upstream):
    upstream.add(response_body("resp_follow", status="in_progress", background=True),
                 [said("the old question", "msg_1")])  # fmt: skip
    stored = store.fetch_response("resp_follow")
    assert found("old") == {"resp_follow"}
    # The status changes (poll): the new output is found, the items stay.
    upstream.responses["resp_follow"] = response_body(
        "resp_follow", status="completed", output=AGENT_OUTPUT
    )
    store.check_status(stored)
    assert found("quokka") == found("old") == {"resp_follow"}
    # A refresh swaps in another copy: the old one is no longer found.
    upstream.add(response_body("resp_follow", output=[]), [said("a new question", "msg_9")])
    store.fetch_response("resp_follow")
    assert found("new") == {"resp_follow"}
    assert found("old") == found("quokka") == set()
    store.delete_response(StoredResponse.objects.get(pk="resp_follow"))
    assert found("new") == set()
    assert not SearchText.objects.exists()


def test_the_index_follows_imports_alone_and_in_bulk_and_an_update():
    lines = [
        json.dumps({"kind": "responses-inspector.bundle", "version": 1,
                    "response": response_body(f"resp_imp{i}"),
                    "input_items": [said(f"wombat number{i}", "msg_1")]})
        for i in range(3)
    ]  # fmt: skip
    report = store.import_lines(lines)
    assert report.imported == 3
    assert found("wombat") == {"resp_imp0", "resp_imp1", "resp_imp2"}
    assert found("number1") == {"resp_imp1"}
    store.save_bundle(response_body("resp_imp1"), [said("a koala now", "msg_1")], source="import")
    assert found("wombat") == {"resp_imp0", "resp_imp2"}
    assert found("koala") == {"resp_imp1"}


def test_the_list_free_text_finds_words_in_any_item_and_nothing_else(logged_in):
    store.save_bundle(response_body("resp_a"), [said("lost parcel", "m1")], source="import")
    store.save_bundle(response_body("resp_b"), [said("refund please", "m1")], source="import")
    listed = logged_in.get("/?q=Parcel").context["page"].object_list
    assert [row.id for row in listed] == ["resp_a"]
    assert list(logged_in.get("/?q=%25%25").context["page"].object_list) == []


# --- search inside a response ----------------------------------------------------------------


@pytest.fixture
def long_response() -> str:
    """300 input items, a few of which mention a wombat; one of them hostile."""
    items = user_items(300)
    for position in (5, 42, 250):
        items[position]["content"] = f"a wombat at {position}, then more words after it"
    items[120]["content"] = "<img src=x onerror=alert(1)> wombat <script>alert(2)</script>"
    store.save_bundle(response_body("resp_long", output=AGENT_OUTPUT), items, source="import")
    return "resp_long"


def test_search_finds_every_matching_item_in_page_order_with_links_to_them(
    logged_in, long_response
):
    assert matching_ids(logged_in, long_response, "wombat") == [
        "item-msg_5", "item-msg_42", "item-msg_120", "item-msg_250",
    ]  # fmt: skip
    html = logged_in.get("/responses/resp_long/search/?q=wombat", headers=HTMX).content.decode()
    assert "4 items match <q>wombat</q>" in html
    # Each links to its item on the page of input items it is on (20 a page).
    assert 'href="/responses/resp_long/?q=wombat&amp;hit=1#item-msg_5"' in html
    assert 'href="/responses/resp_long/?page=3&amp;q=wombat&amp;hit=2#item-msg_42"' in html
    assert 'href="/responses/resp_long/?page=13&amp;q=wombat&amp;hit=4#item-msg_250"' in html
    assert "input item 43" in html


def test_a_match_is_marked_in_its_context_and_everything_is_escaped(logged_in, long_response):
    html = logged_in.get("/responses/resp_long/search/?q=wombat", headers=HTMX).content.decode()
    assert "a <mark>wombat</mark> at 42, then more words after it" in html
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>wombat</mark> &lt;script&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    # A query that is markup is text too.
    hostile = logged_in.get(
        "/responses/resp_long/search/?q=%3Cb%3Ewombat%3C/b%3E", headers=HTMX
    ).content.decode()
    assert "<q>&lt;b&gt;wombat&lt;/b&gt;</q>" in hostile and "<b>" not in hostile


def test_an_item_on_a_later_page_is_reached_by_its_link(logged_in, long_response):
    page = logged_in.get("/responses/resp_long/?page=13&q=wombat&hit=4")
    html = page.content.decode()
    assert 'id="item-msg_250"' in html
    assert 'id="item-msg_0"' not in html
    # The way back to the items before.
    assert 'class="load-more load-earlier" href="/responses/resp_long/?page=12&amp;' in html
    # The search on the page says which result this is and goes to the others.
    assert "Result 4 of 4" in html
    assert 'href="/responses/resp_long/?page=7&amp;q=wombat&amp;hit=3#item-msg_120"' in html
    assert "next →" not in html


def test_results_come_a_page_at_a_time_with_earlier_and_later_pages(logged_in):
    items = [said(f"numbat {i}", f"msg_{i}") for i in range(45)]
    store.save_bundle(response_body("resp_many"), items, source="import")
    first = logged_in.get("/responses/resp_many/search/?q=numbat", headers=HTMX)
    assert len(first.context["results"].shown) == search.RESULTS_PAGE
    html = first.content.decode()
    assert "45 items match <q>numbat</q>: results 1 to 20." in html
    assert 'hx-get="/responses/resp_many/search/?q=numbat&amp;results=2"' in html
    last = logged_in.get("/responses/resp_many/search/?q=numbat&results=3", headers=HTMX)
    assert [n for n, *_ in last.context["results"].shown] == list(range(41, 46))
    assert "results 41 to 45" in last.content.decode()
    # Opened at result 27, the page lists the results around it.
    opened = logged_in.get("/responses/resp_many/?page=2&q=numbat&hit=27")
    assert opened.context["results"].number == 2


def test_search_without_script_is_the_page_with_its_results(logged_in, long_response):
    answer = logged_in.get("/responses/resp_long/search/?q=wombat")
    assert answer.status_code == 302
    assert answer["Location"] == "/responses/resp_long/?q=wombat#search"
    page = logged_in.get("/responses/resp_long/?q=wombat").content.decode()
    assert "4 items match <q>wombat</q>" in page
    # With htmx, the address becomes that page.
    swapped = logged_in.get("/responses/resp_long/search/?q=wombat", headers=HTMX)
    assert swapped["HX-Push-Url"] == "/responses/resp_long/?q=wombat"


def test_a_query_with_no_word_or_no_match_says_so(logged_in, long_response):
    nothing = logged_in.get("/responses/resp_long/search/?q=%21%21", headers=HTMX)
    assert "Type a word" in nothing.content.decode()
    none = logged_in.get("/responses/resp_long/search/?q=platypus", headers=HTMX)
    assert "No item matches <q>platypus</q>." in none.content.decode()


def test_output_and_instructions_are_searched_and_linked_by_their_anchors(logged_in):
    store.save_bundle(
        response_body("resp_out", instructions="Always mention the quokka.", output=AGENT_OUTPUT),
        [],
        source="import",
    )
    assert matching_ids(logged_in, "resp_out", "quokka") == ["instructions", "item-sh_1"]
    html = logged_in.get("/responses/resp_out/search/?q=quokka", headers=HTMX).content.decode()
    assert 'href="/responses/resp_out/?q=quokka&amp;hit=2#item-sh_1"' in html


# --- search inside a trace ---------------------------------------------------------------------


def test_a_trace_search_lists_each_item_once_in_the_turn_it_first_appears(logged_in):
    first = [said("find the wombat", "msg_1")]
    answer = {"id": "msg_a", "type": "message", "role": "assistant", "status": "completed",
              "content": [{"type": "output_text", "text": "The wombat is asleep.",
                           "annotations": []}]}  # fmt: skip
    store.save_bundle(response_body("resp_t1", output=[answer]), first, source="import")
    second = [*first, answer, said("and the other wombat?", "msg_2")]
    store.save_bundle(
        response_body("resp_t2", previous_response_id="resp_t1"), second, source="import"
    )
    page = logged_in.get("/responses/resp_t2/trace/?q=wombat")
    results = page.context["results"]
    assert [(h.turn, h.anchor) for h in results.hits] == [
        (1, "item-msg_1"), (1, "item-msg_a"), (2, "item-msg_2"),
    ]  # fmt: skip
    html = page.content.decode()
    assert "Turn 2, input item 3" in html
    assert 'href="/responses/resp_t2/?q=wombat#item-msg_2"' in html
    fragment = logged_in.get("/responses/resp_t2/trace/search/?q=wombat", headers=HTMX)
    assert fragment["HX-Push-Url"] == "/responses/resp_t2/trace/?q=wombat"
