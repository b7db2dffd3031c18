"""Rebuild the tool-call index behind /tool-calls/ from every stored response, and the runs
of /runs/, which count failed and unanswered calls from it."""

from typing import Any

from django.core.management.base import BaseCommand

from inspector import store


class Command(BaseCommand):
    help = (
        "Rebuild the tool-call index (/tool-calls/) from every stored response: run it once "
        "on a database filled before the index existed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = store.reindex_tool_calls()
        self.stdout.write(f"indexed {count} tool call{'s' if count != 1 else ''}")
        runs = store.rebuild_runs()
        self.stdout.write(f"summed up {runs} run{'s' if runs != 1 else ''}")
