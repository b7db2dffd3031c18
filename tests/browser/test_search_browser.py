"""Search inside a response and inside a trace, in a real browser: the results come in
place (htmx), and a result on a page that is not loaded (item 2,901 of 3,000; turn 12 of a
trace that shows 8 in full) opens that item."""

from typing import Any

import pytest

from bench import data
from inspector import store

pytestmark = pytest.mark.django_db(transaction=True)

WORD = "zebracorn"


def search(page: Any, words: str) -> Any:
    page.locator("#search-q").fill(words)
    page.locator("#search-q").press("Enter")
    hits = page.locator("#search-results ol.hits a")
    hits.first.wait_for()
    return hits


def in_view(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


def test_a_search_inside_a_response_opens_an_item_on_a_page_not_loaded(watched):
    body, items = data.huge_response("resp_searchhuge0001", 3000, 2_000)
    items[2900] = data.message("msg_findme", "user", f"Where is the {WORD} ledger kept?")
    store.save_bundle(body, items, source="import")
    page = watched.page
    watched.goto("/responses/resp_searchhuge0001/")
    assert page.locator("#item-msg_findme").count() == 0  # its page is not loaded
    hits = search(page, WORD)
    assert hits.count() == 1
    assert page.locator("#search-results mark").first.inner_text().lower() == WORD
    assert "?q=" in page.url  # the search has an address of its own
    hits.first.click()
    page.locator("#item-msg_findme").wait_for()
    assert in_view(page, "#item-msg_findme")
    assert WORD in page.locator("#item-msg_findme").inner_text()
    watched.assert_clean()


def test_a_search_inside_a_trace_opens_an_item_of_a_turn_not_shown_in_full(watched):
    turns = data.chain("srch", 12)
    turns[11][1].append(data.message("msg_findturn", "user", f"Also check the {WORD} report."))
    for body, items in turns:
        store.save_bundle(body, items, source="import")
    last = turns[-1][0]["id"]
    page = watched.page
    watched.goto(f"/responses/{last}/trace/")
    assert page.locator("#item-msg_findturn").count() == 0  # turn 12: not in full yet
    hits = search(page, WORD)
    assert hits.count() == 1
    assert hits.first.inner_text().startswith("Turn 12")
    hits.first.click()
    page.locator("#item-msg_findturn").wait_for()
    assert WORD in page.locator("#item-msg_findturn").inner_text()
    watched.assert_clean()
