"""How deep JSON may nest: one limit, checked wherever JSON comes in, and a clip wherever
stored JSON is read back.

Every layer below walks JSON by recursion: pydantic stops serializing at some 250 levels,
Python's own json module and every recursive helper at about 1,000 (less the frames a
request already uses), so one hostile tool schema nested 900 deep once broke its pages for
good. The entrances (imports, upstream bodies and events, the playground) refuse anything
deeper than MAX_DEPTH with TooDeep, a ValueError that says so; what was stored before this
check existed is clipped where it is read (`loads_clipped`): whatever lies deeper becomes
the string TOO_DEEP, so no page can fail on it. Real responses nest 13 levels at most, the
hostile test corpus 204. Pure functions.
"""

import io
import json
from typing import Any

#: Containers inside containers: `{}` is 1 deep, `{"a": [1]}` 2. Every page renders JSON this
#: deep (tests/test_security.py); pydantic refuses to serialize some 255 levels.
MAX_DEPTH = 220
#: What stands where stored JSON nested deeper than MAX_DEPTH.
TOO_DEEP = "[nested too deep to show]"


class TooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"nested more than {MAX_DEPTH} levels deep (the limit for any JSON)")


def deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` (parsed JSON: plain dicts and lists) nests more than `limit`
    containers deep; looks no deeper than that, a level at a time (no recursion, whatever
    the depth). Some 6 ms for a 3,000-item bundle, a fifth of parsing it."""
    level = [value] if type(value) in (dict, list) else []
    for _ in range(limit):
        inner: list[Any] = []
        add = inner.append
        for container in level:
            for item in container.values() if type(container) is dict else container:
                if type(item) is dict or type(item) is list:
                    add(item)
        if not inner:
            return False
        level = inner
    return True


def _may_nest_deeper(text: str | bytes, limit: int) -> bool:
    """Whether JSON text has more than `limit` brackets at all (else it cannot nest
    deeper); two C-speed counts, so small documents skip the walk."""
    opening = (b"{", b"[") if isinstance(text, bytes) else ("{", "[")
    return text.count(opening[0]) + text.count(opening[1]) > limit  # type: ignore[arg-type]


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON (RFC 8259), and no database column would store them.
    raise ValueError(f"{name} is not a JSON value")


def loads(text: str | bytes) -> Any:
    """Strict JSON from outside: what json.loads accepts, less NaN and Infinity, and less
    anything nested deeper than MAX_DEPTH (TooDeep). Raises ValueError."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise TooDeep() from None
    if _may_nest_deeper(text, MAX_DEPTH) and deeper_than(value):
        raise TooDeep()
    return value


def check(value: Any) -> Any:
    """`value` (parsed elsewhere, e.g. by ijson), or TooDeep."""
    if deeper_than(value):
        raise TooDeep()
    return value


def _clip(value: Any, room: int) -> Any:
    if not isinstance(value, dict | list):
        return value
    if room == 0:
        return TOO_DEEP
    if isinstance(value, dict):
        return {key: _clip(inner, room - 1) for key, inner in value.items()}
    return [_clip(inner, room - 1) for inner in value]


def clipped(value: Any, limit: int = MAX_DEPTH) -> Any:
    """`value`, or a copy with every container deeper than `limit` replaced by TOO_DEEP."""
    return _clip(value, limit) if deeper_than(value, limit) else value


def loads_clipped(text: str | bytes) -> Any:
    """JSON already kept (a stored body, JSON held in a stored string), for reading: parsed
    whatever its depth (ijson builds without recursion where json.loads cannot) and clipped
    to MAX_DEPTH. Raises ValueError for text that is not JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        # Imported here: only JSON stored before the limit existed can take this way.
        import ijson

        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        try:
            value = next(ijson.items(io.BytesIO(data), "", use_float=True))
        except ijson.JSONError as error:
            raise ValueError(str(error)) from None
    return clipped(value) if _may_nest_deeper(text, MAX_DEPTH) else value
