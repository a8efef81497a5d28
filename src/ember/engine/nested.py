"""Nested stacks for plugins (template resources, groups, AWS::CloudFormation::Stack).

A nested stack is an ordinary stack with an owner. Its owner's node starts an action on
it once and parks until the nested stack's action ends (the nested stack's last node wakes
it); resumed, the handler comes back here and finds the action done. What was started is
remembered in the owner's resource data (the nested stack's id is its physical id), so a
resumed node, or one run again after an engine died, waits for the same action instead of
starting a second one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.states import Action, Status
from ember.db.database import Database
from ember.db.models import Resource
from ember.db.records import Wait, stack_key
from ember.db.unit import UnitOfWork
from ember.engine.caller import Caller
from ember.engine.ops.software import SoftwareOps
from ember.engine.ops.stacks import StackOps
from ember.engine.progress import child_failure
from ember.engine.resource import (
    ATTRIBUTE_ERRORS,
    PeerResource,
    ResourceContext,
    ResourceFailure,
)
from ember.engine.runner import ADJUST_KEY, NestedStackFailed

# Resource data: the nested update or action started and not yet seen to end.
UPDATING_KEY = "nested_updating"
ACTING_KEY = "nested_acting"
DELETING_KEY = "nested_deleting"


@dataclass(frozen=True)
class ChildState:
    action: str
    status: str
    reason: str
    deleted: bool
    failure: dict[str, Any] | None


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# The states in which Heat finds a resource by its reference (resource_by_refid).
FINDABLE = frozenset(
    {
        (Action.INIT, Status.COMPLETE),
        (Action.CREATE, Status.IN_PROGRESS),
        (Action.CREATE, Status.COMPLETE),
        (Action.RESUME, Status.IN_PROGRESS),
        (Action.RESUME, Status.COMPLETE),
        (Action.UPDATE, Status.IN_PROGRESS),
        (Action.UPDATE, Status.COMPLETE),
        (Action.CHECK, Status.COMPLETE),
    }
)


class NestedStacks:
    """The engine's ``StackServices``: nested stacks, software configs and reads of peer
    resources for plugins."""

    def __init__(
        self, settings: Settings, db: Database, stacks: StackOps, software: SoftwareOps
    ) -> None:
        self.settings = settings
        self.db = db
        self.stacks = stacks
        self.software = software

    @staticmethod
    def _caller(ctx: ResourceContext) -> Caller:
        return Caller.engine(ctx.project_id)

    async def _state(self, stack_id: str) -> ChildState | None:
        # On the writer: the engine's own reads must not queue behind the API's.
        return await self.db.run(_child, stack_id)

    async def _wait(self, ctx: ResourceContext, stack_id: str, action: str) -> None:
        """Return once the nested stack has finished ``action``; raise if it failed; park
        the node while it runs."""
        state = await self._state(stack_id)
        if state is None:
            if action == Action.DELETE:
                return
            raise ResourceFailure("The nested stack has gone")
        if action == Action.DELETE and state.deleted:
            return
        if state.deleted:
            raise ResourceFailure("The nested stack has gone")
        if state.action == action and state.status == Status.COMPLETE:
            return
        if state.action in (action, Action.ROLLBACK) and state.status == Status.FAILED:
            raise NestedStackFailed(child_failure(state.reason, state.failure))
        raise ctx.park(Wait(key=stack_key(stack_id)))

    async def _once(
        self,
        ctx: ResourceContext,
        key: str,
        target: str,
        start: Callable[[], Awaitable[None]],
        stack_id: str,
        action: str,
    ) -> None:
        """Start the nested action unless it was started before (``ctx.data[key]`` says
        so), then wait for it; once it has ended, forget that it was started."""
        if ctx.data.get(key) != target:
            await start()
            ctx.data[key] = target
            await ctx.checkpoint()
        try:
            await self._wait(ctx, stack_id, action)
        except ResourceFailure:
            ctx.data[key] = ""
            await ctx.checkpoint()
            raise
        ctx.data[key] = ""

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
    ) -> str:
        """Create ``ctx``'s nested stack (adopt it from ``adopt``, when given) and wait
        for it."""
        action = Action.CREATE if adopt is None else Action.ADOPT
        if ctx.physical_id is None:
            # Made before, by a run of this node whose engine died before it noted the id:
            # the name comes from the resource's own id, so it is this resource's stack.
            ctx.physical_id = await self.db.run(_child_named, ctx.stack_id, ctx.physical_name())
            if ctx.physical_id is not None:
                await ctx.checkpoint()
        if ctx.physical_id is None:
            limit = self.settings.max_nested_stack_depth
            if ctx.nested_depth >= limit:
                raise errors.RequestLimitExceeded(f"Recursion depth exceeds {limit}.")
            root, parent_timeout = await self.db.run(_root_and_timeout_of, ctx.stack_id)
            if timeout_mins is None:
                timeout_mins = parent_timeout  # as in Heat: the nested stack's own is its parent's
            # Errors in the nested definition keep their type (StackValidationFailed, ...).
            created = await self.stacks.create(
                self._caller(ctx),
                ctx.physical_name(),
                template,
                params=dict(parameters),
                files=dict(files),
                environment=dict(environment or {}),
                args={
                    "timeout_mins": timeout_mins,
                    "disable_rollback": True,
                    **({"adopt_stack_data": dict(adopt)} if adopt is not None else {}),
                },
                owner={
                    "stack_id": ctx.stack_id,
                    "resource_name": ctx.name,
                    "root_stack_id": root,
                    "depth": ctx.nested_depth + 1,
                    "facade": dict(facade) if facade is not None else None,
                },
            )
            ctx.physical_id = created["stack_id"]
            await ctx.checkpoint()
        await self._wait(ctx, ctx.physical_id, action)
        return ctx.physical_id

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
    ) -> None:
        if timeout_mins is None:
            timeout_mins = (await self.db.run(_root_and_timeout_of, ctx.stack_id))[1]
        target = _digest(stack_id, template, parameters, files, environment, timeout_mins, facade)

        async def start() -> None:
            # Keyed by what is asked: a node run again after its engine died, before it
            # noted the start, finds the update running instead of superseding it.
            await self.stacks.update(
                self._caller(ctx),
                stack_id,
                template,
                params=dict(parameters),
                files=dict(files),
                environment=dict(environment or {}),
                args={
                    "timeout_mins": timeout_mins,
                    "request_key": target,
                    "facade": dict(facade) if facade is not None else None,
                },
            )

        await self._once(ctx, UPDATING_KEY, target, start, stack_id, Action.UPDATE)

    async def wait_nested(self, ctx: ResourceContext, stack_id: str, action: str) -> None:
        """Wait for the nested action this resource started before (and was parked in)."""
        try:
            await self._wait(ctx, stack_id, action.upper())
        except ResourceFailure:
            ctx.data[UPDATING_KEY] = ""
            await ctx.checkpoint()
            raise
        ctx.data[UPDATING_KEY] = ""

    async def delete_nested(self, ctx: ResourceContext, stack_id: str) -> None:
        state = await self._state(stack_id)
        if state is None or state.deleted:
            return

        async def start() -> None:
            with contextlib.suppress(errors.EntityNotFound):
                await self.stacks.delete(self._caller(ctx), stack_id)

        await self._once(ctx, DELETING_KEY, stack_id, start, stack_id, Action.DELETE)

    async def nested_action(self, ctx: ResourceContext, stack_id: str, action: str) -> None:
        """``action`` is SUSPEND, RESUME or CHECK (either case)."""

        async def start() -> None:
            await self.stacks.act(self._caller(ctx), stack_id, action.lower())

        await self._once(ctx, ACTING_KEY, action.upper(), start, stack_id, action.upper())

    async def nested_outputs(self, stack_id: str) -> dict[str, Any]:
        shown = await self.stacks.show(Caller.engine(""), stack_id)
        listed = shown.get("outputs") or []
        outputs: dict[str, Any] = {o["output_key"]: o.get("output_value") for o in listed}
        failed = {o["output_key"]: o["output_error"] for o in listed if "output_error" in o}
        if failed:
            outputs[ATTRIBUTE_ERRORS] = failed
        return outputs

    async def nested_members(self, stack_id: str) -> dict[str, tuple[Any, dict[str, Any]]]:
        return await self.db.read(_members_of, stack_id)

    async def nested_template(self, stack_id: str) -> dict[str, Any]:
        """The nested stack's current template (what its resources are defined as)."""
        return await self.stacks.template(Caller.engine(""), stack_id)

    async def nested_files(self, stack_id: str) -> dict[str, str]:
        return await self.db.read(_files_of, stack_id)

    async def create_software_config(
        self, ctx: ResourceContext, config_id: str | None = None, **fields: Any
    ) -> str:
        # The resource's own id names the config, so a resumed create finds it; it counts
        # against its project's quota like any other.
        return await self.software.config_for_resource(
            Caller(project_id=ctx.project_id), config_id or ctx.uuid, fields
        )

    async def delete_software_config(self, ctx: ResourceContext, config_id: str) -> None:
        await self.software.delete_config(Caller(project_id=ctx.project_id), config_id)

    async def software_config(self, ctx: ResourceContext, config_id: str) -> dict[str, Any] | None:
        return await self.software.config_of(Caller(project_id=ctx.project_id), config_id)

    async def put_software_deployment(
        self, ctx: ResourceContext, deployment_id: str, **fields: Any
    ) -> dict[str, Any]:
        return await self.software.deployment_for_resource(
            Caller(project_id=ctx.project_id), deployment_id, fields
        )

    async def software_deployment(
        self, ctx: ResourceContext, deployment_id: str
    ) -> dict[str, Any] | None:
        return await self.software.deployment_of(Caller(project_id=ctx.project_id), deployment_id)

    async def signal_software_deployment(
        self, ctx: ResourceContext, deployment_id: str, details: Any
    ) -> str | None:
        return await self.software.signal_deployment(
            Caller(project_id=ctx.project_id), deployment_id, details
        )

    async def delete_software_deployment(self, ctx: ResourceContext, deployment_id: str) -> None:
        with contextlib.suppress(errors.EntityNotFound):
            await self.software.delete_deployment(Caller(project_id=ctx.project_id), deployment_id)

    # Peers --------------------------------------------------------------------------------

    async def _peer(self, stack_id: str, row: Resource, data: dict[str, str]) -> PeerResource:
        raw_template_id = await self.db.run(_raw_template_of, stack_id)
        defn = await self.stacks.definitions.get(stack_id, raw_template_id)
        plugin = self.stacks.plugins.resolved(defn.environment.registry, row.type, row.name)
        return PeerResource(
            resource_id=row.id,
            name=row.name,
            plugin=plugin,
            signals=row.signals,
            type=plugin.type_name if plugin is not None else row.type,
            reference_id=row.reference_id,
            action=row.action,
            status=row.status,
            properties=row.properties,
            metadata=dict(row.metadata_ or {}),
            data=data,
            adjustable=plugin is not None and plugin.adjustable,
        )

    async def find_resource(self, ctx: ResourceContext, reference: str) -> PeerResource | None:
        # On the writer: a waiter must see every signal recorded before it parks.
        found = await self.db.run(_by_reference, ctx.stack_id, reference)
        if found is None:
            return None
        return await self._peer(ctx.stack_id, *found)

    async def adjust_group(
        self, ctx: ResourceContext, group: str, adjustment: Mapping[str, Any]
    ) -> None:
        found = await self.db.run(_by_name, ctx.stack_id, group)
        peer = await self._peer(ctx.stack_id, *found) if found is not None else None
        if peer is None or not peer.adjustable:
            raise ResourceFailure(f"{group} is not a scaling group")
        assert found is not None
        await self.stacks.launcher.update_resource(
            ctx.stack_id, found[0].uuid, {ADJUST_KEY: dict(adjustment)}
        )


