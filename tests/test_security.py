"""Issue 13, "trust under attack": each finding's attack, reproduced, now failing safely.

1 importer takeover, 2 forged notes and reviews, 4 a key cut in part, 5 the key in an unmasked
column and in DEBUG tracebacks, 6 deep JSON, 9 login throttling, 10 the smaller items.
(3, 7 and 8, poll, bounded reads and refresh, are tests/test_fetching*.)
"""

import io
import json
import random
import string
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from inspector import audit, client, events, nesting, notes, redaction, store
from inspector.models import (
    AuditEntry,
    InputItem,
    Note,
    Refresh,
    SearchText,
    StoredResponse,
    StreamEvent,
    ToolCall,
)
from tests.factories import response_body, user_items

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-42"


def role_user(django_user_model: Any, name: str, *roles: str) -> Any:
    user = django_user_model.objects.create_user(name, password=PASSWORD)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def logged_in_as(django_user_model: Any, name: str, *roles: str) -> Client:
    browser = Client()
    browser.force_login(role_user(django_user_model, name, *roles))
    return browser


def jsonl(*entries: Any) -> SimpleUploadedFile:
    text = "\n".join(e if isinstance(e, str) else json.dumps(e) for e in entries) + "\n"
    return SimpleUploadedFile("x.jsonl", text.encode(), content_type="application/octet-stream")


def trail() -> list[tuple[str, str, str, str]]:
    rows = AuditEntry.objects.order_by("id")
    return [(e.username, e.action, e.response_id, e.detail) for e in rows]


# --- 1. an importer takes over a stored response ---------------------------------------------


def fetched_by_bob(django_user_model: Any, upstream: Any) -> tuple[str, Client]:
    rid = upstream.add(response_body("resp_owned1", instructions="the real one"), user_items(3))
    bob = logged_in_as(django_user_model, "bob", "fetcher")
    assert bob.get(f"/responses/{rid}/").status_code == 200
    return rid, bob


def forged(rid: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": store.BUNDLE_KIND,
        "version": 1,
        "response": response_body(rid, instructions="the importer's version"),
        "input_items": [],
        **extra,
    }


def test_an_importer_cannot_take_over_a_response_someone_else_fetched(django_user_model, upstream):
    rid, _ = fetched_by_bob(django_user_model, upstream)
    mallory = logged_in_as(django_user_model, "mallory", "importer")
    answer = mallory.post("/import/", {"file": jsonl(forged(rid))})
    report = answer.context["report"]
    assert (report.imported, report.updated, report.failed) == (0, 0, 1)
    assert "updating a stored response by import needs the update_by_import" in (
        answer.content.decode()
    )
    stored = StoredResponse.objects.get(pk=rid)
    assert stored.body["instructions"] == "the real one"
    assert (stored.source, stored.fetched_by.username, stored.items.count()) == ("api", "bob", 3)
    assert mallory.post(f"/responses/{rid}/delete/").status_code == 403
    refused = f"x.jsonl line 1: refused: {store.imports.NOT_UPDATER}"
    assert ("mallory", "imported", rid, refused) in trail()


def test_an_admin_may_update_by_import_and_the_owner_stays(django_user_model, upstream):
    rid, bob = fetched_by_bob(django_user_model, upstream)
    admin = logged_in_as(django_user_model, "ada", "admin")
    report = admin.post("/import/", {"file": jsonl(forged(rid))}).context["report"]
    assert (report.updated, report.failed) == (1, 0)
    stored = StoredResponse.objects.get(pk=rid)
    assert stored.body["instructions"] == "the importer's version"
    assert stored.fetched_by.username == "bob"
    assert bob.get(f"/responses/{rid}/delete/").status_code == 200  # still bob's to delete
    assert ("ada", "imported", rid, "x.jsonl line 1: updated") in trail()


