"""Roles (inspector/access.py): every route for every role, the pages hiding what a role may
not do, and the per-user rate limit on upstream fetches (both databases)."""

import importlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from inspector import access, store
from inspector.models import PlaygroundSession, StoredResponse
from tests.upstream import DEMO, FakeUpstream

pytestmark = pytest.mark.django_db

STAFF = "staff"
#: route -> what it needs. A new route fails test_every_route_is_in_the_table until added.
NEEDS = {
    "inspector:index": access.VIEW,
    "inspector:lookup": access.VIEW,
    "inspector:import": access.IMPORT,
    "inspector:compare-pick": access.VIEW,
    "inspector:response-compare": access.VIEW,
    "inspector:response-notes": access.VIEW,
    "inspector:note-add": access.REVIEW,
    "inspector:note-delete": access.REVIEW,
    "inspector:review-set": access.REVIEW,
    "inspector:response-detail": access.VIEW,
    "inspector:response-delete": access.DELETE,
    "inspector:response-json": access.VIEW,
    "inspector:response-markdown": access.VIEW,
    "inspector:response-trace": access.VIEW,
    "inspector:response-trace-step": access.FETCH,
    "inspector:response-trace-turn": access.VIEW,
    "inspector:response-trace-markdown": access.VIEW,
    "inspector:response-trace-json": access.VIEW,
    "inspector:tool-calls": access.VIEW,
    "inspector:runs": access.VIEW,
    "inspector:overview": access.VIEW,
    "inspector:response-input-items": access.VIEW,
    "inspector:response-goto": access.VIEW,
    "inspector:response-outline": access.VIEW,
    "inspector:response-item": access.VIEW,
    "inspector:response-instructions": access.VIEW,
    "inspector:response-poll": access.FETCH,
    "inspector:patterns": STAFF,
    "inspector:response-refresh": access.FETCH,
    "inspector:response-resume": access.FETCH,
    "inspector:response-fetch-step": access.FETCH,
    "inspector:response-refresh-discard": access.FETCH,
    "inspector:response-search": access.VIEW,
    "inspector:response-trace-search": access.VIEW,
    "inspector:response-trace-fetch-step": access.FETCH,
    "inspector:playground": access.VIEW,
    "inspector:playground-count": access.VIEW,
    "inspector:playground-api-count": access.FETCH,
    "inspector:playground-attribute": access.VIEW,
    "inspector:playground-save": access.SAVE_SESSION,
    "inspector:playground-batch": access.VIEW,
    "inspector:playground-session": access.VIEW,
    "inspector:response-events": access.VIEW,
    "inspector:response-events-json": access.VIEW,
    "inspector:response-events-replay": access.FETCH,
    "inspector:response-events-follow": access.FETCH,
}
PUBLIC = {"inspector:healthz"}
ROLE_NAMES = [*access.ROLES, "nobody", "superuser"]

SUPPORT = sorted(DEMO.glob("0[12]_*.json"))
migration = importlib.import_module("inspector.migrations.0010_roles_and_permissions")


