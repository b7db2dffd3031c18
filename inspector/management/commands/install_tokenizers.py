"""Install tiktoken's encoding files offline, verified against tiktoken's sha256."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspector.tokens import EncodingUnavailable, install_encoding_files


class Command(BaseCommand):
    help = (
        "Install tiktoken's o200k_base and cl100k_base files into TIKTOKEN_CACHE_DIR from the "
        "bpe-openai package (a dependency), or from --from DIR holding <name>.tiktoken files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", type=Path, default=None)

    def handle(self, *args: Any, source: Path | None, **options: Any) -> None:
        try:
            installed = install_encoding_files(source)
        except EncodingUnavailable as error:
            raise CommandError(str(error)) from None
        for item in installed:
            self.stdout.write(f"{item.name}: {item.path} ({item.source})")
