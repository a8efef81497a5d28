"""Stack delete through the RPC client: the final state, order, deletion policies and
deleting while another operation runs."""

from __future__ import annotations

import time

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import (
    events,
    hot,
    physical_ids,
    position,
    random_res,
    tres,
    value_res,
    wait_resource,
    wait_status,
)

LAYERED = hot(
    {
        "base": random_res(),
        "mid": tres({"get_resource": "base"}),
        "top": value_res({"get_attr": ["mid", "output"]}),
        "side": tres(depends_on="base"),
    },
    outputs={"o": {"value": {"get_attr": ["top", "value"]}}},
)


async def delete(env: EngineEnv, stack_id: str, timeout: float = 30.0) -> dict:
    await env.client.delete_stack(env.ctx, stack_id)
    return await env.wait(stack_id, "DELETE", timeout=timeout)


async def test_delete_lifecycle(env_any: EngineEnv) -> None:
    env = env_any
    created = await env.create("gone", LAYERED)
    sid = created["id"]
    seen = len(await events(env, "gone"))
    stack = await delete(env, sid)
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert stack["stack_status_reason"] == "Stack DELETE completed successfully"
    assert stack["deletion_time"] is not None
    assert stack["deletion_time"].endswith("Z")
    assert "outputs" not in stack
    assert await env.client.list_resources(env.ctx, sid) == []
    assert await env.client.list_stacks(env.ctx) == []
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_stack(env.ctx, "gone")
    evs = (await events(env, sid))[seen:]
    assert (evs[0]["resource_name"], evs[0]["resource_status"]) == ("gone", "DELETE_IN_PROGRESS")
    assert (evs[-1]["resource_name"], evs[-1]["resource_status"]) == ("gone", "DELETE_COMPLETE")
    for name in ("base", "mid", "top", "side"):
        assert position(evs, name, "DELETE_IN_PROGRESS") < position(evs, name, "DELETE_COMPLETE")


async def test_resources_are_deleted_after_everything_that_refers_to_them(env: EngineEnv) -> None:
    created = await env.create("order", LAYERED)
    seen = len(await events(env, "order"))
    await delete(env, created["id"])
    evs = (await events(env, created["id"]))[seen:]
    for user, used in (("mid", "base"), ("side", "base"), ("top", "mid")):
        assert position(evs, user, "DELETE_COMPLETE") < position(evs, used, "DELETE_IN_PROGRESS")


