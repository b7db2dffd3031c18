"""The foundation's views through the test client: login everywhere, lookup, the JSON twin,
the list, running without a key, POST-only refresh, and the key never leaving the server."""

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import (
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)

from inspector import store
from inspector.models import StoredResponse
from tests.conftest import TEST_KEY
from tests.factories import response_body, user_items

pytestmark = pytest.mark.django_db

RID = "resp_views0123"

# Views anyone may open: liveness and the login pages. Everything else needs a login.
PUBLIC = {"inspector:healthz", "login", "admin:login"}


def body(response_id: str = RID, **extra: Any) -> dict[str, Any]:
    return response_body(response_id, **extra)


# --- every route, found by walking the URL resolver -----------------------------------------


def candidates(converter: Any) -> list[str]:
    if isinstance(converter, IntConverter):
        return ["0", "1"]
    if isinstance(converter, UUIDConverter):
        return [str(uuid.UUID(int=1))]
    if isinstance(converter, SlugConverter | StringConverter | PathConverter):
        return ["input", "output", RID, "x"]
    return [RID, "1", "x"]  # our own converters (`rid`), and any new one


def walk(
    patterns: list[Any], namespace: str = "", params: dict[str, list[str]] | None = None
) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """(namespaced name, candidate values of every path parameter) of each named route."""
    for entry in patterns:
        found = dict(params or {})
        pattern = entry.pattern
        for name, converter in getattr(pattern, "converters", {}).items():
            found[name] = candidates(converter)
        for name in getattr(getattr(pattern, "regex", None), "groupindex", {}):
            found.setdefault(name, ["inspector", "auth", RID, "1", "x"])
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, inner, found)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", found


def every_url() -> list[tuple[str, str]]:
    """(name, a concrete URL) of every named route, its path parameters filled validly."""
    urls = []
    for name, params in walk(get_resolver().url_patterns):
        for values in itertools.product(*params.values()):
            try:
                urls.append((name, reverse(name, kwargs=dict(zip(params, values, strict=True)))))
                break
            except Exception:  # noqa: S112 - try the next combination of candidate values
                continue
        else:
            urls.append((name, ""))
    return urls


ROUTES = every_url()


def test_the_route_walk_finds_the_foundation_routes():
    names = {name for name, _ in ROUTES}
    assert {"inspector:healthz", "login", "inspector:index", "inspector:response-detail"} <= names
    assert "inspector:response-refresh" in names
    assert all(url for _, url in ROUTES), [name for name, url in ROUTES if not url]


def is_login_redirect(response: Any) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and re.match(r"^/(accounts|admin)/login/", location)


@pytest.mark.parametrize(("name", "url"), [r for r in ROUTES if r[0] not in PUBLIC])
def test_every_route_needs_a_login(client, upstream, name, url):
    assert is_login_redirect(client.get(url)), f"GET {url}"
    assert is_login_redirect(client.post(url)), f"POST {url}"
    assert upstream.requests == []


