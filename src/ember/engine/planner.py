"""Turning definitions and stored resources into traversal graphs (pure: no I/O).

Create: a resource runs after everything it refers to. Delete: the reverse. Update: every
kept resource gets an UPDATE node (a no-op when nothing changed) and a CLEANUP node that
deletes what it replaced once everything referring to it has moved to the new one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ember.common.states import CLEANUP, Action
from ember.db.records import NodeSpec
from ember.template import StackDefinition


@dataclass(frozen=True, slots=True)
class StoredResource:
    uuid: str
    name: str
    type: str
    requires: tuple[str, ...]
    id: int = 0
    replaced_by: int | None = None
    replaces: int | None = None


# Node data of a clean-up node for a row an earlier, unfinished operation left behind.
LEFTOVER = "leftover"
# Node data of a CREATE or DELETE node whose resource has a pre- breakpoint for it: as in
# Heat, the resource keeps its state while paused, so its start is shown only once it acts
# (not when claimed).
HELD = "held"


def held(
    defn: StackDefinition, action: str, names: Collection[str] | None = None
) -> frozenset[str]:
    """The resources (of ``defn``, or ``names``) with a pre- breakpoint for ``action``."""
    hook = f"pre-{action.lower()}"
    registry = defn.environment.registry
    candidates = defn.resources if names is None else names
    return frozenset(n for n in candidates if hook in registry.hooks(n))


def _held_data(name: str, names: Collection[str]) -> dict[str, Any]:
    return {HELD: True} if name in names else {}


def current_rows(
    rows: Sequence[StoredResource],
) -> tuple[dict[str, StoredResource], list[StoredResource]]:
    """Each name's current row, and the rows left over beside them: rows already replaced
    whose clean-up never ran, and replacements begun but not finished (an operation that was
    superseded, or whose engine died, leaves both). The current row is the one not replaced
    that is not an unfinished replacement of another row still standing."""
    standing = {r.id for r in rows if r.replaced_by is None}
    current: dict[str, StoredResource] = {}
    leftovers: list[StoredResource] = []
    for row in rows:
        unfinished = row.replaces is not None and row.replaces in standing
        if row.replaced_by is not None or unfinished or row.name in current:
            leftovers.append(row)
        else:
            current[row.name] = row
    return current, leftovers


def _order(names: Sequence[str], requires: Mapping[str, Sequence[str]]) -> list[str]:
    """Requirements first, ties in template order (cycles were refused at validation)."""
    index = {n: i for i, n in enumerate(names)}
    seen: set[str] = set()
    out: list[str] = []
    for root in names:
        stack = [(root, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                if name not in seen:
                    seen.add(name)
                    out.append(name)
                continue
            if name in seen:
                continue
            stack.append((name, True))
            for dep in sorted(requires.get(name, ()), key=lambda d: -index.get(d, 0)):
                if dep in index and dep not in seen:
                    stack.append((dep, False))
    return out


def create_nodes(
    defn: StackDefinition,
    uuids: Mapping[str, str],
    action: str = Action.CREATE,
    node_data: Mapping[str, dict[str, Any]] | None = None,
) -> list[NodeSpec]:
    requires = {
        n: sorted(r for r in rd.requires if r in defn.resources) for n, rd in defn.resources.items()
    }
    order = _order(list(defn.resources), requires)
    seq = {name: i for i, name in enumerate(order)}
    node_data = node_data or {}
    holding = held(defn, action) if action == Action.CREATE else frozenset()
    return [
        NodeSpec(
            seq[name],
            uuids[name],
            action,
            tuple(seq[d] for d in requires[name]),
            {**node_data.get(name, {}), **_held_data(name, holding)},
        )
        for name in order
    ]


def delete_nodes(
    rows: Sequence[StoredResource],
    policies: Mapping[str, str],
    action: str = Action.DELETE,
    held_names: Collection[str] = (),
) -> list[NodeSpec]:
    """``held_names``: resources with a pre-delete breakpoint (see ``HELD``)."""
    seq = {row.uuid: i for i, row in enumerate(rows)}
    by_name: dict[str, list[StoredResource]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    # X is deleted after every resource that requires X.
    required_by: dict[str, list[int]] = {row.uuid: [] for row in rows}
    for row in rows:
        for dep in row.requires:
            for target in by_name.get(dep, ()):
                if target.uuid != row.uuid:
                    required_by[target.uuid].append(seq[row.uuid])
    return [
        NodeSpec(
            seq[row.uuid],
            row.uuid,
            action,
            tuple(sorted(required_by[row.uuid])),
            {
                "deletion_policy": policies.get(row.name, "Delete"),
                **_held_data(row.name, held_names),
            },
        )
        for row in rows
    ]


def simple_nodes(rows: Sequence[StoredResource], action: str, *, reverse: bool) -> list[NodeSpec]:
    """Suspend and check walk dependents first (like delete); resume walks like create."""
    if reverse:
        return delete_nodes(rows, {}, action)
    names = [r.name for r in rows]
    requires = {r.name: [d for d in r.requires if d in names] for r in rows}
    order = _order(names, requires)
    by_name = {r.name: r for r in rows}
    seq = {name: i for i, name in enumerate(order)}
    return [
        NodeSpec(seq[n], by_name[n].uuid, action, tuple(seq[d] for d in requires[n])) for n in order
    ]


def update_nodes(
    defn: StackDefinition,
    current: Sequence[StoredResource],
    new_uuids: Mapping[str, str],
    old_policies: Mapping[str, str],
    template_id: int,
    node_data: Mapping[str, dict[str, Any]] | None = None,
) -> list[NodeSpec]:
    """Nodes to bring the stored rows (``current``: every row of the stack) to ``defn``;
    ``new_uuids`` name added rows. A row left over by an earlier operation gets a clean-up
    node of its own, run when its name's current row would be cleaned up: it deletes the row
    unless, by then, the row has become the current one (a replacement the update went on
    with)."""
    standing, leftovers = current_rows(current)
    kept = {n: r for n, r in standing.items() if n in defn.resources}
    removed = [r for r in current if r.name not in defn.resources]
    stray = [r for r in leftovers if r.name in defn.resources]
    requires = {
        n: sorted(r for r in rd.requires if r in defn.resources) for n, rd in defn.resources.items()
    }
    order = _order(list(defn.resources), requires)
    held_create = held(defn, Action.CREATE)
    held_delete = held(defn, Action.DELETE, [r.name for r in removed])
    nodes: list[NodeSpec] = []
    forward = {name: i for i, name in enumerate(order)}
    base = len(order)
    cleanup = {name: base + i for i, name in enumerate(n for n in order if n in kept)}
    base += len(cleanup)
    stray_seq = {r.uuid: base + i for i, r in enumerate(stray)}
    base += len(stray)
    delete_seq = {r.uuid: base + i for i, r in enumerate(removed)}
    required_by: dict[str, list[str]] = {n: [] for n in defn.resources}
    for name, deps in requires.items():
        for dep in deps:
            required_by[dep].append(name)
    for name in order:
        uuid = kept[name].uuid if name in kept else new_uuids[name]
        action = Action.UPDATE if name in kept else Action.CREATE
        nodes.append(
            NodeSpec(
                forward[name],
                uuid,
                action,
                tuple(forward[d] for d in requires[name]),
                {
                    "template_id": template_id,
                    **(node_data or {}).get(name, {}),
                    **(_held_data(name, held_create) if action == Action.CREATE else {}),
                },
            )
        )
    for name, seq in cleanup.items():
        after = [forward[name], *(forward[u] for u in required_by[name])]
        nodes.append(
            NodeSpec(
                seq,
                kept[name].uuid,
                CLEANUP,
                tuple(sorted(after)),
                {"deletion_policy": old_policies.get(name, "Delete")},
            )
        )
    for row in stray:
        after = [forward[row.name], *(forward[u] for u in required_by[row.name])]
        nodes.append(
            NodeSpec(
                stray_seq[row.uuid],
                row.uuid,
                CLEANUP,
                tuple(sorted(after)),
                {"deletion_policy": old_policies.get(row.name, "Delete"), LEFTOVER: True},
            )
        )
    for row in removed:
        before_delete: set[int] = set()
        for other in removed:
            if row.name in other.requires and other.uuid != row.uuid:
                before_delete.add(delete_seq[other.uuid])
        for other in current:
            if other.name in kept and row.name in other.requires:
                before_delete.add(forward[other.name])
        nodes.append(
            NodeSpec(
                delete_seq[row.uuid],
                row.uuid,
                Action.DELETE,
                tuple(sorted(before_delete)),
                {
                    "deletion_policy": old_policies.get(row.name, "Delete"),
                    **_held_data(row.name, held_delete),
                },
            )
        )
    return nodes