def test_every_id_of_an_import_gets_its_own_entry_and_a_killed_import_keeps_them(
    django_user_model, monkeypatch
):
    """Issue 13 (10): the trail was written at the end, so a killed import left none."""
    store.import_lines(io.BytesIO(json.dumps(response_body("resp_before")).encode()))
    importer = logged_in_as(django_user_model, "ivy", "importer")
    lines = [response_body("resp_before"), *(response_body(f"resp_new{i}") for i in range(45))]
    real = store.imports._save_new
    runs = []

    def killed_at_the_third_batch(run: Any, *args: Any) -> None:
        runs.append(run)
        if len(runs) == 3:
            raise SystemExit("kill -9")  # nothing after this line runs
        real(run, *args)

    monkeypatch.setattr(store.imports, "_save_new", killed_at_the_third_batch)
    upload = jsonl(*lines)
    with pytest.raises(SystemExit):
        importer.post("/import/", {"file": upload})
    kept = set(StoredResponse.objects.values_list("id", flat=True)) - {"resp_before"}
    assert len(kept) == 2 * store.IMPORT_BATCH - 1  # the first batch also held the skip
    rows = trail()
    assert rows[0] == ("ivy", "imported", "", f"x.jsonl: started ({upload.size:,} bytes)")
    assert rows[1] == ("ivy", "imported", "resp_before", "x.jsonl line 1: skipped (unchanged)")
    per_id = {rid for _, _, rid, detail in rows[2:] if detail.endswith(": imported")}
    assert per_id == kept


# --- 2. notes and reviews forged in anyone's name ------------------------------------------

FORGERY = {
    "notes": [{"anchor": "", "author": "admin", "text": "LGTM, ship it",
               "created_at": "2099-01-01T00:00:00+00:00"}],
    "review": {"status": "approved", "by": "admin", "at": "2099-01-01T00:00:00+00:00"},
}  # fmt: skip


def test_an_importer_who_may_not_review_cannot_write_notes_or_reviews(django_user_model):
    importer = logged_in_as(django_user_model, "ivy", "importer")
    answer = importer.post("/import/", {"file": jsonl(forged("resp_forged", **FORGERY))})
    assert answer.context["report"].imported == 1
    assert "The notes and review of 1 response were not kept" in answer.content.decode()
    stored = StoredResponse.objects.get(pk="resp_forged")
    assert (stored.review_status, stored.reviewed_at) == ("unreviewed", None)
    assert not Note.objects.exists()


def test_imported_notes_and_reviews_say_so_and_never_beat_a_local_verdict(django_user_model):
    reviewer = role_user(django_user_model, "rita", "reviewer")
    store.import_lines(io.BytesIO(json.dumps(response_body("resp_forged")).encode()))
    notes.set_review(StoredResponse.objects.get(pk="resp_forged"), "flagged", reviewer)
    admin = logged_in_as(django_user_model, "ada", "admin")
    admin.post("/import/", {"file": jsonl(forged("resp_forged", **FORGERY))})
    stored = StoredResponse.objects.get(pk="resp_forged")
    assert (stored.review_status, stored.reviewed_by_name) == ("flagged", "rita")
    note = Note.objects.get()
    assert (note.author, note.author_name, note.imported) == (None, "admin", True)
    page = admin.get("/responses/resp_forged/").content.decode()
    assert "LGTM, ship it" in page and '<span class="badge imported"' in page
    # Over no local verdict it is taken, marked imported, and a later local one replaces it.
    StoredResponse.objects.filter(pk="resp_forged").update(
        review_status="unreviewed", reviewed_by=None, reviewed_by_name="", reviewed_at=None
    )
    admin.post("/import/", {"file": jsonl(forged("resp_forged", **FORGERY))})
    stored = StoredResponse.objects.get(pk="resp_forged")
    assert (stored.review_status, stored.review_imported) == ("approved", True)
    assert "approved" in admin.get("/responses/resp_forged/").content.decode()
    notes.set_review(stored, "flagged", reviewer)
    assert StoredResponse.objects.get(pk="resp_forged").review_status == "flagged"


def test_a_future_dated_note_imported_twice_is_kept_once_dated_at_its_import():
    store.import_lines([json.dumps(forged("resp_twice", **FORGERY))])
    store.import_lines([json.dumps(forged("resp_twice", **FORGERY))])
    note = Note.objects.get()
    assert note.created_at <= timezone.now()


# --- 4 and 5. the key: masked before every cut, in every column, in DEBUG pages --------------

_random = random.Random(13)
#: As long as a real project key (164 characters), so a cut can leave all but one of them.
LONG_KEY = "sk-proj-" + "".join(_random.choices(string.ascii_letters + string.digits, k=156))
#: What a cut key would show first: its prefix and two characters of the secret part.
PREFIX = LONG_KEY[:10]


@pytest.fixture
def long_key(settings: Any) -> str:
    settings.OPENAI_API_KEY = LONG_KEY
    return LONG_KEY