def test_healthz_and_login_page_open_without_login(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def test_password_reset_is_not_offered():
    assert not {"password_reset", "password_reset_confirm"} & {name for name, _ in ROUTES}


# --- lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "resp_abc123",
        "  resp_abc123  ",
        "https://platform.openai.com/logs/resp_abc123",
        "https://platform.openai.com/logs/resp_abc123?project=proj_1",
    ],
)
def test_lookup_by_id_or_platform_url_redirects_to_the_response_page(logged_in, typed):
    response = logged_in.get("/lookup/", {"q": typed})
    assert response.status_code == 302
    assert response["Location"] == "/responses/resp_abc123/"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("../etc/passwd", 'value="../etc/passwd"'),
        (
            '<script>alert("x")</script>',
            'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"',
        ),
        ("resp_" + "a" * 130, 'value="resp_' + "a" * 130 + '"'),
    ],
)
def test_a_bad_id_says_why_with_status_400_and_keeps_the_typed_text(
    logged_in, upstream, typed, shown
):
    response = logged_in.get("/lookup/", {"q": typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A response id has only letters, digits, &#x27;_&#x27; and &#x27;-&#x27;" in page
    assert shown in page
    assert "<script>alert" not in page
    assert upstream.requests == []


def test_an_unsafe_id_in_the_path_is_not_a_route(logged_in, upstream):
    assert logged_in.get("/responses/resp_a%2F..%2Fx/").status_code == 404
    assert upstream.requests == []


# --- pages and the JSON twin ----------------------------------------------------------------


def test_first_view_fetches_and_shows_the_header_facts(logged_in, upstream):
    upstream.add(
        body(
            previous_response_id="resp_before", usage={"input_tokens": 1234, "total_tokens": 1300}
        ),
        user_items(2),
    )
    response = logged_in.get(f"/responses/{RID}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert RID in page
    assert "gpt-5" in page
    assert "completed" in page
    assert 'href="/responses/resp_before/"' in page
    assert "1,234" in page
    assert StoredResponse.objects.get().fetched_by.username == "alice"


def test_the_json_twin_returns_the_stored_bundle(logged_in, upstream):
    store.save_bundle(body(), user_items(3), source="import")
    response = logged_in.get(f"/responses/{RID}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    bundle = json.loads(response.content)
    assert bundle["kind"] == store.BUNDLE_KIND
    assert bundle["response"] == body()
    assert bundle["input_items"] == user_items(3)
    assert upstream.requests == []


def test_the_json_twin_of_an_unstored_id_is_404_without_fetching(logged_in, upstream):
    assert logged_in.get("/responses/resp_unknown.json").status_code == 404
    assert upstream.requests == []


def linked_ids(page: bytes) -> list[str]:
    seen: list[str] = []
    for found in re.findall(r'href="/responses/(resp_\w+)/"', page.decode()):
        if found not in seen:
            seen.append(found)
    return seen


def test_the_list_is_newest_first_and_paginated(logged_in):
    for i in range(60):
        store.save_bundle(body(f"resp_{i:03d}", created_at=1767225600 + i), [], source="import")
    first = linked_ids(logged_in.get("/").content)
    second = linked_ids(logged_in.get("/", {"page": 2}).content)
    newest_first = [f"resp_{i:03d}" for i in reversed(range(60))]
    assert 0 < len(first) < 60
    assert first + second == newest_first[: len(first) + len(second)]
    assert len(second) > 0


# --- without an API key ---------------------------------------------------------------------


def test_without_a_key_an_unstored_id_says_to_set_openai_api_key(logged_in, upstream, settings):
    settings.OPENAI_API_KEY = ""
    response = logged_in.get("/responses/resp_notstored/")
    assert response.status_code == 503
    assert "OPENAI_API_KEY" in response.content.decode()
    assert upstream.requests == []


def test_without_a_key_stored_responses_still_open(logged_in, upstream, settings):
    settings.OPENAI_API_KEY = ""
    store.save_bundle(body(), user_items(2), source="import")
    assert logged_in.get(f"/responses/{RID}/").status_code == 200
    assert logged_in.get(f"/responses/{RID}.json").status_code == 200
    assert logged_in.get("/").status_code == 200
    refresh = logged_in.post(f"/responses/{RID}/refresh/")
    assert "OPENAI_API_KEY" in refresh.content.decode()
    assert upstream.requests == []


# --- refresh: POST with CSRF only -----------------------------------------------------------


def csrf_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(page: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    return match.group(1).decode()


def test_refresh_is_post_only_with_csrf_and_fetches_again(user, upstream):
    upstream.add(body(), user_items(2))
    client = csrf_client(user)
    page = client.get(f"/responses/{RID}/")
    assert len(upstream.requests) == 2

    assert client.get(f"/responses/{RID}/refresh/").status_code == 405
    assert client.post(f"/responses/{RID}/refresh/").status_code == 403
    assert len(upstream.requests) == 2

    refreshed = client.post(
        f"/responses/{RID}/refresh/", {"csrfmiddlewaretoken": csrf_token(page.content)}
    )
    assert refreshed.status_code == 302
    assert refreshed["Location"] == f"/responses/{RID}/"
    assert len(upstream.requests) == 4


def test_resume_is_post_only(logged_in, upstream):
    store.save_bundle(body(), user_items(1), source="import", complete=False)
    assert logged_in.get(f"/responses/{RID}/resume/").status_code == 405
    assert upstream.requests == []


# --- the key stays on the server ------------------------------------------------------------


def test_the_api_key_never_appears_in_any_page_or_json(
    client, user, django_user_model, upstream, settings
):
    upstream.add(body(), user_items(3))
    upstream.add(body("resp_echo"), [])
    admin = django_user_model.objects.create_superuser("root", "", "a-long-test-password-42")
    pages: list[bytes] = [client.get("/accounts/login/").content, client.get("/healthz").content]
    client.force_login(user)
    pages += [
        client.get(f"/responses/{RID}/").content,
        client.get(f"/responses/{RID}.json").content,
        client.get("/").content,
        client.get("/lookup/", {"q": "../x"}).content,
        client.get("/responses/resp_missing/").content,
    ]
    # An upstream that echoes the key in its error message.
    upstream.override = lambda request: (
        httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {TEST_KEY}"}})
        if "resp_echo" in str(request.url)
        else None
    )
    echoed = client.get("/responses/resp_echo/")
    assert echoed.status_code == 502
    pages.append(echoed.content)
    # Every named route, as a superuser, with its parameters filled.
    sweep = Client(raise_request_exception=False)
    sweep.force_login(admin)
    pages += [sweep.get(url).content for _, url in ROUTES]
    for page in pages:
        assert TEST_KEY.encode() not in page
        assert TEST_KEY[8:24].encode() not in page
