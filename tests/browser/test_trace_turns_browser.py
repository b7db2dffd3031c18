"""A long trace in a real browser: later turns load as they are scrolled to (htmx)."""

import pytest

from bench import data
from inspector import rendering, store

pytestmark = pytest.mark.django_db(transaction=True)

TURNS = rendering.TRACE_FULL_TURNS + 3


def test_scrolling_a_long_trace_loads_every_later_turn_in_place(watched):
    chain = data.chain("scroll", TURNS)
    for body, items in chain:
        store.save_bundle(body, items, source="import")
    watched.goto(f"/responses/{chain[-1][0]['id']}/trace/")
    page = watched.page
    assert page.locator(".turn-later").count() == TURNS - rendering.TRACE_FULL_TURNS
    for _ in range(30):
        if page.locator(".turn-later").count() == 0:
            break
        page.mouse.wheel(0, 3000)
        page.wait_for_timeout(200)
    assert page.locator(".turn-later").count() == 0
    for number, (body, _) in enumerate(chain, start=1):
        turn = page.locator(f"#turn-{number}")
        assert turn.locator(f"#item-{body['output'][-1]['id']}").count() == 1
    # The last turn's answer, swapped in whole, not nested in the placeholder's paragraph.
    assert page.locator(f"#turn-{TURNS} > h3").count() == 2
    watched.assert_clean()
