"""Small helpers for engine tests: templates, and reading events, resources and outputs
back through the RPC client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.engine.conftest import EngineEnv, start_env, stop_env

VERSION = "2018-08-31"
TEST = "OS::Heat::TestResource"
VALUE = "OS::Heat::Value"
RANDOM = "OS::Heat::RandomString"


def hot(resources: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    """A HOT template with the given resources and other top-level sections."""
    template: dict[str, Any] = {"heat_template_version": VERSION}
    if resources is not None:
        template["resources"] = resources
    template.update(sections)
    return template


def tres(value: str = "test_string", **props: Any) -> dict[str, Any]:
    """An OS::Heat::TestResource definition; extra keyword arguments are properties, except
    ``depends_on`` and ``deletion_policy`` which go on the resource itself."""
    resource: dict[str, Any] = {"type": TEST}
    for key in ("depends_on", "deletion_policy"):
        if key in props:
            resource[key] = props.pop(key)
    resource["properties"] = {"value": value, **props}
    return resource


def value_res(value: Any) -> dict[str, Any]:
    return {"type": VALUE, "properties": {"value": value}}


def random_res(length: int = 16) -> dict[str, Any]:
    return {"type": RANDOM, "properties": {"length": length}}


async def events(env: EngineEnv, stack: str) -> list[dict[str, Any]]:
    return await env.client.list_events(env.ctx, stack)


def of(evs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The events of one resource (or of the stack, by its name)."""
    return [e for e in evs if e["resource_name"] == name]


def brief(evs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(resource_name, resource_status) of each event, in the order given."""
    return [(e["resource_name"], e["resource_status"]) for e in evs]


def position(evs: list[dict[str, Any]], name: str, status: str, *, last: bool = False) -> int:
    """Index of the first (or last) event of ``name`` with ``status``; fails if none."""
    found = [
        i
        for i, e in enumerate(evs)
        if (e["resource_name"], e["resource_status"])
        == (
            name,
            status,
        )
    ]
    assert found, f"no {status} event for {name} in {brief(evs)}"
    return found[-1] if last else found[0]


async def update_and_wait(
    env: EngineEnv, stack: str, template: Any = None, action: str = "UPDATE", **kwargs: Any
) -> dict[str, Any]:
    """Update (``template`` None reuses the stored one with ``existing``) and wait for
    ``action`` to finish."""
    await env.client.update_stack(env.ctx, stack, template, **kwargs)
    return await env.wait(stack, action)


async def resources(env: EngineEnv, stack: str, *, detail: bool = False) -> dict[str, Any]:
    """The stack's resources by name."""
    listed = await env.client.list_resources(env.ctx, stack, with_detail=detail)
    return {r["resource_name"]: r for r in listed}


async def physical_ids(env: EngineEnv, stack: str) -> dict[str, str]:
    return {n: r["physical_resource_id"] for n, r in (await resources(env, stack)).items()}


def outputs(stack: dict[str, Any]) -> dict[str, Any]:
    """Output values by key (``output_error`` entries keep their whole dict)."""
    return {o["output_key"]: o.get("output_value") for o in stack["outputs"]}


async def wait_status(
    env: EngineEnv, stack: str, status: str, timeout: float = 15.0
) -> dict[str, Any]:
    """Poll until the stack shows exactly ``status`` (for intermediate states)."""
    seen = None

    async def poll() -> dict[str, Any]:
        nonlocal seen
        while True:
            shown = await env.client.show_stack(env.ctx, stack, resolve_outputs=False)
            seen = shown["stack_status"]
            if seen == status:
                return shown
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(
            f"stack {stack} did not reach {status} within {timeout}s; last status {seen}"
        ) from None


async def wait_resource(
    env: EngineEnv,
    stack: str,
    name: str,
    status: str,
    timeout: float = 15.0,
    *,
    reason: str | None = None,
) -> dict[str, Any]:
    """Poll until resource ``name`` shows ``status`` (and, if given, ``reason``)."""
    seen = None

    async def poll() -> dict[str, Any]:
        nonlocal seen
        while True:
            found = (await resources(env, stack)).get(name)
            if found is not None:
                seen = (found["resource_status"], found["resource_status_reason"])
                if seen[0] == status and reason in (None, seen[1]):
                    return found
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        wanted = status if reason is None else f"{status} ({reason})"
        raise AssertionError(
            f"resource {name} of {stack} did not reach {wanted} within {timeout}s; "
            f"last (status, reason): {seen}"
        ) from None


async def wait_event(
    env: EngineEnv, stack: str, name: str, reason: str, timeout: float = 15.0
) -> dict[str, Any]:
    """Poll until resource ``name`` of ``stack`` has an event with ``reason``; the first."""
    seen: list[str] = []

    async def poll() -> dict[str, Any]:
        nonlocal seen
        while True:
            evs = of(await events(env, stack), name)
            seen = [e["resource_status_reason"] for e in evs]
            found = [e for e in evs if e["resource_status_reason"] == reason]
            if found:
                return found[0]
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(
            f"no event {reason!r} of {name} in {stack} within {timeout}s; reasons seen: {seen}"
        ) from None


@contextlib.asynccontextmanager
async def custom_env(tmp_path: Path, **settings: Any) -> AsyncIterator[EngineEnv]:
    """One engine on SQLite with non-default settings."""
    started = await start_env(f"sqlite:///{tmp_path / 'custom.sqlite'}", **settings)
    try:
        yield started
    finally:
        await stop_env(started)
