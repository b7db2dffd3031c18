"""Fetching off the critical path (issue 12): the first view after the response and its first
page of input items, the rest in bounded steps the page posts, resumable and shared between
viewers; a refresh into a staging copy that never loses the stored one (issue 13, finding 8);
the page limit; `migrate` alone serving a first fetch; the command still fetching in one go."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from inspector import notes, store
from inspector.models import InputItem, Refresh, SearchText, StagedItem, StoredResponse, ToolCall
from tests.factories import response_body, user_items
from tests.test_store import run_together
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
RID = "resp_steps0001"
HTMX = {"HX-Request": "true"}


def after_of(request: httpx.Request) -> str | None:
    return parse_qs(request.url.query.decode()).get("after", [None])[0]


def item_requests(upstream: FakeUpstream) -> list[str | None]:
    """The `after` of each input-items request made, in order."""
    return [after_of(r) for r in upstream.requests if r.url.path.endswith("/input_items")]


def kept_ids(response_id: str = RID) -> list[str]:
    rows = InputItem.objects.filter(response_id=response_id).order_by("position")
    return list(rows.values_list("item_id", flat=True))


def step(client: Client, response_id: str = RID) -> Any:
    return client.post(f"/responses/{response_id}/fetch/step/", headers=HTMX)


def call_pair(n: int) -> list[dict[str, Any]]:
    """A function call and its output, as an agent's input replays them."""
    return [
        {"id": f"fc_{n}", "type": "function_call", "call_id": f"call_{n}", "name": "lookup",
         "arguments": "{}", "status": "completed"},
        {"id": f"fco_{n}", "type": "function_call_output", "call_id": f"call_{n}", "output": "ok"},
    ]  # fmt: skip


# --- the first view ----------------------------------------------------------------------------


def test_the_first_view_renders_after_the_response_and_its_first_page_only(logged_in, upstream):
    upstream.add(response_body(RID), user_items(350))
    page = logged_in.get(f"/responses/{RID}/")
    assert page.status_code == 200
    assert upstream.paths() == [f"/v1/responses/{RID}", f"/v1/responses/{RID}/input_items"]
    assert item_requests(upstream) == [None]
    html = page.content.decode()
    assert "100 input items fetched, more to come" in html
    assert f'hx-post="/responses/{RID}/fetch/step/"' in html
    assert 'hx-trigger="load, submit"' in html  # the page goes on by itself
    assert "More input items are being fetched" not in html  # page 1 has 20 of the 100
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.input_items_count, stored.input_items_complete) == (100, False)
    assert stored.fetch_lease_until is None  # the first view's hold ends with it


def test_a_response_of_one_page_is_complete_after_its_first_view(logged_in, upstream):
    upstream.add(response_body(RID), user_items(3))
    html = logged_in.get(f"/responses/{RID}/").content.decode()
    assert len(upstream.requests) == 2
    assert "fetch/step/" not in html
    assert StoredResponse.objects.get(pk=RID).input_items_complete


def test_steps_fetch_every_page_once_in_order_and_complete_the_fetch(logged_in, upstream):
    upstream.add(response_body(RID), user_items(350) + call_pair(1))
    logged_in.get(f"/responses/{RID}/")
    answer = step(logged_in)
    assert answer.status_code == 200
    assert "All 352 input items fetched." in answer.content.decode()
    assert "hx-post" not in answer.content.decode()  # nothing left to post
    assert item_requests(upstream) == [None, "msg_99", "msg_199", "msg_299"]
    assert kept_ids() == [f"msg_{i}" for i in range(350)] + ["fc_1", "fco_1"]
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.input_items_count, stored.input_items_complete) == (352, True)
    assert ToolCall.objects.filter(response=stored, answered=True).count() == 1
    # Nothing left: another step asks nothing.
    step(logged_in)
    assert len(item_requests(upstream)) == 4


def test_a_step_stops_after_its_pages_and_the_next_one_goes_on(logged_in, upstream, monkeypatch):
    monkeypatch.setattr(store.fetch, "STEP_PAGES", 2)
    upstream.add(response_body(RID), user_items(550))
    logged_in.get(f"/responses/{RID}/")
    first = step(logged_in).content.decode()
    assert "300 input items fetched, more to come" in first
    assert 'hx-trigger="load, submit"' in first
    assert "500 input items fetched" in step(logged_in).content.decode()
    assert "All 550 input items fetched." in step(logged_in).content.decode()
    assert item_requests(upstream) == [None] + [f"msg_{i * 100 + 99}" for i in range(5)]


def test_a_step_stops_after_its_seconds(logged_in, upstream, settings):
    settings.FETCH_STEP_SECONDS = 0.25
    upstream.latency = 0.1
    upstream.add(response_body(RID), user_items(1000))
    logged_in.get(f"/responses/{RID}/")
    step(logged_in)
    # The first page, then pages until 0.25 s have passed: 2 or 3 of the 9 left.
    assert 3 <= len(item_requests(upstream)) <= 4


