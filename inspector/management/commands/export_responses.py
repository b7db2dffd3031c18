"""Export stored responses as bundle JSONL (one bundle a line), importable again.

Secrets in the bundles are redacted (inspector/redaction.py) unless --no-redact is given."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspector import redaction, store
from inspector.models import StoredResponse


class Command(BaseCommand):
    help = "Write every stored response (or the ids given) as bundle JSONL to stdout or --output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*")
        parser.add_argument("--output", "-o", type=Path, default=None)
        parser.add_argument(
            "--no-redact",
            action="store_true",
            help="keep secrets found in the data (API keys, bearer tokens, …) as they are",
        )

    def handle(
        self,
        *args: Any,
        ids: list[str],
        output: Path | None,
        no_redact: bool = False,
        **options: Any,
    ) -> None:
        rows = StoredResponse.objects.order_by("created_at", "id")
        if ids:
            rows = rows.filter(pk__in=ids)
            missing = sorted(set(ids) - set(rows.values_list("pk", flat=True)))
            if missing:
                raise CommandError(f"not stored: {', '.join(missing)}")
        # self.stdout (not sys.stdout), so call_command(stdout=...) captures the export.
        out = output.open("w", encoding="utf-8", newline="\n") if output else self.stdout
        count = 0
        try:
            for stored in rows.iterator(chunk_size=100):
                bundle = store.export_bundle(stored)
                bundle = bundle if no_redact else redaction.redact_export(bundle)
                out.write(json.dumps(bundle, ensure_ascii=False) + "\n")
                count += 1
        finally:
            if output:
                out.close()
        self.stderr.write(f"exported {count} response{'s' if count != 1 else ''}")
