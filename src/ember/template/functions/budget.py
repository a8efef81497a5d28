"""How much the functions of one evaluation may make.

A template of a few hundred bytes can ask for gigabytes (``repeat`` over two long lists,
``str_split`` of a long string, ``str_replace`` of a long value into many placeholders).
Every value a function returns is counted against the evaluation's ``Budget``: items (list
items, map entries, scalars) and characters (of strings and map keys). A value shared by
several places counts once for each, as it would once written out. Functions that could make
much from little (``repeat``, the joins, splits and replacements) ask the budget before they
build (``need``), so nothing larger than the limits is ever made.

One budget serves one evaluation: the outputs of one stack shown, the properties of one
resource acted on, everything a validation computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Enough for any template met in practice (a thousand-member repeat of ten-key maps is
# ~11,000 items; a large user_data script ~100,000 characters), small enough that reaching
# them costs a fraction of a second.
DEFAULT_MAX_ITEMS = 200_000
DEFAULT_MAX_CHARS = 4_194_304


class TooLarge(ValueError):
    """An evaluation would exceed its budget; the caller adds the function's path."""


def measure(value: Any, item_room: float, char_room: float) -> tuple[int, int]:
    """(items, characters) of a value, counted until either passes its room (then what
    was counted so far, already more than the room)."""
    items = chars = 0
    stack = [value]
    while stack:
        current = stack.pop()
        items += 1
        if isinstance(current, str):
            chars += len(current)
        elif isinstance(current, dict):
            for key, item in current.items():
                if isinstance(key, str):
                    chars += len(key)
                stack.append(item)
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
        if items > item_room or chars > char_room:
            break
    return items, chars


@dataclass(slots=True)
class Budget:
    """Contract: ``charge`` counts what a function made and ``need`` refuses what it is
    about to make; both raise ``TooLarge`` once the total would pass ``max_items`` or
    ``max_chars`` (-1: no limit). The counts only grow."""

    max_items: int = DEFAULT_MAX_ITEMS
    max_chars: int = DEFAULT_MAX_CHARS
    items: int = 0
    chars: int = 0

    def room(self) -> tuple[float, float]:
        """(items, characters) still free; infinite where there is no limit."""
        items = float("inf") if self.max_items < 0 else self.max_items - self.items
        chars = float("inf") if self.max_chars < 0 else self.max_chars - self.chars
        return items, chars

    def need(self, items: int = 0, chars: int = 0) -> None:
        """Refuse, before it is built, a value of ``items`` and ``chars`` that would not fit."""
        item_room, char_room = self.room()
        if items > item_room:
            raise TooLarge(
                f"The value is too large: it would pass the limit of {self.max_items} "
                "list items, map entries and values that template functions may make."
            )
        if chars > char_room:
            raise TooLarge(
                f"The value is too large: it would pass the limit of {self.max_chars} "
                "characters that template functions may make."
            )

    def charge(self, value: Any) -> None:
        """Count a value a function made."""
        if isinstance(value, (str, int, float, bool)) or value is None:
            items, chars = 1, len(value) if isinstance(value, str) else 0
        else:
            items, chars = measure(value, *self.room())
        self.need(items, chars)
        self.items += items
        self.chars += chars

    def tally(self) -> Tally:
        """A running count of one value being built, checked against what is left."""
        return Tally(self)


@dataclass(slots=True)
class Tally:
    """What one function call has built so far; every addition is checked at once."""

    budget: Budget
    items: int = 0
    chars: int = 0

    def add(self, value: Any) -> None:
        """A part of the result, built or about to be copied in."""
        items, chars = measure(value, *self.budget.room())
        self.grow(items, chars)

    def grow(self, items: int = 0, chars: int = 0) -> None:
        """Parts of the result about to be made, refused when they would not fit."""
        self.budget.need(self.items + items, self.chars + chars)
        self.items += items
        self.chars += chars
