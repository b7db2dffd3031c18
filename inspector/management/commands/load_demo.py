"""Load the demo responses shipped in inspector/demo/."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from inspector import store


class Command(BaseCommand):
    help = "Load (or refresh) the demo responses."

    def handle(self, *args: Any, **options: Any) -> None:
        report = store.load_demo()
        self.stdout.write(f"demo: {report.summary()}")
        for line, reason in report.failures:
            self.stderr.write(f"  {reason} (line {line})")
        if report.failed:
            raise CommandError("some demo files failed to load")
