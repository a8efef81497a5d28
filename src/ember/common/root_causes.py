"""Root cause first: which failed resources of a tree of stacks are causes, and which only
failed because something below them did.

A failed resource whose nested stack holds failed resources is a consequence; the others
are the causes. Each cause is given with its path (the stack names and resource names from
the root down) and the chain of its parents up to the root, deepest causes first. Works on
any listing of the tree's resources (the engine's own, or the REST API's as a client sees
it). Only the standard library here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FAILED = "_FAILED"


@dataclass(frozen=True, slots=True)
class Listed:
    """One resource of the tree, as a listing gives it."""

    stack_id: str
    stack_name: str
    name: str
    type: str
    status: str
    reason: str
    nested_stack_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.status.endswith(FAILED)


@dataclass(frozen=True, slots=True)
class Parent:
    """A resource (or, last, the root stack itself) above a cause."""

    path: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cause:
    """A failed resource with nothing failed below it."""

    path: str
    resource: Listed
    depth: int  # how many nested stacks down from the root
    parents: tuple[Parent, ...]  # nearest first, the root stack last


class StackTree:
    """Where each stack of a tree hangs: nested stack id -> (owning stack id, resource
    name), and each stack's name, learnt from listings."""

    def __init__(self, root_id: str, root_name: str) -> None:
        self.root_id = root_id
        self.root_name = root_name
        self.parents: dict[str, tuple[str, str]] = {}
        self.names: dict[str, str] = {}

    def add(self, resources: Iterable[Listed]) -> None:
        for res in resources:
            if res.stack_id:
                self.names.setdefault(res.stack_id, res.stack_name)
            if res.nested_stack_id:
                self.parents[res.nested_stack_id] = (res.stack_id, res.name)

    def knows(self, stack_id: str) -> bool:
        return stack_id == self.root_id or stack_id in self.parents

    def chain(self, stack_id: str) -> list[tuple[str, str]]:
        """``(stack id, resource name)`` of each owning resource from the root down."""
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        while stack_id in self.parents and stack_id not in seen:
            seen.add(stack_id)
            parent, name = self.parents[stack_id]
            out.append((parent, name))
            stack_id = parent
        return out[::-1]

    def path(self, stack_id: str, name: str | None = None) -> str:
        """``root/owner/.../name``; a stack the listings never reached from the root is
        named by its own name."""
        if stack_id != self.root_id and stack_id not in self.parents:
            head = self.names.get(stack_id) or stack_id
            return f"{head}/{name}" if name else head
        parts = [self.root_name, *(n for _, n in self.chain(stack_id))]
        if name:
            parts.append(name)
        return "/".join(parts)

    def depth(self, stack_id: str) -> int:
        return len(self.chain(stack_id))


def root_causes(
    tree: StackTree, listed: Sequence[Listed], root_status: str, root_reason: str
) -> list[Cause]:
    """The causes among ``listed``, deepest first (then by path)."""
    tree.add(listed)
    failed = [r for r in listed if r.failed]
    failed_stacks = {r.stack_id for r in failed}
    by_key = {(r.stack_id, r.name): r for r in listed}
    causes = []
    for res in failed:
        if res.nested_stack_id in failed_stacks:
            continue  # it failed because something in its nested stack did
        parents = []
        for stack_id, name in reversed(tree.chain(res.stack_id)):
            owner = by_key.get((stack_id, name))
            parents.append(
                Parent(
                    tree.path(stack_id, name),
                    owner.status if owner else "",
                    owner.reason if owner else "",
                )
            )
        parents.append(Parent(tree.root_name, root_status, root_reason))
        causes.append(
            Cause(tree.path(res.stack_id, res.name), res, tree.depth(res.stack_id), tuple(parents))
        )
    causes.sort(key=lambda c: (-c.depth, c.path))
    return causes
