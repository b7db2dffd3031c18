"""`/poll/` is a live-status check (issue 13, finding 3): a POST with CSRF, only for queued or
in-progress responses, counted by the rate limit, never wiping items, never changing owner.

The attack as found: a GET by any fetcher re-fetched even a completed response, made the
fetcher its owner (delete 403 -> 200), wiped and re-downloaded every input item, was not
counted by the rate limit (45 polls in 24 s -> 90 upstream requests), and, being a GET, could
be set off by a link from another site.
"""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from inspector import store
from inspector.models import InputItem, StoredResponse
from tests.factories import response_body, user_items

pytestmark = pytest.mark.django_db

RID = "resp_polled001"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    """Another user, with the fetcher role: the one who polls."""
    user = django_user_model.objects.create_user("bob", password="a-long-test-password-42")
    user.groups.add(Group.objects.get(name="fetcher"))
    return user


def fetched_by(user: Any, upstream: Any, status: str, items: int = 150) -> StoredResponse:
    upstream.add(response_body(RID, status=status, background=True), user_items(items))
    return store.fetch_response(RID, user=user)


def as_user(user: Any, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def test_a_get_on_poll_is_refused_and_changes_nothing(user, bob, upstream):
    fetched_by(user, upstream, "completed")
    upstream.requests.clear()
    assert as_user(bob).get(f"/responses/{RID}/poll/").status_code == 405
    assert upstream.requests == []


def test_a_poll_from_another_site_without_the_csrf_token_is_refused(user, bob, upstream):
    fetched_by(user, upstream, "in_progress")
    upstream.requests.clear()
    strict = as_user(bob, enforce_csrf_checks=True)
    assert strict.post(f"/responses/{RID}/poll/", headers=HTMX).status_code == 403
    assert upstream.requests == []


def test_polling_a_completed_response_asks_nothing_and_changes_nothing(user, bob, upstream):
    fetched_by(user, upstream, "completed")
    before = list(InputItem.objects.filter(response_id=RID).values_list("pk", flat=True))
    upstream.requests.clear()
    answer = as_user(bob).post(f"/responses/{RID}/poll/", headers=HTMX)
    assert answer["HX-Refresh"] == "true"
    assert upstream.requests == []
    stored = StoredResponse.objects.get(pk=RID)
    assert stored.fetched_by == user
    assert list(InputItem.objects.filter(response_id=RID).values_list("pk", flat=True)) == before


def test_polling_keeps_the_owner_and_the_items_and_takes_only_the_new_status(user, bob, upstream):
    fetched_by(user, upstream, "in_progress")
    rows = list(InputItem.objects.filter(response_id=RID).values_list("pk", flat=True))
    upstream.responses[RID] = response_body(RID, status="completed", background=True)
    upstream.requests.clear()
    client = as_user(bob)
    assert client.post(f"/responses/{RID}/poll/", headers=HTMX)["HX-Refresh"] == "true"
    assert upstream.paths() == [f"/v1/responses/{RID}"]  # the status only: no input items
    stored = StoredResponse.objects.get(pk=RID)
    assert stored.status == "completed"
    assert stored.fetched_by == user
    assert list(InputItem.objects.filter(response_id=RID).values_list("pk", flat=True)) == rows
    assert client.post(f"/responses/{RID}/delete/").status_code == 403  # still not bob's


def test_polls_count_against_the_rate_limit(user, bob, upstream, settings):
    settings.FETCH_RATE_LIMIT = "5/min"
    fetched_by(user, upstream, "in_progress")
    upstream.requests.clear()
    client = as_user(bob)
    answers = [client.post(f"/responses/{RID}/poll/", headers=HTMX) for _ in range(45)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    assert len(upstream.requests) == 5  # one request a poll, and only those allowed
    assert InputItem.objects.filter(response_id=RID).count() == 150
