"""A response of 3,000 input items opened for the first time in a real browser, through the
stand-in upstream over real HTTP with latency (issue 12): its output shows before the items
are all fetched, the progress moves as the page's htmx steps go on while the reader scrolls
through what has come, and in the end every item can be reached."""

import re
import time

import pytest

from inspector import store
from inspector.store import reading
from tests.factories import response_body
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db(transaction=True)

RID = "resp_browser3000"
ITEMS = 3000
COUNT = re.compile(r"([\d,]+) input items? fetched")


SCROLL_TO_THE_END_OF_THE_ITEMS = """
const more = document.querySelectorAll('#input-items a.load-more');
if (more.length) more[more.length - 1].scrollIntoView();
"""


LIST_IDS = "Array.from(document.querySelectorAll('#input-items article.item')).map(e => e.id)"
ANCHOR = re.compile(r'<article class="item [^"]*" id="item-([^"]+)"')
COUNT_ITEMS = "document.querySelectorAll('#input-items article.item').length"


def numbers(texts: list[str]) -> list[int]:
    return [int(m[1].replace(",", "")) for text in texts if (m := COUNT.search(text))]


def test_a_large_response_shows_its_output_first_then_fetches_its_items_in_steps(
    watched, settings, client, user, monkeypatch
):
    # One page of the upstream's a step, and 100 items a page of the list: the reader
    # scrolls faster than the items come, to the end of what is stored while more is coming.
    monkeypatch.setattr(store.fetch, "STEP_PAGES", 1)
    monkeypatch.setattr(reading, "INPUT_PAGE_SIZE", 100)
    settings.FETCH_RATE_LIMIT = ""
    upstream = FakeUpstream()
    upstream.latency = 0.25  # every request, as a real API's round trip (issue 12)
    answer = {"id": "msg_answer", "type": "message", "role": "assistant", "status": "completed",
              "content": [{"type": "output_text", "text": "The parcel is in Zürich.",
                           "annotations": []}]}  # fmt: skip
    items = [
        {"id": f"msg_{i}", "type": "message", "role": "user", "content": f"question number {i}"}
        for i in range(ITEMS)
    ]
    upstream.add(response_body(RID, output=[answer]), items)
    page = watched.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    with serve(upstream) as base_url:
        settings.OPENAI_BASE_URL = base_url
        started = time.monotonic()
        first = watched.goto(f"/responses/{RID}/").text()
        shown_after = time.monotonic() - started
        # The page came after the response and its first 100 items, its output in it.
        assert "100 input items fetched, more to come" in first
        assert "The parcel is in Zürich." in page.locator("#item-msg_answer").inner_text()
        assert shown_after < 5
        seen = {100}
        # The reader scrolls through the items while the steps go on, past what was stored
        # when the page was shown (to 500: each load lays the whole list out again, and a
        # browser on a shared machine slows down past a thousand).
        shown, done, deadline = 0, False, time.monotonic() + 90
        while not (done and shown >= 500) and time.monotonic() < deadline:
            texts = page.locator(".fetch-count").all_inner_texts()
            seen.update(numbers(texts))
            done = done or any(text.startswith("All ") for text in texts)
            if shown < 500 and page.evaluate(COUNT_ITEMS) != shown:
                shown = page.evaluate(COUNT_ITEMS)
                page.evaluate(SCROLL_TO_THE_END_OF_THE_ITEMS)
            page.wait_for_timeout(50)
        assert page.locator(".fetch-count").inner_text() == f"All {ITEMS:,} input items fetched."
    assert upstream.unexpected == []
    # The progress moved through several steps, each page fetched once.
    assert len(seen) >= 4, seen
    assert max(seen) == ITEMS
    paths = upstream.paths()
    assert paths.count(f"/v1/responses/{RID}/input_items") == ITEMS // 100
    # The end of what was stored asked for what came since (the items after the last shown).
    assert any(re.search(r"/items/\?page=\d+&after=\d+", url) for url in asked)
    ids = page.evaluate(LIST_IDS)
    assert ids[:500] == [f"item-msg_{i}" for i in range(500)]
    # The last item is one search away: its result links to its page of items.
    page.fill("#search-q", "number 2999")
    page.click("#search button[type=submit]")
    page.locator("#search-results a[href*='#item-msg_2999']").click()
    page.wait_for_selector("#item-msg_2999")
    assert "page=30" in page.url
    watched.assert_clean()
    # And every page of items, ?page=1 to ?page=30, lists its 100 in order.
    client.force_login(user)
    for number in range(1, ITEMS // 100 + 1):
        html = client.get(f"/responses/{RID}/?page={number}").content.decode()
        listed = ANCHOR.findall(html.split('id="input-items"', 1)[1].split('id="output-h"')[0])
        assert listed == [f"msg_{i}" for i in range((number - 1) * 100, number * 100)], number
