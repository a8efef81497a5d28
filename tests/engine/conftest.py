"""Engine fixtures: a running engine on a real database, driven through the RPC client."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ember.common.settings import Settings
from ember.db import migration
from ember.db.database import Database
from ember.engine.app import Engine
from ember.engine.plugins import PluginRegistry
from ember.rpc.api import EngineAPI, envelope
from ember.rpc.client import EngineClient
from ember.rpc.inproc import InProcTransport

CTX = {"project_id": "demo", "username": "demo", "is_admin": False}
FINAL = ("COMPLETE", "FAILED")


class DirectEngine(EngineAPI):
    """The declared engine API served by an engine's dispatcher without a transport."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        return await self.engine.dispatcher(operation, envelope(arguments))


@dataclasses.dataclass
class EngineEnv:
    client: EngineClient
    engines: list[Engine]
    db: Database
    transport: InProcTransport
    ctx: dict[str, Any]

    service: Any = None

    @property
    def engine(self) -> Engine:
        return self.engines[0]

    @property
    def engine_service(self) -> Any:
        """The engine operations, for tests that record work without running it."""
        return DirectEngine(self.service if self.service is not None else self.engines[0])

    async def wait(self, stack: str, action: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll until the stack's ``action`` has finished; return the stack."""
        status = None

        async def poll() -> dict[str, Any]:
            nonlocal status
            while True:
                shown = await self.client.show_stack(self.ctx, stack, resolve_outputs=False)
                status = shown["stack_status"]
                if status.startswith(action + "_") and status.endswith(FINAL):
                    return await self.client.show_stack(self.ctx, stack)
                await asyncio.sleep(0.02)

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"stack {stack} did not finish {action} within {timeout}s; last status {status}"
            ) from None

    async def create(self, name: str, template: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        created = await self.client.create_stack(self.ctx, name, template, **kwargs)
        return await self.wait(created["stack_id"], "CREATE")


async def start_env(
    url: str, *, engines: int = 1, plugins: PluginRegistry | None = None, **settings: Any
) -> EngineEnv:
    migration.db_sync(url)
    settings.setdefault("heartbeat_interval", 0.5)
    config = Settings(database_url=url, **settings)
    db = Database(url)
    transport = InProcTransport()
    running = [Engine(config, db, transport, plugins) for _ in range(engines)]
    for engine in running:
        await engine.start()
    env = EngineEnv(EngineClient(transport), running, db, transport, dict(CTX))
    if not running:  # no workers here: operations are only recorded
        env.service = Engine(config, db, transport)
    return env


async def stop_env(env: EngineEnv) -> None:
    for engine in env.engines:
        await engine.stop()
    env.db.close()


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[EngineEnv]:
    """One engine on SQLite."""
    started = await start_env(f"sqlite:///{tmp_path / 'ember.sqlite'}")
    yield started
    await stop_env(started)


@pytest_asyncio.fixture
async def env_any(database_url: str) -> AsyncIterator[EngineEnv]:
    """One engine on each backend in turn (SQLite, MariaDB, PostgreSQL)."""
    started = await start_env(database_url)
    yield started
    await stop_env(started)


def flat(count: int, length: int = 16, kind: str = "OS::Heat::RandomString") -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            f"r{i}": {"type": kind, "properties": {"length": length}} for i in range(count)
        },
    }


@pytest.fixture
def ctx() -> dict[str, Any]:
    return dict(CTX)
