"""OS::Heat::AutoScalingGroup and OS::Heat::ScalingPolicy: a group made at its desired
size, resized by policy signals within its bounds and cooldowns, rolled out in batches."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from ember.common import errors
from ember.db.models import TraversalNode
from ember.db.session import session_scope
from tests.engine.conftest import EngineEnv
from tests.resources.helpers import (
    hot,
    nested_id,
    outputs,
    physical_ids,
    resources,
    text,
    tres,
    update,
)

ASG = "OS::Heat::AutoScalingGroup"
POLICY = "OS::Heat::ScalingPolicy"


def group(
    member: dict[str, Any] | None = None,
    *,
    policies: dict[str, dict[str, Any]] | None = None,
    **props: Any,
) -> dict[str, Any]:
    properties = {"min_size": 1, "max_size": 5, "resource": member or tres("m"), **props}
    resources_: dict[str, Any] = {"asg": {"type": ASG, "properties": properties}}
    for name, policy in (policies or {}).items():
        resources_[name] = {
            "type": POLICY,
            "properties": {"auto_scaling_group_id": {"get_resource": "asg"}, **policy},
        }
    return hot(
        resources_,
        outputs={
            "size": {"get_attr": ["asg", "current_size"]},
            "refs": {"get_attr": ["asg", "refs"]},
            "refs_map": {"get_attr": ["asg", "refs_map"]},
            "values": {"get_attr": ["asg", "outputs_list", "output"]},
            "by_member": {"get_attr": ["asg", "outputs", "output"]},
            "first": {"get_attr": ["asg", "resource.0"]},
            "first_value": {"get_attr": ["asg", "resource.0.output"]},
            "ref": {"get_resource": "asg"},
        },
    )


def up(adjustment: float = 1, kind: str = "change_in_capacity", **props: Any) -> dict[str, Any]:
    return {"adjustment_type": kind, "scaling_adjustment": adjustment, **props}


async def until(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    async def poll() -> Any:
        while True:
            value = await predicate()
            if value:
                return value
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def pausing(env: EngineEnv) -> int:
    """How many nodes are parked until a time, waiting for nothing else (a pause)."""
    node = TraversalNode
    with session_scope(env.db.engine, readonly=True) as session:
        query = select(func.count()).where(
            node.state == "PARKED", node.wake_key.is_(None), node.wake_at.is_not(None)
        )
        return int(session.execute(query).scalar_one())


async def members(env: EngineEnv, stack: str = "s") -> dict[str, str]:
    return await physical_ids(env, await nested_id(env, stack, "asg"))


async def signal_events(env: EngineEnv, name: str, stack: str = "s") -> list[dict[str, Any]]:
    listed = await env.client.list_events(env.ctx, stack)
    return [
        e
        for e in listed
        if e["resource_name"] == name and e["resource_status"] == "SIGNAL_COMPLETE"
    ]


async def signal(env: EngineEnv, policy: str, stack: str = "s") -> dict[str, Any]:
    """Signal the policy and wait for its SIGNAL event (the policy's decision)."""
    before = len(await signal_events(env, policy, stack))
    await env.client.signal_resource(env.ctx, stack, policy, None)

    async def handled() -> list[dict[str, Any]]:
        events = await signal_events(env, policy, stack)
        return events[before:]

    return (await until(handled, f"the SIGNAL event of {policy}"))[0]


async def settled_size(env: EngineEnv, size: int, stack: str = "s") -> dict[str, Any]:
    """Wait until the group has finished resizing to ``size``; its stack then."""

    async def done() -> dict[str, Any] | None:
        row = (await resources(env, stack))["asg"]
        if row["resource_status"] != "COMPLETE" and not row["resource_status"].endswith(
            "_COMPLETE"
        ):
            return None
        shown = await env.client.show_stack(env.ctx, stack)
        return shown if outputs(shown)["size"] == size else None

    return await until(done, f"the group at size {size}")


async def test_created_at_desired_size_with_attributes(env: EngineEnv) -> None:
    stack = await env.create("s", group(tres("v"), desired_capacity=3))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    ids = await members(env)
    out = outputs(stack)
    assert out["size"] == 3
    assert sorted(out["refs"]) == sorted(ids.values())
    assert out["refs_map"] == ids
    assert out["values"] == ["v", "v", "v"]
    assert out["by_member"] == dict.fromkeys(ids, "v")
    assert out["first"] in ids.values()
    assert out["first_value"] == "v"
    assert out["ref"] == await nested_id(env, "s", "asg")
    # Heat's member names: 12 lowercase base32 characters
    assert all(len(n) == 12 and n.isalnum() and n == n.lower() for n in ids)


async def test_created_at_min_size_without_desired(env: EngineEnv) -> None:
    stack = await env.create("s", group(min_size=2))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["size"] == 2
    assert len(await members(env)) == 2


async def test_members_as_template_resources(env: EngineEnv) -> None:
    member_template = hot(
        {"box": tres({"get_param": "label"})},
        parameters={"label": {"type": "string"}},
        outputs={"label": {"get_attr": ["box", "output"]}},
    )
    template = group({"type": "member.yaml", "properties": {"label": "x"}}, desired_capacity=2)
    template["outputs"] = {"labels": {"value": {"get_attr": ["asg", "outputs_list", "label"]}}}
    files = {"member.yaml": text(member_template)}
    stack = await env.create("s", template, files=files)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["labels"] == ["x", "x"]
    # a changed member template reaches the members, the group's properties unchanged
    member_template["outputs"]["label"] = {"value": "changed"}
    stack = await update(env, "s", template, files={"member.yaml": text(member_template)})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["labels"] == ["changed", "changed"]


async def test_policy_grows_and_shrinks_within_bounds(env: EngineEnv) -> None:
    template = group(
        min_size=1, max_size=3, policies={"up": up(1), "down": up(-2)}, desired_capacity=2
    )
    stack = await env.create("s", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    first = await members(env)
    event = await signal(env, "up")
    assert event["resource_status_reason"] == "No signal details provided"
    await settled_size(env, 3)
    grown = await members(env)
    assert set(first) < set(grown)  # the members there stay
    # at max_size: no change, and the policy's event says why
    event = await signal(env, "up")
    assert event["resource_status_reason"] == (
        "Signal: The resource asg could not perform scaling action: "
        "as there is no change in capacity"
    )
    # down by two, held at min_size 1: the oldest members go
    await signal(env, "down")
    stack = await settled_size(env, 1)
    remaining = await members(env)
    newest = [n for n in grown if n not in first]
    assert list(remaining) == newest
    assert outputs(stack)["refs"] == list(remaining.values())
    # the group's row shows the resize as an update
    assert (await resources(env, "s"))["asg"]["resource_status"] == "UPDATE_COMPLETE"


async def test_exact_capacity_and_percent_with_min_step(env: EngineEnv) -> None:
    policies = {
        "exact": up(4, "exact_capacity"),
        "pct": up(10, "percent_change_in_capacity", min_adjustment_step=2),
        "half": up(-50, "percent_change_in_capacity"),
        "small": up(-10, "percent_change_in_capacity"),
    }
    await env.create("s", group(max_size=10, policies=policies))
    await signal(env, "exact")
    await settled_size(env, 4)
    # 10% of 4 is 0.4: rounded up to one, and made at least the step of two
    await signal(env, "pct")
    await settled_size(env, 6)
    # -50% of 6 is -3
    await signal(env, "half")
    await settled_size(env, 3)
    # -10% of 3 is -0.3: rounded away from zero, one member less
    await signal(env, "small")
    await settled_size(env, 2)


async def test_cooldown_refuses_until_it_has_passed(env: EngineEnv) -> None:
    await env.create("s", group(policies={"up": up(1, cooldown=2)}))
    await signal(env, "up")
    await settled_size(env, 2)
    resized_at = dt.datetime.now(dt.UTC)
    event = await signal(env, "up")
    assert event["resource_status_reason"] == (
        "Signal: The resource asg could not perform scaling action: due to cooldown, cooldown 2"
    )
    assert len(await members(env)) == 2

    async def grew() -> bool:
        event = await signal(env, "up")
        if "due to cooldown" in event["resource_status_reason"]:
            await asyncio.sleep(0.2)
            return False
        return True

    await until(grew, "a signal after the cooldown")
    await settled_size(env, 3)
    assert dt.datetime.now(dt.UTC) - resized_at >= dt.timedelta(seconds=1.5)


async def test_group_cooldown_applies_when_the_policy_has_none(env: EngineEnv) -> None:
    await env.create("s", group(cooldown=60, policies={"up": up(1)}))
    # the create started the group's cooldown, as in Heat
    event = await signal(env, "up")
    assert event["resource_status_reason"].endswith("due to cooldown, cooldown 60")
    assert len(await members(env)) == 1


async def test_concurrent_signals_each_apply_once(env: EngineEnv) -> None:
    policies = {f"p{i}": up(1) for i in range(3)}
    await env.create("s", group(max_size=10, policies=policies))
    await asyncio.gather(
        *(env.client.signal_resource(env.ctx, "s", name, None) for name in policies)
    )

    async def handled() -> bool:
        return all([await signal_events(env, name) for name in policies])

    await until(handled, "every policy's signal")
    # each signal either grew the group by one or was refused while it was busy
    events = [(await signal_events(env, name))[0] for name in policies]
    acted = [e for e in events if e["resource_status_reason"] == "No signal details provided"]
    assert acted
    await settled_size(env, 1 + len(acted))
    assert len(await members(env)) == 1 + len(acted)


async def test_stack_update_waits_for_an_adjustment_under_way(env: EngineEnv) -> None:
    slow = tres("m", action_wait_secs={"create": 1})
    template = group(slow, policies={"up": up(1)})
    await env.create("s", template)
    child = await nested_id(env, "s", "asg")
    await signal(env, "up")

    async def resizing() -> bool:
        shown = await env.client.show_stack(env.ctx, child, resolve_outputs=False)
        return bool(shown["stack_status"] == "UPDATE_IN_PROGRESS")

    # the adjustment's node is parked while its new member is made; an update of the
    # stack then comes to the group
    await until(resizing, "the adjustment under way")
    stack = await update(env, "s", group(slow, policies={"up": up(1)}, max_size=4))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    stack = await settled_size(env, 2)
    # the nested stack's updates ran one after the other, none superseding another
    listed = await env.client.list_events(env.ctx, child)
    own = [e["resource_status"] for e in listed if e["resource_name"] == e["stack_name"]]
    updates = [status for status in own if status.startswith("UPDATE")]
    assert updates == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"] * (len(updates) // 2), own
    assert len(await members(env)) == 2


async def test_stack_update_resizes_to_desired_capacity(env: EngineEnv) -> None:
    await env.create("s", group(desired_capacity=2))
    stack = await update(env, "s", group(desired_capacity=4))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["size"] == 4
    # without desired_capacity the size is kept, within the new bounds
    stack = await update(env, "s", group(max_size=3))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["size"] == 3
    stack = await update(env, "s", group(max_size=5))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["size"] == 3


async def test_rolling_update_keeps_min_in_service(env: EngineEnv) -> None:
    rolling = {"min_in_service": 2, "max_batch_size": 1, "pause_time": 0}
    member_a = tres("a", update_replace=True)
    await env.create("s", group(member_a, desired_capacity=3, rolling_updates=rolling))
    child = await nested_id(env, "s", "asg")
    before = await members(env)
    member_b = tres("b", update_replace=True)
    stack = await update(env, "s", group(member_b, desired_capacity=3, rolling_updates=rolling))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["b", "b", "b"]
    after = await members(env)
    assert len(after) == 3 and not set(after.values()) & set(before.values())
    # replay the nested stack's events: members in service never fell below two
    listed = await env.client.list_events(env.ctx, child)
    up_now: set[str] = set(before.values())
    batches = 0
    for event in listed:
        physical = event["physical_resource_id"]
        status = event["resource_status"]
        if event["resource_name"] == event["stack_name"] or not physical:
            if status == "UPDATE_COMPLETE":
                batches += 1
            continue
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            up_now.add(physical)
        elif status in ("DELETE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS"):
            up_now.discard(physical)
        assert len(up_now) >= 2, (event, up_now)
    assert batches >= 3


async def test_rolling_update_pause_parks_between_batches(env: EngineEnv) -> None:
    rolling = {"min_in_service": 0, "max_batch_size": 1, "pause_time": 1}
    await env.create("s", group(tres("a"), desired_capacity=2, rolling_updates=rolling))
    child = await nested_id(env, "s", "asg")
    await env.client.update_stack(
        env.ctx, "s", group(tres("b"), desired_capacity=2, rolling_updates=rolling)
    )

    async def paused() -> bool:
        return pausing(env) == 1

    # between the two batches the group's node is parked until its pause ends: waiting
    # for nothing but a time, holding no worker
    await until(paused, "the group's node parked for the pause")
    stack = await env.wait("s", "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["b", "b"]
    listed = await env.client.list_events(env.ctx, child)
    stack_updates = [
        e["event_time"]
        for e in listed
        if e["resource_name"] == e["stack_name"] and e["resource_status"] == "UPDATE_COMPLETE"
    ]
    assert len(stack_updates) == 2
    first, second = (dt.datetime.fromisoformat(t) for t in stack_updates)
    assert second - first >= dt.timedelta(seconds=0.9)


async def test_bad_sizes_and_adjustment_type(env: EngineEnv) -> None:
    # Sizes written in the template are refused with the request, as Heat refuses them.
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.create_stack(env.ctx, "s", group(min_size=4, max_size=2))
    assert str(refused.value) == (
        "resources.asg.properties: MinSize can not be greater than MaxSize"
    )
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.create_stack(env.ctx, "s2", group(desired_capacity=9))
    assert str(refused.value).endswith("DesiredCapacity must be between MinSize and MaxSize")
    # Sizes computed from other resources are checked when they are known.
    computed = group(min_size={"get_attr": ["low", "value"]}, max_size=2)
    computed["resources"]["low"] = {"type": "OS::Heat::Value", "properties": {"value": 4}}
    stack = await env.create("s4", computed)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"].endswith("MinSize can not be greater than MaxSize")
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.create_stack(env.ctx, "s3", group(policies={"p": up(1, "sideways")}))
    assert "resources.p.properties.adjustment_type" in str(refused.value)
    assert '"sideways" is not an allowed value' in str(refused.value)


async def test_min_adjustment_step_only_with_percent(env: EngineEnv) -> None:
    stack = await env.create("s", group(policies={"p": up(1, min_adjustment_step=2)}))
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"].endswith(
        "min_adjustment_step property should only be specified for adjustment_type with "
        "value percent_change_in_capacity."
    )


async def test_policy_naming_a_resource_that_is_not_a_group(env: EngineEnv) -> None:
    template = hot(
        {
            "box": tres(),
            "p": {
                "type": POLICY,
                "properties": {
                    "auto_scaling_group_id": {"get_resource": "box"},
                    **up(1),
                },
            },
        }
    )
    stack = await env.create("s", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    box = (await physical_ids(env, "s"))["box"]
    await env.client.signal_resource(env.ctx, "s", "p", None)

    async def failed() -> list[dict[str, Any]]:
        listed = await env.client.list_events(env.ctx, "s")
        return [e for e in listed if e["resource_status"] == "SIGNAL_FAILED"]

    [event] = await until(failed, "the failed signal")
    assert event["resource_status_reason"].endswith(
        f'Alarm p could not find scaling group named "{box}"'
    )


async def test_policy_urls_are_built_on_its_own_credential(env: EngineEnv) -> None:
    template = group(policies={"p": up(1)})
    template["outputs"] = {
        "alarm": {"value": {"get_attr": ["p", "alarm_url"]}},
        "signal": {"value": {"get_attr": ["p", "signal_url"]}},
    }
    stack = await env.create("s", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    urls = outputs(stack)
    arn = f"arn%3Aopenstack%3Aheat%3A%3Ademo%3Astacks/s/{stack['id']}/resources/p"
    assert urls["alarm"].startswith(f"http://127.0.0.1:8000/v1/signal/{arn}?")
    assert "Signature=" in urls["alarm"] and "AWSAccessKeyId=" in urls["alarm"]
    assert urls["signal"] == (
        f"http://127.0.0.1:8004/v1/demo/stacks/s/{stack['id']}/resources/p/signal"
    )
