"""Transient failures inside an engine do not stop its worker: what follows the end of a
traversal (purging events, starting a rollback) is tried again, and the worker goes on
recording outcomes meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ember.common import errors
from ember.db.records import Progress
from ember.engine import liveness as liveness_module
from ember.engine import progress
from tests.engine.conftest import EngineEnv

ONE = {
    "heat_template_version": "2016-10-14",
    "resources": {"r": {"type": "OS::Heat::RandomString"}},
}


async def test_a_failing_follow_up_neither_stops_the_worker_nor_is_lost(env: EngineEnv) -> None:
    worker = env.engine.worker
    real = worker.after
    calls: list[list[str]] = []

    async def flaky(moved: Progress) -> None:
        calls.append(list(moved.finished))
        if len(calls) == 1:
            raise ConnectionError("database unreachable")
        await real(moved)

    worker.after = flaky
    first: dict[str, Any] = await env.create("first", ONE)
    assert first["stack_status"] == "CREATE_COMPLETE"
    second: dict[str, Any] = await env.create("second", ONE)
    assert second["stack_status"] == "CREATE_COMPLETE"

    # The first stack's follow-up is tried again, not dropped.
    async def retried() -> None:
        while calls.count(calls[0]) < 2:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(retried(), 10.0)


CHAIN = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "a": {"type": "OS::Heat::RandomString"},
        "b": {"type": "OS::Heat::RandomString", "depends_on": ["a"]},
        "c": {"type": "OS::Heat::RandomString", "depends_on": ["b"]},
        "d": {"type": "OS::Heat::RandomString", "depends_on": ["a"]},
    },
}


@pytest.mark.parametrize("unit", ["claim", "complete"])
async def test_a_transaction_whose_answer_was_lost_leaves_no_node_behind(
    env: EngineEnv, unit: str
) -> None:
    """The connection broke at COMMIT, which went through: the worker was told the claim
    (or the record of outcomes, which also claimed and made nodes ready) failed. The
    nodes that transaction claimed, and those it made ready, still run."""
    db = env.engine.worker.db
    real = db.run
    target = getattr(progress, unit)
    lost: list[str] = []

    async def losing(fn: Any, *args: Any, **kwargs: Any) -> Any:
        result = await real(fn, *args, **kwargs)
        if fn is target and not lost:
            lost.append(unit)
            raise errors.DatabaseUnavailable()
        return result

    db.run = losing  # type: ignore[method-assign]
    stack = await env.create("lost-answer", CHAIN)
    assert lost == [unit]
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    resources = await env.client.list_resources(env.ctx, stack["id"])
    assert sorted(r["resource_status"] for r in resources) == ["CREATE_COMPLETE"] * 4


async def test_heartbeats_go_on_while_taking_over_waits_for_the_broker(env: EngineEnv) -> None:
    """Taking over from stopped engines publishes their nodes, which waits while the
    broker is out of reach; the beats must go on meanwhile, or the other engines would
    take this one for dead while it still runs its nodes."""
    liveness = env.engine.liveness
    waiting = asyncio.Event()

    async def waits_for_the_broker(**_: Any) -> int:
        waiting.set()
        await asyncio.Event().wait()  # the broker never comes back in this test
        return 0

    beats = 0
    real_run = liveness.db.run

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal beats
        if fn is liveness_module._beat:
            beats += 1
        return await real_run(fn, *args, **kwargs)

    liveness.recover = waits_for_the_broker  # type: ignore[method-assign]
    liveness.db.run = counting  # type: ignore[method-assign]
    await asyncio.wait_for(waiting.wait(), 30.0)
    seen = beats

    async def beaten_on() -> None:
        while beats < seen + 2 * liveness_module.MISSED_BEATS:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(beaten_on(), 30.0)
