"""AWS::AutoScaling::AutoScalingGroup, AWS::AutoScaling::LaunchConfiguration,
AWS::AutoScaling::ScalingPolicy and OS::Heat::InstanceGroup, with the members'
AWS::EC2::Instance mapped in the environment to a template of an OS::Heat::TestResource,
as Heat's functional tests do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import EngineEnv
from tests.resources.helpers import hot, nested_id, outputs, physical_ids, resources, text, update
from tests.resources.test_autoscaling import signal, until

# What an AWS::EC2::Instance is here: a test resource, its value the image it was given.
INSTANCE = hot(
    {"box": {"type": "OS::Heat::TestResource", "properties": {"value": {"get_param": "ImageId"}}}},
    parameters={
        "ImageId": {"type": "string"},
        "InstanceType": {"type": "string"},
        "SecurityGroups": {"type": "comma_delimited_list", "default": []},
        "UserData": {"type": "string", "default": ""},
        "Tags": {"type": "comma_delimited_list", "default": "x,y"},
    },
    outputs={"PublicIp": {"get_attr": ["box", "output"]}, "tags": {"get_param": "Tags"}},
)
FILES = {"instance.yaml": text(INSTANCE)}
ENVIRONMENT = {"resource_registry": {"AWS::EC2::Instance": "instance.yaml"}}


def cfn(
    group: dict[str, Any],
    *,
    image: str = "img-1",
    policy: dict[str, Any] | None = None,
    update_policy: dict[str, Any] | None = None,
    group_type: str = "AWS::AutoScaling::AutoScalingGroup",
) -> dict[str, Any]:
    resources_: dict[str, Any] = {
        "config": {
            "Type": "AWS::AutoScaling::LaunchConfiguration",
            "Metadata": {"role": "web"},
            "Properties": {"ImageId": image, "InstanceType": "m1.small"},
        },
        "group": {
            "Type": group_type,
            "Properties": {
                "AvailabilityZones": ["nova"],
                "LaunchConfigurationName": {"Ref": "config"},
                **group,
            },
        },
    }
    if update_policy:
        resources_["group"]["UpdatePolicy"] = update_policy
    if policy:
        resources_["up"] = {
            "Type": "AWS::AutoScaling::ScalingPolicy",
            "Properties": {"AutoScalingGroupName": {"Ref": "group"}, **policy},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources_,
        "Outputs": {
            "InstanceList": {"Value": {"Fn::GetAtt": ["group", "InstanceList"]}},
            "ConfigRef": {"Value": {"Ref": "config"}},
        },
    }


async def create(env: EngineEnv, template: dict[str, Any]) -> dict[str, Any]:
    return await env.create("s", template, files=FILES, environment=ENVIRONMENT)


async def members(env: EngineEnv) -> dict[str, str]:
    return await physical_ids(env, await nested_id(env, "s", "group"))


async def test_group_made_from_the_launch_configuration(env: EngineEnv) -> None:
    stack = await create(env, cfn({"MinSize": "2", "MaxSize": "5"}))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["InstanceList"] == "img-1,img-1"
    assert len(await members(env)) == 2
    child = await nested_id(env, "s", "group")
    template = await env.client.get_template(env.ctx, child)
    member = next(iter(template["resources"].values()))
    assert member["type"] == "AWS::EC2::Instance"
    assert member["properties"]["ImageId"] == "img-1"
    assert member["metadata"] == {"role": "web"}
    tag_keys = [t["Key"] for t in member["properties"]["Tags"]]
    assert tag_keys == ["metering.groupname", "metering.AutoScalingGroupName"]
    # the members are template resources made from instance.yaml
    rows = await resources(env, child)
    assert {r["resource_type"] for r in rows.values()} == {"AWS::EC2::Instance"}


async def test_policy_resizes_the_group(env: EngineEnv) -> None:
    template = cfn(
        {"MinSize": "1", "MaxSize": "3", "DesiredCapacity": "1"},
        policy={"AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": "2"},
    )
    stack = await create(env, template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    await signal(env, "up")

    async def grown() -> bool:
        shown = await env.client.show_stack(env.ctx, "s")
        row = (await resources(env, "s"))["group"]
        instances = outputs(shown)["InstanceList"] or ""
        return row["resource_status"] == "UPDATE_COMPLETE" and len(instances.split(",")) == 3

    await until(grown, "the group grown to three")
    assert len(await members(env)) == 3
    # the policy's Ref is its name while it has no signal credential
    shown = await env.client.show_stack(env.ctx, "s")
    assert (await resources(env, "s"))["up"]["physical_resource_id"]
    assert outputs(shown)["InstanceList"] == "img-1,img-1,img-1"


async def test_new_launch_configuration_rolls_in_batches(env: EngineEnv) -> None:
    rolling = {
        "AutoScalingRollingUpdate": {
            "MinInstancesInService": "1",
            "MaxBatchSize": "1",
            "PauseTime": "PT0S",
        }
    }
    stack = await create(env, cfn({"MinSize": "2", "MaxSize": "4"}, update_policy=rolling))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    config_before = outputs(stack)["ConfigRef"]
    stack = await update(
        env,
        "s",
        cfn({"MinSize": "2", "MaxSize": "4"}, image="img-2", update_policy=rolling),
        files=FILES,
        environment=ENVIRONMENT,
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["InstanceList"] == "img-2,img-2"
    assert outputs(stack)["ConfigRef"] != config_before  # the configuration was replaced
    child = await nested_id(env, "s", "group")
    listed = await env.client.list_events(env.ctx, child)
    updates = [
        e
        for e in listed
        if e["resource_name"] == e["stack_name"] and "UPDATE_COMPLETE" in e["resource_status"]
    ]
    assert len(updates) == 2  # one member at a time


@pytest.mark.parametrize(
    "min_in_service,batch,kept,made",
    [(1, 3, 5, 0), (4, 4, 2, 3), (0, 20, 5, 0), (20, 2, 3, 2)],
    ids=["no-conflict", "adjusted-capacity", "huge-batch", "huge-min-in-service"],
)
async def test_rolling_update_counts_members_as_heat_and_leaves_none_behind(
    env: EngineEnv, min_in_service: int, batch: int, kept: int, made: int
) -> None:
    """Heat's functional InstanceGroupUpdatePolicyTest: five members, a new launch
    configuration; how many keep their names, how many are made and removed follows
    Heat's batches, and every member ends with the new configuration (each one is
    UPDATE_COMPLETE: a template resource is always updated with its stack)."""
    rolling = {
        "RollingUpdate": {
            "MinInstancesInService": str(min_in_service),
            "MaxBatchSize": str(batch),
            "PauseTime": "PT0S",
        }
    }
    group = "OS::Heat::InstanceGroup"
    await create(env, cfn({"Size": "5"}, update_policy=rolling, group_type=group))
    before = set(await members(env))
    stack = await update(
        env,
        "s",
        cfn({"Size": "5"}, image="img-2", update_policy=rolling, group_type=group),
        files=FILES,
        environment=ENVIRONMENT,
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = set(await members(env))
    assert (len(after & before), len(after - before), len(before - after)) == (kept, made, made)
    assert outputs(stack)["InstanceList"] == ",".join(["img-2"] * 5)
    rows = await resources(env, await nested_id(env, "s", "group"))
    assert {r["resource_status"] for r in rows.values()} == {"UPDATE_COMPLETE"}


async def test_without_update_policy_existing_members_keep_their_configuration(
    env: EngineEnv,
) -> None:
    await create(env, cfn({"MinSize": "1", "MaxSize": "4"}))
    stack = await update(
        env,
        "s",
        cfn({"MinSize": "2", "MaxSize": "4"}, image="img-2"),
        files=FILES,
        environment=ENVIRONMENT,
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    # the oldest member stays as it was; the new one is made from the new configuration
    assert outputs(stack)["InstanceList"] == "img-1,img-2"


async def test_instance_group_follows_its_size(env: EngineEnv) -> None:
    template = cfn({"Size": "2"}, group_type="OS::Heat::InstanceGroup")
    stack = await create(env, template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["InstanceList"] == "img-1,img-1"
    stack = await update(
        env,
        "s",
        cfn({"Size": "3"}, group_type="OS::Heat::InstanceGroup"),
        files=FILES,
        environment=ENVIRONMENT,
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["InstanceList"] == "img-1,img-1,img-1"


async def test_bad_sizes_and_pause_time(env: EngineEnv) -> None:
    stack = await create(env, cfn({"MinSize": "3", "MaxSize": "1"}))
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == (
        "Resource CREATE failed: StackValidationFailed: resources.group: "
        "MinSize can not be greater than MaxSize"
    )
    long_pause = {"AutoScalingRollingUpdate": {"PauseTime": "PT2H"}}
    stack = await env.create(
        "s2",
        cfn({"MinSize": "1", "MaxSize": "2"}, update_policy=long_pause),
        files=FILES,
        environment=ENVIRONMENT,
    )
    assert stack["stack_status_reason"].endswith("Maximum PauseTime is 1 hour.")


async def test_launch_configuration_needs_image_and_type(env: EngineEnv) -> None:
    template = cfn({"MinSize": "1", "MaxSize": "2"})
    del template["Resources"]["config"]["Properties"]["InstanceType"]
    stack = await create(env, template)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"].endswith(
        "If without InstanceId, ImageId and InstanceType are required."
    )


async def test_a_signal_refreshes_metadata_that_reads_the_group(env: EngineEnv) -> None:
    """As Heat's signal handling: once a policy's signal has resized the group, the
    metadata of a template resource reading the group's InstanceList is resolved again
    (Heat's functional AutoScalingSignalTest)."""
    template = cfn(
        {"MinSize": "0", "MaxSize": "5", "DesiredCapacity": "2"},
        policy={"AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": "1", "Cooldown": "0"},
    )
    template["Resources"]["balancer"] = {
        "Type": "AWS::EC2::Instance",
        "Properties": {"ImageId": "lb", "InstanceType": "m1.small"},
        "Metadata": {"IPs": {"Fn::GetAtt": ["group", "InstanceList"]}},
    }
    stack = await create(env, template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]

    async def ips() -> str:
        shown = await env.client.resource_metadata(env.ctx, "s", "balancer")
        return str(shown["IPs"])

    assert await ips() == "img-1,img-1"
    await signal(env, "up")

    async def refreshed() -> bool:
        return await ips() == "img-1,img-1,img-1"

    await until(refreshed, "the balancer's metadata naming three members")
    # A resource whose type keeps its metadata as given is not touched.
    assert (await env.client.resource_metadata(env.ctx, "s", "config")) == {"role": "web"}
