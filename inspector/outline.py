"""The outline of a long response: its input items by turn, with what each turn holds and
where its problems are, so a reader can jump to any turn, loaded or not (pure).

A turn starts at each user message. A response of many turns gets groups of consecutive
turns, at most MAX_GROUPS, so the outline stays one screen long whatever the size.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: Lines of an outline at most: more turns than this are grouped.
MAX_GROUPS = 40


def label(item: Any) -> str:
    """What an item is, in a word or two: "user message", "lookup_order", "reasoning"."""
    kind = str(getattr(item, "type", None) or "item")
    if kind == "message":
        return f"{getattr(item, 'role', None) or 'a'} message"
    name = getattr(item, "name", None)
    return name if isinstance(name, str) and name else kind


def counts(items: Iterable[Any]) -> list[tuple[str, int]]:
    """How many items of each label, in the order they first come."""
    return list(Counter(label(item) for item in items).items())


@dataclass(frozen=True)
class Group:
    """Consecutive turns of the input: their turn numbers, item positions and contents."""

    first_turn: int
    last_turn: int
    first: int  # position of the first item (0-based)
    last: int
    counts: list[tuple[str, int]]
    problems: int
    #: The position of the first item with a problem, if any.
    first_problem: int | None

    @property
    def items(self) -> int:
        return self.last - self.first + 1


def turns(marks: Sequence[Any]) -> list[list[Any]]:
    """Input items (anything with a position, type and role) cut into turns at each user
    message."""
    out: list[list[Any]] = []
    for mark in marks:
        starts = getattr(mark, "type", None) == "message" and getattr(mark, "role", None) == "user"
        if not out or (starts and out[-1]):
            out.append([])
        out[-1].append(mark)
    return out


def groups(
    marks: Sequence[Any], problem_positions: Collection[int], max_groups: int = MAX_GROUPS
) -> list[Group]:
    """The outline's lines: one a turn, or runs of turns when there are more than
    `max_groups` of them."""
    cut = turns(marks)
    size = max(1, -(-len(cut) // max_groups))  # turns per line, rounded up
    out = []
    for start in range(0, len(cut), size):
        chunk = cut[start : start + size]
        items = [mark for turn in chunk for mark in turn]
        flagged = [m.position for m in items if m.position in problem_positions]
        out.append(
            Group(
                first_turn=start + 1,
                last_turn=start + len(chunk),
                first=items[0].position,
                last=items[-1].position,
                counts=counts(items),
                problems=len(flagged),
                first_problem=flagged[0] if flagged else None,
            )
        )
    return out


def choices(marks: Iterable[Any]) -> dict[str, list[str]]:
    """The types, roles and tool names the items have, sorted: a filter's choices."""
    found: dict[str, set[str]] = {"type": set(), "role": set(), "name": set()}
    for mark in marks:
        for key, values in found.items():
            value = getattr(mark, key, None)
            if isinstance(value, str) and value:
                values.add(value)
    return {key: sorted(values) for key, values in found.items()}