def inspector_routes(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from inspector_routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and namespace == "inspector:":
            yield f"{namespace}{entry.name}", entry


def test_every_route_is_in_the_table_and_its_view_carries_the_decorator():
    routes = dict(inspector_routes(get_resolver().url_patterns))
    assert set(routes) - PUBLIC <= set(NEEDS)
    for name, entry in routes.items():
        if name not in PUBLIC:
            assert hasattr(entry.callback, "required_permissions"), name


def test_the_migration_creates_exactly_the_roles_of_access_py():
    assert {
        name: {perm.removeprefix("inspector.") for perm in perms}
        for name, perms in access.ROLES.items()
    } == {
        # 0011: the audit trail; 0014: updates by import
        name: set(codenames)
        | ({"view_auditentry", "update_by_import"} if name == "admin" else set())
        for name, codenames in migration.ROLES.items()
    }
    for name, perms in access.ROLES.items():
        group = Group.objects.get(name=name)
        found = {f"inspector.{p.codename}" for p in group.permissions.all()}
        assert found == set(perms), name


def make_user(django_user_model: Any, role: str) -> Any:
    if role == "superuser":
        return django_user_model.objects.create_superuser(role, "", "a-long-test-password-42")
    user = django_user_model.objects.create_user(role, password="a-long-test-password-42")
    if role in access.ROLES:
        user.groups.add(Group.objects.get(name=role))
    return user


def allowed(role: str, need: str) -> bool:
    if role == "superuser":
        return True
    if need == STAFF:
        return False
    return need in access.ROLES.get(role, ())


@pytest.fixture
def stored_pair(upstream: FakeUpstream, settings: Any) -> tuple[str, str]:
    settings.FETCH_RATE_LIMIT = ""
    ids = [upstream.add_bundle(path) for path in SUPPORT]
    store.load_demo()
    return ids[0], ids[1]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_route_answers_each_role_as_its_permissions_say(
    role, stored_pair, django_user_model, upstream
):
    first, second = stored_pair
    session = PlaygroundSession.objects.create(name="s", slug="s", state={})
    values = {"response_id": second, "other_id": first, "section": "output", "position": 0,
              "slug": session.slug, "number": 1, "note_id": 999_999}  # fmt: skip
    client = Client(raise_request_exception=False)
    client.force_login(make_user(django_user_model, role))
    routes = dict(inspector_routes(get_resolver().url_patterns))
    for name, route in routes.items():
        if name in PUBLIC:
            continue
        need, params = NEEDS[name], list(route.pattern.converters)
        url = reverse(name, kwargs={param: values[param] for param in params})
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            if status == 405:
                continue  # the other method: refused before any permission check
            if allowed(role, need):
                assert status not in (403, 429), (role, method, url, status)
            else:
                assert status == 403, (role, method, url, status)


def test_a_viewer_opening_an_id_not_stored_gets_403_and_nothing_is_fetched(
    client, django_user_model, upstream
):
    upstream.add_bundle(SUPPORT[0])
    client.force_login(make_user(django_user_model, "viewer"))
    for url in ("/responses/resp_notstored1/", "/responses/resp_notstored1/events/"):
        answer = client.get(url)
        assert answer.status_code == 403
        assert "fetch from the upstream API (the fetcher role)" in answer.content.decode()
    assert upstream.requests == []
    assert not StoredResponse.objects.exists()


def test_pages_show_a_viewer_no_action_it_may_not_take(client, django_user_model, upstream):
    rid = upstream.add_bundle(SUPPORT[1])
    store.load_demo()
    client.force_login(make_user(django_user_model, "viewer"))
    page = client.get(f"/responses/{rid}/").content.decode()
    assert "Refresh from upstream" not in page
    assert 'name="status"' not in page  # the review buttons
    assert "note-form" not in page
    assert 'href="/import/"' not in page
    playground = client.get(f"/playground/?from={rid}").content.decode()
    assert 'id="api-count-button"' not in playground and "Attribute per item…" not in playground
    events = client.get(f"/responses/{rid}/events/").content.decode()
    assert "Replay from the start" not in events
    client.force_login(make_user(django_user_model, "admin"))
    page = client.get(f"/responses/{rid}/").content.decode()
    assert "Refresh from upstream" in page and 'name="status"' in page and "note-form" in page
    assert 'href="/import/"' in page
    playground = client.get(f"/playground/?from={rid}").content.decode()
    assert 'id="api-count-button"' in playground


def test_the_roles_come_back_after_a_flush(transactional_db):
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) == set(access.ROLES)


# --- the rate limit on upstream fetches ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/min", access.Rate(30, 60)),
        ("100/h", access.Rate(100, 3600)),
        ("5/10s", access.Rate(5, 10)),
        (" 2 / day ", access.Rate(2, 86400)),
        ("7/minutes", access.Rate(7, 60)),
        ("", None),
        ("0/min", None),
    ],
)
def test_rates_are_read_from_the_setting(text, rate):
    assert access.parse_rate(text) == rate


@pytest.mark.parametrize("text", ["30", "thirty/min", "30/fortnight", "-1/min"])
def test_a_bad_rate_is_refused_with_the_setting_named(text):
    with pytest.raises(ImproperlyConfigured, match="FETCH_RATE_LIMIT"):
        access.parse_rate(text)


def test_the_limit_counts_per_user_and_per_window():
    rate = access.Rate(2, 60)
    for _ in range(2):
        access.take_fetch_slot(1, rate, now=600.0)
    with pytest.raises(access.FetchLimited) as limited:
        access.take_fetch_slot(1, rate, now=630.5)
    assert limited.value.retry_after == 30
    access.take_fetch_slot(2, rate, now=630.5)  # another user
    access.take_fetch_slot(1, rate, now=660.0)  # the next window


def test_a_fetcher_over_the_limit_gets_a_429_page_that_says_when_to_retry(
    client, django_user_model, upstream, settings
):
    settings.FETCH_RATE_LIMIT = "3/min"
    rid = upstream.add_bundle(SUPPORT[0])
    client.force_login(make_user(django_user_model, "fetcher"))
    assert client.get(f"/responses/{rid}/").status_code == 200  # a fetch: 1
    for _ in range(2):
        assert client.post(f"/responses/{rid}/refresh/").status_code == 302  # 2, 3
    limited = client.post(f"/responses/{rid}/refresh/")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 61
    text = limited.content.decode()
    assert "You have made 3 upstream fetches in 60 seconds" in text
    assert "FETCH_RATE_LIMIT = 3/min" in text
    assert client.get(f"/responses/{rid}/").status_code == 200  # reading is not fetching
    assert len([p for p in upstream.paths() if p.endswith(rid)]) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_fetches_never_overshoot_the_limit():
    """Twelve threads (own connections) race for five slots: exactly five win."""
    rate, won, lost = access.Rate(5, 3600), [], []
    barrier = threading.Barrier(12)

    def claim() -> None:
        try:
            barrier.wait()
            access.take_fetch_slot(7, rate, now=7200.0)
            won.append(1)
        except access.FetchLimited:
            lost.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(won), len(lost)) == (5, 7)
