"""A small dependency graph, generic over node type, with cycle reporting.

Edges point from a node to what it requires. ``cycles`` names the nodes of each cycle in
order (Tarjan's strongly connected components), so an error can show the loop itself.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class Graph(Generic[T]):
    __slots__ = ("_requires",)

    def __init__(self, edges: Mapping[T, Iterable[T]] | None = None) -> None:
        self._requires: dict[T, set[T]] = {}
        for node, deps in (edges or {}).items():
            self.add(node)
            for dep in deps:
                self.connect(node, dep)

    def add(self, node: T) -> None:
        self._requires.setdefault(node, set())

    def connect(self, node: T, requires: T) -> None:
        self.add(node)
        self.add(requires)
        self._requires[node].add(requires)

    def __contains__(self, node: object) -> bool:
        return node in self._requires

    def __iter__(self) -> Iterator[T]:
        return iter(self._requires)

    def __len__(self) -> int:
        return len(self._requires)

    def requires(self, node: T) -> frozenset[T]:
        return frozenset(self._requires[node])

    def required_by(self) -> dict[T, set[T]]:
        """The reverse edges: for each node, the nodes that need it."""
        out: dict[T, set[T]] = {node: set() for node in self._requires}
        for node, deps in self._requires.items():
            for dep in deps:
                out[dep].add(node)
        return out

    def cycles(self) -> list[list[T]]:
        """Every cycle, each as the path around it (self-loops included)."""
        index: dict[T, int] = {}
        low: dict[T, int] = {}
        on_stack: set[T] = set()
        stack: list[T] = []
        found: list[list[T]] = []
        counter = 0
        for root in self._requires:
            if root in index:
                continue
            work: list[tuple[T, Iterator[T]]] = [
                (root, iter(sorted(self._requires[root], key=repr)))
            ]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children = work[-1]
                advanced = False
                for child in children:
                    if child not in index:
                        index[child] = low[child] = counter
                        counter += 1
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(sorted(self._requires[child], key=repr))))
                        advanced = True
                        break
                    if child in on_stack:
                        low[node] = min(low[node], index[child])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        item = stack.pop()
                        on_stack.discard(item)
                        component.append(item)
                        if item == node:
                            break
                    if len(component) > 1 or node in self._requires[node]:
                        found.append(self._order(component))
        return found

    def _order(self, component: list[T]) -> list[T]:
        """Walk a strongly connected component as a loop, starting from its first member."""
        members = set(component)
        start = min(component, key=repr)
        path = [start]
        seen = {start}
        node = start
        while True:
            nxt = next(
                (
                    d
                    for d in sorted(self._requires[node], key=repr)
                    if d in members and d not in seen
                ),
                None,
            )
            if nxt is None:
                break
            path.append(nxt)
            seen.add(nxt)
            node = nxt
        return path

    def topological_order(self) -> list[T]:
        """Nodes with their requirements first; raise ``ValueError`` on a cycle."""
        remaining = {node: len(deps) for node, deps in self._requires.items()}
        users = self.required_by()
        ready = [node for node, count in remaining.items() if count == 0]
        order: list[T] = []
        while ready:
            node = ready.pop()
            order.append(node)
            for user in users[node]:
                remaining[user] -= 1
                if remaining[user] == 0:
                    ready.append(user)
        if len(order) != len(self._requires):
            raise ValueError("graph has a cycle")
        return order
