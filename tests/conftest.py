import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from inspector import client as upstream_client
from tests.upstream import FakeUpstream

# pytest-django's live_server runs Django in a thread while Playwright's sync API holds an
# event loop in the test thread; Django refuses ORM calls there unless told this is intended.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TEST_KEY = "sk-test-RECOGNISABLE-KEY-0123456789"


@pytest.fixture(autouse=True)
def _configured(settings: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.OPENAI_API_KEY = TEST_KEY  # type: ignore[attr-defined]
    settings.OPENAI_BASE_URL = "https://upstream.test/v1"  # type: ignore[attr-defined]
    settings.OPENAI_MAX_RETRIES = 2  # type: ignore[attr-defined]
    # A fast hasher: the default one costs ~0.5 s a password, once per test that logs in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUpstream]:
    """The stand-in upstream behind every client built by get_client(); no retry delays."""
    fake = FakeUpstream()
    monkeypatch.setattr(upstream_client, "pause", lambda seconds: None)
    with upstream_client.override_transport(fake.transport()):
        yield fake
    assert not fake.unexpected, f"unexpected upstream requests: {fake.unexpected}"


@pytest.fixture
def user(django_user_model):  # type: ignore[no-untyped-def]
    """A user with the admin role (every permission of the app, but not staff); tests of
    the other roles make their own users (tests/test_roles.py)."""
    alice = django_user_model.objects.create_user("alice", password="a-long-test-password-42")
    alice.groups.add(Group.objects.get(name="admin"))
    return alice


@pytest.fixture
def logged_in(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client
