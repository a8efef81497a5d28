"""Batching for rolling updates and batched creation of group members (Heat's rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

Definition = dict[str, Any]


def needs_update(target: int, current: int, up_to_date: int) -> bool:
    """Whether any existing member still has to be brought to the new definition."""
    return not (up_to_date >= current == target)


def next_batch(
    target: int, current: int, up_to_date: int, batch_size: int, min_in_service: int
) -> tuple[int, int]:
    """The group's size during the next batch, and how many members that batch updates."""
    effective_min = min(min_in_service, target, current)
    effective_batch = min(batch_size, max(target - up_to_date, 0))
    new_size = effective_batch + max(min(current, target - effective_batch), effective_min)
    return new_size, effective_batch


def batches(
    target: int, current: int, batch_size: int, min_in_service: int
) -> Iterator[tuple[int, int]]:
    """``(size, updates)`` for each batch, going from ``current`` members to ``target``
    members that all have the new definition."""
    updated = 0
    while needs_update(target, current, updated):
        size, count = next_batch(target, current, updated, batch_size, min_in_service)
        yield size, count
        updated += count - max(size - max(current, target), 0)
        current = size


def member_definitions(
    old: Sequence[tuple[str, Definition]],
    size: int,
    updates: int,
    new_name: Callable[[], str],
    definition_for: Callable[[str], Definition],
) -> Iterator[tuple[str, Definition]]:
    """The members of one batch: ``old`` is ordered lowest priority first; at most
    ``updates`` members get the new definition (new members count towards it)."""
    kept = list(old[-size:]) if size else []
    replace = updates - (size - len(kept))
    for i in range(size):
        if i < len(kept):
            name, current = kept[i]
            wanted = definition_for(name)
            if current != wanted and replace > 0:
                replace -= 1
                yield name, wanted
            else:
                yield name, current
        else:
            name = new_name()
            yield name, definition_for(name)