def across(limit: int, offsets: Any = None) -> list[str]:
    """Texts of `limit` + 200 characters with the key starting `k` characters before the cut
    at `limit`, for every k that puts it across (or only `offsets`)."""
    texts = []
    for k in offsets or range(1, len(LONG_KEY)):
        texts.append("x" * (limit - k) + LONG_KEY + "y" * 200)
    return texts


def api(handler: Callable[[httpx.Request], httpx.Response]) -> client.Client:
    return client.Client(
        api_key=LONG_KEY, base_url="https://upstream.test/v1", max_retries=0,
        transport=httpx.MockTransport(handler),
    )  # fmt: skip


def message_of(error: Any) -> str:
    return f"{error} {error.message} {error.code} {error.request_id}"


def test_an_upstream_error_message_never_shows_part_of_the_key(long_key):
    """The message was cut to MAX_MESSAGE before the key was masked."""
    for text in across(client.MAX_MESSAGE):
        answer = httpx.Response(401, json={"error": {"message": text, "code": "x"}})
        assert PREFIX not in message_of(client.error_from(answer, LONG_KEY))


def test_a_content_type_cut_short_never_shows_part_of_the_key(long_key):
    for text in across(100):
        body = api(
            lambda r, t=text: httpx.Response(200, text="<html>", headers={"content-type": t})
        )
        with pytest.raises(client.UnexpectedPayload) as refused:
            body.retrieve_response("resp_x")
        assert PREFIX not in message_of(refused.value)
        with pytest.raises(client.UnexpectedPayload) as refused:
            list(body.stream_events("resp_x"))
        assert PREFIX not in message_of(refused.value)


def test_event_data_that_is_not_json_is_kept_cut_short_without_part_of_the_key(long_key):
    for text in across(2000):
        chunk = f"event: oops\ndata: {text}\n\n".encode()
        [event] = events.iter_events([chunk], secret=LONG_KEY)
        assert PREFIX not in json.dumps(event.wire)


def test_every_short_field_the_store_and_the_audit_trail_cut_holds_no_part_of_the_key(
    long_key, upstream
):
    """The store's own cuts: columns of stream events (`type`), of responses (model, tool
    names) and of tool calls (name, arguments), the error of an input-items fetch, import
    failures, note times in bundles, audit details."""
    for k in (1, 2, 80, len(LONG_KEY) - 1):
        [kind] = across(100, [k])
        [model, name] = across(200, [k]) * 2
        [arguments] = across(store.AUDIT_TEXT_MAX, [k])
        call = {"type": "function_call", "id": f"fc_{k}", "call_id": f"call_{k}", "name": name,
                "arguments": arguments, "status": "completed"}  # fmt: skip
        rid = upstream.add_stream(
            response_body(f"resp_cut{k}", model=model, output=[call], background=True),
            [{"type": kind, "sequence_number": 0}],
        )
        stored = store.fetch_response(rid)
        store.replay_events(stored)
        [message] = across(client.MAX_MESSAGE, [k])
        upstream.override = lambda r, m=message: (
            httpx.Response(400, json={"error": {"message": m}}) if "input_items" in str(r.url)
            else None
        )  # fmt: skip
        refetched = store.fetch_response(rid)
        upstream.override = None
        # Stored already: the refetch is a refresh, and its failure is kept on the refresh.
        assert refetched.pending_refresh.error
        [garbage] = across(300, [k])
        report = store.import_lines(io.BytesIO(f'[{{"a": 1}}, {garbage}]'.encode()))
        [late] = across(40, [k])
        bundle = forged(f"resp_note{k}", notes=[{"author": "a", "text": "t", "created_at": late}])
        report2 = store.import_lines([json.dumps(bundle)])
        [detail] = across(500, [k])
        audit.Actor().write(audit.Action.IMPORTED, [("", detail)])
        shown = json.dumps([report.failures, report2.failures])
        assert PREFIX not in shown
    kept = [
        list(StoredResponse.objects.values_list("model", "tool_names")),
        list(SearchText.objects.values_list("text", flat=True)),
        list(Refresh.objects.values_list("error", flat=True)),
        list(ToolCall.objects.values_list("name", "arguments")),
        list(StreamEvent.objects.values_list("type", "body")),
        list(StoredResponse.objects.values_list("input_items_error", flat=True)),
        list(AuditEntry.objects.values_list("detail", flat=True)),
    ]
    assert PREFIX not in json.dumps(kept, default=str)
    assert StreamEvent.objects.count() == ToolCall.objects.count() == 4