async def test_deleting_twice_is_not_found(env: EngineEnv) -> None:
    created = await env.create("twice", hot({"r": tres()}))
    await delete(env, created["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_stack(env.ctx, created["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_stack(env.ctx, "twice")
    stack = await env.client.show_stack(env.ctx, created["id"])
    assert stack["stack_status"] == "DELETE_COMPLETE", "a second delete changes nothing"


async def test_deleting_an_unknown_stack_is_not_found(env: EngineEnv) -> None:
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_stack(env.ctx, "nowhere")


async def test_another_projects_stack_cannot_be_deleted(env: EngineEnv) -> None:
    await env.create("mine", hot({"r": tres()}))
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_stack({**env.ctx, "project_id": "other"}, "mine")
    stack = await env.client.show_stack(env.ctx, "mine")
    assert stack["stack_status"] == "CREATE_COMPLETE"


async def test_a_deleted_stack_is_listed_with_show_deleted(env: EngineEnv) -> None:
    created = await env.create("shown", hot({"r": tres()}))
    await delete(env, created["id"])
    listed = await env.client.list_stacks(env.ctx, show_deleted=True)
    assert [(s["id"], s["stack_status"]) for s in listed] == [(created["id"], "DELETE_COMPLETE")]
    assert listed[0]["deletion_time"] is not None


# Deletion policy -------------------------------------------------------------------------


# A delete handler that must not run waits this long: far longer than the rest of the work
# takes on a busy machine (and than env.wait gives it).
UNWANTED = 60


async def test_retain_skips_the_delete_handler(env: EngineEnv) -> None:
    template = hot(
        {
            "kept": tres("k", deletion_policy="Retain", action_wait_secs={"delete": UNWANTED}),
            "gone": tres("g", action_wait_secs={"delete": 1}),
        }
    )
    created = await env.create("retain", template)
    began = time.monotonic()
    stack = await delete(env, created["id"])
    elapsed = time.monotonic() - began
    assert stack["stack_status"] == "DELETE_COMPLETE", stack["stack_status_reason"]
    assert elapsed >= 1.0, "the ordinary resource's delete handler ran"
    assert elapsed < 20.0, f"the retained resource's delete handler ran ({elapsed:.1f} s)"
    assert await env.client.list_resources(env.ctx, created["id"]) == []
    evs = await events(env, created["id"])
    assert position(evs, "kept", "DELETE_IN_PROGRESS") < position(evs, "kept", "DELETE_COMPLETE")


async def test_retain_applies_when_an_update_removes_the_resource(env: EngineEnv) -> None:
    template = hot(
        {
            "kept": tres("k", deletion_policy="Retain", action_wait_secs={"delete": UNWANTED}),
            "stay": tres(),
        }
    )
    await env.create("retain", template)
    began = time.monotonic()
    await env.client.update_stack(env.ctx, "retain", hot({"stay": tres()}))
    stack = await env.wait("retain", "UPDATE")
    elapsed = time.monotonic() - began
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert sorted(await physical_ids(env, "retain")) == ["stay"]
    assert elapsed < 20.0, f"the retained resource's delete handler ran ({elapsed:.1f} s)"


async def test_delete_policy_runs_the_delete_handler(env: EngineEnv) -> None:
    template = hot({"gone": tres("g", deletion_policy="Delete", action_wait_secs={"delete": 1})})
    created = await env.create("policy", template)
    began = time.monotonic()
    stack = await delete(env, created["id"])
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert time.monotonic() - began >= 1.0


# Deleting while something else runs ------------------------------------------------------


async def test_delete_while_create_is_in_progress(env: EngineEnv) -> None:
    template = hot(
        {
            "slow": tres("s", wait_secs=-1),
            "after": tres({"get_attr": ["slow", "output"]}),
            "quick": tres("q"),
        }
    )
    created = await env.client.create_stack(env.ctx, "busy", template)
    sid = created["stack_id"]
    await wait_resource(env, sid, "slow", "CREATE_IN_PROGRESS")
    await wait_resource(env, sid, "quick", "CREATE_COMPLETE")
    stack = await delete(env, sid, timeout=10)
    assert stack["stack_status"] == "DELETE_COMPLETE", stack["stack_status_reason"]
    assert stack["deletion_time"] is not None
    assert await env.client.list_resources(env.ctx, sid) == []
    evs = await events(env, sid)
    assert evs[-1]["resource_name"] == "busy"
    assert evs[-1]["resource_status"] == "DELETE_COMPLETE"
    assert "CREATE_IN_PROGRESS" not in [
        e["resource_status"] for e in evs if e["resource_name"] == "after"
    ], "a resource waiting on the cancelled create never starts"


async def test_delete_while_update_is_in_progress(env: EngineEnv) -> None:
    created = await env.create("busy", hot({"t": tres("one")}))
    sid = created["id"]
    await env.client.update_stack(env.ctx, sid, hot({"t": tres("two", wait_secs=-1)}))
    await wait_resource(env, sid, "t", "UPDATE_IN_PROGRESS")
    stack = await delete(env, sid, timeout=10)
    assert stack["stack_status"] == "DELETE_COMPLETE", stack["stack_status_reason"]
    assert await env.client.list_resources(env.ctx, sid) == []


async def test_a_failed_stack_can_be_deleted(env: EngineEnv) -> None:
    created = await env.create("broken", hot({"bad": tres(fail=True), "good": tres()}))
    assert created["stack_status"] == "CREATE_FAILED"
    stack = await delete(env, created["id"])
    assert stack["stack_status"] == "DELETE_COMPLETE", stack["stack_status_reason"]
    assert await env.client.list_resources(env.ctx, created["id"]) == []


async def test_a_rolled_back_stack_can_be_deleted(env: EngineEnv) -> None:
    """After a create rolled back the stack has no resources left; deleting it must still
    finish."""
    created = await env.client.create_stack(
        env.ctx, "rolled", hot({"bad": tres(fail=True)}), args={"disable_rollback": False}
    )
    sid = created["stack_id"]
    await wait_status(env, sid, "ROLLBACK_COMPLETE")
    assert await env.client.list_resources(env.ctx, sid) == []
    stack = await delete(env, sid, timeout=5)
    assert stack["stack_status"] == "DELETE_COMPLETE"
