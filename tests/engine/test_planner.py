"""The update plan over rows an earlier, unfinished operation left behind (pure)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ember.common.states import CLEANUP, Action
from ember.engine.planner import LEFTOVER, StoredResource, current_rows, update_nodes

ORIGINAL = StoredResource("u1", "a", "OS::Heat::None", (), id=1)
REPLACED = StoredResource("u1", "a", "OS::Heat::None", (), id=1, replaced_by=2)
REPLACEMENT = StoredResource("u2", "a", "OS::Heat::None", (), id=2, replaces=1)
OTHER = StoredResource("u3", "b", "OS::Heat::None", ("a",), id=3)


@pytest.mark.parametrize(
    ("rows", "current", "leftover"),
    [
        # Nothing unusual: every row is its name's current one.
        ([ORIGINAL, OTHER], {"a": 1, "b": 3}, []),
        # A replacement finished, its clean-up never ran: the old row is left over.
        ([REPLACED, REPLACEMENT, OTHER], {"a": 2, "b": 3}, [1]),
        # A replacement begun and not finished: the original stands, the new row is left over.
        ([ORIGINAL, REPLACEMENT, OTHER], {"a": 1, "b": 3}, [2]),
        # The original already gone: the replacement is current.
        ([REPLACEMENT, OTHER], {"a": 2, "b": 3}, []),
    ],
)
def test_current_rows(
    rows: list[StoredResource], current: dict[str, int], leftover: list[int]
) -> None:
    found, left = current_rows(rows)
    assert {name: row.id for name, row in found.items()} == current
    assert [row.id for row in left] == leftover


def _defn(*names: str) -> Any:
    """What the planner reads of a definition: resource names and what each requires."""
    requires = {"b": ("a",)}
    return SimpleNamespace(
        resources={n: SimpleNamespace(requires=requires.get(n, ())) for n in names}
    )


def test_leftovers_are_cleaned_up_after_their_name_and_its_dependents() -> None:
    nodes = update_nodes(_defn("a", "b"), [ORIGINAL, REPLACEMENT, OTHER], {}, {}, 7)
    by_uuid = {(n.resource_uuid, n.action): n for n in nodes}
    forward = {n.resource_uuid: n.seq for n in nodes if n.action == Action.UPDATE}
    stray = by_uuid[("u2", CLEANUP)]
    assert stray.data[LEFTOVER] is True
    assert set(stray.requires) == {forward["u1"], forward["u3"]}
    # The current row keeps its own clean-up; nothing updates the left-over row.
    assert ("u1", CLEANUP) in by_uuid and ("u2", Action.UPDATE) not in by_uuid


def test_leftovers_of_removed_names_are_deleted() -> None:
    nodes = update_nodes(_defn("b"), [REPLACED, REPLACEMENT, OTHER], {}, {}, 7)
    deleted = sorted(n.resource_uuid for n in nodes if n.action == Action.DELETE)
    assert deleted == ["u1", "u2"]
