"""Event operations: a stack's events (and its nested stacks', to a depth), one event."""

from __future__ import annotations

from typing import Any

from ember.common import errors
from ember.db.database import Database
from ember.db.models import Event, Stack
from ember.db.unit import UnitOfWork
from ember.engine import views
from ember.engine.caller import Caller
from ember.rpc.api import Ctx, JSONMap


class EventOps:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_events(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        filters: JSONMap | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort_keys: list[str] | None = None,
        sort_dir: str | None = "asc",
        nested_depth: int = 0,
        with_detail: bool = False,
    ) -> list[JSONMap]:
        caller = Caller.from_ctx(ctx)
        rows = await self.db.read(
            _events,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            filters or {},
            sort_keys or [],
            str(sort_dir or "desc").lower() == "asc",
            marker,
            limit,
            int(nested_depth or 0),
        )
        nested = int(nested_depth or 0) > 0
        return [views.event_view(e, s, nested=nested, detail=with_detail) for e, s in rows]

    async def show_event(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        event_id: str,
        stack_id: str | None = None,
    ) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        rows = await self.db.read(
            _events,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            {"resource_name": resource_name},
            [],
            True,
            None,
            None,
            0,
        )
        for event, stack in rows:
            if event.uuid == event_id:
                return views.event_view(event, stack, detail=True)
        raise errors.EntityNotFound(entity="Event", name=event_id)


def _events(
    uow: UnitOfWork,
    project: str | None,
    identity: str,
    stack_id: str | None,
    filters: dict[str, Any],
    sort_keys: list[str],
    ascending: bool,
    marker: str | None,
    limit: int | None,
    depth: int,
) -> list[tuple[Event, Stack]]:
    stack = uow.stacks.find(project, identity, stack_id, show_deleted=True)
    stacks = {s.id: s for s, _ in uow.stacks.tree(stack, depth)}
    events = uow.events.of_stacks(
        stacks, filters, sort_keys=sort_keys, ascending=ascending, marker=marker, limit=limit
    )
    return [(e, stacks[e.stack_id]) for e in events]
