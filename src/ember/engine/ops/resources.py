"""Resource operations: list and show (across nested stacks), metadata, health, and
signals — hook clearing included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.states import Action, Status, TraversalState
from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.events import resource_row_event
from ember.db.models import Event, Resource, Stack
from ember.db.records import NodeKey, hook_key
from ember.db.stack_queries import values_of
from ember.db.unit import UnitOfWork
from ember.engine import views
from ember.engine.caller import Caller
from ember.engine.definitions import DefinitionCache
from ember.engine.launch import Launcher
from ember.engine.ops.stacks import StackOps
from ember.engine.plugins import PluginRegistry
from ember.rpc.api import Ctx, JSONMap

# How long a synchronous signal (a wait condition's PUT) waits for its handler.
SYNC_SIGNAL_SECONDS = 20.0
HOOK_TYPES = ("pre-create", "pre-update", "pre-delete", "post-create", "post-update", "post-delete")


class ResourceOps:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        plugins: PluginRegistry,
        definitions: DefinitionCache,
        stacks: StackOps,
        launcher: Launcher,
    ) -> None:
        self.settings = settings
        self.db = db
        self.plugins = plugins
        self.definitions = definitions
        self.stacks = stacks
        self.launcher = launcher

    async def list_resources(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        with_detail: bool = False,
        nested_depth: int = 0,
        filters: JSONMap | None = None,
    ) -> list[JSONMap]:
        caller = Caller.from_ctx(ctx)
        depth = min(int(nested_depth or 0), self.settings.max_nested_stack_depth)
        tree = await self.db.read(
            _tree, caller.stack_scope(stack_identity, stack_id), stack_identity, stack_id, depth
        )
        out = []
        for stack, owner, rows, nested in tree:
            required_by: dict[str, set[str]] = {r.name: set() for r in rows}
            for row in rows:
                for dep in row.requires or []:
                    required_by.setdefault(dep, set()).add(row.name)
            for row in rows:
                if not _matches(row, filters or {}):
                    continue
                out.append(
                    views.resource_view(
                        row,
                        stack,
                        sorted(required_by[row.name]),
                        detail=with_detail,
                        nested_stack=nested.get(row.name),
                        parent_resource=owner,
                    )
                )
        return out

    async def find_physical_resource(self, ctx: Ctx, physical_resource_id: str) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        row, stack = await self.db.read(_with_physical_id, caller.scope(), physical_resource_id)
        return {
            "stack_id": stack.id,
            "stack_name": stack.name,
            "project_id": stack.project_id,
            "resource_name": row.name,
        }

    async def show_resource(
        self, ctx: Ctx, stack_identity: str, resource_name: str, stack_id: str | None = None
    ) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        # Through the writer: the resource as of every outcome recorded so far.
        stack, row, required_by, nested = await self.db.run(
            _shown_resource,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            resource_name,
        )
        _reachable(caller, row, stack_identity)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        rd = defn.resources.get(row.name)
        return views.resource_view(
            row,
            stack,
            required_by,
            detail=True,
            description=rd.description if rd else "",
            nested_stack=nested,
            parent_resource=stack.owner_resource,
        )

    async def resource_metadata(
        self, ctx: Ctx, stack_identity: str, resource_name: str, stack_id: str | None = None
    ) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        _, row, _ = await self.db.run(
            _resource,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            resource_name,
        )
        _reachable(caller, row, stack_identity)
        return dict(row.metadata_ or {})

    async def mark_unhealthy(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        mark_unhealthy: bool,
        reason: str = "",
        stack_id: str | None = None,
    ) -> None:
        caller = Caller.from_ctx(ctx)
        await self.db.run(
            _mark_tx,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            resource_name,
            mark_unhealthy,
            reason,
        )

    async def signal_resource(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        details: Any = None,
        stack_id: str | None = None,
        sync_call: bool = False,
    ) -> None:
        caller = Caller.from_ctx(ctx)
        stack, row, _ = await self.db.run(
            _resource,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            resource_name,
        )
        _reachable(caller, row, stack_identity)
        if isinstance(details, dict) and "unset_hook" in details and caller.signal_resource_id:
            raise errors.Forbidden(action="unset_hook")
        if isinstance(details, dict) and "unset_hook" in details:
            hook = str(details["unset_hook"])
            if hook not in HOOK_TYPES:
                raise errors.InvalidRequest(f'Invalid hook type "{hook}" for {row.name}')
            woken = await self.db.run(_clear_hook_tx, row.id, hook)
            await self.launcher.publish(woken)
            return
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        # Aliases and template types reach the plugin the environment maps them to.
        plugin = self.plugins.resolved(defn.environment.registry, row.type, row.name)
        if plugin is None or not plugin.signal_supported:
            raise errors.ResourceActionNotSupported(action="signal")
        # Most types refuse signals while being suspended or deleted (their plugin says).
        if row.action in plugin.no_signal_actions:
            await self.db.run(_refused_tx, stack.id, row.id, row.action)
            raise errors.NotSupported(feature=f"Signal resource during {row.action}")
        traversal_id = await self.launcher.signal(stack.id, row.uuid, details)
        if sync_call:
            await self._handled(stack.id, row.name, traversal_id)

    async def _handled(self, stack_id: str, resource_name: str, traversal_id: str) -> None:
        """Wait for a signal's traversal to end (at most ``SYNC_SIGNAL_SECONDS``: after
        that the signal is still handled, only not waited for); a refused signal raises
        the reason its handler gave."""
        deadline = time.monotonic() + SYNC_SIGNAL_SECONDS
        delay = 0.005
        state = await self.db.read(_traversal_state, traversal_id)
        while state == TraversalState.RUNNING and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
            state = await self.db.read(_traversal_state, traversal_id)
        if state == TraversalState.FAILED:
            event = await self.db.read(_last_signal_event, stack_id, resource_name)
            reason = event.resource_status_reason if event is not None else None
            raise errors.InvalidRequest(reason or "The signal was refused")


def _matches(row: Resource, filters: Mapping[str, Any]) -> bool:
    checks = {
        "name": lambda v: row.name in v,
        "type": lambda v: any(str(x) in row.type for x in v),
        "action": lambda v: row.action in v,
        "status": lambda v: row.status in v or f"{row.action}_{row.status}" in v,
        "id": lambda v: row.uuid in v,
        "physical_resource_id": lambda v: row.physical_resource_id in v,
    }
    return all(checks[k](values_of(v)) for k, v in filters.items() if k in checks)


# Units of work -----------------------------------------------------------------------------


def _tree(
    uow: UnitOfWork, project: str | None, identity: str, stack_id: str | None, depth: int
) -> list[tuple[Stack, str | None, list[Resource], dict[str, tuple[str, str]]]]:
    stack = uow.stacks.find(project, identity, stack_id)
    out = []
    for member, owner in uow.stacks.tree(stack, depth):
        rows = uow.resources.live(member.id)
        out.append((member, owner, rows, uow.stacks.nested_by_owner(member.id)))
    return out


def _traversal_state(uow: UnitOfWork, traversal_id: str) -> str | None:
    return uow.traversals.state_of(traversal_id)


def _last_signal_event(uow: UnitOfWork, stack_id: str, resource_name: str) -> Event | None:
    return uow.events.last_of(stack_id, resource_name, Action.SIGNAL)


def _reachable(caller: Caller, row: Resource, stack_identity: str) -> None:
    """A signal credential sees no resource but its own (nor learns that others exist)."""
    if not caller.may_reach(row.id):
        raise errors.EntityNotFound(entity="Resource", name=f"{row.name} of {stack_identity}")


def _resource(
    uow: UnitOfWork, project: str | None, identity: str, stack_id: str | None, name: str
) -> tuple[Stack, Resource, list[str]]:
    stack = uow.stacks.find(project, identity, stack_id)
    row = uow.resources.find(stack, name)
    others = uow.resources.of_stack(stack.id)
    required_by = sorted({r.name for r in others if row.name in (r.requires or [])})
    return stack, row, required_by


def _shown_resource(
    uow: UnitOfWork, project: str | None, identity: str, stack_id: str | None, name: str
) -> tuple[Stack, Resource, list[str], tuple[str, str] | None]:
    """A resource as show gives it: with the nested stack it owns, as the list has it."""
    stack, row, required_by = _resource(uow, project, identity, stack_id, name)
    return stack, row, required_by, uow.stacks.nested_by_owner(stack.id).get(row.name)


def _mark_tx(
    uow: UnitOfWork,
    project: str | None,
    identity: str,
    stack_id: str | None,
    name: str,
    unhealthy: bool,
    reason: str,
) -> None:
    if not isinstance(unhealthy, bool):
        raise errors.InvalidRequest('"mark_unhealthy" must be a boolean')
    stack = uow.stacks.find(project, identity, stack_id)
    row = uow.resources.find(stack, name)
    if row.status == Status.IN_PROGRESS:
        raise errors.ActionInProgress(stack_name=stack.name, action=row.action)
    status = Status.FAILED if unhealthy else Status.COMPLETE
    reason = reason or ("Marked unhealthy" if unhealthy else "Marked healthy")
    uow.resources.set_state(
        row.id,
        action=Action.CHECK,
        status=status,
        status_reason=reason,
        needs_replace=unhealthy,
        updated_at=utcnow(),
    )
    uow.events.add(
        [
            resource_row_event(
                stack, row.name, row.physical_resource_id, row.type, Action.CHECK, status, reason
            )
        ]
    )


def _clear_hook_tx(uow: UnitOfWork, resource_id: int, hook: str) -> list[NodeKey]:
    """Clear a breakpoint a node is paused at, and wake that node."""
    row = uow.resources.lock(resource_id)
    if uow.resources.hook_state(resource_id, hook) != "waiting":
        raise errors.InvalidRequest(f"The {hook} hook is not active on resource {row.name}.")
    uow.resources.set_hook_state(resource_id, hook, "cleared")
    stack = uow.stacks.get(row.stack_id)
    assert stack is not None
    uow.events.add(
        [
            resource_row_event(
                stack,
                row.name,
                row.physical_resource_id,
                row.type,
                row.action,
                row.status,
                f"Hook {hook} is cleared",
            )
        ]
    )
    return uow.traversals.wake([hook_key(resource_id, hook)], "hook")


def _refused_tx(uow: UnitOfWork, stack_id: str, resource_id: int, action: str) -> None:
    stack = uow.stacks.get(stack_id)
    row = uow.resources.get(resource_id)
    if stack is None or row is None:
        return
    uow.events.add(
        [
            resource_row_event(
                stack,
                row.name,
                row.physical_resource_id,
                row.type,
                row.action,
                row.status,
                f"Cannot signal resource during {action}",
            )
        ]
    )


def _with_physical_id(
    uow: UnitOfWork, project: str | None, physical_id: str
) -> tuple[Resource, Stack]:
    return uow.resources.with_physical_id(project, physical_id)