def test_no_column_holds_the_key_when_a_stream_event_type_carries_it(long_key, upstream):
    """Issue 13 (5): seen in dumpdata, in the `type` column of a stream event."""
    rid = upstream.add_stream(
        response_body("resp_typed", background=True),
        [{"type": f"response.{LONG_KEY}", "sequence_number": 0}],
    )
    store.replay_events(store.fetch_response(rid))
    out = io.StringIO()
    call_command("dumpdata", "inspector", stdout=out)
    assert LONG_KEY[8:40] not in out.getvalue()
    assert StreamEvent.objects.get().type == f"response.{redaction.KEY_MASK}"


def test_a_debug_traceback_never_shows_the_key_held_in_a_local_variable(
    long_key, settings, monkeypatch, upstream, django_user_model
):
    """Issue 13 (5): `secret=` of redaction.mask, shown by DEBUG's traceback."""
    settings.DEBUG = True
    monkeypatch.setattr(redaction, "KEY_MASK", None)  # str.replace(secret, None) fails in mask
    rid = upstream.add(response_body("resp_crash", instructions=f"echo {LONG_KEY}"))
    browser = Client(raise_request_exception=False)
    browser.force_login(role_user(django_user_model, "root", "admin"))
    answer = browser.get(f"/responses/{rid}/")
    assert answer.status_code == 500
    page = answer.content.decode()
    assert "in mask" in page and "secret" in page  # the frame and its variables are shown
    assert LONG_KEY[8:40] not in page


# --- 6. deep JSON ----------------------------------------------------------------------------


def deep(levels: int, leaf: Any = "bottom") -> Any:
    """`levels` objects, each inside the next."""
    value = leaf
    for _ in range(levels):
        value = {"x": value}
    return value


def tool_with(parameters: Any) -> dict[str, Any]:
    return {"type": "function", "name": "f", "parameters": parameters, "strict": False}


PAGES = ("/responses/{id}/", "/responses/{id}.json", "/responses/{id}.md",
         "/responses/{id}/trace/", "/responses/{id}/compare/{id}/", "/playground/?from={id}",
         "/responses/{id}/items/", "/responses/{id}/items/input/0/")  # fmt: skip


def test_a_jsonl_line_nested_too_deep_fails_alone_and_the_valid_lines_of_its_batch_are_kept(
    logged_in, tmp_path
):
    lines = [response_body("resp_ok1"), "[" * 5000 + "]" * 5000, response_body("resp_ok2")]
    answer = logged_in.post("/import/", {"file": jsonl(*lines)})
    assert answer.status_code == 200
    report = answer.context["report"]
    assert (report.imported, report.failures) == (2, [(2, str(nesting.TooDeep()))])
    path = tmp_path / "deep.jsonl"
    deep_line = '{"a":' * 5000 + "1" + "}" * 5000
    path.write_text(json.dumps(response_body("resp_ok3")) + "\n" + deep_line + "\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 entries failed"):
        call_command("import_responses", str(path), stdout=out, stderr=io.StringIO())
    assert f"line 2: {nesting.TooDeep()}" in out.getvalue()
    assert StoredResponse.objects.filter(pk="resp_ok3").exists()


def test_a_json_array_entry_nested_too_deep_fails_alone():
    entries = f"[{json.dumps(response_body('resp_a1'))}, {'[' * 5000 + ']' * 5000}]"
    report = store.import_lines(io.BytesIO(entries.encode()))
    assert (report.imported, report.failures) == (1, [(2, str(nesting.TooDeep()))])


def test_a_tool_schema_nested_900_deep_is_refused_and_one_at_the_limit_shows_on_every_page(
    logged_in,
):
    too_deep = response_body("resp_deep900", tools=[tool_with(deep(900))])
    report = store.import_lines([json.dumps(too_deep)])
    assert report.failures == [(1, str(nesting.TooDeep()))]
    # The bundle, the response, its tools, the tool, then the parameters: MAX_DEPTH in all;
    # and an item of a type to come, shown as JSON.
    limit = nesting.MAX_DEPTH
    at_limit = response_body("resp_limit", tools=[tool_with(deep(limit - 4))])
    item = {"type": "future_item", "id": "fi_1", "data": deep(limit - 3)}
    bundle = {"kind": store.BUNDLE_KIND, "response": at_limit, "input_items": [item]}
    assert store.import_lines([json.dumps(bundle)]).imported == 1
    for page in PAGES:
        assert logged_in.get(page.format(id="resp_limit")).status_code == 200, page


