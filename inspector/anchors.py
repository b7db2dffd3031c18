"""Item anchors: the one name an item has on every page, so links and notes find it again.

`item-<id>` for an item whose own id can be an HTML id, else `item-<section>-<position>`
(section "input", "output" or "instructions"; position 0-based). The response page, the
trace, the compare page and notes all name items with `item_anchor`; `valid_anchor` checks
one sent back with a note.
"""

import re
from typing import Any

from .schemas.base import Unknown, type_of
from .schemas.items import BORROWED_ID_TYPES

#: An id that can be an HTML anchor as is.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
#: "" (the response as a whole) or what `item_anchor` returns.
_NOTE_ANCHOR = re.compile(r"^(item-[A-Za-z0-9_-]{1,210})?$")


def item_anchor(item: Any, section: str, position: int) -> str:
    """The anchor of `item`, at `position` of `section` of its response.

    An item of an unknown type, or one whose `id` is another item's (an item_reference),
    is named by its place: its id may not be its own, or not fit an HTML id.
    """
    item_id = getattr(item, "id", None)
    if (
        isinstance(item_id, str)
        and _ID.fullmatch(item_id)
        and not isinstance(item, Unknown)
        and type_of(item) not in BORROWED_ID_TYPES
    ):
        return f"item-{item_id}"
    return f"item-{section}-{position}"


def valid_anchor(anchor: str) -> bool:
    """Whether a note may hang on `anchor`: "" (the response), or an item's anchor."""
    return bool(_NOTE_ANCHOR.fullmatch(anchor))
