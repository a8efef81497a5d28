"""Helpers for resource type tests: templates, and reading stacks, nested stacks, resources
and events back through the RPC client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml

from tests.engine.conftest import EngineEnv, start_env, stop_env

VERSION = "2016-10-14"
TEST = "OS::Heat::TestResource"
STACK_EVENT_TYPE = "OS::Heat::Stack"


def hot(
    resources: dict[str, Any] | None = None,
    *,
    parameters: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A HOT template; ``outputs`` values are the output values."""
    template: dict[str, Any] = {"heat_template_version": VERSION, "resources": resources or {}}
    if parameters:
        template["parameters"] = parameters
    if outputs:
        template["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return template


def text(template: dict[str, Any]) -> str:
    """A template as the text a client puts in ``files``."""
    return yaml.safe_dump(template)


def tres(value: Any = "test_string", **props: Any) -> dict[str, Any]:
    return {"type": TEST, "properties": {"value": value, **props}}


def outputs(stack: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o.get("output_value") for o in stack.get("outputs") or []}


async def resources(env: EngineEnv, stack: str) -> dict[str, dict[str, Any]]:
    listed = await env.client.list_resources(env.ctx, stack)
    return {r["resource_name"]: r for r in listed}


async def physical_ids(env: EngineEnv, stack: str) -> dict[str, str]:
    return {n: r["physical_resource_id"] for n, r in (await resources(env, stack)).items()}


async def nested_id(env: EngineEnv, stack: str, resource: str) -> str:
    """The id of the nested stack owned by ``resource`` (its physical id)."""
    found = (await resources(env, stack))[resource]
    assert found["physical_resource_id"], found
    return str(found["physical_resource_id"])


async def show(env: EngineEnv, stack: str) -> dict[str, Any]:
    return await env.client.show_stack(env.ctx, stack)


async def stack_events(env: EngineEnv, stack: str) -> list[str]:
    """The statuses of the stack-level events of ``stack``, in order."""
    shown = await env.client.show_stack(env.ctx, stack, resolve_outputs=False)
    listed = await env.client.list_events(env.ctx, stack)
    return [e["resource_status"] for e in listed if e["physical_resource_id"] == shown["id"]]


async def update(
    env: EngineEnv, stack: str, template: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    await env.client.update_stack(env.ctx, stack, template, **kwargs)
    return await env.wait(stack, "UPDATE")


async def delete(env: EngineEnv, stack: str) -> dict[str, Any]:
    stack_id = (await env.client.show_stack(env.ctx, stack, resolve_outputs=False))["id"]
    await env.client.delete_stack(env.ctx, stack)
    return await env.wait(stack_id, "DELETE")


async def is_deleted(env: EngineEnv, stack_id: str) -> bool:
    shown = await env.client.show_stack(env.ctx, stack_id, resolve_outputs=False)
    return bool(shown["stack_status"] == "DELETE_COMPLETE")


@contextlib.asynccontextmanager
async def custom_env(tmp_path: Path, **settings: Any) -> AsyncIterator[EngineEnv]:
    """One engine on SQLite with non-default settings."""
    started = await start_env(f"sqlite:///{tmp_path / 'custom.sqlite'}", **settings)
    try:
        yield started
    finally:
        await stop_env(started)