@pytest.mark.parametrize("levels", [900, 995])
def test_deep_json_stored_before_the_limit_shows_as_nested_too_deep_on_every_page(
    logged_in, levels
):
    """What an earlier version let in answered 500 forever; now its deep part is clipped."""
    body = response_body("resp_old", tools=[tool_with({"type": "object"})])
    items = [{"type": "message", "role": "user", "content": "hi", "id": "msg_1"}]
    store.import_lines([json.dumps({"kind": store.BUNDLE_KIND, "response": body,
                                    "input_items": items})])  # fmt: skip
    deep_text = json.dumps(deep(levels)) if levels < 900 else "[" * levels + "]" * levels
    body_text = json.dumps(body).replace('{"type": "object"}', deep_text)
    item_text = json.dumps({**items[0], "content": "{DEEP}"}).replace('"{DEEP}"', deep_text)
    cast = "::json" if connection.vendor == "postgresql" else ""
    jcast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE inspector_storedresponse SET body = %s{cast}", [body_text])  # noqa: S608
        cursor.execute(f"UPDATE inspector_inputitem SET body = %s{jcast}", [item_text])  # noqa: S608
    for page in PAGES:
        answer = logged_in.get(page.format(id="resp_old"))
        assert answer.status_code == 200, page
    assert nesting.TOO_DEEP in logged_in.get("/responses/resp_old/").content.decode()
    assert InputItem.objects.get().body["content"] is not None


def test_an_upstream_body_nested_too_deep_is_a_clean_error_page(logged_in, upstream):
    upstream.override = lambda request: httpx.Response(
        200, text='{"id": "resp_deepup", "x": ' + "[" * 1000 + "]" * 1000 + "}"
    )
    answer = logged_in.get("/responses/resp_deepup/")
    assert answer.status_code == 502
    assert "nested more than" in answer.content.decode()


def test_a_playground_request_nested_too_deep_is_a_clean_form_error(logged_in):
    form = {"model": "gpt-5", "input_kind": "items", "input_items": "[" * 1000 + "]" * 1000}
    answer = logged_in.post("/playground/count/", form)
    assert answer.status_code == 400
    assert "nested more than" in answer.content.decode()
    progress = {**form, "input_items": "[]", "attribution": "[" * 5000 + "]" * 5000}
    assert logged_in.post("/playground/attribute/", progress).status_code in (200, 400)


# --- 9. login throttling ----------------------------------------------------------------------


def login(name: str, password: str, address: str = "203.0.113.5") -> int:
    return (
        Client(REMOTE_ADDR=address)
        .post("/accounts/login/", {"username": name, "password": password})
        .status_code
    )


def test_failed_logins_are_throttled_per_account_then_the_right_password_waits_too(
    django_user_model, settings
):
    """Issue 13 (9): 100 wrong passwords were all answered, then the right one worked."""
    django_user_model.objects.create_user("victim", password=PASSWORD)
    limit = settings.AXES_FAILURE_LIMIT
    addresses = [f"198.51.100.{n}" for n in range(limit + 5)]  # one each: per account, not IP
    for address in addresses[: limit - 1]:
        assert login("victim", "guess", address) == 200  # the form again, with an error
    assert login("victim", "guess", addresses[limit - 1]) == 429  # the limit-th failure
    assert login("victim", "guess", addresses[limit]) == 429
    refused = login("victim", PASSWORD, addresses[limit + 1])
    assert refused == 429
    page = Client().post("/accounts/login/", {"username": "victim", "password": PASSWORD})
    assert "Too many failed logins" in page.content.decode()
    failed = AuditEntry.objects.filter(action="login failed", username="victim")
    assert failed.filter(detail="wrong password").count() == limit - 1
    assert failed.filter(detail__startswith="refused").count() == 4
    assert set(failed.values_list("remote_addr", flat=True)) >= set(addresses[:limit])
    # After the cool-off the right password works again.
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME * 2)
    assert login("victim", PASSWORD) == 302


