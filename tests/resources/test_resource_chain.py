"""OS::Heat::ResourceChain: members in order (or concurrently) in a nested stack."""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import EngineEnv
from tests.resources.helpers import (
    TEST,
    delete,
    hot,
    is_deleted,
    nested_id,
    outputs,
    physical_ids,
    resources,
    update,
)

NONE = "OS::Heat::None"


def chain(types: list[str], concurrent: bool = False, **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"resources": types, "concurrent": concurrent}
    properties["resource_properties"] = props or {"value": "chained"}
    return hot(
        {"chain": {"type": "OS::Heat::ResourceChain", "properties": properties}},
        outputs={
            "refs": {"get_attr": ["chain", "refs"]},
            "first": {"get_attr": ["chain", "resource.0"]},
            "first_output": {"get_attr": ["chain", "resource.0.output"]},
            "values": {"get_attr": ["chain", "output"]},
            "by_member": {"get_attr": ["chain", "attributes", "output"]},
        },
    )


async def test_create_in_order_with_attributes(env: EngineEnv) -> None:
    stack = await env.create("c", chain([TEST, NONE, TEST]))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    child = await nested_id(env, "c", "chain")
    members = await resources(env, child)
    assert {n: m["resource_type"] for n, m in members.items()} == {"0": TEST, "1": NONE, "2": TEST}
    # each member depends on the one before it
    assert members["0"]["required_by"] == ["1"]
    assert members["1"]["required_by"] == ["2"]
    assert members["2"]["required_by"] == []
    ids = await physical_ids(env, child)
    out = outputs(stack)
    assert out["refs"] == [ids["0"], ids["1"], ids["2"]]
    assert out["first"] == ids["0"]
    assert out["first_output"] == "chained"
    assert out["values"] == ["chained", None, "chained"]
    assert out["by_member"] == {"0": "chained", "1": None, "2": "chained"}


async def test_concurrent_members_do_not_depend_on_each_other(env: EngineEnv) -> None:
    stack = await env.create("c", chain([TEST, TEST, TEST], concurrent=True))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    members = await resources(env, await nested_id(env, "c", "chain"))
    assert sorted(members) == ["0", "1", "2"]
    assert all(m["required_by"] == [] for m in members.values())


async def test_update_members_and_properties(env: EngineEnv) -> None:
    await env.create("c", chain([TEST, TEST]))
    child = await nested_id(env, "c", "chain")
    before = await physical_ids(env, child)
    stack = await update(env, "c", chain([TEST, TEST, TEST], value="more"))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["more", "more", "more"]
    after = await physical_ids(env, child)
    assert sorted(after) == ["0", "1", "2"]
    assert {n: after[n] for n in before} == before
    stack = await update(env, "c", chain([TEST], value="less"))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["less"]
    assert await physical_ids(env, child) == {"0": before["0"]}
    assert await nested_id(env, "c", "chain") == child


async def test_changing_concurrent_replaces_chain(env: EngineEnv) -> None:
    await env.create("c", chain([TEST, TEST]))
    child = await nested_id(env, "c", "chain")
    stack = await update(env, "c", chain([TEST, TEST], concurrent=True))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    replaced = await nested_id(env, "c", "chain")
    assert replaced != child
    assert await is_deleted(env, child)


async def test_failing_member_stops_the_chain(env: EngineEnv) -> None:
    stack = await env.create("c", chain([TEST, TEST], value="x", fail=True))
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == (
        "Resource CREATE failed: ValueError: resources.chain.resources[0]: Test Resource failed 0"
    )
    members = await resources(env, await nested_id(env, "c", "chain"))
    assert members["0"]["resource_status"] == "CREATE_FAILED"
    assert members["1"]["resource_status"] == "INIT_COMPLETE"


async def test_delete(env: EngineEnv) -> None:
    await env.create("c", chain([TEST]))
    child = await nested_id(env, "c", "chain")
    stack = await delete(env, "c")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert await is_deleted(env, child)
