"""``heat-manage purge_deleted``: remove stacks soft-deleted longer ago than a given age.

A purged stack takes with it its resources and their data, events, tags, traversals and
their nodes, snapshots, and the raw templates that no remaining stack or resource uses.
Stacks go in batches, one transaction each, so a large purge neither holds locks for
long nor starts again from scratch after a deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import Engine, delete, select, union
from sqlalchemy.orm import Session

from ember.common.timeutils import utcnow
from ember.db.models import (
    Ec2Credential,
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
from ember.db.session import transaction

GRANULARITY_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
DEFAULT_BATCH_SIZE = 20


def cutoff(age: int, granularity: str = "days", now: dt.datetime | None = None) -> dt.datetime:
    """The time before which a stack's deletion makes it old enough to purge."""
    if granularity not in GRANULARITY_SECONDS:
        choices = ", ".join(GRANULARITY_SECONDS)
        raise ValueError(f"granularity must be one of {choices}, not {granularity!r}")
    if age < 0:
        raise ValueError("age should be a non-negative integer")
    seconds = age * GRANULARITY_SECONDS[granularity]
    return (now or utcnow()) - dt.timedelta(seconds=seconds)


def purge_deleted(
    engine: Engine,
    age: int,
    granularity: str = "days",
    project_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Purge stacks deleted before ``age`` ``granularity`` ago; return how many went."""
    if batch_size < 1:
        raise ValueError("batch_size should be a positive integer")
    before = cutoff(age, granularity, now)
    purged = 0
    while True:
        count = transaction(engine, _purge_batch, before, project_id, batch_size)
        purged += count
        if count < batch_size:
            return purged


def _purge_batch(
    session: Session, before: dt.datetime, project_id: str | None, batch_size: int
) -> int:
    query = select(Stack.id, Stack.raw_template_id, Stack.prev_raw_template_id).where(
        Stack.deleted_at.is_not(None), Stack.deleted_at < before
    )
    if project_id is not None:
        query = query.where(Stack.project_id == project_id)
    rows = session.execute(query.order_by(Stack.deleted_at, Stack.id).limit(batch_size)).all()
    if not rows:
        return 0
    stack_ids = [row.id for row in rows]
    referenced = [row.raw_template_id for row in rows]
    referenced += [row.prev_raw_template_id for row in rows]
    referenced += session.scalars(
        select(Resource.template_id).where(Resource.stack_id.in_(stack_ids)).distinct()
    )
    _delete_stacks(session, stack_ids)
    _delete_unused_templates(session, {t for t in referenced if t is not None})
    return len(stack_ids)


def _delete_stacks(session: Session, stack_ids: Sequence[str]) -> None:
    resources = select(Resource.id).where(Resource.stack_id.in_(stack_ids))
    traversals = select(Traversal.id).where(Traversal.stack_id.in_(stack_ids))
    # Children first, so the purge does not depend on ON DELETE CASCADE being enforced.
    for statement in (
        delete(ResourceData).where(ResourceData.resource_id.in_(resources)),
        delete(Resource).where(Resource.stack_id.in_(stack_ids)),
        delete(Ec2Credential).where(Ec2Credential.stack_id.in_(stack_ids)),
        delete(TraversalNode).where(TraversalNode.traversal_id.in_(traversals)),
        delete(Traversal).where(Traversal.stack_id.in_(stack_ids)),
        delete(Event).where(Event.stack_id.in_(stack_ids)),
        delete(StackTag).where(StackTag.stack_id.in_(stack_ids)),
        delete(Snapshot).where(Snapshot.stack_id.in_(stack_ids)),
        delete(Stack).where(Stack.id.in_(stack_ids)),
    ):
        session.execute(statement.execution_options(synchronize_session=False))


def _delete_unused_templates(session: Session, candidates: Collection[int]) -> None:
    if not candidates:
        return
    in_use = set(
        session.scalars(
            union(
                select(Stack.raw_template_id).where(Stack.raw_template_id.in_(candidates)),
                select(Stack.prev_raw_template_id).where(
                    Stack.prev_raw_template_id.in_(candidates)
                ),
                select(Resource.template_id).where(Resource.template_id.in_(candidates)),
            )
        )
    )
    unused = [t for t in candidates if t not in in_use]
    if unused:
        session.execute(
            delete(RawTemplate)
            .where(RawTemplate.id.in_(unused))
            .execution_options(synchronize_session=False)
        )
