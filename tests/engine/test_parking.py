"""Nodes that wait park: a resource held at a breakpoint, a resource whose nested stack is
in progress, a pause and a timeout hold no worker, no message and send the database no
queries while they wait; what they wait for wakes them at once, in the transaction that
records it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from ember.db.models import TraversalNode
from ember.db.session import session_scope
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import custom_env, hot, tres

PAUSED = "CREATE paused until Hook pre-create is cleared"
# Long enough that no heartbeat (nor its take-over check) falls inside a quiet window.
QUIET_HEARTBEAT = 60.0
CHILD = """
heat_template_version: 2018-08-31
resources:
  t:
    type: OS::Heat::TestResource
    properties:
      value: inner
outputs:
  out:
    value: {get_attr: [t, output]}
"""


async def until(predicate: Any, what: str, timeout: float = 60.0) -> Any:
    """Wait for ``predicate()`` (sync or async) to be truthy; its value."""

    async def poll() -> Any:
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.05)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def node_states(env: EngineEnv) -> dict[str, int]:
    with session_scope(env.db.engine, readonly=True) as session:
        rows = session.execute(
            select(TraversalNode.state, func.count()).group_by(TraversalNode.state)
        ).all()
    return {str(state): int(count) for state, count in rows}


@contextlib.contextmanager
def counting_statements(env: EngineEnv) -> Iterator[list[str]]:
    """Every statement the engine's database connections send while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engines = {env.db.engine, env.db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def idle(env: EngineEnv) -> None:
    """The engines run nothing and hold no slot (the last batch is recorded)."""

    def quiet() -> bool:
        return all(e.worker.running == 0 and e.worker.capacity.used == 0 for e in env.engines)

    await until(quiet, "the engines to hold no node")


async def assert_no_queries_while_waiting(env: EngineEnv) -> None:
    with counting_statements(env) as seen:
        await asyncio.sleep(1.0)
    assert seen == [], f"{len(seen)} statements while parked, e.g. {seen[:3]}"


async def paused_events(env: EngineEnv, stack: str, nested_depth: int = 0) -> list[Any]:
    """The pause events at pre-create hooks (shown, as in Heat, as INIT_COMPLETE)."""
    listed = await env.client.list_events(
        env.ctx, stack, filters={"resource_status": "INIT_COMPLETE"}, nested_depth=nested_depth
    )
    return [e for e in listed if e["resource_status_reason"] == PAUSED]


HOOKED = {"resource_registry": {"resources": {"r*": {"hooks": "pre-create"}}}}


async def test_a_thousand_resources_at_a_hook_hold_nothing(tmp_path: Path) -> None:
    async with custom_env(tmp_path, heartbeat_interval=QUIET_HEARTBEAT) as env:
        template = hot({f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(1000)})
        created = await env.client.create_stack(env.ctx, "held", template, environment=HOOKED)

        async def all_paused() -> bool:
            return len(await paused_events(env, "held")) == 1000

        await until(all_paused, "1000 resources to pause at their hook", 120)
        listed = await env.client.list_resources(env.ctx, "held")
        assert {r["resource_status"] for r in listed} == {"INIT_COMPLETE"}
        await idle(env)
        assert node_states(env) == {"PARKED": 1000}
        await assert_no_queries_while_waiting(env)
        assert (await env.client.show_stack(env.ctx, "held", resolve_outputs=False))[
            "stack_status"
        ] == "CREATE_IN_PROGRESS"

        for i in range(1000):
            await env.client.signal_resource(env.ctx, "held", f"r{i}", {"unset_hook": "pre-create"})
        stack = await env.wait(created["stack_id"], "CREATE", timeout=120)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        assert node_states(env) == {"DONE": 1000}


