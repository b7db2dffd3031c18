"""End to end: the real server code path (login form, lookup, fetch, store, page, refresh)
against a real HTTP server on 127.0.0.1, with no transport override anywhere."""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from inspector import client as upstream_client
from inspector.models import InputItem, StoredResponse
from tests.conftest import TEST_KEY
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db

RID = "resp_e2e0123456789abcdef"
PASSWORD = "a-long-test-password-42"


def long_response() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = {
        "id": RID,
        "object": "response",
        "created_at": 1767225600,
        "completed_at": 1767225612,
        "status": "completed",
        "model": "gpt-5",
        "output": [
            {
                "id": "msg_out",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "All 250 read.", "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": 5000,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 5005,
        },
    }
    items = [
        {
            "id": f"msg_in_{i:03d}",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": f"line {i}"}],
        }
        for i in range(250)
    ]
    return body, items


@pytest.fixture
def stand_in(settings: Any) -> Iterator[FakeUpstream]:
    fake = FakeUpstream()
    fake.add(*long_response())
    with serve(fake) as base_url:
        settings.OPENAI_BASE_URL = base_url
        yield fake
    assert not fake.unexpected, fake.unexpected


def csrf_token(page: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    return match.group(1).decode()


def test_a_pasted_id_is_fetched_over_http_kept_and_shown_again_without_a_request(
    stand_in, django_user_model
):
    assert upstream_client._transport_override is None
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    alice.groups.add(Group.objects.get(name="fetcher"))
    browser = Client(enforce_csrf_checks=True)

    # Log in through the real form.
    login_page = browser.get("/accounts/login/")
    logged = browser.post(
        "/accounts/login/",
        {
            "username": "alice",
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf_token(login_page.content),
        },
    )
    assert logged.status_code == 302
    assert logged["Location"] == "/"

    # Paste a platform URL into the lookup box.
    lookup = browser.get("/lookup/", {"q": f"https://platform.openai.com/logs/{RID}"})
    assert lookup["Location"] == f"/responses/{RID}/"

    first = browser.get(lookup["Location"])
    assert first.status_code == 200
    # The first view: the response and the first page of 100 input items, then the page.
    assert stand_in.paths() == [f"/v1/responses/{RID}", f"/v1/responses/{RID}/input_items"]
    page = first.content.decode()
    assert RID in page
    assert "All 250 read." in page
    assert "line 0" in page
    assert "100 input items fetched, more to come" in page
    # The page's step (htmx posts it by itself; here as a plain form) fetches the rest.
    step = browser.post(
        f"/responses/{RID}/fetch/step/", {"csrfmiddlewaretoken": csrf_token(first.content)}
    )
    assert step.status_code == 302
    first_view_requests = len(stand_in.requests)
    assert first_view_requests == 1 + 3  # the response, then 3 pages of 100 input items
    paths = stand_in.paths()
    assert paths[1:] == [f"/v1/responses/{RID}/input_items"] * 3
    afters = [parse_qs(r.url.query.decode()).get("after") for r in stand_in.requests[1:]]
    assert afters == [None, ["msg_in_099"], ["msg_in_199"]]
    assert all(r.headers["authorization"] == f"Bearer {TEST_KEY}" for r in stand_in.requests)

    stored = StoredResponse.objects.get(pk=RID)
    assert stored.input_items_count == 250
    assert stored.input_items_complete
    assert InputItem.objects.filter(response=stored).count() == 250

    # The second view reads the store.
    second = browser.get(f"/responses/{RID}/")
    assert second.status_code == 200
    second_view_requests = len(stand_in.requests) - first_view_requests
    assert second_view_requests == 0
    assert browser.get(f"/responses/{RID}.json").status_code == 200
    assert len(stand_in.requests) == first_view_requests

    # The refresh action fetches it all again: the response and a page, then the steps.
    refreshed = browser.post(
        f"/responses/{RID}/refresh/", {"csrfmiddlewaretoken": csrf_token(second.content)}
    )
    assert refreshed.status_code == 302
    assert len(stand_in.requests) == first_view_requests + 2
    assert InputItem.objects.filter(response_id=RID).count() == 250  # the stored copy, whole
    browser.post(
        f"/responses/{RID}/fetch/step/", {"csrfmiddlewaretoken": csrf_token(second.content)}
    )
    assert len(stand_in.requests) == 2 * first_view_requests
    assert InputItem.objects.filter(response_id=RID).count() == 250
    assert not StoredResponse.objects.get(pk=RID).items.exclude(body__has_key="id").exists()


def test_an_unknown_id_shows_the_upstream_not_found_page_over_http(stand_in, logged_in):
    response = logged_in.get("/responses/resp_nothere/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Response not found upstream" in page
    assert "No response found with id &#x27;resp_nothere&#x27;." in page
    assert "req_fake404" in page
    assert not StoredResponse.objects.exists()
