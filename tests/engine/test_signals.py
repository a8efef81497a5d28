"""Signals are work like any other: each runs as a node of its own, after whatever the
resource is doing (never beside it), through the plugin the environment maps the type to,
and shows as one SIGNAL event. A handler can park until a signal comes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ember.common import errors
from ember.common.timeutils import utcnow
from ember.engine.plugins import ENTRY_POINT_GROUP, PluginRegistry
from ember.engine.resource import AttributeSchema, ResourcePlugin
from ember.template import PropertySchema
from tests.engine.conftest import EngineEnv, start_env, stop_env
from tests.engine.helpers import hot, wait_resource


class Signalled(ResourcePlugin):
    """Records when its create and its signals run; its create can be held open."""

    type_name = "Test::Signalled"
    signal_supported = True
    properties_schema = {"hold": PropertySchema("boolean", default=False)}
    attributes_schema = {"signals": AttributeSchema("Signals handled.", "integer")}
    log: ClassVar[list[str]] = []
    gate: ClassVar[asyncio.Event | None] = None

    async def create(self) -> None:
        self.log.append("create-start")
        if self.ctx.properties.get("hold") and self.gate is not None:
            await self.gate.wait()
        self.log.append("create-end")
        await super().create()

    async def signal(self, details: Any) -> str | None:
        self.log.append("signal-start")
        await asyncio.sleep(0.05)
        self.ctx.data["count"] = str(int(self.ctx.data.get("count", "0")) + 1)
        self.log.append("signal-end")
        return f"got {details}" if details else None

    def attributes(self) -> dict[str, Any]:
        return {"signals": int(self.ctx.data.get("count", "0"))}


class Waiter(ResourcePlugin):
    """A create that waits for a signal to the resource itself."""

    type_name = "Test::Waiter"
    signal_supported = True

    async def create(self) -> None:
        if self.ctx.signals == 0:
            await self.ctx.wait_for_signal(self.ctx.resource_id, seen=0)
        await super().create()

    async def signal(self, details: Any) -> str | None:
        return "go"


class DeadlineWaiter(ResourcePlugin):
    """A create that waits for a signal to itself, or ``seconds`` from its first run
    (negative: a deadline already passed when it parks); it says which came first."""

    type_name = "Test::DeadlineWaiter"
    signal_supported = True
    properties_schema = {"seconds": PropertySchema("number", default=1)}
    attributes_schema = {"woken_by": AttributeSchema("What ended the wait.", "string")}

    async def create(self) -> None:
        if not self.ctx.data.get("deadline"):
            at = utcnow() + dt.timedelta(seconds=float(self.ctx.properties["seconds"]))
            self.ctx.data["deadline"] = at.isoformat()
        deadline = dt.datetime.fromisoformat(self.ctx.data["deadline"])
        if not self.ctx.data.get("parked"):
            self.ctx.data["parked"] = "yes"  # it parks at least once, whatever the deadline
            await self.ctx.wait_for_signal(self.ctx.resource_id, 0, deadline)
        if self.ctx.signals:
            self.ctx.data["woken_by"] = "signal"
        elif utcnow() >= deadline:
            self.ctx.data["woken_by"] = "deadline"
        else:
            await self.ctx.wait_for_signal(self.ctx.resource_id, 0, deadline)
        await super().create()

    async def signal(self, details: Any) -> str | None:
        return None

    def attributes(self) -> dict[str, Any]:
        return {"woken_by": self.ctx.data.get("woken_by")}


def registry() -> PluginRegistry:
    sources: dict[str, Any] = {
        ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
    }
    sources.update(
        {
            Signalled.type_name: Signalled,
            Waiter.type_name: Waiter,
            DeadlineWaiter.type_name: DeadlineWaiter,
        }
    )
    return PluginRegistry(sources)


@contextlib.asynccontextmanager
async def signals_env(tmp_path: Path) -> AsyncIterator[EngineEnv]:
    Signalled.log = []
    Signalled.gate = asyncio.Event()
    env = await start_env(f"sqlite:///{tmp_path / 'signals.sqlite'}", plugins=registry())
    try:
        yield env
    finally:
        Signalled.gate.set()
        await stop_env(env)


async def signal_events(env: EngineEnv, stack: str, name: str) -> list[dict[str, Any]]:
    listed = await env.client.list_events(env.ctx, stack)
    return [
        e
        for e in listed
        if e["resource_name"] == name and e["resource_status"].startswith("SIGNAL")
    ]


async def until(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    async def poll() -> Any:
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_a_signal_waits_for_the_resources_own_action(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        held = hot({"s": {"type": Signalled.type_name, "properties": {"hold": True}}})
        created = await env.client.create_stack(env.ctx, "busy", held)
        await until(lambda: "create-start" in Signalled.log, "the create to start")
        await env.client.signal_resource(env.ctx, "busy", "s", {"n": 1})
        # The signal is recorded as work, but parks behind the running create.
        await until(
            lambda: all(e.worker.running == 1 for e in env.engines), "only the create to run"
        )
        assert "signal-start" not in Signalled.log
        assert Signalled.gate is not None
        Signalled.gate.set()
        await env.wait(created["stack_id"], "CREATE")

        # The handler's end is logged before its outcome (and event) is committed.
        async def recorded() -> bool:
            return bool(await signal_events(env, "busy", "s"))

        await until(recorded, "the signal's event")
        assert Signalled.log == ["create-start", "create-end", "signal-start", "signal-end"]
        events = await signal_events(env, "busy", "s")
        assert [(e["resource_status"], e["resource_status_reason"]) for e in events] == [
            ("SIGNAL_COMPLETE", "Signal: got {'n': 1}")
        ]


async def test_each_signal_is_one_event_and_they_run_one_at_a_time(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        await env.create("many", hot({"s": {"type": Signalled.type_name}}))
        await asyncio.gather(
            *(env.client.signal_resource(env.ctx, "many", "s", {"n": i}) for i in range(5))
        )

        async def handled() -> bool:
            return len(await signal_events(env, "many", "s")) == 5

        await until(handled, "five SIGNAL events")
        runs = [entry for entry in Signalled.log if entry.startswith("signal")]
        assert runs == ["signal-start", "signal-end"] * 5, runs
        shown = await env.client.show_resource(env.ctx, "many", "s")
        assert shown["attributes"]["signals"] == 5
        assert shown["resource_status"] == "CREATE_COMPLETE"


async def test_no_details_is_said_as_heat_says_it(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        await env.create("bare", hot({"s": {"type": Signalled.type_name}}))
        await env.client.signal_resource(env.ctx, "bare", "s")

        async def one() -> list[dict[str, Any]]:
            return await signal_events(env, "bare", "s")

        [event] = await until(one, "the SIGNAL event")
        assert event["resource_status_reason"] == "No signal details provided"


async def test_a_signal_to_an_alias_reaches_the_plugin_it_names(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        environment = {"resource_registry": {"My::Alias": Signalled.type_name}}
        await env.create("aliased", hot({"s": {"type": "My::Alias"}}), environment=environment)
        await env.client.signal_resource(env.ctx, "aliased", "s", {"via": "alias"})

        async def one() -> list[dict[str, Any]]:
            return await signal_events(env, "aliased", "s")

        [event] = await until(one, "the SIGNAL event")
        assert event["resource_status_reason"] == "Signal: got {'via': 'alias'}"


async def test_a_signal_to_a_template_resource_is_refused_by_its_plugin(tmp_path: Path) -> None:
    child = "heat_template_version: 2018-08-31\nresources: {}\n"
    async with signals_env(tmp_path) as env:
        environment = {"resource_registry": {"My::Provider": "child.yaml"}}
        await env.create(
            "provided",
            hot({"p": {"type": "My::Provider"}}),
            files={"child.yaml": child},
            environment=environment,
        )
        with pytest.raises(errors.ResourceActionNotSupported, match="signal is not supported"):
            await env.client.signal_resource(env.ctx, "provided", "p", {"x": 1})


async def test_a_signal_during_suspend_is_refused(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        await env.create("quiet", hot({"s": {"type": Signalled.type_name}}))
        await env.client.stack_action(env.ctx, "quiet", "suspend")
        await env.wait("quiet", "SUSPEND")
        with pytest.raises(errors.NotSupported, match="Signal resource during SUSPEND"):
            await env.client.signal_resource(env.ctx, "quiet", "s", {"x": 1})
        listed = await env.client.list_events(env.ctx, "quiet")
        assert [
            e
            for e in listed
            if "Cannot signal resource during SUSPEND" in e["resource_status_reason"]
        ]


async def test_a_create_parks_until_its_signal_comes(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        created = await env.client.create_stack(
            env.ctx, "waits", hot({"w": {"type": Waiter.type_name}})
        )
        await wait_resource(env, created["stack_id"], "w", "CREATE_IN_PROGRESS")
        await until(lambda: all(e.worker.running == 0 for e in env.engines), "the create to park")
        shown = await env.client.show_stack(env.ctx, "waits", resolve_outputs=False)
        assert shown["stack_status"] == "CREATE_IN_PROGRESS"
        await env.client.signal_resource(env.ctx, "waits", "w", {"ok": True})
        stack = await env.wait(created["stack_id"], "CREATE")
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        events = await signal_events(env, "waits", "w")
        assert [e["resource_status_reason"] for e in events] == ["Signal: go"]


async def woken_by(env: EngineEnv, stack: str) -> str:
    shown = await env.client.show_resource(env.ctx, stack, "w")
    return str(shown["attributes"]["woken_by"])


async def test_a_signal_wait_with_a_deadline_wakes_at_the_deadline(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        template = hot({"w": {"type": DeadlineWaiter.type_name, "properties": {"seconds": 1}}})
        created = await env.client.create_stack(env.ctx, "due", template)
        await wait_resource(env, created["stack_id"], "w", "CREATE_IN_PROGRESS")
        await until(lambda: all(e.worker.running == 0 for e in env.engines), "the wait to park")
        stack = await env.wait(created["stack_id"], "CREATE")
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        assert await woken_by(env, "due") == "deadline"


async def test_a_signal_wait_with_a_deadline_wakes_at_the_signal(tmp_path: Path) -> None:
    async with signals_env(tmp_path) as env:
        template = hot({"w": {"type": DeadlineWaiter.type_name, "properties": {"seconds": 600}}})
        created = await env.client.create_stack(env.ctx, "early", template)
        await wait_resource(env, created["stack_id"], "w", "CREATE_IN_PROGRESS")
        await until(lambda: all(e.worker.running == 0 for e in env.engines), "the wait to park")
        await env.client.signal_resource(env.ctx, "early", "w")
        stack = await env.wait(created["stack_id"], "CREATE")
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        assert await woken_by(env, "early") == "signal"


async def test_a_signal_wait_whose_deadline_has_passed_wakes_at_once(tmp_path: Path) -> None:
    """Parked with a deadline already behind it, the node is woken in the transaction that
    parks it: no timer is armed for it."""
    async with signals_env(tmp_path) as env:
        [engine] = env.engines
        scheduled: list[Any] = []
        schedule = engine.timers.schedule

        def spy(key: Any, at: Any) -> None:
            scheduled.append(key)
            schedule(key, at)

        engine.timers.schedule = spy  # type: ignore[method-assign]
        template = hot({"w": {"type": DeadlineWaiter.type_name, "properties": {"seconds": -1}}})
        stack = await env.create("passed", template)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        assert await woken_by(env, "passed") == "deadline"
        assert scheduled == []


def test_plugins_here_declare_what_they_do() -> None:
    assert Signalled.signal_supported and Waiter.signal_supported
    assert isinstance(Signalled.properties_schema, Mapping)


async def test_a_resource_updated_alone_leaves_the_stack_alone(tmp_path: Path) -> None:
    """A resource-scoped traversal (what a scaling policy asks for): one resource is brought
    to the stack's definition; the stack's own state and other resources stay as they are."""
    async with signals_env(tmp_path) as env:
        created = await env.create(
            "solo", hot({"a": {"type": Signalled.type_name}, "b": {"type": Signalled.type_name}})
        )
        before = {r["resource_name"]: r for r in await env.client.list_resources(env.ctx, "solo")}
        await env.client.mark_unhealthy(env.ctx, "solo", "a", True, "worn out")
        [engine] = env.engines
        row = before["a"]
        uuid = await engine.db.read(_uuid_of, created["id"], "a")
        await engine.launcher.update_resource(created["id"], uuid, {})

        async def replaced() -> dict[str, Any] | None:
            shown = await env.client.show_resource(env.ctx, "solo", "a")
            return (
                shown
                if shown["physical_resource_id"] != row["physical_resource_id"]
                and shown["resource_status"] == "CREATE_COMPLETE"
                else None
            )

        await until(replaced, "the resource to be replaced on its own")
        stack = await env.client.show_stack(env.ctx, "solo", resolve_outputs=False)
        assert stack["stack_status"] == "CREATE_COMPLETE"
        after = await env.client.show_resource(env.ctx, "solo", "b")
        assert after["physical_resource_id"] == before["b"]["physical_resource_id"]
        assert after["resource_status"] == "CREATE_COMPLETE"


def _uuid_of(uow: Any, stack_id: str, name: str) -> str:
    stack = uow.stacks.get(stack_id)
    return str(uow.resources.find(stack, name).uuid)
