"""Software configs and deployments through the RPC client."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from ember.engine.caller import Caller
from tests.engine.conftest import EngineEnv, start_env, stop_env

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
OTHER = {"project_id": "other", "username": "other", "is_admin": False}
ADMIN = {"project_id": "ops", "username": "ops", "is_admin": True}


async def _config(env: EngineEnv, name: str = "cfg", **fields: Any) -> dict[str, Any]:
    fields.setdefault("group", "script")
    fields.setdefault("config", "#!/bin/sh\necho hi")
    return await env.client.create_software_config(env.ctx, name=name, **fields)


# Configs -------------------------------------------------------------------------------


async def test_create_config_fills_defaults_and_shows_it(env: EngineEnv) -> None:
    created = await env.client.create_software_config(env.ctx, name="plain", config="echo")
    assert created["group"] == "Heat::Ungrouped"
    assert (created["inputs"], created["outputs"], created["options"]) == ([], [], {})
    assert TIME.match(created["creation_time"])
    shown = await env.client.show_software_config(env.ctx, created["id"])
    assert shown == created
    assert set(shown) == {
        "id",
        "name",
        "group",
        "config",
        "inputs",
        "outputs",
        "options",
        "creation_time",
    }


async def test_inputs_and_outputs_are_normalised(env: EngineEnv) -> None:
    created = await _config(
        env,
        inputs=[{"name": "port", "type": "Number", "default": 80}, {"name": "host"}],
        outputs=[{"name": "result", "error_output": "true"}],
        options={"retries": 2},
    )
    assert created["inputs"] == [
        {"name": "port", "type": "Number", "default": 80, "replace_on_change": False},
        {"name": "host", "type": "String", "replace_on_change": False},
    ]
    assert created["outputs"] == [{"name": "result", "type": "String", "error_output": True}]
    assert created["options"] == {"retries": 2}
    assert created["config"] == "#!/bin/sh\necho hi"


async def test_structured_config_keeps_its_map(env: EngineEnv) -> None:
    created = await _config(env, config={"packages": ["nginx"], "port": 80})
    shown = await env.client.show_software_config(env.ctx, created["id"])
    assert shown["config"] == {"packages": ["nginx"], "port": 80}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"inputs": {"name": "x"}}, "inputs: Software Config I/O Schema must be in a list"),
        ({"inputs": ["x"]}, "inputs[0]: Software Config I/O Schema must be a dict"),
        ({"inputs": [{"type": "String"}]}, "inputs[0]: Property name not assigned"),
        ({"outputs": [{"name": "o", "bogus": 1}]}, "outputs[0]: Unknown Property bogus"),
        ({"inputs": [{"name": "i", "type": "Float"}]}, '"Float" is not an allowed value'),
        ({"inputs": [{"name": 7}]}, "inputs[0].name: Value must be a string"),
        ({"outputs": [{"name": "o", "error_output": "maybe"}]}, "is not a valid boolean"),
        ({"options": ["a"]}, "options must be a map"),
        ({"group": 5}, "group must be a string"),
        ({"name": "n" * 256}, "name must be at most 255 characters"),
    ],
)
async def test_bad_config_fields_are_refused(
    env: EngineEnv, fields: dict[str, Any], message: str
) -> None:
    fields = {"name": "bad", **fields}
    with pytest.raises(errors.InvalidRequest) as caught:
        await env.client.create_software_config(env.ctx, **fields)
    assert message in caught.value.message


async def test_missing_config_is_not_found(env: EngineEnv) -> None:
    with pytest.raises(errors.EntityNotFound, match="Software config with id nope not found"):
        await env.client.show_software_config(env.ctx, "nope")
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_software_config(env.ctx, "nope")


async def test_delete_config(env: EngineEnv) -> None:
    created = await _config(env)
    await env.client.delete_software_config(env.ctx, created["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_config(env.ctx, created["id"])


async def test_configs_are_per_project(env: EngineEnv) -> None:
    mine = await _config(env, "mine")
    theirs = await env.client.create_software_config(OTHER, name="theirs")
    listed = await env.client.list_software_configs(env.ctx)
    assert [c["name"] for c in listed] == ["mine"]
    assert set(listed[0]) == {"id", "name", "group", "creation_time"}
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_config(OTHER, mine["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_software_config(env.ctx, theirs["id"])
    # global_tenant is for admins only; for anyone else the list stays their own.
    listed = await env.client.list_software_configs(env.ctx, global_tenant=True)
    assert [c["name"] for c in listed] == ["mine"]


async def test_admin_lists_every_project_with_global_tenant(env: EngineEnv) -> None:
    await _config(env, "mine")
    await env.client.create_software_config(OTHER, name="theirs")
    assert await env.client.list_software_configs(ADMIN) == []
    listed = await env.client.list_software_configs(ADMIN, global_tenant=True)
    assert sorted((c["name"], c["project"]) for c in listed) == [
        ("mine", "demo"),
        ("theirs", "other"),
    ]


async def test_admin_reads_any_config_by_id(env: EngineEnv) -> None:
    created = await _config(env)
    shown = await env.client.show_software_config(ADMIN, created["id"])
    assert shown["id"] == created["id"]


async def test_list_pages_with_limit_and_marker(env: EngineEnv) -> None:
    ids = [(await _config(env, f"c{i}"))["id"] for i in range(5)]
    first = await env.client.list_software_configs(env.ctx, limit=2)
    assert [c["id"] for c in first] == ids[:2]
    rest = await env.client.list_software_configs(env.ctx, marker=ids[1])
    assert [c["id"] for c in rest] == ids[2:]
    page = await env.client.list_software_configs(env.ctx, limit=2, marker=ids[2])
    assert [c["id"] for c in page] == ids[3:]
    assert await env.client.list_software_configs(env.ctx, limit=0) == []
    # An unknown marker is ignored, as in Heat.
    unknown = await env.client.list_software_configs(env.ctx, marker="no-such-id")
    assert [c["id"] for c in unknown] == ids
    with pytest.raises(errors.InvalidRequest):
        await env.client.list_software_configs(env.ctx, limit=-1)


async def test_config_quota(tmp_path: Path) -> None:
    env = await start_env(
        f"sqlite:///{tmp_path / 'quota.sqlite'}", max_software_configs_per_tenant=2
    )
    try:
        await _config(env, "a")
        await _config(env, "b")
        with pytest.raises(errors.RequestLimitExceeded) as caught:
            await _config(env, "c")
        assert "maximum software configs per tenant, 2" in caught.value.message
        # Another project has its own allowance, and admins have none.
        await env.client.create_software_config(OTHER, name="c")
        await env.client.create_software_config({**env.ctx, "is_admin": True}, name="d")
    finally:
        await stop_env(env)


# Deployments ---------------------------------------------------------------------------


async def test_deployment_lifecycle(env: EngineEnv) -> None:
    config = await _config(env)
    created = await env.client.create_software_deployment(
        env.ctx, server_id="server-1", config_id=config["id"], input_values={"a": 1}
    )
    assert created["action"] == "INIT"
    assert created["status"] == "COMPLETE"
    assert created["status_reason"] == ""
    assert created["input_values"] == {"a": 1}
    assert created["output_values"] == {}
    assert created["config_id"] == config["id"]
    assert TIME.match(created["creation_time"])
    assert "updated_time" not in created
    shown = await env.client.show_software_deployment(env.ctx, created["id"])
    assert shown == created

    updated = await env.client.update_software_deployment(
        env.ctx,
        created["id"],
        action="UPDATE",
        status="FAILED",
        output_values={"deploy_status_code": 1},
    )
    assert (updated["action"], updated["status"]) == ("UPDATE", "FAILED")
    assert updated["output_values"] == {"deploy_status_code": 1}
    # Keys not given (or null) keep their values.
    assert updated["input_values"] == {"a": 1}
    assert updated["status_reason"] == ""
    assert TIME.match(updated["updated_time"])

    await env.client.delete_software_deployment(env.ctx, created["id"])
    with pytest.raises(errors.EntityNotFound, match=f"Deployment with id {created['id']}"):
        await env.client.show_software_deployment(env.ctx, created["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_software_deployment(env.ctx, created["id"])


async def test_update_switches_config(env: EngineEnv) -> None:
    first, second = await _config(env, "first"), await _config(env, "second")
    dep = await env.client.create_software_deployment(env.ctx, server_id="s", config_id=first["id"])
    updated = await env.client.update_software_deployment(
        env.ctx, dep["id"], config_id=second["id"]
    )
    assert updated["config_id"] == second["id"]
    with pytest.raises(errors.InvalidRequest, match="Config with id nope not found"):
        await env.client.update_software_deployment(env.ctx, dep["id"], config_id="nope")
    with pytest.raises(errors.EntityNotFound):
        await env.client.update_software_deployment(env.ctx, "nope", status="COMPLETE")


async def test_deployment_needs_a_known_config_and_a_server(env: EngineEnv) -> None:
    with pytest.raises(errors.InvalidRequest, match="Config with id nope not found"):
        await env.client.create_software_deployment(env.ctx, server_id="s", config_id="nope")
    theirs = await env.client.create_software_config(OTHER, name="theirs")
    with pytest.raises(errors.InvalidRequest, match="not found"):
        await env.client.create_software_deployment(env.ctx, server_id="s", config_id=theirs["id"])
    config = await _config(env)
    with pytest.raises(errors.InvalidRequest, match="server_id must be specified"):
        await env.client.create_software_deployment(env.ctx, server_id="", config_id=config["id"])
    with pytest.raises(errors.InvalidRequest, match="input_values must be a map"):
        await env.client.create_software_deployment(
            env.ctx,
            server_id="s",
            config_id=config["id"],
            input_values=["x"],  # type: ignore[arg-type]
        )
    with pytest.raises(errors.InvalidRequest, match="action must be at most 16"):
        await env.client.create_software_deployment(
            env.ctx, server_id="s", config_id=config["id"], action="A" * 17
        )
    assert await env.client.list_software_deployments(env.ctx) == []


async def test_config_in_use_cannot_be_deleted(env: EngineEnv) -> None:
    config = await _config(env)
    dep = await env.client.create_software_deployment(
        env.ctx, server_id="s", config_id=config["id"]
    )
    with pytest.raises(errors.InvalidRestrictedAction) as caught:
        await env.client.delete_software_config(env.ctx, config["id"])
    assert caught.value.message == (
        f"Software config with id {config['id']} can not be deleted as it is referenced."
    )
    await env.client.delete_software_deployment(env.ctx, dep["id"])
    await env.client.delete_software_config(env.ctx, config["id"])


async def test_list_deployments_by_server(env: EngineEnv) -> None:
    config = await _config(env)
    ids = []
    for server in ("s1", "s2", "s1"):
        dep = await env.client.create_software_deployment(
            env.ctx, server_id=server, config_id=config["id"]
        )
        ids.append(dep["id"])
    everything = await env.client.list_software_deployments(env.ctx)
    assert [d["id"] for d in everything] == ids
    on_s1 = await env.client.list_software_deployments(env.ctx, server_id="s1")
    assert [d["id"] for d in on_s1] == [ids[0], ids[2]]
    assert await env.client.list_software_deployments(env.ctx, server_id="s3") == []


async def test_deployments_are_per_project(env: EngineEnv) -> None:
    config = await _config(env)
    plain = await env.client.create_software_deployment(
        env.ctx, server_id="s", config_id=config["id"]
    )
    assert await env.client.list_software_deployments(OTHER) == []
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_deployment(OTHER, plain["id"])
    assert await env.client.metadata_software_deployments(OTHER, "s") == []
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_software_deployment(OTHER, plain["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.update_software_deployment(OTHER, plain["id"], status="FAILED")
    assert (await env.client.show_software_deployment(env.ctx, plain["id"]))["status"] == (
        "COMPLETE"
    )


async def test_a_deployment_names_only_the_callers_project_and_servers(env: EngineEnv) -> None:
    """A deployment naming another project as its stack user project, or another
    project's server, would show up in that server's metadata: it is refused."""
    config = await _config(env)
    await env.client.create_software_deployment(env.ctx, server_id="mine", config_id=config["id"])
    theirs = await env.client.create_software_config(OTHER, name="theirs")

    with pytest.raises(errors.Forbidden):
        await env.client.create_software_deployment(
            OTHER, server_id="s2", config_id=theirs["id"], stack_user_project_id="demo"
        )
    with pytest.raises(errors.Forbidden):
        await env.client.create_software_deployment(OTHER, server_id="mine", config_id=theirs["id"])
    with pytest.raises(errors.Forbidden):
        await env.client.create_software_deployment(
            {**ADMIN, "project_id": "other"}, server_id="mine", config_id=theirs["id"]
        )
    assert [c["name"] for c in await env.client.metadata_software_deployments(env.ctx, "mine")] == [
        "cfg"
    ]
    own = await env.client.create_software_deployment(
        OTHER, server_id="s2", config_id=theirs["id"], stack_user_project_id="other"
    )
    assert own["server_id"] == "s2"


async def test_admins_change_only_their_own_projects_configs_and_deployments(
    env: EngineEnv,
) -> None:
    config = await _config(env)
    deployment = await env.client.create_software_deployment(
        env.ctx, server_id="s", config_id=config["id"]
    )
    with pytest.raises(errors.EntityNotFound):
        await env.client.update_software_deployment(ADMIN, deployment["id"], status="FAILED")
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_software_deployment(ADMIN, deployment["id"])
    await env.client.delete_software_deployment(env.ctx, deployment["id"])
    with pytest.raises(errors.EntityNotFound):
        await env.client.delete_software_config(ADMIN, config["id"])
    assert (await env.client.show_software_config(env.ctx, config["id"]))["id"] == config["id"]


async def test_deployment_quota(tmp_path: Path) -> None:
    env = await start_env(
        f"sqlite:///{tmp_path / 'quota.sqlite'}", max_software_deployments_per_tenant=1
    )
    try:
        config = await _config(env)
        await env.client.create_software_deployment(env.ctx, server_id="s", config_id=config["id"])
        with pytest.raises(errors.RequestLimitExceeded, match="maximum software deployments"):
            await env.client.create_software_deployment(
                env.ctx, server_id="s", config_id=config["id"]
            )
    finally:
        await stop_env(env)


# Metadata ------------------------------------------------------------------------------


async def test_metadata_sorted_by_config_name_with_input_values(env: EngineEnv) -> None:
    zed = await _config(
        env,
        "zed",
        inputs=[{"name": "port", "type": "Number", "default": 80}, {"name": "host"}],
    )
    alpha = await _config(env, "alpha", group="ansible", options={"o": 1})
    other = await _config(env, "elsewhere")
    await env.client.create_software_deployment(
        env.ctx,
        server_id="web",
        config_id=zed["id"],
        input_values={"host": "example.org", "extra": "x"},
    )
    await env.client.create_software_deployment(env.ctx, server_id="web", config_id=alpha["id"])
    await env.client.create_software_deployment(env.ctx, server_id="db", config_id=other["id"])

    metadata = await env.client.metadata_software_deployments(env.ctx, "web")
    assert [m["name"] for m in metadata] == ["alpha", "zed"]
    first, second = metadata
    assert first["group"] == "ansible"
    assert first["options"] == {"o": 1}
    assert first["inputs"] == []
    assert second["id"] == zed["id"]
    assert second["config"] == "#!/bin/sh\necho hi"
    assert second["inputs"] == [
        {
            "name": "port",
            "type": "Number",
            "default": 80,
            "replace_on_change": False,
            "value": 80,
        },
        {"name": "host", "type": "String", "replace_on_change": False, "value": "example.org"},
        {"name": "extra", "type": "String", "value": "x"},
    ]
    # The stored config is unchanged.
    assert (await env.client.show_software_config(env.ctx, zed["id"]))["inputs"] == zed["inputs"]
    assert await env.client.metadata_software_deployments(env.ctx, "nothing-here") == []
    with pytest.raises(errors.InvalidRequest, match="server_id must be specified"):
        await env.client.metadata_software_deployments(env.ctx, "")


async def test_metadata_follows_deployment_updates(env: EngineEnv) -> None:
    first = await _config(env, "first", inputs=[{"name": "x"}])
    second = await _config(env, "second", group="puppet")
    dep = await env.client.create_software_deployment(
        env.ctx, server_id="srv", config_id=first["id"], input_values={"x": "1"}
    )
    await env.client.update_software_deployment(env.ctx, dep["id"], input_values={"x": "2"})
    (entry,) = await env.client.metadata_software_deployments(env.ctx, "srv")
    assert entry["inputs"][0]["value"] == "2"
    await env.client.update_software_deployment(env.ctx, dep["id"], config_id=second["id"])
    (entry,) = await env.client.metadata_software_deployments(env.ctx, "srv")
    assert (entry["name"], entry["group"]) == ("second", "puppet")


async def test_round_trip_on_each_backend(env_any: EngineEnv) -> None:
    env = env_any
    # The longest values each column takes; the stack user project is the caller's own.
    ctx = {**env.ctx, "project_id": "p" * 64}
    config = await env.client.create_software_config(
        ctx, name="n" * 255, group="g" * 255, config="x", inputs=[{"name": "k"}]
    )
    dep = await env.client.create_software_deployment(
        ctx,
        server_id="s" * 255,
        config_id=config["id"],
        input_values={"k": "v"},
        action="A" * 16,
        stack_user_project_id="p" * 64,
    )
    (entry,) = await env.client.metadata_software_deployments(ctx, "s" * 255)
    assert entry["inputs"][0]["value"] == "v"
    with pytest.raises(errors.InvalidRestrictedAction):
        await env.client.delete_software_config(ctx, config["id"])
    await env.client.delete_software_deployment(ctx, dep["id"])
    await env.client.delete_software_config(ctx, config["id"])
    assert await env.client.list_software_configs(ctx) == []


# OS::Heat::SoftwareConfig --------------------------------------------------------------

CONFIG_STACK: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "cfg": {
            "type": "OS::Heat::SoftwareConfig",
            "properties": {
                "group": "script",
                "config": "#!/bin/sh\necho $greeting",
                "inputs": [{"name": "greeting", "default": "hi"}],
                "outputs": [{"name": "result"}],
            },
        }
    },
    "outputs": {
        "id": {"value": {"get_resource": "cfg"}},
        "script": {"value": {"get_attr": ["cfg", "config"]}},
    },
}


async def test_software_config_resource_makes_and_removes_a_config(env: EngineEnv) -> None:
    stack = await env.create("with-config", CONFIG_STACK)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["script"] == "#!/bin/sh\necho $greeting"
    shown = await env.client.show_software_config(env.ctx, outputs["id"])
    assert shown["group"] == "script"
    assert shown["name"].startswith("with-config-cfg-")
    assert shown["inputs"] == [
        {"name": "greeting", "type": "String", "default": "hi", "replace_on_change": False}
    ]
    assert shown["outputs"] == [{"name": "result", "type": "String", "error_output": False}]
    await env.client.delete_stack(env.ctx, "with-config")
    await env.wait(stack["id"], "DELETE")
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_config(env.ctx, outputs["id"])


async def test_software_config_resource_is_replaced_on_change(env: EngineEnv) -> None:
    stack = await env.create("replaced", CONFIG_STACK)
    old_id = {o["output_key"]: o["output_value"] for o in stack["outputs"]}["id"]
    template = json_copy(CONFIG_STACK)
    template["resources"]["cfg"]["properties"]["config"] = "echo changed"
    await env.client.update_stack(env.ctx, "replaced", template)
    updated = await env.wait(stack["id"], "UPDATE")
    assert updated["stack_status"] == "UPDATE_COMPLETE", updated["stack_status_reason"]
    new_id = {o["output_key"]: o["output_value"] for o in updated["outputs"]}["id"]
    assert new_id != old_id
    assert (await env.client.show_software_config(env.ctx, new_id))["config"] == "echo changed"
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_config(env.ctx, old_id)


async def test_software_config_resource_rejects_bad_inputs(env: EngineEnv) -> None:
    template = json_copy(CONFIG_STACK)
    template["resources"]["cfg"]["properties"]["inputs"] = [{"name": "x", "type": "Float"}]
    with pytest.raises(errors.StackValidationFailed, match="inputs"):
        await env.client.create_stack(env.ctx, "bad-inputs", template)


async def test_a_resource_config_is_made_once(env: EngineEnv) -> None:
    """A resumed create finds the config the first attempt made, by the resource's id."""
    resource_id = "0b9c1f5e-7c2e-4a59-9f0e-2d7d5b1f6a10"
    fields = {"name": "res", "config": "echo once"}
    first = await env.engine.software.config_for_resource(
        Caller.from_ctx(env.ctx), resource_id, fields
    )
    again = await env.engine.software.config_for_resource(
        Caller.from_ctx(env.ctx), resource_id, fields
    )
    assert first == again == resource_id
    assert [c["id"] for c in await env.client.list_software_configs(env.ctx)] == [resource_id]
    with pytest.raises(errors.InvalidRequest, match="in use"):
        await env.engine.software.config_for_resource(Caller.from_ctx(OTHER), resource_id, fields)


def json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))
