"""Local token counting with tiktoken, and the offline installation of its encoding files.

tiktoken downloads its BPE files on first use; this dashboard never lets it. The files are
installed into settings.TIKTOKEN_CACHE_DIR (named as tiktoken's own cache names them: the sha1
of the download URL) from a local copy, verified against tiktoken's own sha256.
"""

import gzip
import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from django.conf import settings

BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"

#: tiktoken's `expected_hash` for each file (tiktoken_ext/openai_public.py, 0.7 to 0.14).
EXPECTED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}


class EncodingUnavailable(Exception):
    """The encoding's file is not installed; the message says how to install it."""


def cache_path(name: str, cache_dir: Path | None = None) -> Path:
    url = BLOB_URL.format(name=name)
    return Path(cache_dir or settings.TIKTOKEN_CACHE_DIR) / hashlib.sha1(url.encode()).hexdigest()  # noqa: S324 - tiktoken's cache naming


def _packaged(name: str) -> bytes | None:
    """The file as shipped gzipped inside the bpe-openai wheel (a dependency), if present."""
    try:
        ref = resources.files("bpe_openai") / "data" / f"{name}.tiktoken.gz"
        return gzip.decompress(ref.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None


@dataclass
class Installed:
    name: str
    path: Path
    source: str


def install_encoding_files(
    source_dir: Path | None = None, cache_dir: Path | None = None
) -> list[Installed]:
    """Install every encoding file, verified by sha256, from `source_dir` or bpe-openai.

    Raises EncodingUnavailable if a file cannot be found or does not match its hash.
    """
    target_dir = Path(cache_dir or settings.TIKTOKEN_CACHE_DIR)
    target_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name, expected in EXPECTED_SHA256.items():
        target = cache_path(name, target_dir)
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            done.append(Installed(name, target, "already installed"))
            continue
        if source_dir is not None:
            path = Path(source_dir) / f"{name}.tiktoken"
            data, origin = (path.read_bytes() if path.exists() else None), str(path)
        else:
            data, origin = _packaged(name), "the bpe-openai package"
        if data is None:
            raise EncodingUnavailable(f"{name}.tiktoken was not found in {origin}.")
        if hashlib.sha256(data).hexdigest() != expected:
            raise EncodingUnavailable(
                f"{name}.tiktoken from {origin} does not match tiktoken's sha256 {expected}."
            )
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        done.append(Installed(name, target, origin))
    return done


def encoding_available(name: str) -> bool:
    return cache_path(name).exists()


_encodings: dict[str, Any] = {}


def get_encoding(name: str) -> Any:
    """A tiktoken Encoding, loaded only from the local cache (never from the network)."""
    if name in _encodings:
        return _encodings[name]
    if not encoding_available(name):
        raise EncodingUnavailable(
            f"Local counting is unavailable: the {name} encoding file is not installed in "
            f"{settings.TIKTOKEN_CACHE_DIR}. Run `manage.py install_tokenizers` (it copies the "
            "file from the bpe-openai package, or from --from DIR, and checks its sha256)."
        )
    # tiktoken reads its cache folder from this variable when it loads an encoding.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(settings.TIKTOKEN_CACHE_DIR)
    import tiktoken

    _encodings[name] = tiktoken.get_encoding(name)
    return _encodings[name]
