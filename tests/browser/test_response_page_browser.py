"""The response page in a real browser: CSP-clean pages, htmx loads, toggles, keys, no script."""

import json
from pathlib import Path

import pytest

from inspector import store

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parent.parent.parent / "inspector" / "demo"


def demo_id(prefix: str) -> str:
    (path,) = DEMO.glob(f"{prefix}*.json")
    return str(json.loads(path.read_text())["response"]["id"])


def keep(body, items=None):  # type: ignore[no-untyped-def]
    full = {"object": "response", "created_at": 1767225600, "status": "completed",
            "model": "gpt-5", "tools": [], "output": [], **body}  # fmt: skip
    store.save_bundle(full, items or [], source="demo")
    return full["id"]


def open_every_details(page) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def test_response_page_opens_with_no_console_errors_or_csp_violations(watched):
    store.save_bundle(
        {"id": "resp_browser1", "object": "response", "model": "gpt-5", "status": "completed",
         "output": [], "tools": []},
        [{"id": "msg_1", "type": "message", "role": "user",
          "content": [{"type": "input_text", "text": "<script>window.__pwned=1</script>"}]}],
        source="demo",
    )  # fmt: skip
    watched.goto("/responses/resp_browser1/")
    assert watched.page.locator("#response-id").inner_text() == "resp_browser1"
    assert watched.page.evaluate("window.__pwned") is None
    watched.assert_clean()


def test_pages_with_every_item_type_are_clean_in_both_themes(watched):
    store.load_demo()
    for prefix in ("29_", "07_", "06_", "24_", "25_", "09_", "08_", "04_", "23_", "36_"):
        for theme in ("light", "dark"):
            watched.page.emulate_media(color_scheme=theme)
            watched.goto(f"/responses/{demo_id(prefix)}/")
            open_every_details(watched.page)
            assert watched.page.locator("article.item").count() > 0
            assert watched.page.locator(".item-unknown").count() == 0
    watched.assert_clean()


def test_the_hostile_response_runs_nothing(watched):
    store.load_demo()
    watched.goto(f"/responses/{demo_id('38_')}/")
    open_every_details(watched.page)
    for toggle in watched.page.locator("[data-md-toggle]").all():
        toggle.click()
    watched.page.wait_for_timeout(300)
    assert watched.page.evaluate("typeof window.__pwned") == "undefined"
    assert watched.page.locator("script:not([src]):not([type='application/json'])").count() == 0
    assert (
        watched.page.evaluate("document.querySelectorAll('[onerror],[onload],iframe,svg').length")
        == 0
    )
    watched.assert_clean()


def test_scrolling_loads_every_page_of_input_items(watched):
    items = [{"id": f"msg_{i}", "type": "message", "role": "user", "content": f"line {i}"}
             for i in range(130)]  # fmt: skip
    keep({"id": "resp_scroll"}, items)
    watched.goto("/responses/resp_scroll/")
    cards = watched.page.locator("#input-items article.item")
    assert cards.count() == store.INPUT_PAGE_SIZE
    for _ in range(20):
        if cards.count() == 130:
            break
        watched.page.locator("#input-items article.item").last.scroll_into_view_if_needed()
        watched.page.mouse.wheel(0, 4000)
        watched.page.wait_for_timeout(250)
    assert cards.count() == 130
    assert watched.page.locator("#item-msg_129").inner_text().count("line 129") == 1
    assert watched.page.locator(".load-more").count() == 0
    watched.assert_clean()


def test_markdown_toggles_between_rendered_and_raw_text(watched):
    keep(
        {
            "id": "resp_md",
            "output": [{"id": "msg_md", "type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": "Some **bold** words",
                                     "annotations": []}]}],
        }
    )  # fmt: skip
    watched.goto("/responses/resp_md/")
    part = watched.page.locator("#item-msg_md [data-md]")
    assert part.locator(".md-rendered strong").inner_text() == "bold"
    assert not part.locator(".md-raw").is_visible()
    part.locator("[data-md-toggle]").click()
    assert part.locator(".md-raw").is_visible()
    assert "Some **bold** words" in part.locator(".md-raw").inner_text()
    assert not part.locator(".md-rendered").is_visible()
    part.locator("[data-md-toggle]").click()
    assert part.locator(".md-rendered").is_visible()
    watched.assert_clean()


