"""purge_deleted removes only stacks deleted long enough ago, and everything they own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from ember.db.models import (
    Event,
    Resource,
    ResourceData,
    Snapshot,
    StackTag,
    Traversal,
    TraversalNode,
)
from ember.db.purge import cutoff, purge_deleted
from ember.db.session import session_scope
from tests.db.conftest import (
    NOW,
    StoredStack,
    count_rows,
    new_template,
    stack_ids,
    template_ids,
)

DAY = dt.timedelta(days=1)
MakeStack = Callable[..., StoredStack]


def _children(engine: Engine, stack: StoredStack) -> dict[str, int]:
    counts = {
        model.__name__: count_rows(engine, model, stack_id=stack.id)
        for model in (Resource, Event, StackTag, Traversal, Snapshot)
    }
    counts["ResourceData"] = sum(
        count_rows(engine, ResourceData, resource_id=r) for r in stack.resource_ids
    )
    counts["TraversalNode"] = sum(
        count_rows(engine, TraversalNode, resource_id=r) for r in stack.resource_ids
    )
    return counts


FULL = {
    "Resource": 2,
    "Event": 2,
    "StackTag": 2,
    "Traversal": 1,
    "Snapshot": 1,
    "ResourceData": 2,
    "TraversalNode": 2,
}
NONE = dict.fromkeys(FULL, 0)


def _templates(stack: StoredStack) -> set[int]:
    return {
        t
        for t in (stack.raw_template_id, stack.prev_raw_template_id, stack.resource_template_id)
        if t is not None
    }


def test_purges_old_deleted_stacks_with_all_they_own(
    db_engine: Engine, make_stack: MakeStack
) -> None:
    old = make_stack(deleted_at=NOW - 10 * DAY)
    recent = make_stack(deleted_at=NOW - dt.timedelta(hours=1))
    live = make_stack(deleted_at=None)
    assert _children(db_engine, old) == FULL

    purged = purge_deleted(db_engine, 1, "days", now=NOW)

    assert purged == 1
    assert stack_ids(db_engine) == {recent.id, live.id}
    assert _children(db_engine, old) == NONE
    assert _children(db_engine, recent) == FULL
    assert _children(db_engine, live) == FULL
    remaining = template_ids(db_engine)
    assert not _templates(old) & remaining
    assert _templates(recent) | _templates(live) <= remaining


def test_keeps_templates_other_stacks_still_use(db_engine: Engine, make_stack: MakeStack) -> None:
    with session_scope(db_engine) as session:
        shared = new_template(session)
    old = make_stack(deleted_at=NOW - 10 * DAY, raw_template_id=shared)
    live = make_stack(deleted_at=None, raw_template_id=shared)

    assert purge_deleted(db_engine, 1, now=NOW) == 1

    remaining = template_ids(db_engine)
    assert shared in remaining
    assert old.prev_raw_template_id not in remaining
    assert live.prev_raw_template_id in remaining


def test_keeps_templates_resources_of_live_stacks_use(
    db_engine: Engine, make_stack: MakeStack
) -> None:
    old = make_stack(deleted_at=NOW - 10 * DAY)
    live = make_stack(deleted_at=None, with_resource_template=False)
    with session_scope(db_engine) as session:
        resource = session.get(Resource, live.resource_ids[0])
        assert resource is not None
        resource.template_id = old.resource_template_id

    purge_deleted(db_engine, 1, now=NOW)

    assert old.resource_template_id in template_ids(db_engine)
    assert old.raw_template_id not in template_ids(db_engine)


def test_project_filter(db_engine: Engine, make_stack: MakeStack) -> None:
    mine = make_stack(deleted_at=NOW - 10 * DAY, project_id="mine")
    theirs = make_stack(deleted_at=NOW - 10 * DAY, project_id="theirs")

    assert purge_deleted(db_engine, 1, project_id="mine", now=NOW) == 1

    assert stack_ids(db_engine) == {theirs.id}
    assert _children(db_engine, mine) == NONE
    assert _children(db_engine, theirs) == FULL


@pytest.mark.parametrize(
    ("age", "granularity", "purged"),
    [
        (2, "hours", False),
        (30, "minutes", True),
        (3599, "seconds", True),
        (3601, "seconds", False),
        (0, "days", True),
    ],
)
def test_granularity(
    db_engine: Engine, make_stack: MakeStack, age: int, granularity: str, purged: bool
) -> None:
    stack = make_stack(deleted_at=NOW - dt.timedelta(hours=1))

    count = purge_deleted(db_engine, age, granularity, now=NOW)

    assert count == int(purged)
    assert (stack.id in stack_ids(db_engine)) is not purged


def test_batches_until_done(db_engine: Engine, make_stack: MakeStack) -> None:
    old = [make_stack(deleted_at=NOW - (10 + i) * DAY) for i in range(5)]
    live = make_stack(deleted_at=None)

    assert purge_deleted(db_engine, 1, batch_size=2, now=NOW) == 5

    assert stack_ids(db_engine) == {live.id}
    for stack in old:
        assert _children(db_engine, stack) == NONE


def test_nothing_to_purge(db_engine: Engine, make_stack: MakeStack) -> None:
    live = make_stack(deleted_at=None)
    assert purge_deleted(db_engine, 0, now=NOW) == 0
    assert stack_ids(db_engine) == {live.id}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"age": -1}, "non-negative"),
        ({"age": 1, "granularity": "weeks"}, "granularity"),
        ({"age": 1, "batch_size": 0}, "positive"),
    ],
)
def test_rejects_bad_arguments(
    db_engine: Engine, make_stack: MakeStack, kwargs: dict[str, object], message: str
) -> None:
    stack = make_stack(deleted_at=NOW - 10 * DAY)
    with pytest.raises(ValueError, match=message):
        purge_deleted(db_engine, **kwargs)  # type: ignore[arg-type]
    assert stack.id in stack_ids(db_engine)


def test_cutoff_uses_the_current_time_by_default() -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    limit = cutoff(2, "hours")
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert before - dt.timedelta(hours=2) <= limit <= after - dt.timedelta(hours=2)
