"""Stack actions (suspend, resume, check, cancel), resource health, signals and hooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.timeutils import utcnow
from ember.db.models import Resource, ResourceData, Service, Stack, Traversal, TraversalNode
from ember.engine import planner, store_nodes, store_reads, store_stacks, views
from ember.engine.records import NodeKey
from ember.engine.resource import ResourceContext
from ember.engine.states import Action, NodeState, Status, TraversalState
from ember.engine.worker import publish_nodes

if TYPE_CHECKING:
    from ember.engine.service import EngineService

CANCEL_TOPIC = "engine.cancel"
HOOK_KEY = "hook:"


class ResourceActionNotSupported(errors.InvalidRequest):
    msg_fmt = "%(action)s is not supported for resource."


class ActionOps:
    """Mixed into EngineService."""

    async def stack_action(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        action: str,
        stack_id: str | None = None,
    ) -> None:
        stack = await self.db.run(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        if action in ("cancel_update", "cancel_without_rollback"):
            await self._cancel(stack, rollback=action == "cancel_update")
            return
        kinds = {"suspend": Action.SUSPEND, "resume": Action.RESUME, "check": Action.CHECK}
        if action not in kinds:
            raise errors.InvalidRequest(f"Invalid action {action} specified")
        kind = kinds[action]
        if stack.status == Status.IN_PROGRESS:
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
        if kind == Action.RESUME and not (stack.action == Action.SUSPEND):
            raise errors.NotSupported(feature=f"Resuming a stack that is {stack.action}")
        ready = await self.db.run(_action_tx, stack.id, kind)
        await publish_nodes(self.transport, ready)

    async def _cancel(self: EngineService, stack: Stack, *, rollback: bool) -> None:
        allowed = (Action.UPDATE,) if rollback else (Action.UPDATE, Action.CREATE)
        if stack.status != Status.IN_PROGRESS or stack.action not in allowed:
            raise errors.NotSupported(
                message=f"Cancelling update when stack is {stack.action}_{stack.status} "
                "is not supported."
            )
        traversal = stack.current_traversal
        await self.db.run(_cancel_tx, stack.id, traversal)
        if traversal:
            await self.transport.broadcast(CANCEL_TOPIC, {"traversal_id": traversal})
        if rollback:
            await self._rollback(stack.id)

    async def mark_unhealthy(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        resource_name: str,
        mark_unhealthy: bool,
        reason: str = "",
        stack_id: str | None = None,
    ) -> None:
        if not isinstance(mark_unhealthy, bool):
            raise errors.InvalidRequest('"mark_unhealthy" must be a boolean')
        await self.db.run(
            _mark_tx, _project(ctx), stack_identity, stack_id, resource_name, mark_unhealthy, reason
        )

    async def show_resource(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        resource_name: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        stack, row, required_by = await self.db.run(
            _resource_tx, _project(ctx), stack_identity, stack_id, resource_name
        )
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        rd = defn.resources.get(row.name)
        return views.resource_view(
            row, stack, required_by, detail=True, description=rd.description if rd else ""
        )

    async def resource_metadata(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        resource_name: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        _, row, _ = await self.db.run(
            _resource_tx, _project(ctx), stack_identity, stack_id, resource_name
        )
        return dict(row.metadata_ or {})

    async def signal_resource(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        resource_name: str,
        details: Any = None,
        stack_id: str | None = None,
    ) -> None:
        stack, row, _ = await self.db.run(
            _resource_tx, _project(ctx), stack_identity, stack_id, resource_name
        )
        if isinstance(details, dict) and "unset_hook" in details:
            hook = str(details["unset_hook"])
            await self.db.run(_clear_hook_tx, row.id, hook)
            return
        plugin_cls = self.plugins.get(row.type)
        if plugin_cls is None or not plugin_cls.signal_supported:
            raise ResourceActionNotSupported(action="signal")
        await self._signal(stack, row, plugin_cls, details)

    async def _signal(
        self: EngineService, stack: Stack, row: Resource, plugin_cls: Any, details: Any
    ) -> None:
        data = await self.db.run(_data_tx, row.id)
        ctx = ResourceContext(
            name=row.name,
            type=row.type,
            stack_id=stack.id,
            stack_name=stack.name,
            project_id=stack.project_id,
            uuid=row.uuid,
            properties=dict(row.properties or {}),
            physical_id=row.physical_resource_id,
            data=data,
        )
        plugin = plugin_cls(ctx)
        await plugin.signal(details)
        await self.db.run(store_stacks.checkpoint, row.id, ctx.physical_id, ctx.data)
        await self.db.run(_attributes_tx, row.id, plugin.attributes())

    async def health(self: EngineService) -> bool:
        """Whether this engine reaches its database: what a stand-alone heat-api reports."""
        return await self.db.healthy()

    async def list_services(self: EngineService, ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = await self.db.run(lambda s: list(s.execute(select(Service)).scalars()))
        limit = self.settings.heartbeat_interval * 3
        now = utcnow()
        return [
            {
                "id": r.id,
                "binary": r.binary,
                "engine_id": r.engine_id,
                "host": r.host,
                "hostname": r.hostname,
                "topic": r.topic,
                "report_interval": r.report_interval,
                "created_at": r.created_at.isoformat(),
                "updated_at": r.updated_at.isoformat() if r.updated_at else None,
                "deleted_at": None,
                "status": "up"
                if r.updated_at and (now - r.updated_at).total_seconds() <= limit
                else "down",
            }
            for r in rows
        ]


def _project(ctx: Mapping[str, Any]) -> str | None:
    return None if ctx.get("is_admin") and ctx.get("all_projects") else str(ctx["project_id"])


def _action_tx(session: Session, stack_id: str, action: str) -> list[NodeKey]:
    stack = session.get(Stack, stack_id, with_for_update=True)
    assert stack is not None
    rows = [r for r in store_reads.current_resources(session, stack_id) if r.replaced_by is None]
    stored = [planner.StoredResource(r.uuid, r.name, r.type, tuple(r.requires or ())) for r in rows]
    nodes = planner.simple_nodes(stored, action, reverse=action == Action.SUSPEND)
    store_stacks.set_stack_state(
        session, stack, action, Status.IN_PROGRESS, f"Stack {action} started"
    )
    traversal_id, ready = store_nodes.start_traversal(
        session,
        stack_id=stack_id,
        action=action,
        nodes=nodes,
        deadline=None,
        data={"stack_action": action},
    )
    if not nodes:
        trav = session.get(Traversal, traversal_id)
        assert trav is not None
        store_stacks.finish_traversal(session, trav)
    return ready


def _cancel_tx(session: Session, stack_id: str, traversal_id: str | None) -> None:
    stack = session.get(Stack, stack_id, with_for_update=True)
    assert stack is not None
    if traversal_id:
        session.execute(
            update(Traversal)
            .where(Traversal.id == traversal_id)
            .values(state=TraversalState.CANCELLED)
        )
        session.execute(
            update(TraversalNode)
            .where(
                TraversalNode.traversal_id == traversal_id,
                TraversalNode.state.in_([NodeState.WAITING, NodeState.READY]),
            )
            .values(state=NodeState.CANCELLED)
            .execution_options(synchronize_session=False)
        )
    store_stacks.set_stack_state(
        session, stack, stack.action, Status.FAILED, f"Stack {stack.action} cancelled"
    )


def _find_resource(session: Session, stack: Stack, name: str) -> Resource:
    row = (
        session.execute(
            select(Resource)
            .where(
                Resource.stack_id == stack.id, Resource.name == name, Resource.replaced_by.is_(None)
            )
            .order_by(Resource.id.desc())
        )
        .scalars()
        .first()
    )
    if row is None:
        row = (
            session.execute(
                select(Resource).where(
                    Resource.stack_id == stack.id, Resource.physical_resource_id == name
                )
            )
            .scalars()
            .first()
        )
    if row is None:
        raise errors.EntityNotFound(
            entity="Resource",
            name=name,
            message=f"The Resource ({name}) could not be found in Stack {stack.name}.",
        )
    return row


def _resource_tx(
    session: Session, project_id: str | None, identity: str, stack_id: str | None, name: str
) -> tuple[Stack, Resource, list[str]]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id)
    row = _find_resource(session, stack, name)
    others = store_reads.current_resources(session, stack.id)
    required_by = sorted({r.name for r in others if row.name in (r.requires or [])})
    return stack, row, required_by


def _mark_tx(
    session: Session,
    project_id: str | None,
    identity: str,
    stack_id: str | None,
    name: str,
    unhealthy: bool,
    reason: str,
) -> None:
    stack = store_reads.find_stack(session, project_id, identity, stack_id)
    row = _find_resource(session, stack, name)
    if row.status == Status.IN_PROGRESS:
        raise errors.ActionInProgress(stack_name=stack.name, action=row.action)
    status = Status.FAILED if unhealthy else Status.COMPLETE
    reason = reason or ("Marked unhealthy" if unhealthy else "Marked healthy")
    row.action, row.status, row.status_reason = Action.CHECK, status, reason
    row.needs_replace = unhealthy
    row.updated_at = utcnow()
    store_stacks.insert_events(
        session,
        [
            {
                **store_stacks.stack_event(stack, Action.CHECK, status, reason),
                "resource_name": row.name,
                "physical_resource_id": row.physical_resource_id or "",
                "resource_type": row.type,
            }
        ],
    )


def _clear_hook_tx(session: Session, resource_id: int, hook: str) -> None:
    row = session.get(Resource, resource_id)
    assert row is not None
    waiting = session.execute(
        select(ResourceData.value).where(
            ResourceData.resource_id == resource_id, ResourceData.key == HOOK_KEY + hook
        )
    ).scalar()
    if waiting != "waiting":
        raise errors.InvalidRequest(f"The {hook} hook is not active on resource {row.name}.")
    store_stacks.save_data(session, resource_id, {HOOK_KEY + hook: "cleared"})
    stack = session.get(Stack, row.stack_id)
    assert stack is not None
    store_stacks.insert_events(
        session,
        [
            {
                **store_stacks.stack_event(
                    stack, row.action, row.status, f"Hook {hook} is cleared"
                ),
                "resource_name": row.name,
                "physical_resource_id": row.physical_resource_id or "",
                "resource_type": row.type,
            }
        ],
    )


def _data_tx(session: Session, resource_id: int) -> dict[str, str]:
    return dict(
        session.execute(
            select(ResourceData.key, ResourceData.value).where(
                ResourceData.resource_id == resource_id
            )
        ).all()
    )


def _attributes_tx(session: Session, resource_id: int, attributes: dict[str, Any]) -> None:
    session.execute(
        update(Resource).where(Resource.id == resource_id).values(attributes=attributes)
    )
