"""Reading a file to import (JSONL, a JSON array or one JSON document) a bounded entry at a
time, so a 1 GB file costs about the memory of its largest entry."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .. import client as upstream
from .. import nesting, redaction


def _text(raw: bytes | str) -> str:
    """A line as text; strict UTF-8 (a mangled byte would silently change the body)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return text.removeprefix("\ufeff")  # a byte-order mark some editors write


@dataclass(frozen=True)
class TooLong:
    """A line longer than the limit: read past in chunks, never held in memory whole."""

    size: int


#: Reads of a file being imported, and of the rest of a line that is too long.
READ_SIZE = 1024 * 1024
_SPACE = b" \t\r\n"


class _Stream:
    """A file being imported, read in chunks: lines of bounded length, or bytes (ijson).

    `source` is a file-like object (read() gives bytes or str) or an iterable of lines.
    Iterating a file would build a line of any length in memory; here a 1 GB line costs
    no more than a short one.
    """

    def __init__(self, source: Any) -> None:
        self._read = source.read if hasattr(source, "read") else None
        self._lines = None if self._read else iter(source)
        self._buffer = b""
        self._eof = False
        self.consumed = 0  # bytes handed out, for the size of an array entry

    def _pull(self) -> bool:
        if self._eof:
            return False
        chunk = self._read(READ_SIZE) if self._read else next(self._lines, b"")  # type: ignore[arg-type]
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogatepass")
        if not chunk:
            self._eof = True
            return False
        if self._lines is not None and not chunk.endswith(b"\n"):
            chunk += b"\n"  # an iterable's items are lines, with or without their newline
        if not self._buffer and not self.consumed:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark
        self._buffer += chunk
        return True

    def first(self) -> bytes:
        """The first byte that is not white space (b"" for an empty file), not consumed."""
        while True:
            stripped = self._buffer.lstrip(_SPACE)
            if stripped:
                return stripped[:1]
            if not self._pull():
                return b""

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and self._pull():
            pass
        return self._take(len(self._buffer) if size < 0 else size)

    def _take(self, size: int) -> bytes:
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        self.consumed += len(chunk)
        return chunk

    def readline(self, limit: int) -> bytes | TooLong | None:
        """The next line (with its newline), TooLong past `limit` bytes, None at the end."""
        while (end := self._buffer.find(b"\n", 0, limit + 1)) < 0 and len(self._buffer) <= limit:
            if not self._pull():
                break
        if end >= 0:
            return self._take(end + 1)
        if len(self._buffer) <= limit:
            return self._take(len(self._buffer)) or None
        size = 0
        while (end := self._buffer.find(b"\n")) < 0:
            size += len(self._take(len(self._buffer)))
            if not self._pull():
                return TooLong(size)
        return TooLong(size + len(self._take(end + 1)))

    def unread(self, data: bytes) -> None:
        self._buffer = data + self._buffer
        self.consumed -= len(data)


def read_entries(source: Any, limit: int) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or the exception) for JSONL, a JSON array, or JSON.

    Streams: JSONL a line at a time (each at most `limit` bytes), a JSON array an entry at
    a time (ijson), so a 1 GB file is imported in about the memory of its largest entry.
    """
    stream = _Stream(source)
    start = stream.first()
    if start == b"[":
        yield from _document(stream, single=False, limit=limit)
        return
    if start != b"{":
        if start:
            yield from _document(stream, single=True, limit=limit)
        return
    read: list[bytes] = []
    head = b""
    while (line := stream.readline(limit)) is not None:
        if isinstance(line, TooLong):
            # A first line that long is a JSONL line or a one-line object: too long either way.
            yield len(read) + 1, _too_long(line, limit)
            yield from _jsonl(stream, start=len(read) + 2, limit=limit)
            return
        read.append(line)
        if head := line.strip():
            break
    if head.startswith(b"{") and head.endswith(b"}"):
        # JSONL (or a one-line JSON object): one object a line, each on its own, so a bad
        # line costs only itself.
        yield from _jsonl(iter(read[-1:]), start=len(read), limit=limit)
        yield from _jsonl(stream, start=len(read) + 1, limit=limit)
        return
    # An object spread over lines (pretty-printed).
    stream.unread(b"".join(read))
    yield from _document(stream, single=True, limit=limit)


def _document(stream: _Stream, single: bool, limit: int) -> Iterator[tuple[int, Any]]:
    # Imported here: only imports of whole JSON documents need it.
    import ijson

    number, before = 0, stream.consumed
    try:
        path = "" if single else "item"
        for number, obj in enumerate(ijson.items(stream, path, use_float=True), 1):
            # ijson reads ahead a chunk at a time: an entry's size is known to within one.
            size, before = stream.consumed - before, stream.consumed
            if size > limit + READ_SIZE:
                yield number, _too_long(TooLong(size), limit)
            else:
                yield number, nesting.TooDeep() if nesting.deeper_than(obj) else obj
    except ijson.JSONError as error:
        # Its first line: yajl's next ones quote the text around the error, cut where yajl
        # chooses, so a key in it could show in part whatever is masked.
        first = str(error).strip().split("\n")[0]
        reason = redaction.clip(" ".join(first.split()), 300, settings.OPENAI_API_KEY)
        yield (
            number + 1,
            ValueError(f"not valid JSON or JSONL (entries before it are kept): {reason}"),
        )


def _too_long(line: TooLong, limit: int) -> ValueError:
    return ValueError(
        f"{line.size:,} bytes: longer than the {limit:,}-byte limit (IMPORT_MAX_LINE_BYTES); "
        "skipped without reading it"
    )


def _jsonl(lines: Any, start: int, limit: int) -> Iterator[tuple[int, Any]]:
    """`lines`: an iterator of lines, or a _Stream read a bounded line at a time."""
    if isinstance(lines, _Stream):
        stream = lines
        lines = iter(lambda: stream.readline(limit), None)
    for number, raw in enumerate(lines, start=start):
        if isinstance(raw, TooLong):
            yield number, _too_long(raw, limit)
            continue
        try:
            text = _text(raw)
        except ValueError:
            yield number, ValueError("not UTF-8 text")
            continue
        if not text.strip():
            continue
        try:
            obj = upstream.parse_json(text)
        except nesting.TooDeep as error:
            obj = error
        except ValueError as error:
            obj = ValueError(f"invalid JSON: {error}")
        yield number, obj
