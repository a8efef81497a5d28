"""The resource plugin API: what a resource type declares and the handlers it implements.

Lifecycle: the engine resolves a resource's properties, checks them against
``properties_schema``, then awaits one handler (``create``, ``update``, ``delete``,
``suspend``, ``resume``, ``check``). A handler reports what it made through its
``ResourceContext``: ``physical_id`` and ``data`` are stored when the action completes, and
``checkpoint()`` stores them at once, for types whose real resource must never be made twice.
When a node is run again after an engine died, the context already holds what was recorded,
and ``create`` must check that instead of creating a second one.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ember.template import PropertySchema


class ResourceFailure(Exception):
    """A handler failed; the message becomes the resource's status reason."""


class UpdateReplace(Exception):
    """Raised by ``update`` when the change can only be made by replacing the resource."""


@dataclass(frozen=True)
class AttributeSchema:
    description: str = ""
    type: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        if self.type:
            out["type"] = self.type
        return out


class StackServices(Protocol):
    """What the engine offers plugins that manage nested stacks or software configs."""

    async def create_nested(
        self,
        ctx: ResourceContext,
        template: dict[str, Any],
        parameters: Mapping[str, Any],
        files: Mapping[str, str],
        timeout_mins: int | None,
    ) -> str: ...

    async def update_nested(
        self,
        ctx: ResourceContext,
        stack_id: str,
        template: dict[str, Any],
        parameters: Mapping[str, Any],
        files: Mapping[str, str],
        timeout_mins: int | None,
    ) -> None: ...

    async def delete_nested(self, ctx: ResourceContext, stack_id: str) -> None: ...

    async def nested_action(self, ctx: ResourceContext, stack_id: str, action: str) -> None: ...

    async def nested_outputs(self, stack_id: str) -> dict[str, Any]: ...

    async def create_software_config(self, ctx: ResourceContext, **fields: Any) -> str:
        """Store a software config for the resource (once, however often called); its id."""
        ...

    async def delete_software_config(self, ctx: ResourceContext, config_id: str) -> None: ...


@dataclass
class ResourceContext:
    """Everything a handler may read or record about one resource."""

    name: str
    type: str
    stack_id: str
    stack_name: str
    project_id: str
    uuid: str
    properties: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    physical_id: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    old_properties: dict[str, Any] | None = None
    update_policy: dict[str, Any] = field(default_factory=dict)
    nested_depth: int = 0
    files: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    services: StackServices | None = None
    # Set by the engine: persists physical_id and data immediately.
    _checkpoint: Any = None

    async def checkpoint(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint(self)

    def physical_name(self, max_length: int = 255) -> str:
        """Heat's physical id form: ``<stack>-<resource>-<12 base32 chars>``."""
        tail = base64.b32encode(bytes.fromhex(self.uuid.replace("-", ""))).decode()[:12].lower()
        name = f"{self.stack_name}-{self.name}-{tail}"
        if len(name) > max_length:
            keep = max_length - len(tail) - 4
            name = f"{self.stack_name[:2]}-{name[len(name) - keep - len(tail) - 1 :]}"
        return name


class ResourcePlugin:
    """Base of every resource type. Subclasses declare schemas and override handlers."""

    type_name: ClassVar[str]
    description: ClassVar[str] = ""
    properties_schema: ClassVar[Mapping[str, PropertySchema]] = {}
    attributes_schema: ClassVar[Mapping[str, AttributeSchema]] = {}
    support_status: ClassVar[Mapping[str, Any]] = {
        "status": "SUPPORTED",
        "version": None,
        "message": None,
        "previous_status": None,
    }
    # Whether ``signal`` is implemented.
    signal_supported: ClassVar[bool] = False

    def __init__(self, ctx: ResourceContext) -> None:
        self.ctx = ctx

    @classmethod
    def attribute_names(cls) -> frozenset[str]:
        return frozenset(cls.attributes_schema) | {"show"}

    # Handlers -------------------------------------------------------------------------

    async def create(self) -> None:
        self.ctx.physical_id = self.ctx.physical_id or self.ctx.physical_name()

    async def update(self, changed: Mapping[str, Any]) -> None:
        """Apply changed properties in place; ``self.ctx.properties`` holds the new ones."""

    async def delete(self) -> None:
        """Remove the real resource; must succeed when it is already gone."""

    async def suspend(self) -> None:
        pass

    async def resume(self) -> None:
        pass

    async def check(self) -> None:
        pass

    async def signal(self, details: Any) -> None:
        raise ResourceFailure(f"signal is not supported for resource {self.ctx.name}.")

    # Views -----------------------------------------------------------------------------

    def reference_id(self) -> str | None:
        """What ``get_resource`` returns."""
        return self.ctx.physical_id

    def attributes(self) -> dict[str, Any]:
        """Every attribute's value, computed when an action completes and stored."""
        return {}

    def needs_replace(self, changed: Mapping[str, Any]) -> bool:
        """Whether the changed properties force a replacement (not all update_allowed)."""
        return any(
            not self.properties_schema[key].update_allowed
            for key in changed
            if key in self.properties_schema
        )
