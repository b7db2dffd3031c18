"""The management commands: thin wrappers, honest output and exit status."""

import hashlib
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from inspector import store, tokens
from inspector.models import InputItem, StoredResponse
from tests.factories import response_body as response
from tests.factories import user_items

pytestmark = pytest.mark.django_db

SHARED_TOKENIZERS = Path("/work/shared/tokenizers")


def run(*args: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- fetch_response -------------------------------------------------------------------------


def test_fetch_response_keeps_the_response_and_says_what_it_got(upstream):
    upstream.add(response("resp_cli"), user_items(3))
    out, _ = run("fetch_response", "https://platform.openai.com/logs/resp_cli")
    assert out == "resp_cli: completed, 3 input items\n"
    assert StoredResponse.objects.get().input_items_count == 3


def test_fetch_response_with_a_bad_id_fails_with_the_reason_and_asks_nothing(upstream):
    with pytest.raises(CommandError, match="letters, digits") as caught:
        run("fetch_response", "../etc/passwd")
    assert caught.value.returncode != 0
    assert upstream.requests == []


def test_fetch_response_upstream_error_fails_with_the_reason_but_keeps_the_others(upstream):
    upstream.add(response("resp_there"), [])
    with pytest.raises(CommandError) as caught:
        run("fetch_response", "resp_gone", "resp_there")
    message = str(caught.value)
    assert message.startswith("1 of 2 could not be fetched")
    assert "resp_gone: Response not found upstream: No response found with id 'resp_gone'." in (
        message
    )
    assert list(StoredResponse.objects.values_list("id", flat=True)) == ["resp_there"]


def test_fetch_response_without_a_key_says_which_variable_to_set(upstream, settings):
    settings.OPENAI_API_KEY = ""
    with pytest.raises(CommandError, match="OPENAI_API_KEY"):
        run("fetch_response", "resp_cli")


def test_fetch_response_reports_an_incomplete_fetch(upstream):
    upstream.add(response("resp_cli"), user_items(150))
    upstream.override = lambda request: (
        httpx.Response(503) if "after=" in str(request.url) else None
    )
    out, _ = run("fetch_response", "resp_cli")
    assert out.startswith("resp_cli: completed, 100 input items (incomplete: ")


# --- import_responses -----------------------------------------------------------------------


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_summarises_lists_failures_with_line_numbers_and_exits_nonzero(tmp_path):
    path = write(
        tmp_path / "mixed.jsonl",
        [
            json.dumps(response("resp_a")),
            "{not json",
            json.dumps(response("resp_b")),
            json.dumps({"object": "list"}),
        ],
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 entries failed; the others were kept") as caught:
        call_command("import_responses", str(path), stdout=out, stderr=io.StringIO())
    assert caught.value.returncode != 0
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{path}: 2 imported, 0 updated, 0 skipped, 2 failed"
    assert lines[1].startswith("  line 2: invalid JSON")
    assert lines[2] == "  line 4: neither a Response object nor a responses-inspector bundle"
    assert sorted(StoredResponse.objects.values_list("id", flat=True)) == ["resp_a", "resp_b"]


def test_import_of_a_clean_file_succeeds_and_a_second_run_skips(tmp_path):
    path = write(tmp_path / "ok.jsonl", [json.dumps(response(f"resp_{i}")) for i in range(3)])
    out, _ = run("import_responses", str(path))
    assert out == f"{path}: 3 imported, 0 updated, 0 skipped, 0 failed\n"
    out, _ = run("import_responses", str(path))
    assert out == f"{path}: 0 imported, 0 updated, 3 skipped, 0 failed\n"


def test_import_prints_progress_on_stderr(tmp_path):
    path = write(tmp_path / "many.jsonl", [json.dumps(response(f"resp_{i}")) for i in range(200)])
    _, err = run("import_responses", str(path))
    assert f"{path}: 100 entries, line 100…" in err
    assert f"{path}: 200 entries, line 200…" in err


def test_import_with_a_missing_file_imports_nothing(tmp_path):
    path = write(tmp_path / "ok.jsonl", [json.dumps(response("resp_a"))])
    with pytest.raises(CommandError, match=r"no such file: .*nope\.jsonl"):
        run("import_responses", str(path), str(tmp_path / "nope.jsonl"))
    assert not StoredResponse.objects.exists()


# --- export_responses -----------------------------------------------------------------------


def stored_state() -> dict[str, tuple[str, str]]:
    return {
        s.id: (json.dumps(s.body), json.dumps(store.export_bundle(s)["input_items"]))
        for s in StoredResponse.objects.all()
    }


def test_export_to_stdout_is_bundle_jsonl_that_imports_again(tmp_path):
    store.save_bundle(response("resp_a", created_at=1), user_items(2), source="import")
    store.save_bundle(response("resp_b", created_at=2), [], source="import")
    before = stored_state()
    out, err = run("export_responses")
    lines = out.splitlines()
    assert [json.loads(line)["response"]["id"] for line in lines] == ["resp_a", "resp_b"]
    assert json.loads(lines[0])["kind"] == store.BUNDLE_KIND
    assert json.loads(lines[0])["input_items"] == user_items(2)
    assert err == "exported 2 responses\n"

    StoredResponse.objects.all().delete()
    path = tmp_path / "export.jsonl"
    path.write_text(out, encoding="utf-8")
    imported, _ = run("import_responses", str(path))
    assert imported == f"{path}: 2 imported, 0 updated, 0 skipped, 0 failed\n"
    assert stored_state() == before


def test_export_to_a_file_writes_only_the_ids_asked_for(tmp_path):
    store.save_bundle(response("resp_a"), user_items(1), source="import")
    store.save_bundle(response("resp_b"), [], source="import")
    path = tmp_path / "one.jsonl"
    out, err = run("export_responses", "resp_b", "-o", str(path))
    assert out == ""
    assert err == "exported 1 response\n"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["response"]["id"] for line in lines] == ["resp_b"]


def test_export_of_an_id_that_is_not_stored_fails():
    with pytest.raises(CommandError, match="not stored: resp_nope"):
        run("export_responses", "resp_nope")


# --- load_demo and prepare ------------------------------------------------------------------


def test_load_demo_loads_at_least_15_bundles_and_a_rerun_skips_them_all():
    demo_files = sorted(store.DEMO_DIR.glob("*.json"))
    out, _ = run("load_demo")
    match = re.fullmatch(r"demo: (\d+) imported, 0 updated, 0 skipped, 0 failed\n", out)
    assert match is not None
    assert int(match.group(1)) == len(demo_files) >= 15
    assert StoredResponse.objects.filter(source=StoredResponse.Source.DEMO).count() >= 15
    assert InputItem.objects.exists()
    out, _ = run("load_demo")
    assert out == f"demo: 0 imported, 0 updated, {len(demo_files)} skipped, 0 failed\n"


def test_prepare_creates_one_user_with_a_printed_random_password_once():
    out, _ = run("prepare")
    users = get_user_model().objects.all()
    assert users.count() == 1
    password = re.search(r"password: (\S+)", out)
    assert password is not None
    assert len(password.group(1)) >= 12
    # (authenticate() needs the request now: login throttling counts by address.)
    assert users[0].check_password(password.group(1))
    assert StoredResponse.objects.filter(source=StoredResponse.Source.DEMO).count() >= 15

    again, _ = run("prepare")
    assert get_user_model().objects.count() == 1
    assert "password" not in again


def test_prepare_passwords_differ_between_databases():
    first, _ = run("prepare")
    get_user_model().objects.all().delete()
    second, _ = run("prepare")
    assert re.findall(r"password: (\S+)", first) != re.findall(r"password: (\S+)", second)


# --- install_tokenizers ---------------------------------------------------------------------


def test_install_tokenizers_from_a_folder_with_a_wrong_file_fails_clearly(tmp_path, settings):
    settings.TIKTOKEN_CACHE_DIR = tmp_path / "cache"
    source = tmp_path / "source"
    source.mkdir()
    for name in tokens.EXPECTED_SHA256:
        (source / f"{name}.tiktoken").write_bytes(b"not an encoding file\n")
    with pytest.raises(CommandError, match=r"\.tiktoken from .* does not match tiktoken's sha256"):
        run("install_tokenizers", "--from", str(source))
    assert not any((tmp_path / "cache").iterdir())


def test_install_tokenizers_from_a_folder_without_the_files_fails_clearly(tmp_path, settings):
    settings.TIKTOKEN_CACHE_DIR = tmp_path / "cache"
    with pytest.raises(CommandError, match=r"\.tiktoken was not found in "):
        run("install_tokenizers", "--from", str(tmp_path))


@pytest.mark.skipif(
    not all((SHARED_TOKENIZERS / f"{n}.tiktoken").exists() for n in tokens.EXPECTED_SHA256),
    reason="the real encoding files are not in /work/shared/tokenizers on this machine",
)
def test_install_tokenizers_from_the_right_files_installs_them_verified(tmp_path, settings):
    settings.TIKTOKEN_CACHE_DIR = tmp_path / "cache"
    source = tmp_path / "source"
    shutil.copytree(SHARED_TOKENIZERS, source)
    out, _ = run("install_tokenizers", "--from", str(source))
    for name, expected in tokens.EXPECTED_SHA256.items():
        installed = tokens.cache_path(name, tmp_path / "cache")
        assert hashlib.sha256(installed.read_bytes()).hexdigest() == expected
        assert f"{name}: {installed} ({source / f'{name}.tiktoken'})" in out
    again, _ = run("install_tokenizers", "--from", str(source))
    assert again.count("(already installed)") == len(tokens.EXPECTED_SHA256)