def test_failed_logins_are_throttled_per_address_whatever_the_username(django_user_model, settings):
    django_user_model.objects.create_user("someone", password=PASSWORD)
    django_user_model.objects.create_user("mallory", password=PASSWORD)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(f"guess{n}", "guess", "203.0.113.66") == 200
        if n == 3:  # logging in to an account of one's own resets nothing
            assert login("mallory", PASSWORD, "203.0.113.66") == 302
    assert login("guess", "guess", "203.0.113.66") == 429
    assert login("someone", PASSWORD, "203.0.113.66") == 429
    assert login("someone", PASSWORD, "203.0.113.67") == 302  # another address may


# --- 10. the smaller items ----------------------------------------------------------------


def test_the_admin_role_reads_the_audit_trail_in_the_admin_without_being_staff(
    django_user_model,
):
    role_user(django_user_model, "ada", "admin")
    admin = Client()
    login = admin.post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD})
    assert login.status_code == 302
    audit.Actor(username="ada").write(audit.Action.VIEWED, [("resp_seen", "")])
    assert admin.get("/admin/").status_code == 200
    listing = admin.get("/admin/inspector/auditentry/")
    assert listing.status_code == 200 and "resp_seen" in listing.content.decode()
    assert admin.get("/admin/auth/user/").status_code in (403, 404)  # users stay the staff's
    viewer = logged_in_as(django_user_model, "vic", "viewer")
    assert viewer.get("/admin/inspector/auditentry/").status_code == 302  # to the admin login


class Clock:
    """time.time and time.monotonic for inspector.access: each count takes 0.6 s (two reads
    of the clock, at its start and end)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        self.now += 0.6
        return self.now


def test_playground_counting_is_limited_per_user_in_seconds_of_work(
    django_user_model, settings, monkeypatch
):
    """Issue 13 (10): a 4.9 MB count cost a viewer 15 s of CPU, as often as they liked."""
    from inspector import access

    settings.PLAYGROUND_COUNT_LIMIT = "1/min"
    monkeypatch.setattr(access, "time", Clock())
    viewer = logged_in_as(django_user_model, "vic", "viewer")
    form = {"model": "gpt-5", "input_kind": "text", "input_text": "hello"}
    assert viewer.post("/playground/count/", form).status_code == 200  # 0.6 s
    assert viewer.post("/playground/count/", form).status_code == 200  # 1.2 s: past it
    refused = viewer.post("/playground/count/", form, headers={"HX-Request": "true"})
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "PLAYGROUND_COUNT_LIMIT = 1/min" in text and "<html" not in text  # the fragment
    other = logged_in_as(django_user_model, "val", "viewer")
    assert other.post("/playground/count/", form).status_code == 200


def run_python(code: str, tmp_path: Any, **env: str) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = str(tmp_path / "data")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "DATA_DIR": data,
           "DATABASE_URL": "", **env}  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_data_files_are_made_readable_by_their_owner_alone(tmp_path):
    """Issue 13 (10): data/inspector.sqlite3 was created 0644."""
    run_python("import django; django.setup()\n"
               "from django.core.management import call_command\n"
               "call_command('migrate', verbosity=0)", tmp_path)  # fmt: skip
    data = tmp_path / "data"
    assert data.stat().st_mode & 0o777 == 0o700
    made = [p for p in data.iterdir() if p.name.startswith(("inspector.sqlite3", "secret_key"))]
    assert {p.name for p in made} >= {"inspector.sqlite3", "secret_key"}
    assert {p.name: p.stat().st_mode & 0o777 for p in made} == dict.fromkeys(
        (p.name for p in made), 0o600
    )


def test_make_serve_writes_the_first_password_to_a_private_file_not_the_log(
    settings, tmp_path, django_user_model
):
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("prepare", "--no-demo", "--password-to-file", stdout=out)
    path = tmp_path / "first-admin-password"
    password = path.read_text().split("password: ")[1].strip()
    assert path.stat().st_mode & 0o777 == 0o600
    assert str(path) in out.getvalue() and password not in out.getvalue()
    assert django_user_model.objects.get(username="admin").check_password(password)
    with open("Makefile") as makefile:
        assert "prepare --no-demo --password-to-file" in makefile.read()


def test_healthz_answers_over_plain_http_when_the_site_is_https_only(tmp_path):
    """Issue 13 (10): a load balancer's health check does not follow the 301."""
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/healthz').status_code, c.get('/').status_code)"
    )
    out = run_python(code, tmp_path, HTTPS="true", ALLOWED_HOSTS="testserver")
    assert out.split() == ["200", "301"]
