"""Transient failures inside an engine do not stop its worker: what follows the end of a
traversal (purging events, starting a rollback) is tried again, and the worker goes on
recording outcomes meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

from ember.db.records import Progress
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