def test_a_failed_step_keeps_what_came_says_why_and_resumes_where_it_stopped(logged_in, upstream):
    upstream.add(response_body(RID), user_items(350))

    def fail_page_three(request: httpx.Request) -> httpx.Response | None:
        if after_of(request) == "msg_199":
            return httpx.Response(500, json={"error": {"message": "page three is on fire"}})
        return None

    upstream.override = fail_page_three
    logged_in.get(f"/responses/{RID}/")
    failed = step(logged_in).content.decode()
    assert "Only 200 input items could be fetched" in failed
    assert "page three is on fire" in failed
    assert "Resume fetching input items" in failed
    assert "load, submit" not in failed  # a failure waits for the reader
    assert kept_ids() == [f"msg_{i}" for i in range(200)]
    page = logged_in.get(f"/responses/{RID}/").content.decode()
    assert "Only 200 input items could be fetched" in page  # a closed tab comes back to it
    upstream.override = None
    upstream.requests.clear()
    assert "All 350 input items fetched." in step(logged_in).content.decode()
    assert item_requests(upstream) == ["msg_199", "msg_299"]
    assert kept_ids() == [f"msg_{i}" for i in range(350)]


def test_the_step_without_script_fetches_and_goes_back_to_the_page(logged_in, upstream):
    upstream.add(response_body(RID), user_items(150))
    logged_in.get(f"/responses/{RID}/")
    answer = logged_in.post(f"/responses/{RID}/fetch/step/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/responses/{RID}/"
    assert StoredResponse.objects.get(pk=RID).input_items_complete


def test_items_fetched_so_far_are_browsable_and_searchable_at_once(logged_in, upstream):
    items = user_items(250)
    items[150]["content"] = "the refund was approved"
    upstream.add(response_body(RID), items)
    logged_in.get(f"/responses/{RID}/")
    assert not SearchText.objects.filter(response_id=RID, text__contains="refund").exists()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store.fetch, "STEP_PAGES", 1)
        step(logged_in)  # items 100 to 199: the match is in
    found = logged_in.get(f"/responses/{RID}/search/?q=refund", headers=HTMX).content.decode()
    assert "1 item matches" in found
    assert f'href="/responses/{RID}/?page=8&amp;q=refund&amp;hit=1#item-msg_150"' in found
    page = logged_in.get(f"/responses/{RID}/?page=8&q=refund&hit=1").content.decode()
    assert 'id="item-msg_150"' in page
    # The end of what is stored asks again for what comes (the items after the last shown).
    last_page = logged_in.get(f"/responses/{RID}/items/?page=10", headers=HTMX).content.decode()
    assert f"/responses/{RID}/items/?page=10&amp;after=199" in last_page


def test_a_page_that_was_short_gets_the_items_that_came_since(logged_in, upstream):
    upstream.add(response_body(RID), user_items(250))
    logged_in.get(f"/responses/{RID}/")
    step(logged_in)
    more = logged_in.get(f"/responses/{RID}/items/?page=5&after=89", headers=HTMX)
    html = more.content.decode()
    assert [f'id="item-msg_{i}"' in html for i in (89, 90, 99)] == [False, True, True]
    assert "?page=6" in html  # and the next page follows as usual


# --- shared between viewers --------------------------------------------------------------------


def test_a_second_viewer_sees_the_progress_and_fetches_nothing(logged_in, upstream):
    upstream.add(response_body(RID), user_items(350))
    logged_in.get(f"/responses/{RID}/")
    held = timezone.now() + timedelta(seconds=30)
    StoredResponse.objects.filter(pk=RID).update(fetch_lease_until=held)
    upstream.requests.clear()
    answer = step(logged_in).content.decode()
    assert upstream.requests == []
    assert "100 input items fetched, more to come" in answer
    assert 'hx-trigger="load delay:1s, submit"' in answer  # it looks again in a second


def test_a_hold_left_by_a_killed_worker_runs_out_and_the_fetch_goes_on(logged_in, upstream):
    upstream.add(response_body(RID), user_items(150))
    logged_in.get(f"/responses/{RID}/")
    gone = timezone.now() - timedelta(seconds=1)
    StoredResponse.objects.filter(pk=RID).update(fetch_lease_until=gone)
    assert "All 150 input items fetched." in step(logged_in).content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_viewers_at_once_make_each_upstream_request_once(user, upstream, settings):
    settings.FETCH_RATE_LIMIT = ""
    upstream.latency = 0.05  # long enough for the two to overlap
    upstream.add(response_body(RID), user_items(450))
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(user)

    def view() -> None:
        client = clients.pop()
        assert client.get(f"/responses/{RID}/").status_code == 200
        while not StoredResponse.objects.get(pk=RID).input_items_complete:
            assert step(client).status_code == 200

    assert run_together(2, view) == []
    paths = upstream.paths()
    assert paths.count(f"/v1/responses/{RID}") == 1
    assert item_requests(upstream) == [None, "msg_99", "msg_199", "msg_299", "msg_399"]
    assert kept_ids() == [f"msg_{i}" for i in range(450)]


