"""Characters no database column keeps: NUL and lone surrogates, replaced by U+FFFD.

JSON may carry both as escapes (`\\u0000`, a `\\ud800` with no partner). PostgreSQL refuses
NUL in text and in `jsonb`, and a lone surrogate cannot be encoded as UTF-8 at all (SQLite,
PostgreSQL and every HTTP response refuse it). The store keeps what it can keep on both
databases alike: each such character becomes U+FFFD, and `scrub` says where, so the store can
keep the original strings (JSON-escaped, which is plain ASCII) in a note on the response.
Pure functions; inspector/store/rows.py applies them before anything is written, and the pages
apply `loads` where they parse JSON held inside a string (tool arguments, outputs).
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import nesting

REPLACEMENT = "\ufffd"
_BAD = re.compile("[\x00\ud800-\udfff]")
#: The most original text a note keeps; past it the note says how much was left out.
ORIGINALS_MAX = 100_000


@dataclass
class Found:
    """Where characters were replaced: (path, original string) and how many of each kind."""

    places: list[tuple[str, str]] = field(default_factory=list)
    nul: int = 0
    surrogates: int = 0

    def __bool__(self) -> bool:
        return bool(self.places)


def clean(text: str) -> str:
    """`text` with NUL and lone surrogates replaced (a valid pair is already one character)."""
    return _BAD.sub(REPLACEMENT, text) if _BAD.search(text) else text


def _walk(value: Any, path: str, found: Found) -> Any:
    if isinstance(value, str):
        bad = _BAD.findall(value)
        if not bad:
            return value
        nul = bad.count("\x00")
        found.nul += nul
        found.surrogates += len(bad) - nul
        found.places.append((path or "(top level)", value))
        return _BAD.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            name = _walk(key, f"{path}.(key)" if path else "(key)", found)
            out[name] = _walk(inner, f"{path}.{name}" if path else str(name), found)
        return out
    if isinstance(value, list):
        return [_walk(inner, f"{path}[{index}]", found) for index, inner in enumerate(value)]
    return value


def scrub(value: Any, path: str = "", found: Found | None = None) -> tuple[Any, Found]:
    """A copy of `value` (parsed JSON) with every bad character replaced, and where it was.

    The value itself is returned, not a copy, when nothing needed replacing.
    """
    found = found if found is not None else Found()
    before = len(found.places)
    cleaned = _walk(value, path, found)
    return (cleaned if len(found.places) > before else value), found


def may_hold_bad(json_text: str) -> bool:
    """Whether JSON text written by `json.dumps` (ensure_ascii, the default) may hold a
    character `scrub` replaces: a NUL is written `\\u0000` and every surrogate `\\udXXX`. A valid
    pair is written so too (an emoji), as is an escaped backslash before "u0000": then
    `scrub` walks and finds nothing. Two scans in C, where the walk is Python per string."""
    return "\\u0000" in json_text or "\\ud" in json_text


def loads(text: str | bytes) -> Any:
    """json.loads for display: JSON inside a string may hold escapes of bad characters, and
    nest deeper than any page can show (clipped: nesting.py)."""
    return scrub(nesting.loads_clipped(text))[0]


def note_text(found: Found) -> str:
    """What a note on the response says about the characters replaced, with the originals."""
    kinds = []
    if found.nul:
        kinds.append(f"{found.nul} NUL character{'s' if found.nul != 1 else ''} (\\u0000)")
    if found.surrogates:
        plural = "s" if found.surrogates != 1 else ""
        kinds.append(f"{found.surrogates} lone surrogate{plural} (\\ud800-\\udfff)")
    lines = [
        f"Stored with {' and '.join(kinds)} replaced by U+FFFD (\ufffd): no database keeps "
        "them as they are. The original strings, JSON-escaped:"
    ]
    budget = ORIGINALS_MAX
    for number, (path, original) in enumerate(found.places):
        escaped = json.dumps(original)
        if len(escaped) > budget:
            left = len(found.places) - number
            lines.append(f"… {left} more string{'s' if left != 1 else ''} left out (too long).")
            break
        budget -= len(escaped)
        lines.append(f"{path}: {escaped}")
    return "\n".join(lines)
