"""In a browser: a note added through htmx, a response flagged, both seen again in the list."""

import pytest

from inspector import store
from inspector.models import Note, StoredResponse

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def agent_turn() -> None:
    store.save_bundle(
        {
            "id": "resp_browsernotes",
            "object": "response",
            "created_at": 1767225600,
            "model": "gpt-5",
            "status": "completed",
            "output": [
                {
                    "type": "function_call",
                    "id": "fc_refund",
                    "call_id": "call_refund",
                    "name": "issue_refund",
                    "arguments": '{"amount": 5000}',
                    "status": "completed",
                }
            ],
            "tools": [],
        },
        [{"role": "user", "content": "Refund me twice, please."}],
        source=StoredResponse.Source.IMPORT,
    )


def test_note_an_item_flag_the_response_and_find_both_in_the_list(watched, agent_turn):
    page = watched.page
    watched.goto("/responses/resp_browsernotes/")
    page.wait_for_function("window.htmx !== undefined")

    # A note on the tool call, through htmx: the page is not reloaded.
    page.evaluate("window.__same_page = true")
    item_notes = page.locator("#notes-item-fc_refund")
    page.locator("#item-fc_refund .item-head").get_by_role("link", name="Note").click()
    item_notes.locator("textarea").fill(f"Suspicious amount {HOSTILE}\nsecond line")
    item_notes.get_by_role("button", name="Add note").click()
    page.locator("#notes-item-fc_refund .note-text").wait_for()
    assert "Suspicious amount" in page.locator("#notes-item-fc_refund .note-text").inner_text()
    # The panel reloads itself and lists the note with the item it is on.
    page.locator("#notes .note-list").wait_for()
    assert "fc_refund" in page.locator("#notes .note-list").inner_text()
    assert page.evaluate("window.__same_page") is True
    assert page.evaluate("window.__pwned") is None

    # Flag the response.
    page.locator("#review").get_by_role("button", name="Flagged").click()
    page.locator("#review .badge.review-flagged").wait_for()
    assert page.evaluate("window.__same_page") is True

    assert Note.objects.get().anchor == "item-fc_refund"
    assert StoredResponse.objects.get(pk="resp_browsernotes").review_status == "flagged"

    # Find it again from the list by tool name and review status.
    watched.goto("/?tool=issue_refund&review=flagged")
    row = page.locator("table.list tbody tr")
    assert row.count() == 1
    assert "resp_browsernotes" in row.inner_text()
    assert "flagged" in row.locator(".badge.review-flagged").inner_text()
    assert row.locator(".notes-count a").inner_text() == "1"
    watched.assert_clean()


def test_two_picked_rows_open_their_comparison(watched, agent_turn):
    store.save_bundle(
        {
            "id": "resp_browsernotes2",
            "object": "response",
            "created_at": 1767225700,
            "model": "gpt-5-mini",
            "status": "completed",
            "output": [],
            "tools": [],
        },
        [],
        source=StoredResponse.Source.IMPORT,
    )
    page = watched.page
    watched.goto("/")
    page.get_by_label("Pick resp_browsernotes2 to compare").check()
    page.get_by_label("Pick resp_browsernotes to compare").check()
    page.get_by_role("button", name="Compare the two picked").click()
    page.wait_for_url("**/responses/resp_browsernotes2/compare/resp_browsernotes/")
    assert "differs" in page.locator("#params-h + table").inner_text()
    watched.assert_clean()
