"""OS::Heat::ResourceGroup: members in a nested stack, counts, removal policies, update
policies and the group's attributes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv
from tests.resources.helpers import (
    custom_env,
    delete,
    hot,
    is_deleted,
    nested_id,
    outputs,
    physical_ids,
    resources,
    show,
    stack_events,
    text,
    tres,
    update,
)

GROUP = "OS::Heat::ResourceGroup"


def group(
    count: int = 3,
    member: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    **props: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": GROUP,
        "properties": {"count": count, "resource_def": member or tres("v%index%"), **props},
    }
    if policy:
        resource["update_policy"] = policy
    return hot(
        {"group": resource},
        outputs={
            "values": {"get_attr": ["group", "output"]},
            "refs": {"get_attr": ["group", "refs"]},
            "refs_map": {"get_attr": ["group", "refs_map"]},
            "removed": {"get_attr": ["group", "removed_rsrc_list"]},
            "by_member": {"get_attr": ["group", "attributes", "output"]},
        },
    )


async def members(env: EngineEnv, stack: str = "g") -> dict[str, str]:
    """Member name -> physical id, in the group's nested stack."""
    return await physical_ids(env, await nested_id(env, stack, "group"))


async def test_create_members_with_index_and_attributes(env: EngineEnv) -> None:
    template = group(3)
    template["outputs"].update(
        {
            "one": {"value": {"get_attr": ["group", "resource.1"]}},
            "one_output": {"value": {"get_attr": ["group", "resource.1.output"]}},
            "ref": {"value": {"get_resource": "group"}},
        }
    )
    stack = await env.create("g", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    child = await nested_id(env, "g", "group")
    ids = await physical_ids(env, child)
    assert sorted(ids) == ["0", "1", "2"]
    out = outputs(stack)
    assert out["values"] == ["v0", "v1", "v2"]
    assert out["refs"] == [ids["0"], ids["1"], ids["2"]]
    assert out["refs_map"] == ids
    assert out["removed"] == []
    assert out["by_member"] == {"0": "v0", "1": "v1", "2": "v2"}
    assert out["one"] == ids["1"]
    assert out["one_output"] == "v1"
    assert out["ref"] == child
    assert (await show(env, child))["parent"] == stack["id"]


async def test_index_var_and_metadata(env: EngineEnv) -> None:
    member = {
        "type": "OS::Heat::TestResource",
        "properties": {"value": "name-__n__-%index%"},
        "metadata": {"role": "worker"},
    }
    stack = await env.create("g", group(2, member, index_var="__n__"))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["name-0-%index%", "name-1-%index%"]
    child = await nested_id(env, "g", "group")
    template = await env.client.get_template(env.ctx, child)
    assert template["resources"]["1"]["metadata"] == {"role": "worker"}


async def test_count_up_and_down_keeps_members(env: EngineEnv) -> None:
    await env.create("g", group(3))
    before = await members(env)
    child = await nested_id(env, "g", "group")
    stack = await update(env, "g", group(5))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    grown = await members(env)
    assert sorted(grown) == ["0", "1", "2", "3", "4"]
    assert {n: grown[n] for n in before} == before
    assert outputs(stack)["values"] == ["v0", "v1", "v2", "v3", "v4"]
    stack = await update(env, "g", group(2))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    # the highest-numbered members go
    assert await members(env) == {"0": before["0"], "1": before["1"]}
    assert outputs(stack)["values"] == ["v0", "v1"]
    assert await nested_id(env, "g", "group") == child


async def test_removal_policy_by_name_and_names_never_reused(env: EngineEnv) -> None:
    await env.create("g", group(3))
    before = await members(env)
    removal = [{"resource_list": ["1"]}]
    stack = await update(env, "g", group(2, removal_policies=removal))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await members(env) == {"0": before["0"], "2": before["2"]}
    assert outputs(stack)["removed"] == ["1"]
    assert outputs(stack)["values"] == ["v0", "v2"]
    # growing again makes a new name, even with the policy no longer given (append mode)
    stack = await update(env, "g", group(3))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert sorted(await members(env)) == ["0", "2", "3"]
    assert outputs(stack)["removed"] == ["1"]
    assert outputs(stack)["values"] == ["v0", "v2", "v3"]


async def test_removal_policy_by_physical_id(env: EngineEnv) -> None:
    await env.create("g", group(3))
    before = await members(env)
    removal = [{"resource_list": [before["0"]]}]
    stack = await update(env, "g", group(2, removal_policies=removal))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await members(env) == {"1": before["1"], "2": before["2"]}
    assert outputs(stack)["removed"] == ["0"]


async def test_removal_policy_keeping_count_replaces_member(env: EngineEnv) -> None:
    await env.create("g", group(3))
    before = await members(env)
    stack = await update(env, "g", group(3, removal_policies=[{"resource_list": ["0"]}]))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = await members(env)
    assert sorted(after) == ["1", "2", "3"]
    assert after["1"] == before["1"]


async def test_removal_policies_mode_update_forgets_removed_names(env: EngineEnv) -> None:
    await env.create("g", group(3, removal_policies=[{"resource_list": ["1"]}]))
    # removed from the start: names skip "1"
    assert sorted(await members(env)) == ["0", "2", "3"]
    stack = await update(env, "g", group(3, removal_policies=[], removal_policies_mode="update"))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert sorted(await members(env)) == ["0", "1", "2"]
    assert outputs(stack)["removed"] == []


async def test_resource_def_change_updates_members_in_place(env: EngineEnv) -> None:
    await env.create("g", group(3))
    before = await members(env)
    stack = await update(env, "g", group(3, tres("new-%index%")))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["new-0", "new-1", "new-2"]
    assert await members(env) == before  # TestResource values change in place


async def test_resource_def_change_replacing_members(env: EngineEnv) -> None:
    await env.create("g", group(2, tres("a", update_replace=True)))
    before = await members(env)
    stack = await update(env, "g", group(2, tres("b", update_replace=True)))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = await members(env)
    assert sorted(after) == ["0", "1"]
    assert all(after[n] != before[n] for n in before)
    assert outputs(stack)["values"] == ["b", "b"]


async def test_rolling_update_in_batches(env: EngineEnv) -> None:
    policy = {"rolling_update": {"max_batch_size": 1, "min_in_service": 0, "pause_time": 0}}
    await env.create("g", group(3, policy=policy))
    child = await nested_id(env, "g", "group")
    stack = await update(env, "g", group(3, tres("new-%index%"), policy=policy))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["new-0", "new-1", "new-2"]
    # one nested update per member
    statuses = await stack_events(env, child)
    assert statuses.count("UPDATE_COMPLETE") == 3, statuses
    # higher indices first
    listed = await env.client.list_events(env.ctx, child)
    order = [e["resource_name"] for e in listed if e["resource_status"] == "UPDATE_COMPLETE"]
    order = [n for n in order if n in ("0", "1", "2")]
    assert order == ["2", "1", "0"]


async def test_rolling_update_to_a_provider_template_moved_elsewhere(env: EngineEnv) -> None:
    # The request no longer sends the old path; the members not yet replaced keep it.
    policy = {"rolling_update": {"max_batch_size": 3, "min_in_service": 1, "pause_time": 0}}
    provider = text(hot({"oops": tres("p")}))
    await env.create(
        "moved",
        group(4, {"type": "/opt/provider.yaml"}, policy=policy),
        files={"/opt/provider.yaml": provider},
    )
    before = await members(env, "moved")
    stack = await update(
        env,
        "moved",
        group(4, {"type": "/opt1/provider.yaml"}, policy=policy),
        files={"/opt1/provider.yaml": provider},
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    # Both paths are template resources of the same template: the members' nested stacks
    # are updated in place, and the members show the type they now have.
    assert await members(env, "moved") == before
    child = await nested_id(env, "moved", "group")
    listed = await resources(env, child)
    assert {r["resource_type"] for r in listed.values()} == {"/opt1/provider.yaml"}


async def test_rolling_update_with_min_in_service_adds_temporary_member(env: EngineEnv) -> None:
    policy = {"rolling_update": {"max_batch_size": 1, "min_in_service": 2}}
    await env.create("g", group(2, tres("a", update_replace=True), policy=policy))
    child = await nested_id(env, "g", "group")
    stack = await update(env, "g", group(2, tres("b", update_replace=True), policy=policy))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["b", "b"]
    assert len(await members(env)) == 2
    # while replacing, a third member kept two in service
    listed = await env.client.list_events(env.ctx, child)
    created = {e["resource_name"] for e in listed if e["resource_status"] == "CREATE_COMPLETE"}
    assert "2" in created


async def test_batch_create(env: EngineEnv) -> None:
    policy = {"batch_create": {"max_batch_size": 2, "pause_time": 0}}
    stack = await env.create("g", group(5, policy=policy))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["v0", "v1", "v2", "v3", "v4"]
    child = await nested_id(env, "g", "group")
    # created with two members, then grown by two and by one
    statuses = await stack_events(env, child)
    assert statuses.count("CREATE_COMPLETE") == 1
    assert statuses.count("UPDATE_COMPLETE") == 2


async def test_count_zero(env: EngineEnv) -> None:
    stack = await env.create("g", group(0))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["refs"] == []
    assert outputs(stack)["values"] == []  # a member attribute over no members, as Heat
    assert await members(env) == {}
    stack = await update(env, "g", group(2))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["v0", "v1"]


async def test_a_member_or_attribute_the_group_does_not_have_fails_the_output(
    env: EngineEnv,
) -> None:
    template = group(1)
    template["outputs"] = {
        "missing": {"value": {"get_attr": ["group", "resource.5", "output"]}},
        "bogus": {"value": {"get_attr": ["group", "no_such_attribute"]}},
        "first": {"value": {"get_attr": ["group", "resource.0", "output"]}},
    }
    stack = await env.create("g", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    shown = {o["output_key"]: o for o in stack["outputs"]}
    assert shown["first"]["output_value"] == "v0"
    for key in ("missing", "bogus"):
        assert shown[key]["output_value"] is None
        assert "is incorrect" in shown[key]["output_error"], shown[key]


async def test_failing_member_fails_group_with_reason(env: EngineEnv) -> None:
    stack = await env.create("g", group(2, tres("x", fail=True)))
    assert stack["stack_status"] == "CREATE_FAILED"
    reason = stack["stack_status_reason"]
    assert re.fullmatch(
        r"Resource CREATE failed: ValueError: resources\.group\.resources\[[01]\]: "
        r"Test Resource failed [01]",
        reason,
    ), reason
    group_row = (await resources(env, "g"))["group"]
    assert group_row["resource_status"] == "CREATE_FAILED"
    # the next update repairs the same nested stack instead of replacing the group
    child = await nested_id(env, "g", "group")
    stack = await update(env, "g", group(2, tres("x", fail=False)))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await nested_id(env, "g", "group") == child
    assert outputs(stack)["values"] == ["x", "x"]


async def test_members_as_template_resources(env: EngineEnv) -> None:
    member_template = hot(
        {"box": tres({"get_param": "label"})},
        parameters={"label": {"type": "string"}},
        outputs={"label": {"get_attr": ["box", "output"]}},
    )
    member = {"type": "member.yaml", "properties": {"label": "m%index%"}}
    template = group(2, member)
    template["outputs"] = {"labels": {"value": {"get_attr": ["group", "label"]}}}
    stack = await env.create("g", template, files={"member.yaml": text(member_template)})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["labels"] == ["m0", "m1"]


async def test_delete_removes_nested_stack(env: EngineEnv) -> None:
    await env.create("g", group(2))
    child = await nested_id(env, "g", "group")
    stack = await delete(env, "g")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert await is_deleted(env, child)


async def test_unknown_member_type_is_a_clear_error(env: EngineEnv) -> None:
    # Refused with the request, as Heat refuses it.
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.create_stack(env.ctx, "g", group(2, {"type": "OS::Nova::Serverr"}))
    assert str(refused.value).startswith(
        "resources.group.resources.0.type: The Resource Type (OS::Nova::Serverr) could not "
        "be found."
    )


async def test_unknown_member_property_is_refused_with_the_request(env: EngineEnv) -> None:
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.create_stack(env.ctx, "g", group(2, tres("v", nonsense=1)))
    assert "resources.group.resources.0.properties.nonsense: Unknown Property nonsense" in str(
        refused.value
    )


async def test_failed_update_rolls_back_members(env: EngineEnv) -> None:
    stack = await env.create("g", group(2), args={"disable_rollback": False})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    child = await nested_id(env, "g", "group")
    await env.client.update_stack(env.ctx, "g", group(3, tres("bad", fail=True)))
    stack = await env.wait("g", "ROLLBACK")
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["v0", "v1"]
    assert sorted(await members(env)) == ["0", "1"]
    assert await nested_id(env, "g", "group") == child


async def test_provider_members_beyond_worker_slots(tmp_path: Path) -> None:
    provider = hot({"box": tres()})
    template = group(3, {"type": "member.yaml"})
    template["outputs"] = {}
    async with custom_env(tmp_path, executor_batch_size=2) as env:
        created = await env.client.create_stack(
            env.ctx, "g", template, files={"member.yaml": text(provider)}
        )
        stack = await env.wait(created["stack_id"], "CREATE", timeout=5)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


async def test_nested_stacks_inherit_the_stacks_timeout(env: EngineEnv) -> None:
    """As in Heat: a nested stack with no timeout of its own has its parent's, all the way
    down (a group of template resources that hold groups)."""
    inner = hot({"value": {"type": "OS::Heat::Value", "properties": {"value": "test"}}})
    child = hot(
        {
            "child_group": {
                "type": "OS::Heat::ResourceGroup",
                "properties": {"count": 2, "resource_def": {"type": "value.yaml"}},
            }
        }
    )
    parent = hot(
        {
            "parent_group": {
                "type": "OS::Heat::ResourceGroup",
                "properties": {"count": 2, "resource_def": {"type": "child.yaml"}},
            }
        }
    )
    files = {"child.yaml": text(child), "value.yaml": text(inner)}
    made = await env.client.create_stack(
        env.ctx, "timed", parent, files=files, args={"timeout_mins": 10}
    )
    stack = await env.wait(made["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    listed = await env.client.list_resources(env.ctx, "timed", nested_depth=3)
    nested = [r["nested_stack_id"] for r in listed if r.get("nested_stack_id")]
    # The group's stack, its two template members', their groups', and those groups' four
    # template members'.
    assert len(nested) == 1 + 2 + 2 + 4
    assert {(await show(env, stack_id))["timeout_mins"] for stack_id in nested} == {10}

    untimed = await env.create("untimed", parent, files=files)
    assert untimed["stack_status"] == "CREATE_COMPLETE"
    assert untimed["timeout_mins"] is None
    group = await nested_id(env, "untimed", "parent_group")
    assert (await show(env, group))["timeout_mins"] is None


async def test_members_templates_are_validated_unless_there_are_none(env: EngineEnv) -> None:
    """As in Heat: a group's member template is checked with the request, except for a
    group of no members (how a template switches a feature off)."""
    broken = hot(
        {"random": {"type": "OS::Heat::RandomString", "properties": {"length": "BAD"}}},
        parameters={"length": {"type": "string", "default": 50}},
    )
    environment = {"resource_registry": {"My::RandomString": "provider.yaml"}}
    files = {"provider.yaml": text(broken)}

    def grouped(count: int) -> dict[str, Any]:
        return hot(
            {
                "random_group": {
                    "type": "OS::Heat::ResourceGroup",
                    "properties": {
                        "count": count,
                        "resource_def": {"type": "My::RandomString", "properties": {"length": 30}},
                    },
                }
            }
        )

    empty = await env.create("empty", grouped(0), files=files, environment=environment)
    assert empty["stack_status"] == "CREATE_COMPLETE", empty["stack_status_reason"]
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.create_stack(
            env.ctx, "two", grouped(2), files=files, environment=environment
        )
    # Ember's dotted path, then Heat's text (the nested stacks marked) that scripts match.
    assert str(refused.value) == (
        "resources.random_group.resources.0.resources.random.properties.length: "
        "Value 'BAD' is not an integer (resources.random_group<nested_stack>.resources."
        "0<provider.yaml>.resources.random: : Value 'BAD' is not an integer)"
    )
    with pytest.raises(errors.StackValidationFailed) as refused:
        await env.client.update_stack(
            env.ctx, "empty", grouped(2), files=files, environment=environment
        )
    assert "resources.random_group<nested_stack>.resources.0<provider.yaml>" in str(refused.value)
    assert (await show(env, empty["id"]))["stack_status"] == "CREATE_COMPLETE"
