"""Collected template problems, each named by where it is.

Validation appends to a ``Diagnostics`` instead of raising, so one request reports every
problem at once; the boundary calls ``raise_if_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ember.common import errors


class Boundary(str):
    """Where a path enters a nested stack, and what made it (``nested_stack`` for a
    group's, a template resource's file name): not part of the dotted path, only of the
    form Heat gives a nested problem (``resources.group<nested_stack>.resources.0``)."""


PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Iterable[PathPart], boundaries: bool = False) -> str:
    """Dotted form of a path, list indices in brackets: ``resources.web.properties.nets[0].id``;
    with ``boundaries``, where it enters a nested stack marked as Heat marks it."""
    out = ""
    for part in path:
        if isinstance(part, Boundary):
            out += f"<{part}>" if boundaries else ""
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def heat_nested_form(path: Path, message: str) -> str | None:
    """Heat's text for a property problem of a resource inside nested stacks, which
    scripts match (``resources.group<nested_stack>.resources.0<provider.yaml>.resources.
    random: : Value 'BAD' is not an integer``); None for any other problem."""
    if not any(isinstance(p, Boundary) for p in path) or "properties" not in path:
        return None
    last = len(path) - 1 - path[::-1].index("properties")
    if any(isinstance(p, Boundary) for p in path[last:]):
        return None
    return f"{format_path(path[:last], boundaries=True)}: : {message}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: Path
    message: str
    kind: type[errors.InvalidRequest] = errors.StackValidationFailed

    def __str__(self) -> str:
        where = format_path(self.path)
        text = f"{where}: {self.message}" if where else self.message
        heat = heat_nested_form(self.path, self.message)
        return f"{text} ({heat})" if heat else text


class Diagnostics:
    """An ordered, de-duplicated list of problems; ``kind`` is the error a problem added
    without one of its own is."""

    __slots__ = ("_items", "_kind", "_seen")

    def __init__(self, kind: type[errors.InvalidRequest] = errors.StackValidationFailed) -> None:
        self._items: list[Diagnostic] = []
        self._seen: set[tuple[Path, str]] = set()
        self._kind = kind

    def add(
        self,
        path: Iterable[PathPart],
        message: str,
        kind: type[errors.InvalidRequest] | None = None,
    ) -> None:
        diag = Diagnostic(tuple(path), message, kind or self._kind)
        key = (diag.path, diag.message)
        if key not in self._seen:
            self._seen.add(key)
            self._items.append(diag)

    def extend(self, other: Diagnostics, prefix: Iterable[PathPart] = ()) -> None:
        prefix = tuple(prefix)
        for d in other:
            self.add(prefix + d.path, d.message, d.kind)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def messages(self) -> list[str]:
        return [str(d) for d in self._items]

    def raise_if_errors(self) -> None:
        """Raise the first problem's error class, carrying every problem."""
        if not self._items:
            return
        first = self._items[0]
        message = "\n".join(self.messages())
        if first.kind is errors.StackValidationFailed:
            raise errors.StackValidationFailed(message, diagnostics=self._items)
        exc = first.kind(message if len(self._items) > 1 else str(first))
        exc.diagnostics = tuple(self._items)
        raise exc
