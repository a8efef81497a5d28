"""Immutable definitions of a stack's resources and outputs, with their functions parsed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ember.template.functions.base import ResolveContext, dependencies, resolve, to_snippet

DELETION_POLICIES = ("Delete", "Retain", "Snapshot")


@dataclass(frozen=True, slots=True)
class ResourceDefinition:
    name: str
    type: str
    properties: Any = None
    metadata: Any = None
    depends_on: tuple[str, ...] = ()
    deletion_policy: str = "Delete"
    update_policy: Any = None
    external_id: Any = None
    description: str = ""
    # Every resource this one needs: explicit depends_on plus function references.
    requires: frozenset[str] = frozenset()
    # Whether the properties call a function that may make far more than it is given
    # (worked out once here, not on every run of the resource).
    amplifying: bool = False

    @staticmethod
    def implicit_requirements(properties: Any, metadata: Any, update_policy: Any) -> set[str]:
        found: set[str] = set()
        for snippet in (properties, metadata, update_policy):
            found.update(dependencies(snippet))
        return found

    def resolved_properties(self, ctx: ResolveContext) -> dict[str, Any]:
        value = resolve(self.properties, ctx)
        return value if isinstance(value, dict) else {}

    def resolved_metadata(self, ctx: ResolveContext) -> dict[str, Any]:
        value = resolve(self.metadata, ctx)
        return value if isinstance(value, dict) else {}

    def resolved_update_policy(self, ctx: ResolveContext) -> dict[str, Any]:
        value = resolve(self.update_policy, ctx)
        return value if isinstance(value, dict) else {}

    def to_snippet(self) -> dict[str, Any]:
        """The definition as HOT text, for previews, exports and stored snapshots."""
        out: dict[str, Any] = {"type": self.type}
        if self.properties:
            out["properties"] = to_snippet(self.properties)
        if self.metadata:
            out["metadata"] = to_snippet(self.metadata)
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        if self.deletion_policy != "Delete":
            out["deletion_policy"] = self.deletion_policy
        if self.update_policy:
            out["update_policy"] = to_snippet(self.update_policy)
        if self.external_id is not None:
            out["external_id"] = to_snippet(self.external_id)
        return out


@dataclass(frozen=True, slots=True)
class OutputDefinition:
    name: str
    value: Any
    description: str = "No description given"

    def requires(self) -> set[str]:
        return set(dependencies(self.value))


@dataclass(frozen=True, slots=True)
class OutputValue:
    """One resolved output; ``error`` instead of failing the whole stack."""

    name: str
    description: str
    value: Any = None
    error: str | None = None

    def to_api(self) -> dict[str, Any]:
        out = {"output_key": self.name, "description": self.description, "output_value": self.value}
        if self.error is not None:
            out["output_error"] = self.error
        return out
