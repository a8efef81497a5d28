"""``max_resources_per_stack`` holds the whole tree — groups' and chains' members, template
resources' nested stacks, groups of templates, templates that use themselves — and is
checked before anything is made: validate, preview, create and update refuse the same
templates. A count known only once another resource exists is checked by the group before it
builds a single member definition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv
from tests.resources.helpers import custom_env, hot, resources, show, text, tres

LIMIT = 20
TOO_MANY = "You have reached the maximum resources per stack"
NONE = "OS::Heat::None"


def group(count: Any, member_type: str = NONE, **member: Any) -> dict[str, Any]:
    return {
        "type": "OS::Heat::ResourceGroup",
        "properties": {"count": count, "resource_def": {"type": member_type, **member}},
    }


def template_of(count: int, kind: str = NONE) -> str:
    return text(hot({f"r{i}": {"type": kind} for i in range(count)}))


# (template, files, params): each tree holds more than LIMIT resources.
TOO_LARGE: dict[str, tuple[dict[str, Any], dict[str, str], dict[str, Any]]] = {
    "the probe's count": (hot({"g": group(10_000_000)}), {}, {}),
    "a count from a parameter": (
        hot({"g": group({"get_param": "n"})}, parameters={"n": {"type": "number"}}),
        {},
        {"n": 200_000},
    ),
    # 1 + 20 members: the group counts as well, as in Heat.
    "one more than fits": (hot({"g": group(LIMIT)}), {}, {}),
    # 1 + 4 * (1 + 5)
    "a group of templates": (hot({"g": group(4, "m.yaml")}), {"m.yaml": template_of(5)}, {}),
    # 1 + 3 * (1 + 6 members)
    "a group of groups": (
        hot(
            {
                "g": group(
                    3,
                    "OS::Heat::ResourceGroup",
                    properties={"count": 6, "resource_def": {"type": NONE}},
                )
            }
        ),
        {},
        {},
    ),
    # 1 + 4 * (1 + 5)
    "a chain of templates": (
        hot(
            {"c": {"type": "OS::Heat::ResourceChain", "properties": {"resources": ["m.yaml"] * 4}}}
        ),
        {"m.yaml": template_of(5)},
        {},
    ),
    # 1 + (1 + 4 * (1 + 5))
    "a template resource holding a group": (
        hot({"t": {"type": "outer.yaml"}}),
        {"outer.yaml": text(hot({"g": group(4, "m.yaml")})), "m.yaml": template_of(5)},
        {},
    ),
    # 1 + 30 members, from the desired capacity
    "an autoscaling group": (
        hot(
            {
                "g": {
                    "type": "OS::Heat::AutoScalingGroup",
                    "properties": {
                        "min_size": 1,
                        "max_size": 100,
                        "desired_capacity": 30,
                        "resource": {"type": NONE},
                    },
                }
            }
        ),
        {},
        {},
    ),
    # 1 + 1 + 25 instances, from MinSize
    "an AWS autoscaling group": (
        hot(
            {
                "lc": {
                    "type": "AWS::AutoScaling::LaunchConfiguration",
                    "properties": {"ImageId": "i", "InstanceType": "t"},
                },
                "g": {
                    "type": "AWS::AutoScaling::AutoScalingGroup",
                    "properties": {
                        "AvailabilityZones": ["nova"],
                        "LaunchConfigurationName": {"get_resource": "lc"},
                        "MinSize": 25,
                        "MaxSize": 30,
                    },
                },
            }
        ),
        {},
        {},
    ),
    # A template made of three copies of itself: three to the power of the nesting depth.
    "a template that uses itself": (
        hot({"t": {"type": "loop.yaml"}}),
        {"loop.yaml": template_of(3, "loop.yaml")},
        {},
    ),
}


@pytest.fixture
async def small(tmp_path: Path) -> Any:
    async with custom_env(tmp_path, max_resources_per_stack=LIMIT) as env:
        yield env


@pytest.mark.parametrize("case", list(TOO_LARGE))
async def test_every_door_refuses_a_tree_too_large(small: EngineEnv, case: str) -> None:
    template, files, params = TOO_LARGE[case]
    env = small
    doors = {
        "validate": lambda: env.client.validate_template(
            env.ctx, template, params=params, files=files
        ),
        "preview": lambda: env.client.preview_stack(
            env.ctx, "p", template, params=params, files=files
        ),
        "create": lambda: env.client.create_stack(
            env.ctx, "c", template, params=params, files=files
        ),
    }
    for door, call in doors.items():
        with pytest.raises(errors.RequestLimitExceeded) as caught:
            await call()
        assert TOO_MANY in caught.value.message, door
    assert await env.client.list_stacks(env.ctx) == []
    # An update to it is refused as well, and leaves the stack as it was.
    await env.create("u", hot({"a": tres()}))
    with pytest.raises(errors.RequestLimitExceeded):
        await env.client.update_stack(env.ctx, "u", template, params=params, files=files)
    assert (await show(env, "u"))["stack_status"] == "CREATE_COMPLETE"
    assert list(await resources(env, "u")) == ["a"]


async def test_a_tree_that_just_fits_is_made(small: EngineEnv) -> None:
    # 1 + 3 * (1 + 5) = 19, and the group of 19 members: 20.
    files = {"m.yaml": template_of(5)}
    stack = await small.create("fits", hot({"g": group(3, "m.yaml")}), files=files)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack
    stack = await small.create("full", hot({"g": group(LIMIT - 1)}))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack


async def test_a_count_known_only_later_is_checked_before_members_are_built(
    small: EngineEnv,
) -> None:
    template = hot(
        {
            "n": {"type": "OS::Heat::Value", "properties": {"value": 10_000_000, "type": "number"}},
            "g": group({"get_attr": ["n", "value"]}),
        }
    )
    created = await small.client.create_stack(small.ctx, "later", template)
    stack = await small.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    assert TOO_MANY in stack["stack_status_reason"], stack
    group_row = (await resources(small, "later"))["g"]
    assert group_row["resource_status"] == "CREATE_FAILED"
    assert not group_row["physical_resource_id"]  # no nested stack was made


async def test_members_too_large_together_are_refused_before_they_are_built(
    tmp_path: Path,
) -> None:
    # Fifty copies of a 100,000-character definition: five million characters of nested
    # template, more than template functions may make.
    member = {"properties": {"blob": "x" * 100_000}}
    async with custom_env(tmp_path) as env:
        created = await env.client.create_stack(env.ctx, "wide", hot({"g": group(50, **member)}))
        stack = await env.wait(created["stack_id"], "CREATE")
        assert stack["stack_status"] == "CREATE_FAILED"
        assert "resource_def: The value is too large" in stack["stack_status_reason"], stack
        assert not (await resources(env, "wide"))["g"]["physical_resource_id"]
        fits = await env.create("narrow", hot({"g": group(2, **member)}))
        assert fits["stack_status"] == "CREATE_COMPLETE", fits
