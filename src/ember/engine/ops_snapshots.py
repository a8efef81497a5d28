"""Abandon, export and adopt; snapshots and restore."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.timeutils import isotime, utcnow
from ember.db.models import RawTemplate, Resource, ResourceData, Snapshot, Stack
from ember.engine import store_reads, store_stacks
from ember.engine.states import Action, Status
from ember.template import parse_text

if TYPE_CHECKING:
    from ember.engine.service import EngineService


def export_doc(session: Session, stack: Stack, action: str) -> dict[str, Any]:
    """Everything needed to adopt a stack elsewhere, nested stacks included."""
    raw = session.get(RawTemplate, stack.raw_template_id)
    assert raw is not None
    rows = [r for r in store_reads.current_resources(session, stack.id) if r.replaced_by is None]
    data: dict[int, dict[str, str]] = {r.id: {} for r in rows}
    if rows:
        for rid, key, value in session.execute(
            select(ResourceData.resource_id, ResourceData.key, ResourceData.value).where(
                ResourceData.resource_id.in_(list(data))
            )
        ):
            if not key.startswith("hook:"):
                data[rid][key] = value
    children = {s.owner_resource: s for s in store_reads.nested_stacks(session, stack.id)}
    resources: dict[str, Any] = {}
    for row in rows:
        entry: dict[str, Any] = {
            "name": row.name,
            "type": row.type,
            "action": row.action,
            "status": row.status,
            "resource_id": row.physical_resource_id,
            "resource_data": data[row.id],
            "metadata": row.metadata_ or {},
        }
        child = children.get(row.name)
        if child is not None:
            entry.update(export_doc(session, child, action))
            entry["name"], entry["type"] = row.name, row.type
        resources[row.name] = entry
    return {
        "id": stack.id,
        "name": stack.name,
        "action": action,
        "status": Status.COMPLETE,
        "project_id": stack.project_id,
        "stack_user_project_id": stack.stack_user_project_id or stack.project_id,
        "tags": store_reads.tags_of(session, [stack.id])[stack.id],
        "template": raw.template,
        "environment": raw.environment,
        "files": raw.files,
        "resources": resources,
    }


def _abandon_tx(
    session: Session, project_id: str | None, identity: str, stack_id: str | None, abandon: bool
) -> dict[str, Any]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id)
    doc = export_doc(session, stack, Action.ABANDON if abandon else Action.CREATE)
    doc["action"], doc["status"] = stack.action, stack.status
    if abandon:
        _forget(session, stack)
    return doc


def _forget(session: Session, stack: Stack) -> None:
    """Drop a stack from Ember's records, leaving its real resources alone."""
    for child in store_reads.nested_stacks(session, stack.id):
        _forget(session, child)
    store_stacks.set_stack_state(session, stack, Action.DELETE, Status.COMPLETE, "Stack abandoned")
    stack.deleted_at = utcnow()
    stack.current_traversal = None
    ids = [r.id for r in store_reads.current_resources(session, stack.id)]
    if ids:
        session.execute(delete(ResourceData).where(ResourceData.resource_id.in_(ids)))
        session.execute(delete(Resource).where(Resource.id.in_(ids)))


def snapshot_view(row: Snapshot, *, with_data: bool = True) -> dict[str, Any]:
    out = {
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


def _snapshot_tx(
    session: Session,
    project_id: str | None,
    identity: str,
    stack_id: str | None,
    name: str | None,
    limit: int,
) -> dict[str, Any]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id)
    if stack.status == Status.IN_PROGRESS:
        raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
    count = session.execute(
        select(func.count()).select_from(Snapshot).where(Snapshot.stack_id == stack.id)
    ).scalar_one()
    if limit >= 0 and count >= limit:
        raise errors.RequestLimitExceeded(
            f"You have reached the maximum snapshots per stack, {limit}. Please delete some "
            "snapshots."
        )
    store_stacks.set_stack_state(
        session, stack, Action.SNAPSHOT, Status.IN_PROGRESS, "Stack SNAPSHOT started"
    )
    row = Snapshot(
        id=str(uuid.uuid4()),
        stack_id=stack.id,
        name=name,
        data=export_doc(session, stack, Action.SNAPSHOT),
        action=Action.CREATE,
        status=Status.COMPLETE,
        status_reason="Stack SNAPSHOT completed successfully",
        project_id=stack.project_id,
    )
    session.add(row)
    store_stacks.set_stack_state(
        session, stack, Action.SNAPSHOT, Status.COMPLETE, "Stack SNAPSHOT completed successfully"
    )
    session.flush()
    return snapshot_view(row)


