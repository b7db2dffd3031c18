"""/import/: upload a file, get the command's line-level report; too large is refused."""

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inspector import store
from inspector.models import Note, StoredResponse
from tests.factories import response_body

pytestmark = pytest.mark.django_db


def body(rid: str) -> dict[str, Any]:
    return response_body(rid, tools=[])


def upload(text: str, name: str = "responses.jsonl") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


JSONL = "\n".join(
    [
        json.dumps(body("resp_one")),
        "{not json",
        json.dumps(body("resp_two")),
        json.dumps({"hello": "world"}),
        json.dumps(body("resp_one")),
    ]
)


def test_the_page_offers_an_upload_form(logged_in):
    html = logged_in.get("/import/").content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_nav_links_to_the_import_page(logged_in):
    assert 'href="/import/">Import</a>' in logged_in.get("/").content.decode()


def test_an_upload_is_imported_and_reported_line_by_line(logged_in):
    response = logged_in.post("/import/", {"file": upload(JSONL)})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.imported, report.updated, report.skipped, report.failed) == (2, 0, 1, 2)
    assert [line for line, _ in report.failures] == [2, 4]
    html = response.content.decode()
    assert '<td class="num">2</td><td>invalid JSON:' in html
    assert (
        '<td class="num">4</td><td>neither a Response object nor a responses-inspector bundle'
        in html
    )
    assert set(StoredResponse.objects.values_list("id", flat=True)) == {"resp_one", "resp_two"}
    assert StoredResponse.objects.get(pk="resp_one").source == "import"


def test_the_report_links_to_each_response_of_the_file(logged_in):
    report = logged_in.post("/import/", {"file": upload(JSONL)}).context["report"]
    assert report.kept == [(1, "resp_one", "imported"), (3, "resp_two", "imported"),
                           (5, "resp_one", "skipped")]  # fmt: skip
    html = logged_in.post("/import/", {"file": upload(JSONL)}).content.decode()
    assert (
        '<td class="num">3</td><td><a href="/responses/resp_two/"><code>resp_two</code></a>'
        "</td><td>skipped (unchanged)</td>" in html
    )


def test_a_report_lists_the_first_responses_and_counts_the_others(logged_in, monkeypatch):
    from inspector.store import imports

    monkeypatch.setattr(imports, "KEPT_LISTED", 1)
    html = logged_in.post("/import/", {"file": upload(JSONL)}).content.decode()
    assert 'href="/responses/resp_one/"' in html
    assert 'href="/responses/resp_two/"' not in html
    assert "… and 2 more." in html


def test_the_importer_is_recorded(logged_in, user):
    logged_in.post("/import/", {"file": upload(json.dumps(body("resp_mine")))})
    assert StoredResponse.objects.get(pk="resp_mine").fetched_by == user


def test_a_json_array_reports_positions(logged_in):
    array = json.dumps([body("resp_a"), "nope", body("resp_b")], indent=2)
    report = logged_in.post("/import/", {"file": upload(array, "x.json")}).context["report"]
    assert report.imported == 2
    assert [line for line, _ in report.failures] == [2]


def test_a_bundle_with_notes_brings_them_and_says_how_many(logged_in, user):
    store.save_bundle(body("resp_b"), [], source="import")
    stored = StoredResponse.objects.get(pk="resp_b")
    Note.objects.create(response=stored, author_name="bob", text="look here")
    exported = json.dumps(store.export_bundle(stored))
    StoredResponse.objects.all().delete()
    response = logged_in.post("/import/", {"file": upload(exported, "bundle.json")})
    assert response.context["report"].notes_added == 1
    assert "Notes added" in response.content.decode()
    assert Note.objects.get().text == "look here"


def test_a_hostile_file_name_is_escaped(logged_in):
    name = "<img src=x onerror=alert(1)>.jsonl"
    html = logged_in.post("/import/", {"file": upload(JSONL, name)}).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.jsonl" in html


def test_a_file_larger_than_the_limit_is_refused_with_a_message(logged_in, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = logged_in.post("/import/", {"file": upload(JSONL)})
    assert response.status_code == 413
    assert "That file is too large: uploads are limited to 100" in response.content.decode()
    assert not StoredResponse.objects.exists()


def test_an_upload_announced_as_too_large_is_refused_before_its_body_is_read(logged_in, settings):
    settings.IMPORT_MAX_BYTES = 100

    class Unreadable:
        def read(self, *args: Any) -> bytes:
            raise AssertionError("the body was read")

        readline = read

    response = logged_in.generic(
        "POST",
        "/import/",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_posting_without_a_file_says_so(logged_in):
    response = logged_in.post("/import/", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_importing_requires_a_login(client):
    assert client.get("/import/").status_code == 302
    response = client.post("/import/", {"file": upload(JSONL)})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not StoredResponse.objects.exists()


def test_importing_requires_a_csrf_token(user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/import/", {"file": upload(JSONL)}).status_code == 403
    assert not StoredResponse.objects.exists()
