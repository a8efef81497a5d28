"""Why a resource action failed, kept as data.

A stack records the failure of its first failed resource; the resource that owns a nested
stack reads it back and puts its own name in front of the path, so the top stack's reason
says where deep down it went wrong (``ValueError: resources.group.resources[0]: ...``)
without any text being parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def heat_path(parts: Iterable[str]) -> str:
    """Heat's way of writing a path: ``resources.group.resources[0]``."""
    out = ""
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, slots=True)
class Failure:
    """``kind`` is the error type clients are shown (``ValueError``, ``ResourceFailure``),
    ``path`` where in the stack it happened (``("resources", "web")``), ``message`` the
    error's own text."""

    kind: str
    path: tuple[str, ...]
    message: str

    def reason(self) -> str:
        where = heat_path(self.path)
        return f"{self.kind}: {where}: {self.message}" if where else f"{self.kind}: {self.message}"

    def under(self, resource_name: str) -> Failure:
        """The same failure seen from the stack that owns this one's stack."""
        return Failure(self.kind, ("resources", resource_name, *self.path), self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": list(self.path), "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Failure:
        return cls(
            str(data.get("kind") or "ResourceFailure"),
            tuple(str(p) for p in data.get("path") or ()),
            str(data.get("message") or ""),
        )
