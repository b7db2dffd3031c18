"""Notes on a response or one of its items, review status, and both surviving a re-fetch and
an export / import round trip."""

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inspector import anchors, notes, store
from inspector.models import Note, StoredResponse

pytestmark = pytest.mark.django_db


def body(rid: str = "resp_noted", **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": 1767225600,
        "status": "completed",
        "model": "gpt-5",
        "output": [
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "refund",
                "arguments": '{"amount": 5000}',
                "status": "completed",
            },
            {"type": "reasoning", "summary": []},
        ],
        "tools": [],
        **extra,
    }


INPUT = [{"role": "user", "content": "Please refund me."}]


@pytest.fixture
def noted(user: Any) -> StoredResponse:
    store.save_bundle(body(), INPUT, source=StoredResponse.Source.IMPORT)
    return StoredResponse.objects.get(pk="resp_noted")


def post_note(client: Client, text: str, anchor: str = "", **headers: Any) -> Any:
    return client.post(
        "/responses/resp_noted/notes/add/", {"text": text, "anchor": anchor}, **headers
    )


HTMX = {"HTTP_HX_REQUEST": "true"}


# --- writing and reading notes ----------------------------------------------------------------


def test_a_note_on_the_response_is_shown_with_its_author_and_time(logged_in, noted, user):
    response = post_note(logged_in, "Looks like a duplicate refund.")
    assert response.status_code == 302
    assert response["Location"] == "/responses/resp_noted/#notes"
    page = logged_in.get("/responses/resp_noted/").content.decode()
    assert "Looks like a duplicate refund." in page
    assert "<strong><bdi>alice</bdi></strong>" in page
    note = Note.objects.get()
    assert (note.anchor, note.author_name, note.author_id) == ("", "alice", user.pk)
    assert f'datetime="{note.created_at.isoformat()}"'[:30] in page


def test_note_text_is_escaped_and_keeps_its_line_breaks(logged_in, noted):
    post_note(logged_in, "<script>window.__pwned=1</script>\nsecond line")
    page = logged_in.get("/responses/resp_noted/").content.decode()
    assert "<script>window.__pwned" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;<br>second line" in page


def test_a_note_on_an_item_is_shown_under_that_item(logged_in, noted):
    response = post_note(logged_in, "Amount is in cents?", anchor="item-fc_1")
    assert response["Location"] == "/responses/resp_noted/#item-fc_1"
    page = logged_in.get("/responses/resp_noted/").content.decode()
    block = page.split('id="notes-item-fc_1"', 1)[1].split("</details>", 1)[0]
    assert "Amount is in cents?" in block
    panel = page.split('id="notes"', 1)[1]
    assert 'on <a href="#item-fc_1">' in panel


def test_items_without_an_id_take_notes_by_their_position(logged_in, noted):
    page = logged_in.get("/responses/resp_noted/").content.decode()
    assert 'id="notes-item-input-0"' in page
    assert 'id="notes-item-output-1"' in page
    post_note(logged_in, "The user asked politely.", anchor="item-input-0")
    assert Note.objects.get().anchor == "item-input-0"


