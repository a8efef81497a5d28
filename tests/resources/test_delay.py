"""OS::Heat::Delay: waits during the chosen actions, never blocking the engine."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ember.common import errors
from ember.engine.resource import ResourceContext
from ember.resources.delay import Delay
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import wait_resource
from tests.resources.helpers import delete, hot, physical_ids, tres, update


def delay(**props: Any) -> dict[str, Any]:
    return {"type": "OS::Heat::Delay", "properties": props}


def plugin(**props: Any) -> Delay:
    defaults = {"min_wait": 0, "max_jitter": 0, "jitter_multiplier": 1.0, "actions": ["CREATE"]}
    ctx = ResourceContext(
        name="d",
        type="OS::Heat::Delay",
        stack_id="s",
        stack_name="s",
        project_id="p",
        uuid="00000000-0000-0000-0000-000000000000",
        properties={**defaults, **props},
    )
    return Delay(ctx)


def test_wait_is_min_plus_scaled_jitter() -> None:
    waits = [plugin(min_wait=1, max_jitter=2, jitter_multiplier=0.5).wait_seconds("CREATE")]
    waits += [plugin(min_wait=1, max_jitter=2, jitter_multiplier=0.5).wait_seconds("CREATE")]
    assert all(1 <= w <= 2 for w in waits)
    assert plugin(min_wait=3, max_jitter=5, jitter_multiplier=0).wait_seconds("CREATE") == 3
    # actions not listed do not wait
    assert plugin(min_wait=3).wait_seconds("DELETE") == 0
    assert plugin(min_wait=3, actions=["DELETE"]).wait_seconds("DELETE") == 3


async def test_create_waits_and_others_proceed(env: EngineEnv) -> None:
    # Long enough for a busy machine to finish "beside" well within it.
    pause = 2.0
    template = hot(
        {
            "pause": delay(min_wait=pause),
            "after": {**tres("after"), "depends_on": ["pause"]},
            "beside": tres("beside"),
        }
    )
    started = time.monotonic()
    created = await env.client.create_stack(env.ctx, "d", template)
    # while the delay runs, the engine goes on with other work
    await wait_resource(env, created["stack_id"], "beside", "CREATE_COMPLETE")
    listed = {r["resource_name"]: r for r in await env.client.list_resources(env.ctx, "d")}
    assert listed["beside"]["resource_status"] == "CREATE_COMPLETE"
    assert listed["after"]["resource_status"] == "INIT_COMPLETE"
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert time.monotonic() - started >= pause


async def test_delete_waits_only_when_listed(env: EngineEnv) -> None:
    await env.create("d", hot({"pause": delay(min_wait=0.4, actions=["DELETE"])}))
    started = time.monotonic()
    stack = await delete(env, "d")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert time.monotonic() - started >= 0.4


async def test_update_in_place(env: EngineEnv) -> None:
    await env.create("d", hot({"pause": delay(min_wait=0)}))
    before = await physical_ids(env, "d")
    template = hot({"pause": delay(min_wait=0.1, max_jitter=1, jitter_multiplier=0.1)})
    stack = await update(env, "d", template)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "d") == before
    resource = await env.client.show_resource(env.ctx, "d", "pause")
    assert resource["resource_status"] == "UPDATE_COMPLETE"


async def test_suspend_and_resume_wait(env: EngineEnv) -> None:
    await env.create("d", hot({"pause": delay(min_wait=0.3, actions=["SUSPEND", "RESUME"])}))
    started = time.monotonic()
    await env.client.stack_action(env.ctx, "d", "suspend")
    stack = await env.wait("d", "SUSPEND")
    assert stack["stack_status"] == "SUSPEND_COMPLETE", stack["stack_status_reason"]
    assert time.monotonic() - started >= 0.3
    await env.client.stack_action(env.ctx, "d", "resume")
    stack = await env.wait("d", "RESUME")
    assert stack["stack_status"] == "RESUME_COMPLETE", stack["stack_status_reason"]
    assert time.monotonic() - started >= 0.6


async def test_unknown_action_refused(env: EngineEnv) -> None:
    with pytest.raises(errors.StackValidationFailed, match="actions"):
        await env.client.create_stack(env.ctx, "d", hot({"pause": delay(actions=["UPDATE"])}))


async def test_negative_wait_refused(env: EngineEnv) -> None:
    with pytest.raises(errors.StackValidationFailed, match="min_wait"):
        await env.client.create_stack(env.ctx, "d", hot({"pause": delay(min_wait=-1)}))
