"""The resource plugin API: what a resource type declares and the handlers it implements.

Lifecycle: the engine resolves a resource's properties, checks them against
``properties_schema``, then awaits one handler (``create``, ``update``, ``delete``,
``suspend``, ``resume``, ``check``, ``signal``). A handler reports what it made through
its ``ResourceContext``: ``physical_id`` and ``data`` are stored when the action
completes, and ``checkpoint()`` stores them at once, for types whose real resource must
never be made twice.

A handler that has to wait (for a nested stack, a signal, a pause) does not hold on: the
helpers that wait raise ``Parked``, the engine records what the handler made so far and
parks the node, and when what it waits for happens the handler is called again from the
start, with everything recorded. Handlers are therefore written to be resumed: one that
finds a ``physical_id`` (or data) from before checks it instead of making a second one.
The same holds when a node is run again after an engine died.

What a type can do is declared on the class (``any_properties``, ``dynamic_attributes``,
``update_failed_in_place``, ``signal_supported``, ``signal_credential``,
``no_signal_actions``, ``adjustable``, ``adopts_nested``, ``refreshes_metadata``); the
engine never probes for methods.
"""

from __future__ import annotations

import base64
import builtins
import datetime as dt
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ember.common.timeutils import utcnow
from ember.db.records import Wait, signal_key, turn_key
from ember.template import Limits, Members, PropertySchema

PAUSE_KEY = "pause:"


# Under this key of a resource's attributes: the attributes whose values failed (a nested
# stack's outputs that did), by name, with why; reading one of them fails the same way.
ATTRIBUTE_ERRORS = "::attribute-errors"
# Set in a resource's attributes when they are every attribute it has (a template
# resource's: its template's outputs): reading another fails, as in Heat, instead of null.
# A list of name prefixes instead closes only the names that start with one of them.
ATTRIBUTES_CLOSED = "::attributes-closed"
# What an attribute that is not listed (and not closed) reads as, when not null (each
# member attribute of a group of no members: an empty list).
ATTRIBUTE_DEFAULT = "::attribute-default"
RESERVED_ATTRIBUTES = (ATTRIBUTE_ERRORS, ATTRIBUTES_CLOSED, ATTRIBUTE_DEFAULT)


def is_closed(values: Mapping[str, Any], attribute: str) -> bool:
    """Whether reading ``attribute``, not among ``values``, fails."""
    closed = values.get(ATTRIBUTES_CLOSED)
    if isinstance(closed, list):
        return any(attribute.startswith(str(prefix)) for prefix in closed)
    return bool(closed)


def shown_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's attributes without the keys that say how to read them."""
    return {k: v for k, v in values.items() if k not in RESERVED_ATTRIBUTES}


class ResourceFailure(Exception):
    """A handler failed; the message becomes the resource's status reason. ``error_type``
    is the type clients are shown (Heat names some failures after Python's errors)."""

    error_type: ClassVar[str | None] = None


class UpdateReplace(Exception):
    """Raised by ``update`` when the change can only be made by replacing the resource."""


class Parked(BaseException):
    """Control flow, not an error: the handler waits for ``wait``. Derived from
    BaseException so that a handler's own ``except Exception`` does not swallow it."""

    def __init__(self, wait: Wait) -> None:
        super().__init__(wait)
        self.wait = wait


@dataclass(frozen=True)
class AttributeSchema:
    description: str = ""
    type: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        if self.type:
            out["type"] = self.type
        return out


@dataclass(frozen=True)
class SignalAccess:
    """A resource's own signal credential and the URLs built on it. The holder may signal
    that one resource and read its metadata, nothing else; it is revoked when the resource
    is deleted or replaced. Made by the engine for every type that declares
    ``signal_credential``, before its ``create`` runs.

    - ``access_key``/``secret_key``: an EC2-style key pair (what ``cfn-signal`` and the
      pre-signed URLs sign with);
    - ``token``: a bearer token for heat-api's ``X-Auth-Token`` (TOKEN_SIGNAL);
    - ``heat_url``: heat-api's ``.../resources/<name>/signal`` of the resource;
    - ``cfn_signal_url``: heat-api-cfn's pre-signed ``POST /v1/signal/<arn>``;
    - ``cfn_waitcondition_url``: heat-api-cfn's pre-signed ``PUT /v1/waitcondition/<arn>``;
    - ``metadata_url``: heat-api-cfn's base for reading the resource's metadata.
    """

    access_key: str
    secret_key: str
    token: str
    heat_url: str
    cfn_signal_url: str
    cfn_waitcondition_url: str
    metadata_url: str
    user_id: str
    project_id: str


