"""Read-only units of work: finding stacks and listing what they hold."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.db.models import Event, Resource, Stack, StackTag

ARN = re.compile(r"^arn:openstack:heat::(?P<tenant>[^:]*):stacks/(?P<name>[^/]+)/(?P<id>[^/]+)")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def not_found(name: str) -> errors.EntityNotFound:
    return errors.EntityNotFound(entity="Stack", name=name)


def find_stack(
    session: Session,
    project_id: str | None,
    identity: str,
    stack_id: str | None = None,
    *,
    show_deleted: bool = False,
) -> Stack:
    """By name, UUID or ARN (and, when both are given, name and id must agree)."""
    match = ARN.match(identity)
    if match:
        identity, stack_id = match.group("name"), match.group("id")
    query = select(Stack)
    if project_id is not None:
        query = query.where(Stack.project_id == project_id)
    if stack_id is not None:
        stack = session.execute(query.where(Stack.id == stack_id)).scalar_one_or_none()
        if stack is None or stack.name != identity:
            raise not_found(identity)
        return stack
    if UUID.match(identity):
        stack = session.execute(query.where(Stack.id == identity)).scalar_one_or_none()
        if stack is not None:
            return stack
    named = query.where(Stack.name == identity, Stack.owner_id.is_(None))
    if not show_deleted:
        named = named.where(Stack.deleted_at.is_(None))
    stack = session.execute(named.order_by(Stack.created_at.desc())).scalars().first()
    if stack is None:
        stack = (
            session.execute(
                query.where(Stack.name == identity, Stack.deleted_at.is_(None)).order_by(
                    Stack.created_at.desc()
                )
            )
            .scalars()
            .first()
        )
    if stack is None:
        raise not_found(identity)
    return stack


def tags_of(session: Session, stack_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {sid: [] for sid in stack_ids}
    if stack_ids:
        for sid, tag in session.execute(
            select(StackTag.stack_id, StackTag.tag)
            .where(StackTag.stack_id.in_(stack_ids))
            .order_by(StackTag.id)
        ):
            out[sid].append(tag)
    return out


def current_resources(session: Session, stack_id: str) -> list[Resource]:
    return list(
        session.execute(
            select(Resource).where(Resource.stack_id == stack_id).order_by(Resource.id)
        ).scalars()
    )


def peers_of(session: Session, stack_id: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    rows = session.execute(
        select(Resource.name, Resource.reference_id, Resource.attributes)
        .where(Resource.stack_id == stack_id, Resource.replaced_by.is_(None))
        .order_by(Resource.id)
    ).all()
    return {name: (ref, attrs or {}) for name, ref, attrs in rows}


def nested_stacks(session: Session, parent_id: str) -> list[Stack]:
    return list(
        session.execute(
            select(Stack).where(Stack.owner_id == parent_id, Stack.deleted_at.is_(None))
        ).scalars()
    )


def events_of(session: Session, stack_ids: list[str]) -> list[Event]:
    return list(
        session.execute(
            select(Event).where(Event.stack_id.in_(stack_ids)).order_by(Event.id)
        ).scalars()
    )
