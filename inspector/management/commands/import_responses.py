"""Import responses from JSON, JSON arrays, JSONL and the dashboard's own bundles."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspector import store


class Command(BaseCommand):
    help = "Import FILE… (JSON object, JSON array, JSONL, or bundles); every valid entry is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        # Every file is checked before any is imported, so a typo does not import half.
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        total_failed = 0
        for path in files:

            def progress(line: int, report: store.ImportReport, path: Path = path) -> None:
                done = report.imported + report.updated + report.skipped + report.failed
                if done % 100 == 0:
                    self.stderr.write(f"{path}: {done} entries, line {line}…")

            with path.open("rb") as handle:
                report = store.import_lines(handle, progress=progress)
            self.stdout.write(f"{path}: {report.summary()}")
            for line, reason in report.failures:
                self.stdout.write(f"  line {line}: {reason}")
            total_failed += report.failed
        if total_failed:
            raise CommandError(f"{total_failed} entries failed; the others were kept")
