"""Pages that answer first, in a real browser: the output on the first screen of every demo
response, the outline's jump to the newest item of a 3,000-item response (a page not
loaded yet), item links followed in place, folding, the header controls, copy buttons."""

import json
from pathlib import Path
from typing import Any

import pytest

from bench import data
from inspector import store

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parent.parent.parent / "inspector" / "demo"
HUGE = "resp_browserhuge0001"


def demo_ids() -> list[str]:
    return [json.loads(p.read_text())["response"]["id"] for p in sorted(DEMO.glob("*.json"))]


def in_view(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


def test_the_first_output_item_starts_on_the_first_screen_of_every_demo_response(watched):
    store.load_demo()
    page = watched.page
    page.set_viewport_size({"width": 1400, "height": 900})
    late = []
    for response_id in demo_ids():
        watched.goto(f"/responses/{response_id}/")
        first = page.locator("#output-items > .item, #output-items > .item-stub").first
        if first.count() == 0:  # a queued response: nothing to show yet
            continue
        top = first.bounding_box()["y"]
        if not top < 900:
            late.append((response_id, top))
    assert late == []
    watched.assert_clean()


def test_the_outline_jumps_to_the_newest_item_of_a_3000_item_response(watched):
    body, items = data.huge_response(HUGE, 3000, 4_000)
    store.save_bundle(body, items, source="import")
    page = watched.page
    watched.goto(f"/responses/{HUGE}/")
    assert page.locator("#input-items article.item").count() < 40  # one page of 3,000
    page.locator("#outline > summary").click()
    newest = page.get_by_role("link", name="newest item")
    newest.wait_for()
    assert page.locator(".outline-input li").count() <= 40  # turns grouped: one screen
    newest.click()
    last = items[-1]["id"]
    page.wait_for_url(f"**/responses/{HUGE}/?page=150#item-{last}")
    page.locator(f"#item-{last}").wait_for()
    assert in_view(page, f"#item-{last}")
    page.mouse.wheel(0, 10)
    page.wait_for_timeout(200)
    assert "Input item 3,0" in page.locator("#item-position").inner_text()
    # The items before it load above, on request.
    page.locator(".load-earlier").click()
    page.locator(f"#item-{items[2979]['id']}").wait_for(state="attached")
    watched.assert_clean()


def test_go_to_item_n_and_links_to_items_on_the_page_move_without_a_reload(watched):
    body, items = data.huge_response(HUGE, 300, 2_000)
    store.save_bundle(body, items, source="import")
    page = watched.page
    watched.goto(f"/responses/{HUGE}/")
    page.fill("#goto-input", "250")
    page.locator(".goto button").click()
    page.wait_for_url(f"**/?page=13#item-{items[249]['id']}")
    assert in_view(page, f"#item-{items[249]['id']}")
    # A link to an item that this page shows scrolls to it, with no new page load.
    page.evaluate("window.__same_page = true")
    page.evaluate(
        "(() => { const a = document.createElement('a'); a.id = 'probe';"
        f" a.href = '/responses/{HUGE}/goto/?input=241'; a.textContent = 'x';"
        " document.querySelector('#item-toolbar').append(a); })()"
    )
    page.locator("#probe").click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__same_page") is True
    assert page.evaluate("location.hash") == f"#item-{items[240]['id']}"
    watched.assert_clean()


def test_items_fold_and_open_their_note_and_json_from_the_header(watched):
    store.load_demo()
    page = watched.page
    rid = demo_ids()[0]
    watched.goto(f"/responses/{rid}/")
    card = page.locator("#output-items > article.item").first
    body = card.locator(".item-body")
    assert body.is_visible()
    card.locator(".item-head .fold").click()
    assert not body.is_visible()
    page.get_by_role("button", name="Expand all").click()
    assert body.is_visible()
    page.get_by_role("button", name="Collapse all").click()
    assert page.locator("main .item:not(.folded)").count() == 0
    page.get_by_role("button", name="Expand all").click()
    raw = card.locator("details.raw")
    assert not raw.evaluate("d => d.open")
    card.locator(".item-tools").get_by_role("link", name="JSON").click()
    assert raw.evaluate("d => d.open")
    assert card.locator(".raw-json pre").is_visible()
    card.locator(".item-tools").get_by_role("link", name="Note").click()
    assert card.locator(".note-add textarea").is_visible()
    watched.assert_clean()


def test_copy_buttons_copy_arguments_commands_and_message_text(watched, browser):
    store.load_demo()
    page = watched.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    shell = next(i for i in demo_ids() if i.startswith("resp_fe8a9048"))
    watched.goto(f"/responses/{shell}/")
    card = page.locator("#item-sh_ed41f7577d33cf664d7d8a55cc52bc92734083804336c2e7")
    card.get_by_role("button", name="Copy the commands").click()
    page.wait_for_timeout(100)
    assert page.evaluate("navigator.clipboard.readText()") == "pytest -x -q tests/integration"
    chain = demo_ids()[0]
    watched.goto(f"/responses/{chain}/")
    call = page.locator("#item-fc_e5d5dec480d1bc309371ff91b0bf4f87ffd19f5a5b2b7230")
    call.get_by_role("button", name="Copy the arguments").click()
    page.wait_for_timeout(100)
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert copied == {"order_number": "A-10442", "include_tracking": True}
    call.get_by_role("button", name="Copy the output").click()
    page.wait_for_timeout(100)
    assert json.loads(page.evaluate("navigator.clipboard.readText()"))["order_number"] == "A-10442"
    watched.goto(f"/responses/{demo_ids()[2]}/")
    message = page.locator("#output-items .part-output-text").first
    message.get_by_role("button", name="Copy the text").click()
    page.wait_for_timeout(100)
    text = page.evaluate("navigator.clipboard.readText()")
    assert text.startswith("Good news: order **A-10442**")  # the raw text, Markdown and all
    watched.assert_clean()