def test_htmx_gets_the_item_notes_back_and_the_panel_is_told_to_reload(logged_in, noted):
    response = post_note(logged_in, "check this", anchor="item-fc_1", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="item-notes" id="notes-item-fc_1">')
    assert "check this" in html
    assert json.loads(response["HX-Trigger"]) == {"notesChanged": {}}
    panel = logged_in.get("/responses/resp_noted/notes/", **HTMX).content.decode()
    assert "check this" in panel
    assert "<!doctype" not in panel


def test_htmx_gets_the_panel_back_for_a_note_on_the_response(logged_in, noted):
    response = post_note(logged_in, "overall fine", **HTMX)
    assert response.status_code == 200
    assert '<section class="card notes" id="notes"' in response.content.decode()
    assert "overall fine" in response.content.decode()


def test_the_notes_panel_without_htmx_is_the_response_page(logged_in, noted):
    response = logged_in.get("/responses/resp_noted/notes/")
    assert response["Location"] == "/responses/resp_noted/#notes"


@pytest.mark.parametrize("text", ["", "   ", "x" * 10_001])
def test_an_empty_or_too_long_note_is_refused(logged_in, noted, text):
    response = post_note(logged_in, text, **HTMX)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    plain = post_note(logged_in, text, follow=True)
    assert "Note not saved" in plain.content.decode()
    assert not Note.objects.exists()


@pytest.mark.parametrize("anchor", ["notes", "item-", "item-<b>", "item-a b", "item-a.b"])
def test_a_note_on_something_that_is_not_an_item_anchor_is_refused(logged_in, noted, anchor):
    assert post_note(logged_in, "hi", anchor=anchor, **HTMX).status_code == 400
    assert not Note.objects.exists()


def test_a_note_on_an_unknown_response_is_404(logged_in):
    assert logged_in.post("/responses/resp_nope/notes/add/", {"text": "x"}).status_code == 404


def test_notes_need_a_login_and_a_csrf_token(noted, user):
    assert post_note(Client(), "anonymous").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert post_note(strict, "no token").status_code == 403
    assert not Note.objects.exists()


def test_notes_only_get_method_post(logged_in, noted):
    assert logged_in.get("/responses/resp_noted/notes/add/").status_code == 405


def test_the_response_page_reads_notes_once_however_many_items_have_them(
    logged_in, user, django_assert_num_queries, django_assert_max_num_queries
):
    output = [
        {"type": "message", "id": f"msg_{i}", "role": "assistant", "content": []} for i in range(12)
    ]
    store.save_bundle(body(output=output), [], source=StoredResponse.Source.IMPORT)
    stored = StoredResponse.objects.get(pk="resp_noted")
    notes.add_note(stored, "item-msg_0", "one", user)
    logged_in.get("/responses/resp_noted/")
    with django_assert_max_num_queries(100) as few:
        logged_in.get("/responses/resp_noted/")
    for i in range(12):
        notes.add_note(stored, f"item-msg_{i}", f"note {i}", user)
    with django_assert_num_queries(len(few.captured_queries)):
        page = logged_in.get("/responses/resp_noted/").content.decode()
    assert "note 11" in page


# --- review status -----------------------------------------------------------------------------


def test_flagging_records_who_and_when(logged_in, noted):
    response = logged_in.post("/responses/resp_noted/review/", {"status": "flagged"})
    assert response["Location"] == "/responses/resp_noted/#review"
    noted.refresh_from_db()
    assert noted.review_status == "flagged"
    assert noted.reviewed_by_name == "alice"
    assert noted.reviewed_at is not None
    page = logged_in.get("/responses/resp_noted/").content.decode()
    assert '<span class="badge review-flagged">flagged</span>' in page
    assert "by <bdi>alice</bdi>" in page


def test_htmx_gets_the_review_bar_back(logged_in, noted):
    response = logged_in.post("/responses/resp_noted/review/", {"status": "approved"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="review" id="review">')
    assert 'aria-pressed="true">Approved</button>' in html


def test_an_unknown_review_status_is_refused(logged_in, noted):
    response = logged_in.post("/responses/resp_noted/review/", {"status": "lgtm"}, **HTMX)
    assert response.status_code == 400
    noted.refresh_from_db()
    assert noted.review_status == "unreviewed"


def test_setting_the_review_needs_a_csrf_token(noted, user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/responses/resp_noted/review/", {"status": "flagged"}).status_code == 403


# --- surviving a re-fetch, and bundles ---------------------------------------------------------


def test_notes_and_review_survive_a_refetch(logged_in, user, upstream):
    upstream.add(body(), INPUT)
    logged_in.get("/responses/resp_noted/")
    post_note(logged_in, "keep me", anchor="item-fc_1")
    logged_in.post("/responses/resp_noted/review/", {"status": "flagged"})
    upstream.add(body(status="completed", model="gpt-5.1"), INPUT)
    assert logged_in.post("/responses/resp_noted/refresh/").status_code == 302
    stored = StoredResponse.objects.get(pk="resp_noted")
    assert stored.model == "gpt-5.1"
    assert stored.review_status == "flagged"
    assert [n.text for n in stored.notes.all()] == ["keep me"]


def test_the_bundle_carries_notes_and_review(logged_in, noted, user):
    notes.add_note(noted, "item-fc_1", "first", user)
    notes.set_review(noted, "flagged", user)
    bundle = logged_in.get("/responses/resp_noted.json").json()
    assert [(n["anchor"], n["author"], n["text"]) for n in bundle["notes"]] == [
        ("item-fc_1", "alice", "first")
    ]
    assert bundle["review"]["status"] == "flagged"
    assert bundle["review"]["by"] == "alice"


def test_a_round_trip_into_an_empty_database_loses_nothing_and_adds_nothing_twice(
    noted, user, django_user_model
):
    notes.add_note(noted, "", "whole response", user)
    notes.add_note(noted, "item-fc_1", "line one\nline two", user)
    notes.set_review(noted, "approved", user)
    exported = json.dumps(store.export_bundle(StoredResponse.objects.get(pk="resp_noted")))
    before = json.loads(exported)

    StoredResponse.objects.all().delete()
    django_user_model.objects.all().delete()
    report = store.import_lines([exported])
    assert (report.imported, report.failed, report.notes_added) == (1, 0, 2)
    again = store.import_lines([exported])
    assert (again.skipped, again.notes_added) == (1, 0)

    restored = StoredResponse.objects.get(pk="resp_noted")
    assert store.export_bundle(restored) == before
    assert Note.objects.count() == 2
    assert restored.review_status == "approved"
    assert restored.reviewed_by_name == "alice"


def test_an_imported_review_never_replaces_one_given_here_whatever_its_date(noted, user):
    """Issue 13: a bundle dated 2999 once beat a real reviewer's verdict."""
    notes.set_review(noted, "flagged", user)
    bundle = store.export_bundle(StoredResponse.objects.get(pk="resp_noted"))
    for at in ("2020-01-01T00:00:00", "2999-01-01T00:00:00"):
        later = {**bundle, "review": {"status": "approved", "by": "bob", "at": at}}
        store.import_lines([json.dumps(later)])
        after = StoredResponse.objects.get(pk="resp_noted")
        assert (after.review_status, after.reviewed_by_name) == ("flagged", "alice")
        assert not after.review_imported


def test_an_imported_review_fills_an_unreviewed_response_and_a_newer_one_replaces_it(noted):
    bundle = store.export_bundle(StoredResponse.objects.get(pk="resp_noted"))
    older = {**bundle, "review": {"status": "approved", "by": "bob", "at": "2020-01-01T00:00:00"}}
    store.import_lines([json.dumps(older)])
    after = StoredResponse.objects.get(pk="resp_noted")
    assert (after.review_status, after.reviewed_by_name, after.review_imported) == (
        "approved", "bob", True
    )  # fmt: skip
    newer = {**bundle, "review": {"status": "flagged", "by": "carol", "at": "2999-01-01T00:00:00"}}
    store.import_lines([json.dumps(newer)])
    after = StoredResponse.objects.get(pk="resp_noted")
    assert (after.review_status, after.reviewed_by_name) == ("flagged", "carol")
    assert after.reviewed_at <= timezone.now()  # a future date is taken as now


@pytest.mark.parametrize(
    ("notes_value", "review", "reason"),
    [
        ("not a list", None, "notes must be a list"),
        (
            [{"anchor": "item-<x>", "author": "a", "text": "t", "created_at": "2026-01-01"}],
            None,
            "notes[0]: not an item anchor",
        ),
        ([{"author": "a", "text": "", "created_at": "2026-01-01"}], None, "notes[0]: text"),
        ([{"author": "", "text": "t", "created_at": "2026-01-01"}], None, "notes[0]: author"),
        ([{"author": "a", "text": "t", "created_at": "yesterday"}], None, "notes[0]: not an ISO"),
        ([], {"status": "lgtm"}, "review: status must be one of"),
    ],
)
def test_bad_notes_in_a_bundle_fail_that_line_with_the_reason(notes_value, review, reason):
    bundle = {
        "kind": "responses-inspector.bundle",
        "version": 1,
        "response": body("resp_badnotes"),
        "input_items": [],
        "notes": notes_value,
        "review": review,
    }
    report = store.import_lines([json.dumps(bundle)])
    assert report.failures[0][0] == 1
    assert reason in report.failures[0][1]
    assert not StoredResponse.objects.filter(pk="resp_badnotes").exists()


def test_a_bundle_without_notes_imports_as_before(user):
    bundle = {"kind": "responses-inspector.bundle", "response": body(), "input_items": INPUT}
    report = store.import_lines([json.dumps(bundle)])
    assert (report.imported, report.notes_added) == (1, 0)


@pytest.mark.parametrize(
    ("anchor", "valid"),
    [
        ("", True),
        ("item-fc_1", True),
        ("item-input-12", True),
        ("item-instructions-0", True),
        ("item-", False),
        ("fc_1", False),
        ("item-a.b", False),
        ("item-a\n", False),
        ("item-" + "a" * 211, False),
    ],
)
def test_valid_anchors(anchor, valid):
    assert anchors.valid_anchor(anchor) is valid


# --- deleting a note ------------------------------------------------------------------------


def _as(django_user_model: Any, name: str, role: str) -> Client:
    from django.contrib.auth.models import Group

    account = django_user_model.objects.create_user(name, password="a-long-test-password-42")
    account.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(account)
    return client


def delete_url(note: Note) -> str:
    return f"/responses/{note.response_id}/notes/{note.pk}/delete/"


def test_a_reviewer_deletes_their_own_note_and_the_audit_trail_says_so(noted, django_user_model):
    from inspector.models import AuditEntry

    rita = _as(django_user_model, "rita", "reviewer")
    post_note(rita, "first thought")
    post_note(rita, "on the call", anchor="item-fc_1")
    on_item = Note.objects.get(anchor="item-fc_1")
    html = rita.get("/responses/resp_noted/").content.decode()
    for note in Note.objects.all():  # in the panel, and the item's under the item too
        assert f'action="{delete_url(note)}"' in html
    answer = rita.post(delete_url(on_item))
    assert answer.status_code == 302 and answer["Location"].endswith("#notes-item-fc_1")
    assert list(Note.objects.values_list("text", flat=True)) == ["first thought"]
    entry = AuditEntry.objects.get(action="deleted")
    assert (entry.username, entry.response_id) == ("rita", "resp_noted")
    assert entry.detail == "note by rita on item-fc_1: on the call"
    assert "Note deleted." in rita.get("/responses/resp_noted/").content.decode()


def test_only_the_author_or_an_admin_deletes_a_note(noted, django_user_model):
    rita = _as(django_user_model, "rita", "reviewer")
    post_note(rita, "mine")
    note = Note.objects.get()
    bob = _as(django_user_model, "bob", "reviewer")
    assert "Delete this note" not in bob.get("/responses/resp_noted/").content.decode()
    assert bob.post(delete_url(note)).status_code == 403
    viewer = _as(django_user_model, "vic", "viewer")
    assert viewer.post(delete_url(note)).status_code == 403
    assert Note.objects.filter(pk=note.pk).exists()
    admin = _as(django_user_model, "ada", "admin")
    assert "Delete this note" in admin.get("/responses/resp_noted/").content.decode()
    assert admin.post(delete_url(note)).status_code == 302
    assert not Note.objects.exists()


def test_a_note_is_deleted_only_by_post_and_only_under_its_own_response(noted, django_user_model):
    rita = _as(django_user_model, "rita", "reviewer")
    post_note(rita, "mine")
    note = Note.objects.get()
    assert rita.get(delete_url(note)).status_code == 405
    store.save_bundle(body("resp_other"), [], source=StoredResponse.Source.IMPORT)
    assert rita.post(f"/responses/resp_other/notes/{note.pk}/delete/").status_code == 404
    assert Note.objects.filter(pk=note.pk).exists()
