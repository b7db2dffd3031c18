"""Import limits (IMPORT_MAX_BYTES, IMPORT_MAX_LINE_BYTES) and streaming: a large file is
imported in about the memory of one entry, whatever its size or shape."""

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from inspector import store
from inspector.models import StoredResponse

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def bundle(number: int, text_size: int = 100) -> dict[str, Any]:
    body = {"id": f"resp_big{number:05d}", "object": "response", "created_at": 1767225600,
            "status": "completed", "model": "gpt-5", "output": [], "tools": []}  # fmt: skip
    item = {"id": f"msg_{number}", "type": "message", "role": "user",
            "content": f"entry {number} " + "x" * text_size}  # fmt: skip
    return {"kind": "responses-inspector.bundle", "version": 1, "response": body,
            "input_items": [item]}  # fmt: skip


def line(number: int, text_size: int = 100) -> bytes:
    return json.dumps(bundle(number, text_size)).encode() + b"\n"


def test_a_line_over_the_limit_fails_alone_with_its_size_and_the_setting(settings):
    settings.IMPORT_MAX_LINE_BYTES = 10_000
    data = line(1) + line(2, 50_000) + line(3)
    report = store.import_lines(io.BytesIO(data))
    assert report.imported == 2
    ((number, reason),) = report.failures
    assert number == 2
    assert reason.startswith(f"{len(line(2, 50_000)):,} bytes: longer than the 10,000-byte")
    assert "IMPORT_MAX_LINE_BYTES" in reason


def test_a_first_line_over_the_limit_does_not_stop_the_lines_after_it(settings):
    settings.IMPORT_MAX_LINE_BYTES = 10_000
    report = store.import_lines(io.BytesIO(line(1, 50_000) + line(2) + b"\n" + line(3)))
    assert (report.imported, [n for n, _ in report.failures]) == (2, [1])


def test_an_array_entry_over_the_limit_fails_alone(settings):
    settings.IMPORT_MAX_LINE_BYTES = 10_000
    entries = [bundle(1), bundle(2, 3 * MB), bundle(3)]
    report = store.import_lines(io.BytesIO(json.dumps(entries).encode()))
    assert report.imported == 2
    assert [number for number, _ in report.failures] == [2]


def test_broken_json_mid_array_keeps_the_entries_before_it():
    text = json.dumps([bundle(1), bundle(2)])[:-1] + ', {"id": oops}]'
    report = store.import_lines(io.BytesIO(text.encode()))
    assert report.imported == 2
    ((number, reason),) = report.failures
    assert number == 3
    assert reason.startswith("not valid JSON or JSONL (entries before it are kept)")


def test_a_pretty_printed_object_and_a_one_line_array_import_too():
    pretty = json.dumps(bundle(1), indent=2).encode()
    assert store.import_lines(io.BytesIO(b"\n\n" + pretty)).imported == 1
    one_line = json.dumps([bundle(2), bundle(3)]).encode()
    assert store.import_lines(io.BytesIO(b"\xef\xbb\xbf" + one_line)).imported == 2


def test_the_upload_page_names_both_limits_and_reports_a_long_line(logged_in, settings):
    settings.IMPORT_MAX_LINE_BYTES = 10_000
    html = logged_in.get("/import/").content.decode()
    assert "each line (or array entry) up to 9.8\xa0KB" in html
    upload = SimpleUploadedFile("x.jsonl", line(1) + line(2, 20_000))
    answer = logged_in.post("/import/", {"file": upload})
    assert answer.context["report"].imported == 1
    assert "longer than the 10,000-byte limit (IMPORT_MAX_LINE_BYTES)" in answer.content.decode()


def test_the_command_refuses_a_file_over_the_size_limit_before_importing_any(tmp_path, settings):
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(line(1))
    large.write_bytes(line(2) * 20)
    settings.IMPORT_MAX_BYTES = len(line(2)) * 10
    with pytest.raises(CommandError) as refused:
        call_command("import_responses", str(small), str(large), stdout=io.StringIO())
    assert str(refused.value) == (
        f"too large: {large} ({large.stat().st_size:,} bytes); the limit is "
        f"{settings.IMPORT_MAX_BYTES:,} bytes (IMPORT_MAX_BYTES; raise it, or pass --max-bytes)"
    )
    assert not StoredResponse.objects.exists()
    out = io.StringIO()
    call_command("import_responses", str(large), "--max-bytes", str(10 * MB), stdout=out)
    assert "1 imported, 0 updated, 19 skipped, 0 failed" in out.getvalue()


def test_the_command_takes_a_line_limit(tmp_path):
    path = tmp_path / "lines.jsonl"
    path.write_bytes(line(1) + line(2, 5000))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_responses", str(path), "--max-line-bytes", "2000", stdout=out)
    assert "line 2: " in out.getvalue() and "longer than the 2,000-byte limit" in out.getvalue()


def peak_while_importing(path: Path) -> tuple[int, store.ImportReport]:
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            report = store.import_lines(handle)
        return tracemalloc.get_traced_memory()[1], report
    finally:
        tracemalloc.stop()


def big_file(path: Path, shape: str, first: int, count: int, text: int) -> int:
    with path.open("wb") as out:
        out.write(b"[" if shape == "array" else b"")
        for number in range(first, first + count):
            if shape == "array":
                out.write(b"," if number > first else b"")
                out.write(json.dumps(bundle(number, text)).encode())
            else:
                out.write(line(number, text))
        out.write(b"]" if shape == "array" else b"")
    return path.stat().st_size


@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_a_50_mb_file_imports_in_the_memory_of_a_12_mb_one(tmp_path, shape):
    """Constant memory: four times the entries (~12 MB, then ~48 MB) cost no more."""
    text = 500_000  # entries of about 0.5 MB
    big_file(tmp_path / f"small.{shape}", shape, 0, 25, text)
    large = big_file(tmp_path / f"large.{shape}", shape, 1000, 100, text)
    assert large > 47 * MB
    small_peak, report = peak_while_importing(tmp_path / f"small.{shape}")
    assert (report.imported, report.failed) == (25, 0)
    large_peak, report = peak_while_importing(tmp_path / f"large.{shape}")
    assert (report.imported, report.failed) == (100, 0)
    assert large_peak < small_peak + 4 * MB, (small_peak / MB, large_peak / MB)
    assert large_peak < large / 2, f"peak {large_peak / MB:.1f} MB for {large / MB:.0f} MB"


def test_a_line_far_over_the_limit_is_skipped_without_holding_it(tmp_path, settings):
    settings.IMPORT_MAX_LINE_BYTES = 1 * MB
    path = tmp_path / "one-huge-line.jsonl"
    path.write_bytes(line(1) + line(2, 40 * MB) + line(3))
    peak, report = peak_while_importing(path)
    assert (report.imported, [n for n, _ in report.failures]) == (2, [2])
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MB"
