"""OS::Heat::SoftwareDeployment and StructuredDeployment: a config deployed to a server id,
stored so the server's metadata lists it, and (unless NO_SIGNAL) waited for until the
server reports through a signal or the software deployment API."""

from __future__ import annotations

from typing import Any

import pytest

from ember.common import errors
from ember.engine.resource import SignalAccess
from ember.resources.software_deployment import signal_inputs
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import wait_resource
from tests.engine.test_signals import until
from tests.resources.helpers import delete, hot, outputs, physical_ids, update

SERVER = "1b7c3c0e-52f5-4a34-9a3b-2a0d5c4a0001"
SCRIPT = {
    "type": "OS::Heat::SoftwareConfig",
    "properties": {
        "group": "script",
        "config": "#!/bin/sh\necho $greeting\n",
        "inputs": [{"name": "greeting", "default": "hello"}],
        "outputs": [{"name": "result"}, {"name": "problem", "error_output": True}],
    },
}


def deployment(**props: Any) -> dict[str, Any]:
    return {
        "type": "OS::Heat::SoftwareDeployment",
        "properties": {"config": {"get_resource": "config"}, "server": SERVER, **props},
    }


def template(dep: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    return hot(
        {"config": config or SCRIPT, "dep": dep},
        outputs={
            "result": {"get_attr": ["dep", "result"]},
            "stdout": {"get_attr": ["dep", "deploy_stdout"]},
            "code": {"get_attr": ["dep", "deploy_status_code"]},
        },
    )


async def start(env: EngineEnv, name: str, tmpl: dict[str, Any]) -> str:
    """Create the stack and return once its deployment is parked waiting."""
    created = await env.client.create_stack(env.ctx, name, tmpl)
    await wait_resource(env, created["stack_id"], "dep", "CREATE_IN_PROGRESS")
    deployment_id = await until(lambda: _deployment_id(env, name), "the deployment to be stored")
    await until(lambda: all(e.worker.running == 0 for e in env.engines), "the node to park")
    return str(deployment_id)


async def _deployment_id(env: EngineEnv, stack: str) -> str | None:
    return (await physical_ids(env, stack)).get("dep") or None


def inputs_of(config: dict[str, Any]) -> dict[str, Any]:
    return {i["name"]: i.get("value") for i in config["inputs"]}


async def test_no_signal_completes_at_once_and_the_server_lists_it(env: EngineEnv) -> None:
    stack = await env.create(
        "nosig",
        template(deployment(signal_transport="NO_SIGNAL", input_values={"greeting": "hi"})),
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    deployment_id = (await physical_ids(env, "nosig"))["dep"]
    shown = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert (shown["server_id"], shown["action"], shown["status"]) == (
        SERVER,
        "CREATE",
        "COMPLETE",
    )
    assert shown["status_reason"] == "Not waiting for outputs signal"
    assert shown["input_values"] == {"greeting": "hi"}
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert config["id"] == shown["config_id"]
    assert config["group"] == "script"
    assert config["config"] == "#!/bin/sh\necho $greeting\n"
    values = inputs_of(config)
    assert values["greeting"] == "hi"
    assert values["deploy_server_id"] == SERVER
    assert values["deploy_action"] == "CREATE"
    assert values["deploy_stack_id"] == f"nosig/{stack['id']}"
    assert values["deploy_resource_name"] == "dep"
    assert values["deploy_signal_transport"] == "NO_SIGNAL"
    # No signal credential was made for the resource: nothing tells the server where to
    # signal, rather than something made up.
    assert "deploy_signal_id" not in values
    assert [o["name"] for o in config["outputs"]] == ["result", "problem"]
    assert outputs(stack) == {"result": None, "stdout": None, "code": None}


async def test_a_signal_completes_a_parked_deployment(env: EngineEnv) -> None:
    deployment_id = await start(env, "cfn", template(deployment()))
    shown = await env.client.show_stack(env.ctx, "cfn", resolve_outputs=False)
    assert shown["stack_status"] == "CREATE_IN_PROGRESS"
    stored = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert (stored["status"], stored["status_reason"]) == ("IN_PROGRESS", "Deploy data available")
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert inputs_of(config)["deploy_signal_transport"] == "CFN_SIGNAL"

    details = {"deploy_stdout": "hello", "deploy_status_code": 0, "result": "done"}
    await env.client.signal_resource(env.ctx, "cfn", "dep", details)
    stack = await env.wait("cfn", "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"result": "done", "stdout": "hello", "code": 0}
    stored = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert (stored["status"], stored["status_reason"]) == ("COMPLETE", "Outputs received")
    assert stored["output_values"] == {
        "result": "done",
        "deploy_stdout": "hello",
        "deploy_stderr": None,
        "deploy_status_code": 0,
    }
    events = await env.client.list_events(env.ctx, "cfn")
    assert f"Signal: deployment {deployment_id} succeeded" in [
        e["resource_status_reason"] for e in events
    ]


async def test_a_non_zero_status_code_fails_the_deployment(env: EngineEnv) -> None:
    deployment_id = await start(env, "bad", template(deployment()))
    details = {"deploy_stdout": "", "deploy_stderr": "no such file", "deploy_status_code": 2}
    await env.client.signal_resource(env.ctx, "bad", "dep", details)
    stack = await env.wait("bad", "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    # Heat's reason, and what the script said (the root cause) after it.
    reason = (
        "deploy_status_code : Deployment exited with non-zero status code: 2 (stderr: no such file)"
    )
    assert stack["stack_status_reason"] == (
        f"Resource CREATE failed: Error: resources.dep: Deployment to server failed: {reason}"
    )
    stored = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert (stored["status"], stored["status_reason"]) == ("FAILED", reason)
    assert stored["output_values"]["deploy_stderr"] == "no such file"
    shown = await env.client.show_resource(env.ctx, "bad", "dep")
    assert shown["attributes"]["deploy_stderr"] == "no such file"


async def test_an_error_output_fails_the_deployment(env: EngineEnv) -> None:
    await start(env, "err", template(deployment()))
    await env.client.signal_resource(env.ctx, "err", "dep", {"problem": "disk full"})
    stack = await env.wait("err", "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"].endswith("Deployment to server failed: problem : disk full")


async def test_the_deployment_api_completes_a_parked_deployment(env: EngineEnv) -> None:
    """What heat-config-notify does: PUT /software_deployments/<id> with the outcome."""
    deployment_id = await start(env, "api", template(deployment(signal_transport="HEAT_SIGNAL")))
    await env.client.update_software_deployment(
        env.ctx,
        deployment_id,
        output_values={"deploy_stdout": "via api", "deploy_status_code": 0, "result": 42},
        status="COMPLETE",
        status_reason="Outputs received",
    )
    stack = await env.wait("api", "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"result": 42, "stdout": "via api", "code": 0}


async def test_the_deployment_api_can_fail_a_parked_deployment(env: EngineEnv) -> None:
    deployment_id = await start(env, "apifail", template(deployment()))
    # A report still IN_PROGRESS leaves the resource waiting.
    await env.client.update_software_deployment(
        env.ctx, deployment_id, status="IN_PROGRESS", status_reason="still going"
    )
    await until(lambda: all(e.worker.running == 0 for e in env.engines), "the node to park")
    shown = await env.client.show_stack(env.ctx, "apifail", resolve_outputs=False)
    assert shown["stack_status"] == "CREATE_IN_PROGRESS"
    await env.client.update_software_deployment(
        env.ctx, deployment_id, status="FAILED", status_reason="it broke"
    )
    stack = await env.wait("apifail", "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"].endswith("Deployment to server failed: it broke")


async def test_update_redeploys_and_waits_again(env: EngineEnv) -> None:
    first = template(deployment(signal_transport="NO_SIGNAL", input_values={"greeting": "a"}))
    await env.create("redeploy", first)
    deployment_id = (await physical_ids(env, "redeploy"))["dep"]
    before = await env.client.show_software_deployment(env.ctx, deployment_id)
    changed = template(deployment(signal_transport="NO_SIGNAL", input_values={"greeting": "b"}))
    stack = await update(env, "redeploy", changed)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert (await physical_ids(env, "redeploy"))["dep"] == deployment_id
    after = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert after["action"] == "UPDATE"
    assert after["config_id"] != before["config_id"]
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert inputs_of(config)["greeting"] == "b"
    assert inputs_of(config)["deploy_action"] == "UPDATE"
    # The derived config of the create is gone with it.
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_config(env.ctx, before["config_id"])


async def test_an_input_replaced_on_change_replaces_the_deployment(env: EngineEnv) -> None:
    config = {
        "type": "OS::Heat::SoftwareConfig",
        "properties": {
            "config": "run",
            "inputs": [{"name": "image", "replace_on_change": True}, {"name": "size"}],
        },
    }

    def version(image: str, size: int) -> dict[str, Any]:
        values = {"image": image, "size": size}
        return template(deployment(signal_transport="NO_SIGNAL", input_values=values), config)

    await env.create("roc", version("a", 1))
    first = (await physical_ids(env, "roc"))["dep"]
    await update(env, "roc", version("a", 2))
    assert (await physical_ids(env, "roc"))["dep"] == first  # size: updated in place
    stack = await update(env, "roc", version("b", 2))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    second = (await physical_ids(env, "roc"))["dep"]
    assert second != first
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_deployment(env.ctx, first)
    [shown] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert inputs_of(shown)["image"] == "b"
    assert inputs_of(shown)["deploy_action"] == "CREATE"


async def test_an_update_parks_until_signalled(env: EngineEnv) -> None:
    await start(env, "upsig", template(deployment()))
    await env.client.signal_resource(env.ctx, "upsig", "dep", {"result": "first"})
    await env.wait("upsig", "CREATE")
    changed = template(deployment(input_values={"greeting": "again"}))
    await env.client.update_stack(env.ctx, "upsig", changed)
    await wait_resource(env, "upsig", "dep", "UPDATE_IN_PROGRESS")
    deployment_id = (await physical_ids(env, "upsig"))["dep"]

    async def redeployed() -> bool:
        shown = await env.client.show_software_deployment(env.ctx, deployment_id)
        return bool(shown["action"] == "UPDATE" and shown["status"] == "IN_PROGRESS")

    await until(redeployed, "the update to be deployed")
    await until(lambda: all(e.worker.running == 0 for e in env.engines), "the update to park")
    shown = await env.client.show_stack(env.ctx, "upsig", resolve_outputs=False)
    assert shown["stack_status"] == "UPDATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "upsig", "dep", {"result": "second"})
    stack = await env.wait("upsig", "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["result"] == "second"


async def test_actions_without_create_skip_the_create(env: EngineEnv) -> None:
    stack = await env.create(
        "later", template(deployment(actions=["UPDATE"], signal_transport="NO_SIGNAL"))
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert not (await physical_ids(env, "later"))["dep"]
    assert await env.client.metadata_software_deployments(env.ctx, server_id=SERVER) == []
    changed = template(
        deployment(
            actions=["UPDATE"], signal_transport="NO_SIGNAL", input_values={"greeting": "now"}
        )
    )
    stack = await update(env, "later", changed)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert inputs_of(config)["deploy_action"] == "UPDATE"
    assert inputs_of(config)["greeting"] == "now"


async def test_suspend_and_resume_deploy_when_asked_for(env: EngineEnv) -> None:
    actions = ["CREATE", "SUSPEND", "RESUME"]
    await env.create("sr", template(deployment(signal_transport="NO_SIGNAL", actions=actions)))
    deployment_id = (await physical_ids(env, "sr"))["dep"]
    for action, verb in (("SUSPEND", "suspend"), ("RESUME", "resume")):
        await env.client.stack_action(env.ctx, "sr", verb)
        stack = await env.wait("sr", action)
        assert stack["stack_status"] == f"{action}_COMPLETE", stack["stack_status_reason"]
        shown = await env.client.show_software_deployment(env.ctx, deployment_id)
        assert (shown["action"], shown["status"]) == (action, "COMPLETE")


async def test_delete_removes_the_deployment_and_its_config(env: EngineEnv) -> None:
    await env.create("del", template(deployment(signal_transport="NO_SIGNAL")))
    deployment_id = (await physical_ids(env, "del"))["dep"]
    derived = (await env.client.show_software_deployment(env.ctx, deployment_id))["config_id"]
    stack = await delete(env, "del")
    assert stack["stack_status"] == "DELETE_COMPLETE", stack["stack_status_reason"]
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_deployment(env.ctx, deployment_id)
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_config(env.ctx, derived)
    assert await env.client.metadata_software_deployments(env.ctx, server_id=SERVER) == []


async def test_a_delete_action_waits_for_the_servers_signal(env: EngineEnv) -> None:
    deployment_id = await start(env, "cleanup", template(deployment(actions=["CREATE", "DELETE"])))
    await env.client.signal_resource(env.ctx, "cleanup", "dep", {"result": "installed"})
    stack = await env.wait("cleanup", "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    await env.client.delete_stack(env.ctx, "cleanup")
    await wait_resource(env, stack["id"], "dep", "DELETE_IN_PROGRESS")

    async def cleaning() -> bool:
        shown = await env.client.show_software_deployment(env.ctx, deployment_id)
        return bool(shown["action"] == "DELETE" and shown["status"] == "IN_PROGRESS")

    await until(cleaning, "the delete to be deployed")
    await until(lambda: all(e.worker.running == 0 for e in env.engines), "the delete to park")
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert inputs_of(config)["deploy_action"] == "DELETE"
    # Signals reach a deployment being deleted (most types refuse them then).
    await env.client.signal_resource(env.ctx, stack["id"], "dep", {"deploy_status_code": 0})
    deleted = await env.wait(stack["id"], "DELETE")
    assert deleted["stack_status"] == "DELETE_COMPLETE", deleted["stack_status_reason"]
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_software_deployment(env.ctx, deployment_id)


@pytest.mark.parametrize("transport", ["ZAQAR_SIGNAL", "TEMP_URL_SIGNAL"])
async def test_transports_needing_zaqar_or_swift_are_refused(
    env: EngineEnv, transport: str
) -> None:
    with pytest.raises(errors.StackValidationFailed) as caught:
        await env.client.create_stack(
            env.ctx, "zaqar", template(deployment(signal_transport=transport))
        )
    message = str(caught.value)
    assert "signal_transport" in message
    assert "ZAQAR_SIGNAL needs Zaqar and TEMP_URL_SIGNAL needs Swift" in message


async def test_an_unknown_transport_gets_heats_message(env: EngineEnv) -> None:
    with pytest.raises(errors.StackValidationFailed, match="is not an allowed value"):
        await env.client.create_stack(
            env.ctx, "pigeon", template(deployment(signal_transport="PIGEON"))
        )


# Structured deployments --------------------------------------------------------------


STRUCTURED = {
    "type": "OS::Heat::StructuredConfig",
    "properties": {
        "group": "os-apply-config",
        "config": {"app": {"port": {"get_input": "port"}, "name": {"get_input": "deploy_action"}}},
        "inputs": [{"name": "port"}],
    },
}


def structured(**props: Any) -> dict[str, Any]:
    return {
        "type": "OS::Heat::StructuredDeployment",
        "properties": {
            "config": {"get_resource": "config"},
            "server": SERVER,
            "signal_transport": "NO_SIGNAL",
            **props,
        },
    }


async def test_structured_deployment_substitutes_inputs(env: EngineEnv) -> None:
    stack = await env.create(
        "structured", template(structured(input_values={"port": 8080}), STRUCTURED)
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert config["config"] == {"app": {"port": 8080, "name": "CREATE"}}


async def test_structured_deployment_with_another_input_key(env: EngineEnv) -> None:
    config = {
        "type": "OS::Heat::StructuredConfig",
        "properties": {"config": {"a": {"get_input": "x"}, "b": {"fetch": "x"}}},
    }
    await env.create(
        "key", template(structured(input_key="fetch", input_values={"x": "v"}), config)
    )
    [shown] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert shown["config"] == {"a": {"get_input": "x"}, "b": "v"}


async def test_strict_input_validation_refuses_an_input_with_no_value(env: EngineEnv) -> None:
    # As in Heat, a declared input has a value (its default, null here); one neither
    # declared nor given has none.
    config = {
        "type": "OS::Heat::StructuredConfig",
        "properties": {"config": {"a": {"get_input": "port"}, "b": {"get_input": "missing"}}},
    }
    config["properties"]["inputs"] = [{"name": "port"}]
    stack = await env.create("strict", template(structured(input_values_validate="STRICT"), config))
    assert stack["stack_status"] == "CREATE_FAILED"
    assert "The Parameter (missing) was not provided." in stack["stack_status_reason"]
    lax = await env.create("lax", template(structured(), config))
    assert lax["stack_status"] == "CREATE_COMPLETE", lax["stack_status_reason"]
    [shown] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert shown["config"] == {"a": None, "b": None}


# Groups ------------------------------------------------------------------------------


def group(kind: str = "OS::Heat::SoftwareDeploymentGroup", **props: Any) -> dict[str, Any]:
    return hot(
        {
            "config": SCRIPT,
            "deps": {
                "type": kind,
                "properties": {
                    "config": {"get_resource": "config"},
                    "servers": {"web": "server-web", "db": "server-db"},
                    **props,
                },
            },
        },
        outputs={
            "stdouts": {"get_attr": ["deps", "deploy_stdouts"]},
            "codes": {"get_attr": ["deps", "deploy_status_codes"]},
            "stderrs": {"get_attr": ["deps", "deploy_stderrs"]},
            "results": {"get_attr": ["deps", "result"]},
        },
    )


async def test_a_group_deploys_to_each_server_and_maps_outputs(env: EngineEnv) -> None:
    created = await env.client.create_stack(env.ctx, "group", group())
    await wait_resource(env, created["stack_id"], "deps", "CREATE_IN_PROGRESS")

    async def members() -> dict[str, str] | None:
        nested = (await physical_ids(env, "group")).get("deps")
        if not nested:
            return None
        found = await physical_ids(env, nested)
        return {"nested": nested, **found} if len(found) == 2 and all(found.values()) else None

    ids = await until(members, "a deployment per server")
    await until(lambda: all(e.worker.running == 0 for e in env.engines), "the members to park")
    nested = ids.pop("nested")
    assert set(ids) == {"web", "db"}
    for name, server in (("web", "server-web"), ("db", "server-db")):
        [config] = await env.client.metadata_software_deployments(env.ctx, server_id=server)
        assert inputs_of(config)["deploy_server_id"] == server
        assert inputs_of(config)["deploy_resource_name"] == name
    for name in ("web", "db"):
        details = {"deploy_stdout": f"{name} ok", "deploy_status_code": 0, "result": name * 2}
        await env.client.signal_resource(env.ctx, nested, name, details)
    stack = await env.wait("group", "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {
        "stdouts": {"web": "web ok", "db": "db ok"},
        "codes": {"web": 0, "db": 0},
        "stderrs": {"web": None, "db": None},
        "results": {"web": "webweb", "db": "dbdb"},
    }


async def test_a_group_follows_its_server_map(env: EngineEnv) -> None:
    stack = await env.create("follow", group(signal_transport="NO_SIGNAL"))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    changed = group(signal_transport="NO_SIGNAL")
    changed["resources"]["deps"]["properties"]["servers"] = {"web": "server-web", "mq": "mq"}
    stack = await update(env, "follow", changed)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert set(outputs(stack)["stdouts"]) == {"web", "mq"}
    assert await env.client.metadata_software_deployments(env.ctx, server_id="server-db") == []
    assert len(await env.client.metadata_software_deployments(env.ctx, server_id="mq")) == 1


async def test_a_structured_group_substitutes_per_server(env: EngineEnv) -> None:
    tmpl = group(
        "OS::Heat::StructuredDeploymentGroup",
        signal_transport="NO_SIGNAL",
        input_values={"port": 22},
    )
    tmpl["resources"]["config"] = STRUCTURED
    stack = await env.create("sgroup", tmpl)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id="server-db")
    assert config["config"] == {"app": {"port": 22, "name": "CREATE"}}


# What the server is told ---------------------------------------------------------------


def test_a_signal_credential_tells_the_server_where_to_signal() -> None:
    access = SignalAccess(
        access_key="AK",
        secret_key="SK",
        token="tok",
        heat_url="http://heat/v1/p/stacks/s/i/resources/dep/signal",
        cfn_signal_url="http://cfn/v1/signal/arn?Signature=x",
        cfn_waitcondition_url="http://cfn/v1/waitcondition/arn",
        metadata_url="http://cfn/v1/",
        user_id="u",
        project_id="p",
    )
    cfn = {i["name"]: i["value"] for i in signal_inputs("CFN_SIGNAL", access)}
    assert cfn == {"deploy_signal_id": access.cfn_signal_url, "deploy_signal_verb": "POST"}
    heat = {i["name"]: i["value"] for i in signal_inputs("HEAT_SIGNAL", access)}
    assert heat == {
        "deploy_signal_id": access.heat_url,
        "deploy_signal_verb": "POST",
        "deploy_username": "AK",
        "deploy_user_id": "u",
        "deploy_password": "SK",
        "deploy_project_id": "p",
    }
    assert signal_inputs("NO_SIGNAL", access) == []
    assert signal_inputs("CFN_SIGNAL", None) == []


async def test_a_group_rolls_an_update_over_its_deployments(env: EngineEnv) -> None:
    def rolling(greeting: str, policy: dict[str, Any]) -> dict[str, Any]:
        tmpl = group(signal_transport="NO_SIGNAL", input_values={"greeting": greeting})
        tmpl["resources"]["deps"]["update_policy"] = {"rolling_update": policy}
        return tmpl

    await env.create("rolling", rolling("a", {"max_batch_size": 1}))
    stack = await update(env, "rolling", rolling("b", {"max_batch_size": 1}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    for server in ("server-web", "server-db"):
        [config] = await env.client.metadata_software_deployments(env.ctx, server_id=server)
        assert inputs_of(config)["greeting"] == "b"
    # Heat's deployment groups keep no deployments in service while rolling.
    stack = await update(env, "rolling", rolling("c", {"min_in_service": 1}))
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "min_in_service" in stack["stack_status_reason"]


async def test_a_component_deploys_on_the_actions_its_configs_name(env: EngineEnv) -> None:
    component = {
        "type": "OS::Heat::SoftwareComponent",
        "properties": {"configs": [{"actions": ["CREATE"], "config": "install", "tool": "sh"}]},
    }
    await env.create(
        "comp", template(deployment(signal_transport="NO_SIGNAL", actions=["UPDATE"]), component)
    )
    # The component's configs say CREATE, whatever the deployment's actions say.
    deployment_id = (await physical_ids(env, "comp"))["dep"]
    shown = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert shown["action"] == "CREATE"
    changed = template(
        deployment(signal_transport="NO_SIGNAL", actions=["UPDATE"], input_values={"a": 1}),
        component,
    )
    await update(env, "comp", changed)
    shown = await env.client.show_software_deployment(env.ctx, deployment_id)
    assert shown["action"] == "CREATE"  # no config for UPDATE: nothing deployed
    [config] = await env.client.metadata_software_deployments(env.ctx, server_id=SERVER)
    assert config["group"] == "component"
    assert config["config"] == {
        "configs": [{"actions": ["CREATE"], "config": "install", "tool": "sh"}]
    }