@dataclass(frozen=True)
class PeerResource:
    """Another resource of the same stack, as a plugin that works with it sees it (a
    wait condition its handle, a scaling policy its group, a group its launch
    configuration). Read afresh on every call.

    - ``resource_id``: its row id (what ``wait_for_signal`` takes); ``signals``: how many
      signals it has handled;
    - ``type``/``plugin``: the type its plugin implements and that plugin (aliases and
      registry mappings followed; None when no plugin has the type);
    - ``properties``: the resolved properties it was last created or updated with (None
      before it was made), ``metadata`` its resolved metadata;
    - ``data``: its plugin's own records, in that plugin's format (read-only);
    - ``adjustable``: whether its type takes scaling adjustments (``adjust_group``).
    """

    resource_id: int
    name: str
    type: str
    plugin: builtins.type[ResourcePlugin] | None
    reference_id: str | None
    action: str
    status: str
    properties: Mapping[str, Any] | None
    metadata: Mapping[str, Any]
    signals: int
    data: Mapping[str, str]
    adjustable: bool


class StackServices(Protocol):
    """What the engine offers plugins that manage nested stacks or software configs. The
    nested-stack calls return once the nested stack has finished the action (parking the
    node meanwhile) and raise ``ResourceFailure`` when it failed."""

    async def create_nested(
        self,
        ctx: ResourceContext,
        template: dict[str, Any] | str,
        parameters: Mapping[str, Any],
        files: Mapping[str, str],
        timeout_mins: int | None,
        environment: Mapping[str, Any] | None = None,
        facade: Mapping[str, Any] | None = None,
        adopt: Mapping[str, Any] | None = None,
    ) -> str: ...

    async def update_nested(
        self,
        ctx: ResourceContext,
        stack_id: str,
        template: dict[str, Any] | str,
        parameters: Mapping[str, Any],
        files: Mapping[str, str],
        timeout_mins: int | None,
        environment: Mapping[str, Any] | None = None,
        facade: Mapping[str, Any] | None = None,
    ) -> None: ...

    async def wait_nested(self, ctx: ResourceContext, stack_id: str, action: str) -> None:
        """Wait again for a nested action started before the node was parked."""
        ...

    async def delete_nested(self, ctx: ResourceContext, stack_id: str) -> None: ...

    async def nested_action(self, ctx: ResourceContext, stack_id: str, action: str) -> None: ...

    async def nested_outputs(self, stack_id: str) -> dict[str, Any]: ...

    async def nested_template(self, stack_id: str) -> dict[str, Any]: ...

    async def nested_files(self, stack_id: str) -> dict[str, str]:
        """The files the nested stack's current template was given."""
        ...

    async def nested_members(self, stack_id: str) -> dict[str, tuple[Any, dict[str, Any]]]:
        """Each resource of the nested stack by name: its reference id and attributes."""
        ...

    async def create_software_config(
        self, ctx: ResourceContext, config_id: str | None = None, **fields: Any
    ) -> str:
        """Store a software config for the resource (once, however often called); its id.
        ``config_id`` (default: the resource's own id) names it, so that a resource making
        several (a deployment's derived configs) names each and finds it when resumed."""
        ...

    async def delete_software_config(self, ctx: ResourceContext, config_id: str) -> None: ...

    async def software_config(self, ctx: ResourceContext, config_id: str) -> dict[str, Any] | None:
        """A config of the resource's project as the API shows it; None if there is none."""
        ...

    async def put_software_deployment(
        self, ctx: ResourceContext, deployment_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Store the resource's deployment (``config_id``, ``server_id``, ``input_values``,
        ``action``, ``status``, ``status_reason``): made by the first call, changed by the
        next. With ``deployment_id`` the resource's own id (``ctx.uuid``) and its physical
        id, a status change made later through the deployment API counts as a signal to
        the resource, waking it."""
        ...

    async def software_deployment(
        self, ctx: ResourceContext, deployment_id: str
    ) -> dict[str, Any] | None:
        """The deployment as the API shows it; None if there is none."""
        ...

    async def signal_software_deployment(
        self, ctx: ResourceContext, deployment_id: str, details: Any
    ) -> str | None:
        """Apply a signal's details to an IN_PROGRESS deployment as Heat does (outputs,
        status code, error outputs: COMPLETE or FAILED); what happened, or None when the
        deployment was not waiting for outputs."""
        ...

    async def delete_software_deployment(self, ctx: ResourceContext, deployment_id: str) -> None:
        """Must succeed when the deployment is already gone."""
        ...

    async def find_resource(self, ctx: ResourceContext, reference: str) -> PeerResource | None:
        """Heat's ``resource_by_refid``: the current resource of ``ctx``'s stack that
        ``get_resource`` gives ``reference`` for, or else the one named so, in a state that
        can be referred to; None when there is none."""
        ...

    async def adjust_group(
        self, ctx: ResourceContext, group: str, adjustment: Mapping[str, Any]
    ) -> None:
        """Ask the resource ``group`` of ``ctx``'s stack, whose type declares
        ``adjustable``, to resize by ``adjustment``; returns once the request is stored.

        The adjustment (not a size) becomes a one-resource UPDATE of the group, which its
        plugin reads as ``ctx.adjustment``. The new size is computed by the group's own
        node from the size the group has when that node runs, never by the sender from a
        size it read earlier: requests sent at once (by several policies, or one policy
        signalled twice) are separate nodes of the same resource, which its lock lets run
        only one at a time, and a node that finds another one's resize still under way
        (parked while the nested stack changes, when the lock is free) waits for its turn
        (``ResourceContext.wait_turn``) instead of acting beside it. So each adjustment
        acts on what the one before left, and none can overwrite another's result or
        act in the middle of a stack update of the group."""
        ...


Checkpoint = Callable[["ResourceContext"], Coroutine[Any, Any, None]]


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
    deletion_policy: str = "Delete"
    nested_depth: int = 0
    files: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    services: StackServices | None = None
    # The resource's row id (what wake keys name) and how many signals it has handled.
    resource_id: int = 0
    signals: int = 0
    # The resource's signal credential, for types that declare ``signal_credential``.
    signal_access: SignalAccess | None = None
    # A scaling adjustment this resource's update was started for (``adjust_group``):
    # ``adjustment_type``, ``adjustment``, ``min_adjustment_step``, ``cooldown``.
    adjustment: Mapping[str, Any] | None = None
    # When the stack is adopted, for a type that ``adopts_nested``: the adopt data of its
    # nested stack (``{"resources": {...}}``, as the resource's own entry holds them).
    adopt: Mapping[str, Any] | None = None
    # heat.conf's limits: a type that makes members checks their number (against
    # ``max_resources``) and size before it makes them.
    limits: Limits = field(default_factory=Limits)
    # Set by the engine: persists physical_id and data immediately.
    checkpointer: Checkpoint | None = None

    async def checkpoint(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer(self)

    def physical_name(self, max_length: int = 255) -> str:
        """Heat's physical id form: ``<stack>-<resource>-<12 base32 chars>``."""
        tail = base64.b32encode(bytes.fromhex(self.uuid.replace("-", ""))).decode()[:12].lower()
        name = f"{self.stack_name}-{self.name}-{tail}"
        if len(name) > max_length:
            keep = max_length - len(tail) - 4
            name = f"{self.stack_name[:2]}-{name[len(name) - keep - len(tail) - 1 :]}"
        return name

    # Waiting -----------------------------------------------------------------------------

    def park(self, wait: Wait) -> Parked:
        """The exception to raise to wait for ``wait`` (what was recorded in ``data`` and
        ``physical_id`` is kept)."""
        return Parked(wait)

    async def pause(self, name: str, seconds: float) -> None:
        """Wait ``seconds`` once (a resumed handler waits only what is left): returns
        when the time has passed, parking the node meanwhile."""
        key = PAUSE_KEY + name
        if not self.data.get(key):
            until = utcnow() + dt.timedelta(seconds=seconds)
            self.data[key] = until.isoformat()
        until = dt.datetime.fromisoformat(self.data[key])
        if utcnow() >= until:
            self.data[key] = ""  # over: the next pause of this name starts afresh
            return
        raise self.park(Wait(at=until))

    async def wait_turn(self) -> None:
        """Park until a node of this resource next ends its action (done or failed): for
        a handler that finds another node's action under way, parked in its middle (a
        resource's lock is held only while a node runs), and must not act beside it. On
        being resumed it checks again."""
        raise self.park(Wait(key=turn_key(self.resource_id)))

    async def wait_for_signal(
        self, resource_id: int, seen: int, deadline: dt.datetime | None = None
    ) -> None:
        """Park until the resource ``resource_id`` has handled more than ``seen`` signals
        or, given a ``deadline``, until then, whichever comes first (the caller checks, on
        being resumed, which it was and whether what it waits for has come)."""
        raise self.park(Wait(key=signal_key(resource_id), at=deadline, seen=seen))


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
    # Capabilities ------------------------------------------------------------------------
    # Properties are not checked against a schema (a template resource: whatever its
    # template's parameters are).
    any_properties: ClassVar[bool] = False
    # Attributes are not known in advance (group members' attributes, nested outputs).
    dynamic_attributes: ClassVar[bool] = False
    # A FAILED resource is brought up to date in place (as Heat's StackResource does)
    # instead of being replaced.
    update_failed_in_place: ClassVar[bool] = False
    # ``check`` looks at the physical resource (Heat's ``handle_check``); a type without
    # it is only recorded as not supporting a check.
    check_supported: ClassVar[bool] = False
    # ``signal`` is implemented.
    signal_supported: ClassVar[bool] = False
    # Whether the resource is given a signal credential of its own (``ctx.signal_access``)
    # from its create on: a resource something outside the cloud signals.
    signal_credential: ClassVar[bool] = False
    # The actions during which signals are refused (Heat's rule for most types: none while
    # suspending or deleting); a type that waits for a signal in those actions allows it.
    no_signal_actions: ClassVar[tuple[str, ...]] = ("SUSPEND", "DELETE")
    # Takes scaling adjustments (``StackServices.adjust_group``): its ``update`` acts on
    # ``ctx.adjustment`` when one is given, and ``definition_changed`` says so.
    adjustable: ClassVar[bool] = False
    # Adopted by being made (Heat's StackResource.handle_adopt): its ``create`` runs with
    # ``ctx.adopt``, the adopt data of what it is made of (a nested stack's resources).
    # Any other type is adopted by taking the adopt data's id and data as they are.
    adopts_nested: ClassVar[bool] = False
    # Its template metadata is resolved again after a signal to its stack is handled
    # (Heat's ``metadata_update``): what it read then may have changed.
    refreshes_metadata: ClassVar[bool] = False

    def __init__(self, ctx: ResourceContext) -> None:
        self.ctx = ctx

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        """The resources a resource of this type makes in a nested stack of its own,
        from its properties as far as they are known before anything exists (what is not
        known is None or missing), so that validation can count them; most make none."""
        return ()

    @classmethod
    def property_problems(cls, properties: Mapping[str, Any]) -> Sequence[str]:
        """What the type refuses in its properties taken together, as far as they are known
        before anything exists (what is not known is None or missing), so that a request
        that could never succeed is refused up front, as Heat refuses it; most check none
        beyond their schema."""
        return ()

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

    async def signal(self, details: Any) -> str | None:
        """Handle a signal; what it returns is shown in the SIGNAL event (``Signal: ...``)."""
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

    def definition_changed(self) -> bool:
        """Whether what the resource is made of changed although its properties did not
        (a nested stack's template file, say): an update then acts."""
        return False