# --- the page limit (issue 13, finding 7) ------------------------------------------------------


def endless(request: httpx.Request) -> httpx.Response | None:
    """An upstream whose input items never end: every page says has_more."""
    if not request.url.path.endswith("/input_items"):
        return None
    start = int((after_of(request) or "item_-1").removeprefix("item_")) + 1
    data = [{"id": f"item_{i}", "type": "message", "role": "user", "content": "more"}
            for i in range(start, start + 100)]  # fmt: skip
    page = {"object": "list", "data": data, "has_more": True, "first_id": data[0]["id"],
            "last_id": data[-1]["id"]}  # fmt: skip
    return httpx.Response(200, json=page)


def test_an_upstream_that_always_has_more_stops_at_the_page_limit_and_the_page_says_so(
    logged_in, upstream, settings
):
    settings.OPENAI_MAX_INPUT_PAGES = 5
    upstream.add(response_body(RID))
    upstream.override = endless
    logged_in.get(f"/responses/{RID}/")
    answer = step(logged_in).content.decode()
    assert len(item_requests(upstream)) == 5
    assert "Only 500 input items were fetched" in answer
    assert "OPENAI_MAX_INPUT_PAGES" in answer and "which were not fetched" in answer
    assert "hx-post" not in answer
    page = logged_in.get(f"/responses/{RID}/").content.decode()
    assert "Only 500 input items were fetched" in page
    step(logged_in)
    assert len(item_requests(upstream)) == 5  # no more, however often it is asked
    assert StoredResponse.objects.get(pk=RID).input_items_count == 500


# --- refresh into a staging copy (issue 13, finding 8) -----------------------------------------


def stored_complete(upstream: FakeUpstream, user: Any, count: int = 150) -> StoredResponse:
    upstream.add(response_body(RID, model="gpt-5"), user_items(count))
    stored = store.fetch_response(RID, user=user)
    assert (stored.input_items_count, stored.input_items_complete) == (count, True)
    return stored


def test_a_refresh_whose_second_page_fails_keeps_the_complete_copy_and_says_what_failed(
    logged_in, upstream, user
):
    stored_complete(upstream, user)
    upstream.add(response_body(RID, model="gpt-5.1"), user_items(150))
    upstream.override = lambda r: (
        httpx.Response(500, json={"error": {"message": "second page down"}})
        if after_of(r) == "msg_99"
        else None
    )
    assert logged_in.post(f"/responses/{RID}/refresh/").status_code == 302
    step(logged_in)
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.input_items_count, stored.input_items_complete) == (150, True)
    assert stored.model == "gpt-5"
    assert kept_ids() == [f"msg_{i}" for i in range(150)]
    assert SearchText.objects.filter(response_id=RID, section="input").count() == 150
    page = logged_in.get(f"/responses/{RID}/").content.decode()
    assert "The refresh stopped after 100 input items" in page
    assert "second page down" in page
    assert "nothing of it was lost" in page
    # Resumed, it completes and only then replaces the stored copy.
    upstream.override = None
    assert step(logged_in)["HX-Refresh"] == "true"
    stored.refresh_from_db()
    assert stored.model == "gpt-5.1"
    assert not Refresh.objects.exists() and not StagedItem.objects.exists()


def test_a_refresh_of_a_response_expired_upstream_keeps_the_stored_copy(logged_in, upstream, user):
    stored_complete(upstream, user)
    del upstream.responses[RID]
    refused = logged_in.post(f"/responses/{RID}/refresh/")
    assert refused.status_code == 404
    assert "Response not found upstream" in refused.content.decode()
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.input_items_count, stored.input_items_complete) == (150, True)
    assert kept_ids() == [f"msg_{i}" for i in range(150)]
    assert not Refresh.objects.exists()


def test_the_stored_copy_is_replaced_only_once_the_new_one_is_complete(logged_in, upstream, user):
    stored_complete(upstream, user, count=250)
    upstream.add(response_body(RID, model="gpt-5.1"), user_items(260))
    logged_in.post(f"/responses/{RID}/refresh/")
    page = logged_in.get(f"/responses/{RID}/").content.decode()
    assert "Refreshing from upstream" in page
    assert "100 of at least 250 input items fetched" in page
    assert "stays as it is until the new one is complete" in page
    assert StoredResponse.objects.get(pk=RID).model == "gpt-5"
    assert InputItem.objects.filter(response_id=RID).count() == 250
    done = step(logged_in)
    assert done["HX-Refresh"] == "true"  # the page shows the new copy
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.model, stored.input_items_count, stored.input_items_complete) == (
        "gpt-5.1", 260, True,
    )  # fmt: skip
    assert kept_ids() == [f"msg_{i}" for i in range(260)]
    assert SearchText.objects.filter(response_id=RID, section="input").count() == 260