def _find_snapshot(
    session: Session, project_id: str | None, identity: str, stack_id: str | None, snapshot_id: str
) -> tuple[Stack, Snapshot]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id)
    row = session.get(Snapshot, snapshot_id)
    if row is None or row.stack_id != stack.id:
        raise errors.EntityNotFound(entity="Snapshot", name=snapshot_id)
    return stack, row


class SnapshotOps:
    """Mixed into EngineService."""

    async def abandon_stack(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
        abandon: bool = True,
    ) -> dict[str, Any]:
        if not self.settings.enable_stack_abandon:
            raise errors.NotSupported(feature="Stack Abandon" if abandon else "Stack Export")
        project = None if ctx.get("is_admin") and ctx.get("all_projects") else ctx["project_id"]
        stack = await self.db.run(store_reads.find_stack, project, stack_identity, stack_id)
        if abandon and stack.current_traversal:
            await self.transport.broadcast(
                "engine.cancel", {"traversal_id": stack.current_traversal}
            )
        return await self.db.run(_abandon_tx, project, stack_identity, stack_id, abandon)

    async def snapshot_stack(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        name: str | None = None,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        return await self.db.run(
            _snapshot_tx,
            str(ctx["project_id"]),
            stack_identity,
            stack_id,
            name,
            self.settings.max_snapshots_per_stack,
        )

    async def list_snapshots(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
    ) -> list[dict[str, Any]]:
        def unit(session: Session) -> list[dict[str, Any]]:
            stack = store_reads.find_stack(
                session, str(ctx["project_id"]), stack_identity, stack_id
            )
            rows = session.execute(
                select(Snapshot).where(Snapshot.stack_id == stack.id).order_by(Snapshot.created_at)
            ).scalars()
            return [snapshot_view(r) for r in rows]

        return await self.db.run(unit)

    async def show_snapshot(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        snapshot_id: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        _, row = await self.db.run(
            _find_snapshot, str(ctx["project_id"]), stack_identity, stack_id, snapshot_id
        )
        return snapshot_view(row)

    async def delete_snapshot(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        snapshot_id: str,
        stack_id: str | None = None,
    ) -> None:
        def unit(session: Session) -> None:
            _, row = _find_snapshot(
                session, str(ctx["project_id"]), stack_identity, stack_id, snapshot_id
            )
            session.delete(row)

        await self.db.run(unit)

    async def restore_snapshot(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        snapshot_id: str,
        stack_id: str | None = None,
    ) -> None:
        stack, row = await self.db.run(
            _find_snapshot, str(ctx["project_id"]), stack_identity, stack_id, snapshot_id
        )
        if stack.status == Status.IN_PROGRESS:
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
        data = row.data or {}
        restore = {
            name: {"resource_data": r.get("resource_data") or {}}
            for name, r in (data.get("resources") or {}).items()
        }
        await self.update_stack(
            ctx,
            stack.id,
            data.get("template"),
            files=data.get("files"),
            environment=data.get("environment"),
            args={"restore": restore, "action": Action.RESTORE},
        )


def parse_adopt_data(raw: Any) -> dict[str, Any]:
    data = raw if isinstance(raw, dict) else parse_text(str(raw), what="adopt data")
    if not isinstance(data, dict) or not isinstance(data.get("resources", {}), dict):
        raise errors.InvalidRequest("Invalid adopt data: it must be a map with a resources map")
    return data


def adopt_data_for(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "resource_id": r.get("resource_id"),
            "resource_data": {
                str(k): v if isinstance(v, str) else json.dumps(v)
                for k, v in (r.get("resource_data") or {}).items()
            },
        }
        for name, r in (doc.get("resources") or {}).items()
        if isinstance(r, dict)
    }
