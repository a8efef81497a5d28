"""Suspend, resume, check, cancel, mark unhealthy, signals, hooks and services."""

from __future__ import annotations

from typing import Any

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv, flat
from tests.engine.helpers import wait_event, wait_resource


def tr_template(**props: Any) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {"t": {"type": "OS::Heat::TestResource", "properties": props}},
    }


async def test_suspend_resume_check(env: EngineEnv) -> None:
    await env.create("s", flat(4))
    for action, final in (("suspend", "SUSPEND"), ("resume", "RESUME"), ("check", "CHECK")):
        await env.client.stack_action(env.ctx, "s", action)
        stack = await env.wait("s", final)
        assert stack["stack_status"] == f"{final}_COMPLETE"
        assert stack["stack_status_reason"] == f"Stack {final} completed successfully"
        resources = await env.client.list_resources(env.ctx, "s")
        assert {r["resource_status"] for r in resources} == {f"{final}_COMPLETE"}


async def test_resume_needs_a_suspended_stack(env: EngineEnv) -> None:
    await env.create("s", flat(1))
    with pytest.raises(errors.NotSupported):
        await env.client.stack_action(env.ctx, "s", "resume")
    with pytest.raises(errors.InvalidRequest, match="Invalid action nope"):
        await env.client.stack_action(env.ctx, "s", "nope")


async def test_cancel_without_rollback_lets_what_runs_finish(env: EngineEnv) -> None:
    """As Heat's: the operation goes no further (the stack fails at once, what waits for
    the running resource never starts) and the running resource completes normally."""
    template = tr_template(action_wait_secs={"create": 2})
    template["resources"]["after"] = {"type": "OS::Heat::TestResource", "depends_on": ["t"]}
    created = await env.client.create_stack(env.ctx, "c", template)
    await wait_resource(env, created["stack_id"], "t", "CREATE_IN_PROGRESS")
    await env.client.stack_action(env.ctx, "c", "cancel_without_rollback")
    stack = await env.wait(created["stack_id"], "CREATE", timeout=20)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == "Stack CREATE cancelled"
    await wait_resource(env, created["stack_id"], "t", "CREATE_COMPLETE")
    after = await env.client.show_resource(env.ctx, "c", "after")
    assert after["resource_status"] == "INIT_COMPLETE"
    shown = await env.client.show_stack(env.ctx, "c")
    assert shown["stack_status"] == "CREATE_FAILED"


async def test_cancel_update_rolls_back(env: EngineEnv) -> None:
    await env.create("u", tr_template(value="one"))
    await env.client.update_stack(env.ctx, "u", tr_template(value="two", wait_secs=30))
    await wait_resource(env, "u", "t", "UPDATE_IN_PROGRESS")
    await env.client.stack_action(env.ctx, "u", "cancel_update")
    stack = await env.wait("u", "ROLLBACK", timeout=20)  # the update waits 30 s
    assert stack["stack_status"] == "ROLLBACK_COMPLETE"
    resource = await env.client.show_resource(env.ctx, "u", "t")
    assert resource["attributes"]["output"] == "one"


async def test_cancel_is_refused_when_nothing_runs(env: EngineEnv) -> None:
    await env.create("done", flat(1))
    with pytest.raises(
        errors.NotSupported,
        match="Cancelling update when stack is CREATE_COMPLETE is not supported",
    ):
        await env.client.stack_action(env.ctx, "done", "cancel_update")


async def test_mark_unhealthy_then_update_replaces(env: EngineEnv) -> None:
    await env.create("m", tr_template(value="v"))
    before = await env.client.show_resource(env.ctx, "m", "t")
    await env.client.mark_unhealthy(env.ctx, "m", "t", True, "broken disk")
    marked = await env.client.show_resource(env.ctx, "m", "t")
    assert marked["resource_status"] == "CHECK_FAILED"
    assert marked["resource_status_reason"] == "broken disk"
    await env.client.update_stack(env.ctx, "m", tr_template(value="v"))
    await env.wait("m", "UPDATE")
    after = await env.client.show_resource(env.ctx, "m", "t")
    assert after["physical_resource_id"] != before["physical_resource_id"]
    assert after["resource_status"] == "CREATE_COMPLETE"


