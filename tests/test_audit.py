"""The audit trail (inspector/audit.py): what the views write, the client's address behind
trusted proxies, the read-only admin, and deleting a stored response."""

import io
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from inspector import audit, notes, store
from inspector.models import AuditEntry, InputItem, Note, StoredResponse, ToolCall
from tests.conftest import TEST_KEY
from tests.upstream import DEMO

pytestmark = pytest.mark.django_db

FIRST = sorted(DEMO.glob("01_*.json"))[0]


def entries() -> list[tuple[str, str, str, str]]:
    return [
        (e.username, e.action, e.response_id, e.detail) for e in AuditEntry.objects.order_by("id")
    ]


def role_user(django_user_model: Any, name: str, role: str) -> Any:
    user = django_user_model.objects.create_user(name, password="a-long-test-password-42")
    user.groups.add(Group.objects.get(name=role))
    return user


def test_fetching_viewing_exporting_and_importing_are_written_down(logged_in, upstream):
    rid = upstream.add_bundle(FIRST)
    logged_in.get(f"/responses/{rid}/")  # fetched, then viewed
    logged_in.get(f"/responses/{rid}/")  # viewed
    logged_in.get(f"/responses/{rid}.json")
    logged_in.get(f"/responses/{rid}.md?redact=0")
    logged_in.get(f"/responses/{rid}/trace/")
    logged_in.post(f"/responses/{rid}/refresh/")
    upload = SimpleUploadedFile("x.jsonl", FIRST.read_bytes().replace(b"\n", b"") + b"\n")
    logged_in.post("/import/", {"file": upload})
    assert entries() == [
        ("alice", "fetched", rid, ""),
        ("alice", "viewed", rid, ""),
        ("alice", "viewed", rid, ""),
        ("alice", "exported", rid, f"/responses/{rid}.json"),
        ("alice", "exported", rid, f"/responses/{rid}.md (unredacted)"),
        ("alice", "viewed", rid, "trace"),
        ("alice", "fetched", rid, ""),
        ("alice", "imported", "", f"x.jsonl: started ({upload.size:,} bytes)"),
        ("alice", "imported", rid, "x.jsonl line 1: skipped (unchanged)"),
        ("alice", "imported", "", "x.jsonl: 0 imported, 0 updated, 1 skipped, 0 failed"),
    ]
    assert AuditEntry.objects.first().remote_addr == "127.0.0.1"


def test_a_failed_fetch_is_written_down_with_why_and_never_the_key(logged_in, upstream):
    import httpx

    upstream.override = lambda request: httpx.Response(
        401, json={"error": {"message": f"bad key {TEST_KEY}", "code": TEST_KEY}}
    )
    logged_in.get("/responses/resp_refused1/")
    ((_, action, rid, detail),) = entries()
    assert (action, rid, detail) == ("fetched", "resp_refused1", "failed: The API key was refused")
    dump = str(list(AuditEntry.objects.values()))
    assert TEST_KEY not in dump and TEST_KEY[8:24] not in dump


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "client"),
    [
        ("203.0.113.7", "", [], "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),  # no trusted proxy: ignore XFF
        ("10.0.0.2", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "10.0.0.3", ["10.0.0.0/8"], "10.0.0.3"),  # all proxies: the farthest
        ("10.0.0.2", "not-an-ip", ["10.0.0.0/8"], None),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
        ("", "", [], None),
    ],
)
def test_the_client_address_believes_forwarded_for_only_from_trusted_proxies(
    remote, forwarded, trusted, client
):
    assert audit.client_address(remote, forwarded, trusted) == client


def test_behind_a_trusted_proxy_the_entry_has_the_clients_address(logged_in, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    store.load_demo()
    rid = StoredResponse.objects.first().id
    logged_in.get(f"/responses/{rid}/", HTTP_X_FORWARDED_FOR="198.51.100.23")
    assert AuditEntry.objects.get().remote_addr == "198.51.100.23"


def test_admins_read_the_trail_in_the_admin_and_nobody_can_change_it(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "", "a-long-test-password-42")
    client.force_login(admin)
    store.load_demo()
    rid = StoredResponse.objects.first().id
    client.get(f"/responses/{rid}/")
    entry = AuditEntry.objects.get()
    listing = client.get("/admin/inspector/auditentry/")
    assert listing.status_code == 200 and rid in listing.content.decode()
    assert client.get("/admin/inspector/auditentry/add/").status_code == 403
    assert client.post(f"/admin/inspector/auditentry/{entry.pk}/delete/").status_code == 403
    page = client.get(f"/admin/inspector/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="action"' not in page  # read-only


# --- deleting a stored response ----------------------------------------------------------


def test_deleting_asks_first_then_removes_everything_kept_and_sends_nothing_upstream(
    logged_in, upstream
):
    report = store.import_lines(io.BytesIO(FIRST.read_bytes().replace(b"\n", b"") + b"\n"))
    assert report.imported == 1
    rid = StoredResponse.objects.get().id
    notes.add_note(StoredResponse.objects.get(), "", "a note", None)
    confirm = logged_in.get(f"/responses/{rid}/delete/")
    assert confirm.status_code == 200
    assert "Nothing is sent to the upstream API" in confirm.content.decode()
    assert StoredResponse.objects.filter(pk=rid).exists()
    done = logged_in.post(f"/responses/{rid}/delete/", follow=True)
    assert done.redirect_chain[-1][0] == "/"
    assert "Deleted" in done.content.decode()
    assert not StoredResponse.objects.filter(pk=rid).exists()
    assert not InputItem.objects.exists() and not Note.objects.exists()
    assert not ToolCall.objects.filter(response_id=rid).exists()
    assert upstream.requests == []
    assert entries()[-1] == ("alice", "deleted", rid, "")


def test_the_user_who_fetched_a_response_may_delete_it_and_others_may_not(
    client, django_user_model, upstream
):
    rid = upstream.add_bundle(FIRST)
    owner = role_user(django_user_model, "fran", "fetcher")
    other = role_user(django_user_model, "gus", "fetcher")
    client.force_login(owner)
    page = client.get(f"/responses/{rid}/").content.decode()
    assert "Delete…" in page
    client.force_login(other)
    assert "Delete…" not in client.get(f"/responses/{rid}/").content.decode()
    assert client.post(f"/responses/{rid}/delete/").status_code == 403
    client.force_login(owner)
    assert client.post(f"/responses/{rid}/delete/").status_code == 302
    assert not StoredResponse.objects.filter(pk=rid).exists()
