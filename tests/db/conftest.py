"""Builders of stored stacks with everything that hangs off them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ember.db.models import (
    Event,
    RawTemplate,
    Resource,
    ResourceData,
    Snapshot,
    Stack,
    StackTag,
    Traversal,
    TraversalNode,
)
from ember.db.session import session_scope

NOW = dt.datetime(2025, 6, 1, 12, 0, 0)
CHILD_TABLES = (Resource, ResourceData, Event, StackTag, Traversal, TraversalNode, Snapshot)


def new_template(session: Session) -> int:
    template = RawTemplate(template={"heat_template_version": "2018-08-31"})
    session.add(template)
    session.flush()
    return template.id


@dataclass
class StoredStack:
    id: str
    raw_template_id: int
    prev_raw_template_id: int | None
    resource_template_id: int | None
    resource_ids: list[int] = field(default_factory=list)


def store_stack(
    engine: Engine,
    *,
    deleted_at: dt.datetime | None,
    project_id: str = "project-a",
    raw_template_id: int | None = None,
    with_prev_template: bool = True,
    with_resource_template: bool = True,
) -> StoredStack:
    """A stack with two resources (with data), events, tags, a traversal, a snapshot."""
    with session_scope(engine) as session:
        template_id = raw_template_id or new_template(session)
        prev_id = new_template(session) if with_prev_template else None
        resource_template = new_template(session) if with_resource_template else None
        stack = Stack(
            id=str(uuid.uuid4()),
            name=f"stack-{uuid.uuid4().hex[:6]}",
            project_id=project_id,
            raw_template_id=template_id,
            prev_raw_template_id=prev_id,
            action="DELETE" if deleted_at else "CREATE",
            status="COMPLETE",
            deleted_at=deleted_at,
        )
        session.add(stack)
        session.flush()
        stored = StoredStack(stack.id, template_id, prev_id, resource_template)
        for name in ("server", "volume"):
            resource = Resource(
                uuid=str(uuid.uuid4()),
                stack_id=stack.id,
                name=name,
                type="OS::Heat::None",
                action="CREATE",
                status="COMPLETE",
                template_id=resource_template,
            )
            session.add(resource)
            session.flush()
            stored.resource_ids.append(resource.id)
            session.add(ResourceData(resource_id=resource.id, key="password", value="x"))
            session.add(
                Event(
                    uuid=str(uuid.uuid4()),
                    stack_id=stack.id,
                    resource_name=name,
                    resource_type="OS::Heat::None",
                    resource_action="CREATE",
                    resource_status="COMPLETE",
                )
            )
        session.add_all([StackTag(stack_id=stack.id, tag=t) for t in ("a", "b")])
        traversal = Traversal(
            id=str(uuid.uuid4()), stack_id=stack.id, action="CREATE", state="COMPLETE", remaining=0
        )
        session.add(traversal)
        session.flush()
        session.add_all(
            TraversalNode(
                traversal_id=traversal.id,
                seq=seq,
                resource_id=resource_id,
                action="CREATE",
                state="DONE",
                pending=0,
            )
            for seq, resource_id in enumerate(stored.resource_ids)
        )
        session.add(
            Snapshot(
                id=str(uuid.uuid4()),
                stack_id=stack.id,
                action="CREATE",
                status="COMPLETE",
                project_id=project_id,
            )
        )
    return stored


def count_rows(engine: Engine, model: type, **where: object) -> int:
    with session_scope(engine, readonly=True) as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(session.scalar(query) or 0)


def stack_ids(engine: Engine) -> set[str]:
    with session_scope(engine, readonly=True) as session:
        return set(session.scalars(select(Stack.id)))


def template_ids(engine: Engine) -> set[int]:
    with session_scope(engine, readonly=True) as session:
        return set(session.scalars(select(RawTemplate.id)))


@pytest.fixture
def make_stack(db_engine: Engine) -> Callable[..., StoredStack]:
    def make(**kwargs: object) -> StoredStack:
        return store_stack(db_engine, **kwargs)  # type: ignore[arg-type]

    return make