def _child(uow: UnitOfWork, stack_id: str) -> ChildState | None:
    stack = uow.stacks.get(stack_id)
    if stack is None:
        return None
    return ChildState(
        stack.action,
        stack.status,
        stack.status_reason or "",
        stack.deleted_at is not None,
        stack.failure,
    )


def _child_named(uow: UnitOfWork, owner_id: str, name: str) -> str | None:
    return uow.stacks.child_named(owner_id, name)


def _root_and_timeout_of(uow: UnitOfWork, stack_id: str) -> tuple[str, int | None]:
    """The root of a stack's tree, and the stack's own timeout."""
    stack = uow.stacks.get(stack_id)
    return uow.stacks.root_of(stack_id), stack.timeout_mins if stack is not None else None


def _raw_template_of(uow: UnitOfWork, stack_id: str) -> int:
    stack = uow.stacks.get(stack_id)
    if stack is None:
        raise ResourceFailure("The stack has gone")
    return stack.raw_template_id


def _by_reference(
    uow: UnitOfWork, stack_id: str, reference: str
) -> tuple[Resource, dict[str, str]] | None:
    """Heat's ``resource_by_refid``: the resource ``get_resource`` gives ``reference`` for,
    or else the current one named so, among those in a state that can be referred to."""
    rows = [r for r in uow.resources.live(stack_id) if (r.action, r.status) in FINDABLE]
    row = next((r for r in rows if r.reference_id == reference), None)
    if row is None:
        row = next(
            (r for r in rows if r.name == reference and uow.resources.is_current(r.id)), None
        )
    return (row, uow.resources.data(row.id)) if row is not None else None


def _by_name(uow: UnitOfWork, stack_id: str, name: str) -> tuple[Resource, dict[str, str]] | None:
    row = next((r for r in uow.resources.live(stack_id) if r.name == name), None)
    return (row, uow.resources.data(row.id)) if row is not None else None


def _members_of(uow: UnitOfWork, stack_id: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    return uow.resources.peers_of(stack_id)


def _files_of(uow: UnitOfWork, stack_id: str) -> dict[str, str]:
    stack = uow.stacks.get(stack_id)
    if stack is None:
        return {}
    return dict(uow.stacks.template(stack.raw_template_id).files or {})
