"""Events: what happened to each stack and resource, in order.

Events added during a unit of work are written together when it commits (one insert).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from ember.common.timeutils import utcnow
from ember.db.bulk import affected
from ember.db.models import Event, Stack, Traversal, table_of
from ember.db.records import ClaimedNode
from ember.db.stack_queries import STATUSES, after_marker, values_of

STACK_TYPE = "OS::Heat::Stack"
INSERT_EVENTS = table_of(Event).insert()


def stack_event(stack: Stack, action: str, status: str, reason: str) -> dict[str, Any]:
    """Stack-level events carry the stack's name and id, as Heat's clients expect."""
    return {
        "uuid": str(uuid.uuid4()),
        "stack_id": stack.id,
        "stack_name": stack.name,
        "root_stack_id": stack.root_stack_id or stack.id,
        "resource_name": stack.name,
        "physical_resource_id": stack.id,
        "resource_type": STACK_TYPE,
        "resource_action": action,
        "resource_status": status,
        "resource_status_reason": reason,
        "resource_properties": None,
        "created_at": utcnow(),
    }


def node_event(
    node: ClaimedNode,
    action: str,
    status: str,
    reason: str,
    physical_id: str | None,
    properties: Any = None,
) -> dict[str, Any]:
    """An event of the resource a claimed node acts on."""
    return {
        "uuid": str(uuid.uuid4()),
        "stack_id": node.stack_id,
        "stack_name": node.stack_name,
        "root_stack_id": node.root_stack_id,
        "resource_name": node.resource_name,
        "physical_resource_id": physical_id or "",
        "resource_type": node.resource_type,
        "resource_action": action,
        "resource_status": status,
        "resource_status_reason": reason,
        "resource_properties": properties,
        "created_at": utcnow(),
    }


def resource_row_event(
    stack: Stack,
    name: str,
    physical_id: str | None,
    type_name: str,
    action: str,
    status: str,
    reason: str,
) -> dict[str, Any]:
    """An event of a resource acted on outside a traversal (marked unhealthy, a hook)."""
    return {
        **stack_event(stack, action, status, reason),
        "resource_name": name,
        "physical_resource_id": physical_id or "",
        "resource_type": type_name,
    }


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._pending: list[dict[str, Any]] = []
        # What this unit of work wrote, with each event's stack name: once committed, the
        # engine tells the APIs (see ``Database.on_events``).
        self.written: list[dict[str, Any]] = []

    def add(self, events: Sequence[dict[str, Any]]) -> None:
        self._pending.extend(events)

    def flush(self) -> None:
        """Write the events added so far (the unit of work calls this before committing)."""
        if self._pending:
            self.session.execute(INSERT_EVENTS, [_row(e) for e in self._pending])
            self.written += self._pending
            self._pending = []

    def last_of(self, stack_id: str, resource_name: str, action: str) -> Event | None:
        """The resource's latest event of ``action``."""
        return self.session.execute(
            select(Event)
            .where(
                Event.stack_id == stack_id,
                Event.resource_name == resource_name,
                Event.resource_action == action,
            )
            .order_by(Event.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def of_stacks(
        self,
        stacks: Mapping[str, Stack],
        filters: Mapping[str, Any],
        *,
        sort_keys: Sequence[str],
        ascending: bool,
        marker: str | None,
        limit: int | None,
    ) -> list[Event]:
        """Events of these stacks, filtered, sorted (by time or type, then id) and paged."""
        query: Select[Any] = select(Event).where(Event.stack_id.in_(list(stacks)))
        for key, column in (
            ("resource_name", Event.resource_name),
            ("resource_type", Event.resource_type),
            ("resource_action", Event.resource_action),
        ):
            if key in filters:
                query = query.where(column.in_(values_of(filters[key])))
        if "resource_status" in filters:
            query = query.where(
                or_(*(_status_is(str(v)) for v in values_of(filters["resource_status"])))
            )
        columns: list[Any] = [
            Event.resource_type if k == "resource_type" else Event.created_at
            for k in sort_keys
            if k in ("event_time", "resource_type")
        ]
        columns.append(Event.id)
        if marker:
            row = self.session.execute(select(*columns).where(Event.uuid == marker)).first()
            if row is not None:
                query = query.where(after_marker(columns, tuple(row), ascending))
        query = query.order_by(*(c.asc() if ascending else c.desc() for c in columns))
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.execute(query).scalars())

    def purge(self, traversal_ids: Sequence[str], keep: int) -> int:
        """Keep only the newest ``keep`` events of each stack these traversals belong to."""
        if keep < 0 or not traversal_ids:
            return 0
        stack_ids = set(
            self.session.execute(
                select(Traversal.stack_id).where(Traversal.id.in_(list(traversal_ids)))
            ).scalars()
        )
        removed = 0
        for stack_id in sorted(stack_ids):
            boundary = self.session.execute(
                select(Event.id)
                .where(Event.stack_id == stack_id)
                .order_by(Event.id.desc())
                .offset(keep)
                .limit(1)
            ).scalar()
            if boundary is not None:
                result = self.session.execute(
                    delete(Event).where(Event.stack_id == stack_id, Event.id <= boundary)
                )
                removed += affected(result)
        return removed


def _row(event: dict[str, Any]) -> dict[str, Any]:
    """An event as the table holds it (the stack's name is the stack row's)."""
    return {k: v for k, v in event.items() if k != "stack_name"}


def _status_is(value: str) -> Any:
    """``COMPLETE`` matches any action; ``CREATE_COMPLETE`` (or ``..._IN_PROGRESS``) one."""
    if value in STATUSES:
        return Event.resource_status == value
    if value.endswith("_IN_PROGRESS"):
        return and_(
            Event.resource_action == value[: -len("_IN_PROGRESS")],
            Event.resource_status == "IN_PROGRESS",
        )
    action, _, status = value.rpartition("_")
    return and_(Event.resource_action == action, Event.resource_status == status)