def test_a_refresh_never_changes_the_owner_and_keeps_notes_and_review(
    client, upstream, user, django_user_model
):
    stored_complete(upstream, user)
    notes.add_note(StoredResponse.objects.get(pk=RID), "item-msg_3", "look here", user)
    notes.set_review(StoredResponse.objects.get(pk=RID), "flagged", user)
    bob = django_user_model.objects.create_user("bob", password="a-long-test-password-42")
    bob.groups.add(Group.objects.get(name="fetcher"))
    client.force_login(bob)
    upstream.add(response_body(RID, model="gpt-5.1"), user_items(150))
    assert client.post(f"/responses/{RID}/refresh/").status_code == 302
    while StoredResponse.objects.get(pk=RID).model != "gpt-5.1":
        step(client)
    stored = StoredResponse.objects.get(pk=RID)
    assert stored.fetched_by == user
    assert stored.review_status == "flagged"
    assert [n.text for n in stored.notes.all()] == ["look here"]
    assert client.post(f"/responses/{RID}/delete/").status_code == 403


def test_a_refresh_can_be_stopped_keeping_the_stored_copy(logged_in, upstream, user):
    stored_complete(upstream, user, count=250)
    upstream.add(response_body(RID, model="gpt-5.1"), user_items(250))
    logged_in.post(f"/responses/{RID}/refresh/")
    answer = logged_in.post(f"/responses/{RID}/refresh/discard/")
    assert answer.status_code == 302
    assert not Refresh.objects.exists() and not StagedItem.objects.exists()
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.model, stored.input_items_count) == ("gpt-5", 250)
    assert "Refreshing" not in logged_in.get(f"/responses/{RID}/").content.decode()


# --- the command line --------------------------------------------------------------------------


def test_the_command_still_fetches_everything_in_one_go_with_its_progress(upstream, capsys):
    from django.core.management import call_command

    upstream.add(response_body(RID), user_items(350))
    call_command("fetch_response", RID)
    out, err = capsys.readouterr()
    assert f"{RID}: completed, 350 input items" in out
    assert "350 input items" in err and "4 pages" in err
    assert StoredResponse.objects.get(pk=RID).input_items_complete


def test_the_command_says_when_a_refresh_stopped_and_keeps_the_stored_copy(upstream, user):
    from django.core.management import CommandError, call_command

    stored_complete(upstream, user)
    upstream.override = lambda r: (
        httpx.Response(500, json={"error": {"message": "page two down"}})
        if after_of(r) == "msg_99"
        else None
    )
    with pytest.raises(CommandError, match=r"the refresh stopped: .*page two down"):
        call_command("fetch_response", RID)
    stored = StoredResponse.objects.get(pk=RID)
    assert (stored.input_items_count, stored.input_items_complete) == (150, True)


# --- migrate alone -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migrate_alone_gives_a_working_app_that_serves_a_first_fetch(tmp_path):
    """A fresh database set up with Django's usual `manage.py migrate` only (not `prepare`,
    not `createcachetable`): the first fetch, rate-limited through the database cache,
    answers 200."""
    fake = FakeUpstream()
    fake.add(response_body(RID), user_items(3))
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "OPENAI_API_KEY": "sk-test-migrate-alone",
        "ALLOWED_HOSTS": "testserver",
        "FETCH_RATE_LIMIT": "30/min",
        "CACHE_URL": "db://inspector_cache",
    }
    first_fetch = (
        "from django.contrib.auth import get_user_model; from django.test import Client;"
        "u = get_user_model().objects.create_superuser('root', '', 'a-long-password-42');"
        "c = Client(); c.force_login(u);"
        f"print(c.get('/responses/{RID}/').status_code)"
    )
    with serve(fake) as base_url:
        env["OPENAI_BASE_URL"] = base_url
        manage = [sys.executable, str(ROOT / "manage.py")]
        migrated = subprocess.run([*manage, "migrate", "-v0"], env=env, capture_output=True)
        assert migrated.returncode == 0, migrated.stderr.decode()
        done = subprocess.run(
            [*manage, "shell", "-v0", "-c", first_fetch], env=env, capture_output=True
        )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["200"]
    assert fake.paths() == [f"/v1/responses/{RID}", f"/v1/responses/{RID}/input_items"]
