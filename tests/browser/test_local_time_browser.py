"""Times in the viewer's zone (static/inspector.js): exact on a page, relative in a list
for the last 30 days, UTC in the tooltip; the server's UTC without script."""

import time

import pytest

from inspector import store
from tests.browser.conftest import WATCH

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YEAR = 1767225600  # 2026-01-01 00:00:00 UTC: 09:00 in Tokyo (UTC+9, no summer time)


def keep(response_id, created_at):  # type: ignore[no-untyped-def]
    body = {"id": response_id, "object": "response", "created_at": created_at,
            "status": "completed", "model": "gpt-5", "tools": [], "output": []}  # fmt: skip
    store.save_bundle(body, [], source="demo")


def in_tokyo(browser, live_server, client, user, javascript=True):  # type: ignore[no-untyped-def]
    client.force_login(user)
    context = browser.new_context(
        timezone_id="Asia/Tokyo", locale="en-GB", java_script_enabled=javascript
    )
    host = live_server.url.split("//", 1)[1].split(":")[0]
    cookie = client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
    context.add_init_script(WATCH)
    return context


def test_the_response_page_shows_times_in_the_viewers_zone_with_utc_in_the_tooltip(
    browser, live_server, client, user
):
    keep("resp_newyear", NEW_YEAR)
    context = in_tokyo(browser, live_server, client, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/responses/resp_newyear/")
    created = page.locator('time[datetime="2026-01-01T00:00:00+00:00"]').first
    assert created.inner_text() == "2026-01-01 09:00:00 GMT+9"
    assert created.get_attribute("title") == "2026-01-01 00:00:00 UTC"
    context.close()


def test_the_list_says_how_long_ago_a_recent_response_was_made_and_an_old_ones_date(
    browser, live_server, client, user
):
    keep("resp_recent", int(time.time()) - 3 * 3600)
    keep("resp_newyear", NEW_YEAR)
    context = in_tokyo(browser, live_server, client, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    recent = page.locator("tr", has=page.locator('a[href="/responses/resp_recent/"]')).locator(
        "time"
    )
    assert recent.inner_text() == "3 hours ago"
    assert recent.get_attribute("title").endswith(" UTC")
    assert "GMT+9 · " in recent.get_attribute("title")
    old = page.locator("tr", has=page.locator('a[href="/responses/resp_newyear/"]')).locator("time")
    assert old.locator(".day").inner_text() == "2026-01-01"
    assert old.locator(".muted").inner_text() == "09:00"
    assert old.get_attribute("title") == "2026-01-01 09:00 GMT+9 · 2026-01-01 00:00 UTC"
    context.close()


def test_without_script_the_page_shows_the_servers_utc(browser, live_server, client, user):
    keep("resp_newyear", NEW_YEAR)
    context = in_tokyo(browser, live_server, client, user, javascript=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/responses/resp_newyear/")
    created = page.locator('time[datetime="2026-01-01T00:00:00+00:00"]').first
    assert created.inner_text() == "2026-01-01 00:00:00 UTC"
    context.close()
