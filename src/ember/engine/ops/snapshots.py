"""Abandon, export and snapshots (adopt is a create: see ``StackOps.create``)."""

from __future__ import annotations

import uuid
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.states import Action, Status
from ember.common.timeutils import isotime, utcnow
from ember.db.database import Database
from ember.db.models import Snapshot, Stack
from ember.db.unit import UnitOfWork
from ember.engine.adoption import export_doc
from ember.engine.caller import Caller
from ember.engine.launch import Launcher
from ember.engine.ops.stacks import StackOps
from ember.rpc.api import Ctx, JSONMap


def snapshot_view(row: Snapshot, *, with_data: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "action": row.action,
        "status": row.status,
        "status_reason": row.status_reason,
        "creation_time": isotime(row.created_at),
    }
    if with_data:
        out["data"] = row.data
    return out


class SnapshotOps:
    def __init__(
        self, settings: Settings, db: Database, stacks: StackOps, launcher: Launcher
    ) -> None:
        self.settings = settings
        self.db = db
        self.stacks = stacks
        self.launcher = launcher

    async def abandon_stack(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None, abandon: bool = True
    ) -> JSONMap:
        if not self.settings.enable_stack_abandon:
            raise errors.NotSupported(feature="Stack Abandon" if abandon else "Stack Export")
        stack = await self.stacks.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        if abandon and stack.current_traversal:
            await self.launcher.cancel_running(stack.current_traversal)
        return await self.db.run(_abandon_tx, stack.id, abandon)

    async def snapshot_stack(
        self, ctx: Ctx, stack_identity: str, name: str | None = None, stack_id: str | None = None
    ) -> JSONMap:
        stack = await self.stacks.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        return await self.db.run(
            _snapshot_tx, stack.id, name, self.settings.max_snapshots_per_stack
        )

    async def list_snapshots(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> list[JSONMap]:
        stack = await self.stacks.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        return await self.db.read(_list_tx, stack.id)

    async def show_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> JSONMap:
        stack = await self.stacks.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        return snapshot_view(await self.db.read(_get_tx, stack.id, snapshot_id))

    async def delete_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> None:
        stack = await self.stacks.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        await self.db.run(_delete_tx, stack.id, snapshot_id)

    async def restore_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> None:
        caller = Caller.from_ctx(ctx)
        stack = await self.stacks.find(caller, stack_identity, stack_id)
        row = await self.db.read(_get_tx, stack.id, snapshot_id)
        if stack.status == Status.IN_PROGRESS:
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
        data = row.data or {}
        restore = {
            name: {"resource_data": r.get("resource_data") or {}}
            for name, r in (data.get("resources") or {}).items()
        }
        await self.stacks.update(
            caller,
            stack.id,
            data.get("template"),
            files=data.get("files"),
            environment=data.get("environment"),
            args={"restore": restore, "action": Action.RESTORE},
        )


# Units of work -----------------------------------------------------------------------------


def _abandon_tx(uow: UnitOfWork, stack_id: str, abandon: bool) -> dict[str, Any]:
    stack = uow.stacks.lock(stack_id)
    doc = export_doc(uow, stack, Action.ABANDON if abandon else Action.CREATE)
    doc["action"], doc["status"] = stack.action, stack.status
    if abandon:
        _forget(uow, stack)
    return doc


def _forget(uow: UnitOfWork, stack: Stack) -> None:
    """Drop a stack from Ember's records, leaving its real resources alone."""
    for child in uow.stacks.nested(stack.id):
        _forget(uow, child)
    uow.stacks.set_state(stack, Action.DELETE, Status.COMPLETE, "Stack abandoned")
    uow.resources.remove([r.id for r in uow.resources.of_stack(stack.id)])
    uow.stacks.mark_deleted(stack, forget_traversal=True)


def _snapshot_tx(uow: UnitOfWork, stack_id: str, name: str | None, limit: int) -> dict[str, Any]:
    stack = uow.stacks.lock(stack_id)
    if stack.status == Status.IN_PROGRESS:
        raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
    if limit >= 0 and uow.snapshots.count(stack.id) >= limit:
        raise errors.RequestLimitExceeded(
            f"You have reached the maximum snapshots per stack, {limit}. Please delete some "
            "snapshots."
        )
    uow.stacks.set_state(stack, Action.SNAPSHOT, Status.IN_PROGRESS, "Stack SNAPSHOT started")
    row = uow.snapshots.add(
        id=str(uuid.uuid4()),
        stack_id=stack.id,
        name=name,
        data=export_doc(uow, stack, Action.SNAPSHOT),
        action=Action.CREATE,
        status=Status.COMPLETE,
        status_reason="Stack SNAPSHOT completed successfully",
        project_id=stack.project_id,
        created_at=utcnow(),
    )
    uow.stacks.set_state(
        stack, Action.SNAPSHOT, Status.COMPLETE, "Stack SNAPSHOT completed successfully"
    )
    return snapshot_view(row)


def _list_tx(uow: UnitOfWork, stack_id: str) -> list[dict[str, Any]]:
    return [snapshot_view(r) for r in uow.snapshots.of_stack(stack_id)]


def _get_tx(uow: UnitOfWork, stack_id: str, snapshot_id: str) -> Snapshot:
    return uow.snapshots.get(stack_id, snapshot_id)


def _delete_tx(uow: UnitOfWork, stack_id: str, snapshot_id: str) -> None:
    uow.snapshots.delete(uow.snapshots.get(stack_id, snapshot_id))
