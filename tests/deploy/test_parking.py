"""Parked nodes in the scaled-out deployment: resources held at a breakpoint and resources
whose nested stacks are in progress hold no RabbitMQ message while they wait, survive the
death of every engine, and outlast the broker's consumer timeout."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
from typing import Any

import sqlalchemy as sa

from ember.db.engine import create_engine
from ember.db.models import Stack, Traversal, TraversalNode
from tests.api.helpers import wait_stack, wait_until
from tests.deploy.conftest import (
    ENGINE_WORKERS,
    Deployment,
    work_queue,
)

PAUSED = "CREATE paused until Hook pre-create is cleared"
HOOKED = {"resource_registry": {"resources": {"r*": {"hooks": "pre-create"}}}}
NESTED_HOOKED = {"resource_registry": {"resources": {"n*": {"t": {"hooks": "pre-create"}}}}}
CHILD = """
heat_template_version: 2018-08-31
resources:
  t:
    type: OS::Heat::TestResource
"""
WAIT = 240.0


def hooked_stack(count: int) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(count)},
    }


def nested_stacks(count: int) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {f"n{i}": {"type": "child.yaml"} for i in range(count)},
    }


def node_states(database_url: str, stack_id: str) -> collections.Counter[str]:
    """The states of every traversal node of the stack's tree's current traversals."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(TraversalNode.state)
                .join(Traversal, Traversal.id == TraversalNode.traversal_id)
                .join(Stack, Stack.current_traversal == Traversal.id)
                .where(sa.or_(Stack.id == stack_id, Stack.root_stack_id == stack_id))
            ).scalars()
            return collections.Counter(str(s) for s in rows)
    finally:
        engine.dispose()


def paused(hc: Any, stack_id: str, count: int, depth: int = 0) -> list[Any]:
    """The pause events at pre-create hooks: as in Heat, a paused resource keeps its state
    (INIT_COMPLETE) and only its event says it waits."""

    def probe() -> list[Any]:
        listed = hc.events.list(
            stack_id, nested_depth=depth, filters={"resource_status": "INIT_COMPLETE"}
        )
        return [e for e in listed if e.resource_status_reason == PAUSED]

    return wait_until(probe, lambda found: len(found) == count, WAIT, f"{count} paused")


def assert_nothing_held(database_url: str, stack_id: str, parked: int) -> None:
    """Every node of the tree parked; the broker holds no engine message for them."""
    states = wait_until(
        lambda: node_states(database_url, stack_id),
        lambda found: found == collections.Counter({"PARKED": parked}),
        WAIT,
        f"{parked} parked nodes",
    )
    assert states["CLAIMED"] == 0
    counts = wait_until(work_queue, lambda c: c.idle, WAIT, "no engine message held")
    assert counts.unacknowledged == 0 and counts.ready == 0


def clear(hc: Any, events: list[Any], stack_of: Any) -> None:
    for event in events:
        hc.resources.signal(stack_of(event), event.resource_name, {"unset_hook": "pre-create"})


def test_a_thousand_resources_at_a_hook_hold_no_message(deployment: Deployment, hc: Any) -> None:
    stack_id = hc.stacks.create(stack_name="held", template=hooked_stack(1000), environment=HOOKED)[
        "stack"
    ]["id"]
    waiting = paused(hc, stack_id, 1000)
    assert_nothing_held(deployment.database_url, stack_id, 1000)
    clear(hc, waiting, lambda r: stack_id)
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)


def test_nested_stacks_in_progress_hold_no_message(deployment: Deployment, hc: Any) -> None:
    stack_id = hc.stacks.create(
        stack_name="owners",
        template=nested_stacks(200),
        files={"child.yaml": CHILD},
        environment=NESTED_HOOKED,
    )["stack"]["id"]
    waiting = paused(hc, stack_id, 200, depth=1)
    # 200 owners wait for their nested stacks, 200 nested resources for their hooks.
    assert_nothing_held(deployment.database_url, stack_id, 400)
    clear(hc, waiting, _stack_of)
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)


def _stack_of(resource: Any) -> str:
    """The stack a listed event is in (nested events name theirs in their links)."""
    for link in resource.links:
        if link["rel"] == "stack":
            return str(link["href"].rstrip("/").rsplit("/", 1)[-1])
    raise AssertionError(f"no stack link in {resource.links}")


def test_parked_nodes_outlive_every_engine(deployment: Deployment, hc: Any) -> None:
    stack_id = hc.stacks.create(
        stack_name="outlive",
        template=nested_stacks(20),
        files={"child.yaml": CHILD},
        environment=NESTED_HOOKED,
    )["stack"]["id"]
    waiting = paused(hc, stack_id, 20, depth=1)
    assert_nothing_held(deployment.database_url, stack_id, 40)
    old = {w.pid for w in deployment.engine.children()}
    for pid in old:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # The supervisor starts new workers; the parked nodes wait in the database meanwhile.
    wait_until(
        deployment.engine.children,
        lambda now: len(now) == ENGINE_WORKERS and not ({w.pid for w in now} & old),
        WAIT,
        "new engine workers",
    )
    wait_until(work_queue, lambda c: c.consumers == ENGINE_WORKERS, WAIT, "their consumers")
    clear(hc, waiting, _stack_of)
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
