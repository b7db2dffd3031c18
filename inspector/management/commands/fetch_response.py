"""Fetch responses (and all their input items) from upstream and keep them, in one go, with
the progress of each on stderr."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspector import client, store


class Command(BaseCommand):
    help = "Fetch each response id (or URL containing one) from OPENAI_BASE_URL and store it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="+")

    def _progress(self, response_id: str) -> Any:
        """What fetch_response calls after each page: one line, rewritten on a terminal."""
        seen = {"items": 0, "pages": 0}
        terminal = self.stderr.isatty()

        def progress(count: int) -> None:
            seen["items"] += count
            seen["pages"] += 1
            bar = "#" * min(40, seen["pages"]) + ("+" if seen["pages"] > 40 else "")
            line = (
                f"{response_id}: {seen['items']:,} input items, {seen['pages']} pages "
                f"fetched [{bar}]"
            )
            self.stderr.write(f"\r{line}" if terminal else line, ending="" if terminal else "\n")

        return progress

    def handle(self, *args: Any, ids: list[str], **options: Any) -> None:
        failures: list[str] = []
        for text in ids:
            try:
                response_id = client.extract_response_id(text)
                stored = store.fetch_response(response_id, progress=self._progress(response_id))
                if self.stderr.isatty():
                    self.stderr.write("")  # end the progress line
            except ValueError as error:
                failures.append(f"{text}: {error}")
                self.stderr.write(failures[-1])
            except client.APIError as error:
                failures.append(f"{text}: {error.title}: {error.message}")
                self.stderr.write(failures[-1])
            else:
                refresh = store.fetch_progress(stored)
                if refresh is not None and refresh.refresh and refresh.error:
                    # The stored copy is whole and unchanged; the new one stopped.
                    failures.append(f"{text}: the refresh stopped: {refresh.error}")
                    self.stderr.write(failures[-1])
                    continue
                note = (
                    ""
                    if stored.input_items_complete
                    else f" (incomplete: {stored.input_items_error})"
                )
                self.stdout.write(
                    f"{stored.id}: {stored.status or 'no status'}, "
                    f"{stored.input_items_count} input items{note}"
                )
        if failures:
            # The reasons again in the error itself, so a caller that only sees it knows why.
            raise CommandError(
                f"{len(failures)} of {len(ids)} could not be fetched:\n" + "\n".join(failures)
            )
