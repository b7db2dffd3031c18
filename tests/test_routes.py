"""Every route, found by walking the URL resolver: a login before anything but /healthz,
actions POST-only with CSRF, and the API key on no page or JSON of any of them."""

import itertools
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


def test_the_route_walk_finds_public_pages_the_list_and_response_routes():
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
