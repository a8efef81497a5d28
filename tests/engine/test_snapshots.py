"""Snapshots and restore, abandon, export and adopt, external resources, previews."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ember.common import errors
from tests.engine.conftest import EngineEnv, flat, start_env, stop_env


@pytest_asyncio.fixture
async def open_env(tmp_path: Path) -> AsyncIterator[EngineEnv]:
    """An engine with abandon and adopt enabled."""
    started = await start_env(
        f"sqlite:///{tmp_path / 'e.sqlite'}", enable_stack_abandon=True, enable_stack_adopt=True
    )
    yield started
    await stop_env(started)


def with_output(template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(template)
    template["outputs"] = {"v": {"value": {"get_attr": ["r0", "value"]}}}
    return template


def output(stack: dict[str, Any]) -> Any:
    return stack["outputs"][0]["output_value"]


async def test_snapshot_and_restore_bring_back_values(env: EngineEnv) -> None:
    first = output(await env.create("s", with_output(flat(3))))
    snap = await env.client.snapshot_stack(env.ctx, "s", "before")
    assert snap["status"] == "COMPLETE" and snap["name"] == "before"
    assert set(snap["data"]["resources"]) == {"r0", "r1", "r2"}
    await env.client.update_stack(env.ctx, "s", with_output(flat(3, length=20)))
    changed = output(await env.wait("s", "UPDATE"))
    assert changed != first and len(changed) == 20
    await env.client.restore_snapshot(env.ctx, "s", snap["id"])
    restored = await env.wait("s", "RESTORE")
    assert restored["stack_status"] == "RESTORE_COMPLETE"
    assert output(restored) == first
    listed = await env.client.list_snapshots(env.ctx, "s")
    assert [x["id"] for x in listed] == [snap["id"]]
    shown = await env.client.show_snapshot(env.ctx, "s", snap["id"])
    assert shown["data"]["resources"]["r0"]["resource_data"]["value"] == first
    await env.client.delete_snapshot(env.ctx, "s", snap["id"])
    assert await env.client.list_snapshots(env.ctx, "s") == []
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_snapshot(env.ctx, "s", snap["id"])


async def test_snapshot_limit(tmp_path: Path) -> None:
    env = await start_env(f"sqlite:///{tmp_path / 'l.sqlite'}", max_snapshots_per_stack=1)
    try:
        await env.create("s", flat(1))
        await env.client.snapshot_stack(env.ctx, "s")
        with pytest.raises(errors.RequestLimitExceeded):
            await env.client.snapshot_stack(env.ctx, "s")
    finally:
        await stop_env(env)


async def test_abandon_and_export_need_the_option(env: EngineEnv) -> None:
    await env.create("a", flat(1))
    with pytest.raises(errors.NotSupported, match="Stack Abandon is not supported"):
        await env.client.abandon_stack(env.ctx, "a")
    with pytest.raises(errors.NotSupported, match="Stack Adopt is not supported"):
        await env.client.create_stack(env.ctx, "b", None, args={"adopt_stack_data": "{}"})


async def test_export_abandon_adopt_round_trip(open_env: EngineEnv) -> None:
    env = open_env
    value = output(await env.create("a", with_output(flat(2))))
    exported = await env.client.abandon_stack(env.ctx, "a", abandon=False)
    assert exported["name"] == "a" and exported["status"] == "COMPLETE"
    assert (await env.client.show_stack(env.ctx, "a"))["stack_status"] == "CREATE_COMPLETE"
    abandoned = await env.client.abandon_stack(env.ctx, "a")
    assert abandoned["resources"]["r0"]["resource_data"]["value"] == value
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_stack(env.ctx, "a")
    created = await env.client.create_stack(
        env.ctx, "adopted", None, args={"adopt_stack_data": json.dumps(abandoned)}
    )
    stack = await env.wait(created["stack_id"], "ADOPT")
    assert stack["stack_status"] == "ADOPT_COMPLETE"
    assert output(stack) == value
    resources = await env.client.list_resources(env.ctx, "adopted")
    ids = {r["resource_name"]: r["physical_resource_id"] for r in resources}
    assert ids == {n: r["resource_id"] for n, r in abandoned["resources"].items()}


GROUP_AND_PROVIDER = {
    "heat_template_version": "2013-05-23",
    "resources": {
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "properties": {"count": 2, "resource_def": {"type": "OS::Heat::RandomString"}},
        },
        "provided": {"type": "random.yaml"},
    },
    "outputs": {
        "first": {"value": {"get_attr": ["group", "resource.0.value"]}},
        "second": {"value": {"get_attr": ["group", "resource.1.value"]}},
        "provided": {"value": {"get_attr": ["provided", "the_str"]}},
    },
}
RANDOM_YAML = json.dumps(
    {
        "heat_template_version": "2013-05-23",
        "resources": {"real": {"type": "OS::Heat::RandomString"}},
        "outputs": {"the_str": {"value": {"get_attr": ["real", "value"]}}},
    }
)


def _random(value: str, resource_id: str) -> dict[str, Any]:
    return {
        "type": "OS::Heat::RandomString",
        "resource_data": {"value": value},
        "resource_id": resource_id,
        "action": "CREATE",
        "status": "COMPLETE",
    }


async def test_adopting_a_group_and_a_template_resource_adopts_their_nested_stacks(
    open_env: EngineEnv,
) -> None:
    """As Heat's StackResource.handle_adopt: a nested stack is made from the resource's own
    adopt data (its ``resources``), its members adopted, not made afresh."""
    env = open_env
    data = {
        "template": GROUP_AND_PROVIDER,
        "environment": {"parameters": {}},
        "resources": {
            "group": {
                "type": "OS::Heat::ResourceGroup",
                "resource_id": "old-group-id",
                "resource_data": {},
                "resources": {"0": _random("goopie", "ID-0"), "1": _random("different", "ID-1")},
            },
            "provided": {
                "type": "random.yaml",
                "resources": {"real": _random("froggy", "ID-real")},
            },
        },
    }
    created = await env.client.create_stack(
        env.ctx,
        "adopted",
        None,
        files={"random.yaml": RANDOM_YAML},
        args={"adopt_stack_data": json.dumps(data)},
    )
    stack = await env.wait(created["stack_id"], "ADOPT")
    assert stack["stack_status"] == "ADOPT_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs == {"first": "goopie", "second": "different", "provided": "froggy"}
    resources = {r["resource_name"]: r for r in await env.client.list_resources(env.ctx, "adopted")}
    group_stack = resources["group"]["physical_resource_id"]
    members = await env.client.list_resources(env.ctx, group_stack)
    assert {m["resource_name"]: m["physical_resource_id"] for m in members} == {
        "0": "ID-0",
        "1": "ID-1",
    }
    assert {m["resource_status"] for m in members} == {"ADOPT_COMPLETE"}
    nested = await env.client.show_stack(env.ctx, group_stack)
    assert nested["stack_status"] == "ADOPT_COMPLETE"


async def test_a_nested_tree_abandoned_is_adopted_with_its_values(open_env: EngineEnv) -> None:
    env = open_env
    first = await env.create("tree", GROUP_AND_PROVIDER, files={"random.yaml": RANDOM_YAML})
    values = {o["output_key"]: o["output_value"] for o in first["outputs"]}
    abandoned = await env.client.abandon_stack(env.ctx, "tree")
    created = await env.client.create_stack(
        env.ctx, "again", None, args={"adopt_stack_data": json.dumps(abandoned)}
    )
    stack = await env.wait(created["stack_id"], "ADOPT")
    assert stack["stack_status"] == "ADOPT_COMPLETE", stack["stack_status_reason"]
    assert {o["output_key"]: o["output_value"] for o in stack["outputs"]} == values


async def test_external_id_takes_over_without_creating_or_deleting(env: EngineEnv) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "x": {
                "type": "OS::Heat::TestResource",
                "external_id": "ext-123",
                "properties": {"action_wait_secs": {"create": 30, "delete": 30}},
            }
        },
    }
    stack = await env.create(
        "ext",
        template,
    )
    assert stack["stack_status"] == "CREATE_COMPLETE"
    shown = await env.client.show_resource(env.ctx, "ext", "x")
    assert shown["physical_resource_id"] == "ext-123"
    await env.client.delete_stack(env.ctx, "ext")
    deleted = await env.wait(stack["id"], "DELETE", timeout=20)  # the handler would take 30 s
    assert deleted["stack_status"] == "DELETE_COMPLETE"


async def test_preview_create_and_update(env: EngineEnv) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "a": {"type": "OS::Heat::RandomString"},
            "b": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["a", "value"]}}},
            "c": {"type": "OS::Heat::TestResource", "properties": {"value": "x"}},
        },
    }
    preview = await env.client.preview_stack(env.ctx, "p", template)
    assert [r["resource_name"] for r in preview["resources"]] == ["a", "b", "c"]
    assert preview["resources"][0]["required_by"] == ["b"]
    assert await env.client.list_stacks(env.ctx) == []
    await env.create("p", template)
    changed = copy.deepcopy(template)
    changed["resources"]["a"]["properties"] = {"length": 8}
    changed["resources"]["c"]["properties"]["value"] = "y"
    changed["resources"]["d"] = {"type": "OS::Heat::None"}
    del changed["resources"]["b"]
    result = await env.client.preview_update_stack(env.ctx, "p", changed)
    names = {k: [r["resource_name"] for r in v] for k, v in result["resource_changes"].items()}
    assert names == {
        "added": ["d"],
        "deleted": ["b"],
        "replaced": ["a"],
        "unchanged": [],
        "updated": ["c"],
    }
    same = await env.client.preview_update_stack(env.ctx, "p", template)
    assert [r["resource_name"] for r in same["resource_changes"]["unchanged"]] == ["a", "b", "c"]
    shown = await env.client.show_stack(env.ctx, "p", resolve_outputs=False)
    assert shown["stack_status"] == "CREATE_COMPLETE"