async def test_two_hundred_nested_stacks_in_progress_hold_nothing(tmp_path: Path) -> None:
    async with custom_env(tmp_path, heartbeat_interval=QUIET_HEARTBEAT) as env:
        template = hot({f"n{i}": {"type": "child.yaml"} for i in range(200)})
        environment = {"resource_registry": {"resources": {"n*": {"t": {"hooks": "pre-create"}}}}}
        created = await env.client.create_stack(
            env.ctx, "parents", template, files={"child.yaml": CHILD}, environment=environment
        )

        async def children_paused() -> bool:
            return len(await paused_events(env, "parents", nested_depth=1)) == 200

        await until(children_paused, "200 nested resources to pause", 120)
        listed = await env.client.list_resources(env.ctx, "parents", nested_depth=1)
        paused = [r for r in listed if r["resource_name"] == "t"]
        assert len(paused) == 200
        assert {r["resource_status"] for r in paused} == {"INIT_COMPLETE"}
        await idle(env)
        # 200 owners wait for their nested stacks, 200 nested resources for their hooks.
        assert node_states(env) == {"PARKED": 400}
        await assert_no_queries_while_waiting(env)

        for child in paused:
            await env.client.signal_resource(
                env.ctx, child["stack_id"], "t", {"unset_hook": "pre-create"}
            )
        stack = await env.wait(created["stack_id"], "CREATE", timeout=120)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        assert node_states(env) == {"DONE": 400}


async def test_a_deadline_wakes_a_parked_node_to_time_out(tmp_path: Path) -> None:
    """Nothing polls: the timeout of a stack whose only resource is parked fires by itself."""
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        environment = {"resource_registry": {"resources": {"t": {"hooks": "pre-create"}}}}
        created = await env.client.create_stack(
            env.ctx, "late", hot({"t": tres()}), environment=environment
        )
        stack = await env.wait(created["stack_id"], "CREATE", timeout=20)
        assert stack["stack_status"] == "CREATE_FAILED"
        assert stack["stack_status_reason"] == "Timed out"


async def test_a_pause_holds_no_worker(tmp_path: Path) -> None:
    async with custom_env(tmp_path) as env:
        template = hot({"pause": {"type": "OS::Heat::Delay", "properties": {"min_wait": 3}}})
        created = await env.client.create_stack(env.ctx, "pausing", template)

        def parked() -> bool:
            return node_states(env).get("PARKED") == 1

        await until(parked, "the delay to park")
        await idle(env)
        stack = await env.wait(created["stack_id"], "CREATE", timeout=30)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


async def test_clearing_a_hook_wakes_the_node_in_the_same_transaction(env: EngineEnv) -> None:
    environment = {"resource_registry": {"resources": {"t": {"hooks": "pre-create"}}}}
    created = await env.client.create_stack(
        env.ctx, "h", hot({"t": tres()}), environment=environment
    )

    def parked() -> bool:
        return node_states(env).get("PARKED") == 1

    await until(parked, "the resource to park at its hook")
    # The answer comes after the wake is committed: the node is no longer parked.
    await env.client.signal_resource(env.ctx, "h", "t", {"unset_hook": "pre-create"})
    assert node_states(env).get("PARKED", 0) == 0
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE"


async def test_a_deadline_timer_that_fires_early_waits_again(env: EngineEnv) -> None:
    """A timer's clock and the one that set the deadline may differ: a timer that fires
    before the database counts the deadline as passed keeps the node's wake."""
    template = hot({"pause": {"type": "OS::Heat::Delay", "properties": {"min_wait": 2}}})
    created = await env.client.create_stack(env.ctx, "early-timer", template)
    timers = env.engine.timers
    await until(lambda: len(timers) == 1 and node_states(env).get("PARKED"), "a parked pause")
    (key, (at, handle)) = next(iter(timers._handles.items()))
    handle.cancel()
    timers._fire(key, at)  # as if the clock ran ahead of the deadline's
    await until(lambda: not timers._firing, "the early wake to be looked at")
    assert node_states(env).get("PARKED") == 1, "not woken before its deadline"
    assert len(timers) == 1, "the wake is kept"
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE"
