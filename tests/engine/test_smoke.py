"""The basic lifecycle on every backend: create, update (replacing), delete."""

from __future__ import annotations

from tests.engine.conftest import EngineEnv, flat


async def test_create_update_delete(env_any: EngineEnv) -> None:
    env = env_any
    stack = await env.create("s1", flat(20))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    resources = await env.client.list_resources(env.ctx, "s1")
    assert len(resources) == 20
    first = {r["resource_name"]: r["physical_resource_id"] for r in resources}
    await env.client.update_stack(env.ctx, "s1", flat(20, length=20))
    stack = await env.wait("s1", "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    resources = await env.client.list_resources(env.ctx, "s1")
    assert len(resources) == 20
    second = {r["resource_name"]: r["physical_resource_id"] for r in resources}
    assert all(first[n] != second[n] for n in first), "a changed RandomString is replaced"
    sid = stack["id"]
    await env.client.delete_stack(env.ctx, "s1")
    stack = await env.wait(sid, "DELETE")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert stack["deletion_time"] is not None
    assert await env.client.list_resources(env.ctx, sid) == []
