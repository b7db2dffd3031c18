"""Files only this user may read: the data directory, its database, secrets and passwords."""

import os
from pathlib import Path


def private_file(path: Path, text: str = "") -> Path:
    """Create `path` (and its folder, 0700) readable by this user alone (0600) unless it
    exists; with `text`, write it. Made so from the start, never chmod-ed after: there is no
    moment when another user of the machine may read it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path