async def test_mark_healthy_again(env: EngineEnv) -> None:
    await env.create("m", tr_template())
    await env.client.mark_unhealthy(env.ctx, "m", "t", True, "x")
    await env.client.mark_unhealthy(env.ctx, "m", "t", False, "fixed")
    shown = await env.client.show_resource(env.ctx, "m", "t")
    assert (shown["resource_status"], shown["resource_status_reason"]) == (
        "CHECK_COMPLETE",
        "fixed",
    )


async def test_signal_to_a_type_without_signals_is_refused(env: EngineEnv) -> None:
    await env.create("sig", tr_template())
    with pytest.raises(errors.InvalidRequest, match=r"signal is not supported for resource\."):
        await env.client.signal_resource(env.ctx, "sig", "t", {"x": 1})


async def test_pre_create_hook_waits_until_cleared(env: EngineEnv) -> None:
    hooks = {"resource_registry": {"resources": {"t": {"hooks": "pre-create"}}}}
    created = await env.client.create_stack(env.ctx, "h", tr_template(), environment=hooks)
    paused = "CREATE paused until Hook pre-create is cleared"
    event = await wait_event(env, "h", "t", paused)
    # As in Heat, the resource keeps its state while paused: nothing is created yet.
    assert event["resource_status"] == "INIT_COMPLETE"
    shown = await env.client.show_resource(env.ctx, "h", "t")
    assert shown["resource_status"] == "INIT_COMPLETE"
    stack = await env.client.show_stack(env.ctx, created["stack_id"], resolve_outputs=False)
    assert stack["stack_status"] == "CREATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "h", "t", {"unset_hook": "pre-create"})
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE"
    reasons = [e["resource_status_reason"] for e in await env.client.list_events(env.ctx, "h")]
    assert "Hook pre-create is cleared" in reasons


async def test_clearing_an_inactive_hook_is_an_error(env: EngineEnv) -> None:
    await env.create("nh", tr_template())
    with pytest.raises(errors.InvalidRequest, match="hook is not active"):
        await env.client.signal_resource(env.ctx, "nh", "t", {"unset_hook": "pre-create"})


async def test_services_list_this_engine(env: EngineEnv) -> None:
    services = await env.client.list_services(env.ctx)
    assert [s["engine_id"] for s in services] == [env.engine.engine_id]
    assert services[0]["status"] == "up" and services[0]["binary"] == "heat-engine"


async def test_check_goes_on_after_a_failure_and_says_what_it_cannot_check(
    env: EngineEnv,
) -> None:
    """Heat's check: a resource whose create failed fails its check, what depends on it is
    never checked (it stays INIT_COMPLETE), the others are checked, and a type that cannot
    check says so."""
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "check_succeed": {"type": "OS::Heat::TestResource"},
            "check_failed": {
                "type": "OS::Heat::TestResource",
                "properties": {"fail": True, "action_wait_secs": {"create": 1}},
            },
            "check_deps_failed": {"type": "OS::Heat::TestResource", "depends_on": ["check_failed"]},
            "plain": {"type": "OS::Heat::RandomString"},
        },
    }
    created = await env.client.create_stack(env.ctx, "checked", template)
    assert (await env.wait(created["stack_id"], "CREATE"))["stack_status"] == "CREATE_FAILED"
    await env.client.stack_action(env.ctx, "checked", "check")
    stack = await env.wait(created["stack_id"], "CHECK")
    assert stack["stack_status"] == "CHECK_FAILED"
    shown = {
        r["resource_name"]: (r["resource_status"], r["resource_status_reason"])
        for r in await env.client.list_resources(env.ctx, "checked")
    }
    assert shown["check_succeed"][0] == "CHECK_COMPLETE"
    assert shown["check_failed"][0] == "CHECK_FAILED"
    assert "Resource not created" in shown["check_failed"][1]
    assert shown["check_deps_failed"][0] == "INIT_COMPLETE"
    assert shown["plain"] == ("CHECK_COMPLETE", "CHECK not supported for OS::Heat::RandomString")