def test_j_and_k_move_focus_between_items(watched):
    items = [{"id": f"msg_{i}", "type": "message", "role": "user", "content": f"line {i}"}
             for i in range(3)]  # fmt: skip
    keep({"id": "resp_keys"}, items)
    watched.goto("/responses/resp_keys/")
    focused = "document.activeElement && document.activeElement.id"
    watched.page.keyboard.press("j")
    assert watched.page.evaluate(focused) == "item-msg_0"
    watched.page.keyboard.press("j")
    assert watched.page.evaluate(focused) == "item-msg_1"
    watched.page.keyboard.press("k")
    assert watched.page.evaluate(focused) == "item-msg_0"
    watched.page.keyboard.press("/")
    assert watched.page.evaluate(focused) == "lookup-q"
    watched.assert_clean()


def test_show_all_swaps_in_the_whole_text(watched):
    long = "x" * 25_000 + " THE-END"
    keep(
        {
            "id": "resp_long",
            "output": [{"id": "fc_long", "type": "function_call", "call_id": "c", "name": "f",
                        "arguments": json.dumps({"blob": long})}],
        }
    )  # fmt: skip
    watched.goto("/responses/resp_long/")
    card = watched.page.locator("#item-fc_long")
    assert "THE-END" not in card.inner_text()
    card.locator(".pair-call .show-all").click()
    watched.page.locator("#item-fc_long", has_text="THE-END").wait_for()
    assert watched.page.locator("#item-fc_long").count() == 1
    watched.assert_clean()


def test_token_alternatives_show_on_focus(watched):
    store.load_demo()
    watched.goto(f"/responses/{demo_id('06_')}/")
    token = watched.page.locator(".lp-text .lp").first
    token.focus()
    tip = watched.page.evaluate(
        "getComputedStyle(document.activeElement, '::after').getPropertyValue('content')"
    )
    assert "top:" in tip
    watched.assert_clean()


def test_a_remote_image_loads_only_when_asked(watched):
    keep(
        {"id": "resp_img"},
        [{"id": "msg_img", "type": "message", "role": "user",
          "content": [{"type": "input_image", "detail": "auto",
                       "image_url": "https://images.invalid/cat.png"}]}],
    )  # fmt: skip
    requested: list[str] = []
    watched.page.on("request", lambda r: requested.append(r.url))
    watched.goto("/responses/resp_img/")
    assert not [url for url in requested if "images.invalid" in url]
    assert watched.page.locator("#item-msg_img img").count() == 0
    watched.page.locator("#item-msg_img button.load-image").click()
    image = watched.page.locator("#item-msg_img img.remote")
    assert image.get_attribute("src") == "https://images.invalid/cat.png"
    assert image.evaluate("img => img.referrerPolicy") == "no-referrer"


def test_a_response_with_3000_input_items_and_a_2_mb_text_opens_and_shows_all(watched):
    text = ("Lorem ipsum **dolor** sit amet. " * 70_000)[:2_000_000] + " THE-END"
    items = [{"id": f"msg_{i}", "type": "message", "role": "user", "content": f"item {i}"}
             for i in range(3000)]  # fmt: skip
    keep(
        {
            "id": "resp_huge",
            "output": [{"id": "msg_big", "type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        },
        items,
    )  # fmt: skip
    watched.goto("/responses/resp_huge/")
    assert watched.page.locator("#input-items article.item").count() == store.INPUT_PAGE_SIZE
    big = watched.page.locator("#item-msg_big")
    big.locator(".md-rendered .show-all").click()
    watched.page.locator("#item-msg_big", has_text="THE-END").wait_for(timeout=15_000)
    assert "too long to render as Markdown" in watched.page.locator("#item-msg_big").inner_text()
    watched.assert_clean()
