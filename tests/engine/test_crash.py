"""Crash safety: heat-all killed with SIGKILL in the middle of a create or a delete carries on
when started again; nothing is made twice and nothing is left IN_PROGRESS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from ember.db import migration
from ember.db.models import Event, Resource, Stack
from tests.api.conftest import free_port
from tests.engine.conftest import CTX, start_env, stop_env

LAYERS, WIDTH = 10, 20


# 200 resources, each layer waiting for the one before


def layered_template(action_waits: dict[str, float]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for layer in range(LAYERS):
        for i in range(WIDTH):
            spec: dict[str, Any] = {
                "type": "OS::Heat::TestResource",
                "properties": {"value": f"{layer}-{i}", "action_wait_secs": action_waits},
            }
            if layer:
                spec["depends_on"] = [f"r{layer - 1}_{j}" for j in range(WIDTH)]
            resources[f"r{layer}_{i}"] = spec
    return {"heat_template_version": "2018-08-31", "resources": resources}


class HeatAll:
    def __init__(self, tmp: Path, url: str) -> None:
        self.conf = tmp / "heat.conf"
        self.conf.write_text(
            f"[DEFAULT]\nnum_engine_workers = 1\n[database]\nconnection = {url}\n"
            f"[heat_api]\nbind_host = 127.0.0.1\nbind_port = {free_port()}\n"
            f"[heat_api_cfn]\nbind_host = 127.0.0.1\nbind_port = {free_port()}\n"
        )
        self.log = tmp / "heat-all.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ember.cmd.all", "--config-file", str(self.conf)],
                stdout=out,
                stderr=out,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)


def snapshot(url: str, stack_id: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stack = conn.execute(
                select(Stack.action, Stack.status).where(Stack.id == stack_id)
            ).one()
            rows = conn.execute(
                select(
                    Resource.name, Resource.status, Resource.action, Resource.physical_resource_id
                ).where(Resource.stack_id == stack_id)
            ).all()
            events = conn.execute(
                select(Event.resource_name, Event.resource_action, Event.resource_status).where(
                    Event.stack_id == stack_id
                )
            ).all()
    finally:
        engine.dispose()
    return {"stack": f"{stack.action}_{stack.status}", "rows": rows, "events": events}


def wait_for(
    runner: HeatAll, url: str, stack_id: str, predicate: Any, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = snapshot(url, stack_id)
        if predicate(state):
            return state
        if runner.proc is not None and runner.proc.poll() is not None:
            raise AssertionError(f"heat-all exited:\n{runner.log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(
        f"timed out; last state {snapshot(url, stack_id)['stack']}\n"
        f"{runner.log.read_text()[-3000:]}"
    )


async def _request(url: str, call: str, *args: Any, **kwargs: Any) -> Any:
    """Record an operation in the database, as an API process would; heat-all runs it."""
    env = await start_env(url, engines=0)
    try:
        return await getattr(env.engine_service, call)(CTX, *args, **kwargs)
    finally:
        await stop_env(env)


@pytest.fixture
def heat_all(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'ember.sqlite'}"
    migration.db_sync(url)
    runner = HeatAll(tmp_path, url)
    yield runner, url
    runner.stop()


def _completed(state: dict[str, Any], action: str) -> int:
    return sum(1 for _, a, s in state["events"] if a == action and s == "COMPLETE")


async def test_sigkill_during_create_and_delete(heat_all: Any) -> None:
    runner, url = heat_all
    created = await _request(
        url, "create_stack", "crash", layered_template({"create": 0.15, "delete": 0.15})
    )
    stack_id = created["stack_id"]

    runner.start()
    state = wait_for(runner, url, stack_id, lambda s: _completed(s, "CREATE") >= 3 * WIDTH, 120)
    runner.kill()
    state = snapshot(url, stack_id)
    assert state["stack"] == "CREATE_IN_PROGRESS"
    assert 3 * WIDTH <= _completed(state, "CREATE") < LAYERS * WIDTH

    runner.start()
    state = wait_for(runner, url, stack_id, lambda s: s["stack"] != "CREATE_IN_PROGRESS", 180)
    assert state["stack"] == "CREATE_COMPLETE"
    rows = state["rows"]
    assert len(rows) == LAYERS * WIDTH
    assert all((r.action, r.status) == ("CREATE", "COMPLETE") for r in rows)
    physical = [r.physical_resource_id for r in rows]
    assert None not in physical and len(set(physical)) == LAYERS * WIDTH
    # Each resource was created exactly once: one CREATE_COMPLETE event each.
    done = Counter(
        n for n, a, s in state["events"] if a == "CREATE" and s == "COMPLETE" and n != "crash"
    )
    assert set(done.values()) == {1} and len(done) == LAYERS * WIDTH
    runner.stop()

    await _request(url, "delete_stack", stack_id)
    runner.start()
    state = wait_for(runner, url, stack_id, lambda s: _completed(s, "DELETE") >= 3 * WIDTH, 120)
    runner.kill()
    state = snapshot(url, stack_id)
    assert state["stack"] == "DELETE_IN_PROGRESS"
    assert 0 < len(state["rows"]) < LAYERS * WIDTH

    runner.start()
    state = wait_for(runner, url, stack_id, lambda s: s["stack"] != "DELETE_IN_PROGRESS", 180)
    assert state["stack"] == "DELETE_COMPLETE"
    assert state["rows"] == []
    deleted = Counter(
        n for n, a, s in state["events"] if a == "DELETE" and s == "COMPLETE" and n != "crash"
    )
    assert set(deleted.values()) == {1} and len(deleted) == LAYERS * WIDTH
