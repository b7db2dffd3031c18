"""Import responses from JSON, JSON arrays, JSONL and the dashboard's own bundles."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspector import audit, store


class Command(BaseCommand):
    help = "Import FILE… (JSON object, JSON array, JSONL, or bundles); every valid entry is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="refuse a file larger than this many bytes (default: IMPORT_MAX_BYTES)",
        )
        parser.add_argument(
            "--max-line-bytes",
            type=int,
            default=None,
            help="fail a line (array entry) longer than this (default: IMPORT_MAX_LINE_BYTES)",
        )

    def handle(
        self,
        *args: Any,
        files: list[Path],
        max_bytes: int | None = None,
        max_line_bytes: int | None = None,
        **options: Any,
    ) -> None:
        # Every file is checked before any is imported, so a typo does not import half.
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        limit = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
        sizes = {path: path.stat().st_size for path in files}
        large = [f"{path} ({size:,} bytes)" for path, size in sizes.items() if size > limit]
        if large:
            raise CommandError(
                f"too large: {', '.join(large)}; the limit is {limit:,} bytes "
                "(IMPORT_MAX_BYTES; raise it, or pass --max-bytes)"
            )
        total_failed = 0
        for path in files:

            def progress(line: int, report: store.ImportReport, path: Path = path) -> None:
                done = report.imported + report.updated + report.skipped + report.failed
                if done % 100 == 0:
                    self.stderr.write(f"{path}: {done} entries, line {line}…")

            # The audit trail names no user (the command line) and, as for the page, has an
            # entry before, one for each id as it is kept, and the summary.
            trail, label = audit.Actor(), f"import_responses {path}"
            trail.write(audit.Action.IMPORTED, [("", f"{label}: started")])
            with path.open("rb") as handle:
                report = store.import_lines(
                    handle, progress=progress, max_line_bytes=max_line_bytes,
                    audit_as=trail, label=label,
                )  # fmt: skip
            trail.write(audit.Action.IMPORTED, [("", f"{label}: {report.summary()}")])
            self.stdout.write(f"{path}: {report.summary()}")
            for line, reason in report.failures:
                self.stdout.write(f"  line {line}: {reason}")
            if report.more_failures:
                self.stdout.write(f"  … and {report.more_failures:,} more failures")
            total_failed += report.failed
        if total_failed:
            raise CommandError(f"{total_failed} entries failed; the others were kept")
