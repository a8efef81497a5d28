"""The update plan over rows an earlier, unfinished operation left behind (pure)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ember.common.states import CLEANUP, Action
from ember.engine.planner import (
    HELD,
    LEFTOVER,
    StoredResource,
    create_nodes,
    current_rows,
    delete_nodes,
    held,
    update_nodes,
)

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


def _defn(*names: str, hooks: dict[str, frozenset[str]] | None = None) -> Any:
    """What the planner reads of a definition: resource names, what each requires and the
    breakpoints the environment sets."""
    requires = {"b": ("a",)}
    set_hooks = hooks or {}
    return SimpleNamespace(
        resources={n: SimpleNamespace(requires=requires.get(n, ())) for n in names},
        environment=SimpleNamespace(
            registry=SimpleNamespace(hooks=lambda name: set_hooks.get(name, frozenset()))
        ),
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


def test_nodes_that_may_pause_at_a_pre_hook_are_held() -> None:
    """A create or delete node whose resource has a pre- breakpoint for its action shows
    its start only when it acts; other nodes (and other hooks) are not held."""
    hooks = {"a": frozenset({"pre-create"}), "b": frozenset({"post-create", "pre-delete"})}
    defn = _defn("a", "b", hooks=hooks)
    created = {n.resource_uuid: n.data for n in create_nodes(defn, {"a": "ua", "b": "ub"})}
    assert created["ua"].get(HELD) is True
    assert HELD not in created["ub"]
    assert HELD not in create_nodes(defn, {"a": "ua", "b": "ub"}, Action.ADOPT)[0].data

    rows = [StoredResource("ua", "a", "T", ()), StoredResource("ub", "b", "T", ("a",))]
    deleted = {
        n.resource_uuid: n.data
        for n in delete_nodes(rows, {}, Action.DELETE, held(defn, Action.DELETE))
    }
    assert HELD not in deleted["ua"] and deleted["ub"][HELD] is True


def test_an_update_holds_new_resources_and_removed_ones_at_their_pre_hooks() -> None:
    hooks = {"n": frozenset({"pre-create"}), "a": frozenset({"pre-delete", "pre-update"})}
    nodes = update_nodes(_defn("n", "b", hooks=hooks), [OTHER, ORIGINAL], {"n": "un"}, {}, 7)
    by_uuid = {(n.resource_uuid, n.action): n.data for n in nodes}
    assert by_uuid[("un", Action.CREATE)][HELD] is True
    assert by_uuid[("u1", Action.DELETE)][HELD] is True
    # An update shows its start only once it acts anyway.
    assert HELD not in by_uuid[("u3", Action.UPDATE)]
