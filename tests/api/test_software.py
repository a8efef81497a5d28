"""Software configs and deployments end to end: the ``openstack software config`` and
``openstack software deployment`` commands, python-heatclient, and the raw HTTP shapes and
status codes (Heat answers 200 to a create, 204 to a delete, 400 to bad input)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.api.conftest import Cli, HeatServer
from tests.api.helpers import UUID, need, wait_stack, wait_until

exc = need("heatclient.exc")

TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
SCRIPT = "#!/bin/sh\necho $greeting > /tmp/out\n"
DEFINITION = """\
inputs:
- name: greeting
  default: hello
- name: port
  type: Number
outputs:
- name: result
  error_output: true
options:
  verbose: true
"""


def fault(response: httpx.Response, status: int, type_name: str) -> str:
    """Check Heat's JSON fault body; return the error message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "title", "explanation", "error"}
    assert body["code"] == status
    assert body["error"]["type"] == type_name, body
    assert body["error"]["traceback"] is None
    return str(body["error"]["message"])


def make_config(http: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = http.post("/software_configs", json={"name": name, **fields})
    assert response.status_code == 200, response.text
    return response.json()["software_config"]  # type: ignore[no-any-return]


def make_deployment(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = http.post("/software_deployments", json=fields)
    assert response.status_code == 200, response.text
    return response.json()["software_deployment"]  # type: ignore[no-any-return]


# The openstack CLI ----------------------------------------------------------------------


def test_cli_software_config_create_list_show_delete(cli: Cli) -> None:
    script = cli.write("script.sh", SCRIPT)
    definition = cli.write("definition.yaml", DEFINITION)
    created = cli.json(
        "software",
        "config",
        "create",
        "--group",
        "script",
        "--config-file",
        str(script),
        "--definition-file",
        str(definition),
        "cli-config",
    )
    assert re.match(UUID, created["id"])
    assert created["name"] == "cli-config"
    assert created["group"] == "script"
    assert created["config"] == SCRIPT
    assert created["inputs"] == [
        {"name": "greeting", "type": "String", "default": "hello", "replace_on_change": False},
        {"name": "port", "type": "Number", "replace_on_change": False},
    ]
    assert created["outputs"] == [{"name": "result", "type": "String", "error_output": True}]
    assert created["options"] == {"verbose": True}
    assert re.match(TIME, created["creation_time"])

    shown = cli.json("software", "config", "show", created["id"])
    assert shown == created
    only = cli("software", "config", "show", "--config-only", created["id"]).stdout
    assert only == SCRIPT + "\n"

    listed = cli.json("software", "config", "list")
    row = next(r for r in listed if r["id"] == created["id"])
    assert row == {
        "id": created["id"],
        "name": "cli-config",
        "group": "script",
        "creation_time": created["creation_time"],
    }

    cli("software", "config", "delete", created["id"])
    missing = cli("software", "config", "show", created["id"], check=False)
    assert missing.returncode == 1
    assert f"Configuration not found: {created['id']}" in missing.stderr
    gone = cli("software", "config", "delete", created["id"], check=False)
    assert gone.returncode == 1
    assert f"Software config with ID {created['id']} not found" in gone.stdout


def test_cli_default_group_and_paging(cli: Cli) -> None:
    ids = [cli.json("software", "config", "create", f"page-{i}")["id"] for i in range(3)]
    shown = cli.json("software", "config", "show", ids[0])
    assert shown["group"] == "Heat::Ungrouped"
    assert shown["config"] == ""
    listed = [r["id"] for r in cli.json("software", "config", "list")]
    assert listed.index(ids[0]) < listed.index(ids[1]) < listed.index(ids[2])
    page = cli.json("software", "config", "list", "--limit", "1", "--marker", ids[0])
    assert [r["id"] for r in page] == [ids[1]]
    cli("software", "config", "delete", *ids)
    remaining = {r["id"] for r in cli.json("software", "config", "list")}
    assert not remaining & set(ids)


def test_cli_software_config_create_refuses_a_bad_definition(cli: Cli) -> None:
    definition = cli.write("bad.yaml", "inputs:\n- name: x\n  type: Float\n")
    done = cli(
        "software", "config", "create", "--definition-file", str(definition), "bad", check=False
    )
    assert done.returncode == 1
    assert "Float" in done.stderr
    assert "bad" not in {r["name"] for r in cli.json("software", "config", "list")}


def test_cli_software_deployment_lifecycle(cli: Cli) -> None:
    definition = cli.write("deploy-definition.yaml", DEFINITION)
    script = cli.write("deploy.sh", SCRIPT)
    source = cli.json(
        "software",
        "config",
        "create",
        "--group",
        "script",
        "--config-file",
        str(script),
        "--definition-file",
        str(definition),
        "deploy-source",
    )
    deployed = cli.json(
        "software",
        "deployment",
        "create",
        "--config",
        source["id"],
        "--server",
        "cli-server",
        "--signal-transport",
        "NO_SIGNAL",
        "--input-value",
        "greeting=bonjour",
        "--input-value",
        "extra=1",
        "cli-deployment",
    )
    assert deployed["server_id"] == "cli-server"
    assert (deployed["action"], deployed["status"]) == ("UPDATE", "IN_PROGRESS")
    assert deployed["config_id"] != source["id"]  # the CLI deploys a derived config

    listed = cli.json("software", "deployment", "list", "--server", "cli-server", "--long")
    assert listed == [
        {
            "id": deployed["id"],
            "config_id": deployed["config_id"],
            "server_id": "cli-server",
            "action": "UPDATE",
            "status": "IN_PROGRESS",
            "creation_time": deployed["creation_time"],
            "status_reason": "",
        }
    ]
    assert cli.json("software", "deployment", "list", "--server", "elsewhere") == []

    shown = cli.json("software", "deployment", "show", "--long", deployed["id"])
    assert shown["id"] == deployed["id"]
    assert shown["output_values"] == {}
    assert re.match(TIME, shown["creation_time"])

    metadata = json.loads(cli("software", "deployment", "metadata", "show", "cli-server").stdout)
    (entry,) = metadata
    assert entry["id"] == deployed["config_id"]
    assert entry["name"] == "cli-deployment"
    assert entry["group"] == "script"
    assert entry["config"] == SCRIPT
    values = {i["name"]: i.get("value") for i in entry["inputs"]}
    assert values["greeting"] == "bonjour"
    assert values["extra"] == "1"
    assert values["deploy_server_id"] == "cli-server"
    assert values["deploy_action"] == "UPDATE"
    assert values["deploy_signal_transport"] == "NO_SIGNAL"

    cli("software", "deployment", "delete", deployed["id"])
    assert cli.json("software", "deployment", "list", "--server", "cli-server") == []
    # The deployment's derived config went with it; the source config stays.
    configs = {r["id"] for r in cli.json("software", "config", "list")}
    assert deployed["config_id"] not in configs
    assert source["id"] in configs
    missing = cli("software", "deployment", "show", deployed["id"], check=False)
    assert missing.returncode == 1
    assert f"Software Deployment not found: {deployed['id']}" in missing.stderr


# python-heatclient ---------------------------------------------------------------------


def test_heatclient_configs_and_deployment_metadata(hc: Any) -> None:
    zed = hc.software_configs.create(
        name="zed",
        group="script",
        config="echo zed",
        inputs=[{"name": "who", "default": "world"}],
        outputs=[],
        options={},
    )
    alpha = hc.software_configs.create(name="alpha", group="ansible", config="- hosts: all")
    assert zed.group == "script"
    assert alpha.inputs == []
    assert hc.software_configs.get(zed.id).config == "echo zed"

    first = hc.software_deployments.create(
        config_id=zed.id, server_id="hc-server", input_values={"who": "heat"}, action="CREATE"
    )
    second = hc.software_deployments.create(config_id=alpha.id, server_id="hc-server")
    assert (first.action, first.status) == ("CREATE", "COMPLETE")
    assert (second.action, second.status) == ("INIT", "COMPLETE")

    metadata = hc.software_deployments.metadata(server_id="hc-server")
    assert [m["name"] for m in metadata] == ["alpha", "zed"]
    assert metadata[0]["group"] == "ansible"
    assert metadata[1]["inputs"] == [
        {
            "name": "who",
            "type": "String",
            "default": "world",
            "replace_on_change": False,
            "value": "heat",
        }
    ]
    assert hc.software_deployments.metadata(server_id="no-such-server") == []

    updated = hc.software_deployments.update(
        first.id, status="FAILED", status_reason="exit 1", output_values={"deploy_status_code": 1}
    )
    assert (updated.action, updated.status) == ("CREATE", "FAILED")
    assert updated.status_reason == "exit 1"
    assert updated.output_values == {"deploy_status_code": 1}
    assert updated.input_values == {"who": "heat"}
    assert re.match(TIME, updated.updated_time)

    listed = hc.software_deployments.list(server_id="hc-server")
    assert [d.id for d in listed] == [first.id, second.id]

    for deployment in (first, second):
        hc.software_deployments.delete(deployment.id)
    assert hc.software_deployments.list(server_id="hc-server") == []
    hc.software_configs.delete(zed.id)
    hc.software_configs.delete(alpha.id)
    remaining = {c.id for c in hc.software_configs.list()}
    assert not remaining & {zed.id, alpha.id}


def test_heatclient_deployment_report_completes_the_stack(hc: Any) -> None:
    """What heat-config-notify does when a server has applied its config: the deployment
    API's update completes the deployment resource waiting for it."""
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "config": {
                "type": "OS::Heat::SoftwareConfig",
                "properties": {"config": SCRIPT, "outputs": [{"name": "result"}]},
            },
            "dep": {
                "type": "OS::Heat::SoftwareDeployment",
                "properties": {"config": {"get_resource": "config"}, "server": "notify-server"},
            },
        },
        "outputs": {"result": {"value": {"get_attr": ["dep", "result"]}}},
    }
    created = hc.stacks.create(stack_name="notified", template=template)
    stack_id = created["stack"]["id"]

    def stored() -> list[Any]:
        return list(hc.software_deployments.list(server_id="notify-server"))

    [deployment] = wait_until(stored, bool, what="the deployment to be stored")
    assert (deployment.action, deployment.status) == ("CREATE", "IN_PROGRESS")
    [config] = hc.software_deployments.metadata(server_id="notify-server")
    values = {i["name"]: i.get("value") for i in config["inputs"]}
    assert values["deploy_resource_name"] == "dep"
    assert values["deploy_stack_id"] == f"notified/{stack_id}"
    assert hc.stacks.get(stack_id, resolve_outputs=False).stack_status == "CREATE_IN_PROGRESS"

    hc.software_deployments.update(
        deployment.id,
        status="COMPLETE",
        status_reason="Outputs received",
        output_values={"deploy_stdout": "ok", "deploy_status_code": 0, "result": "applied"},
    )
    stack = wait_stack(hc, stack_id, "CREATE_COMPLETE")
    assert stack.outputs[0]["output_value"] == "applied"
    resource = hc.resources.get(stack_id, "dep")
    assert resource.physical_resource_id == deployment.id
    assert resource.attributes["deploy_stdout"] == "ok"
    hc.stacks.delete(stack_id)
    wait_until(stored, lambda found: found == [], what="the deployment to go with its stack")


def test_heatclient_errors(hc: Any) -> None:
    with pytest.raises(exc.HTTPNotFound, match="Software config with id nope not found"):
        hc.software_configs.get("nope")
    with pytest.raises(exc.HTTPNotFound, match="Deployment with id nope not found"):
        hc.software_deployments.get("nope")
    with pytest.raises(exc.HTTPBadRequest, match="Config with id nope not found"):
        hc.software_deployments.create(config_id="nope", server_id="s")
    config = hc.software_configs.create(name="busy", config="true")
    deployment = hc.software_deployments.create(config_id=config.id, server_id="busy-server")
    with pytest.raises(exc.HTTPBadRequest, match="can not be deleted as it is referenced"):
        hc.software_configs.delete(config.id)
    hc.software_deployments.delete(deployment.id)
    hc.software_configs.delete(config.id)


# HTTP ----------------------------------------------------------------------------------


def test_status_codes_and_wrappers(http: httpx.Client) -> None:
    """What heat-tempest-plugin's softwareconfig.yaml checks."""
    config = make_config(http, "gabbi-config", group="script", config="#!/bin/sh -x\necho hello")
    shown = http.get(f"/software_configs/{config['id']}")
    assert shown.status_code == 200
    assert shown.json()["software_config"]["group"] == "script"

    deployment = make_deployment(
        http, action="ACTION0", config_id=config["id"], server_id="dummy_server"
    )
    url = f"/software_deployments/{deployment['id']}"
    assert http.get(url).json()["software_deployment"]["action"] == "ACTION0"
    metadata = http.get("/software_deployments/metadata/dummy_server")
    assert metadata.status_code == 200
    assert metadata.json()["metadata"][0]["group"] == "script"

    updated = http.put(url, json={"action": "ACTION1", "status": "COMPLETE", "status_reason": "ok"})
    assert updated.status_code == 200
    assert updated.json()["software_deployment"]["action"] == "ACTION1"

    configs = http.get("/software_configs").json()["software_configs"]
    assert [c["group"] for c in configs if c["id"] == config["id"]] == ["script"]
    deployments = http.get("/software_deployments").json()["software_deployments"]
    assert [d["server_id"] for d in deployments if d["id"] == deployment["id"]] == ["dummy_server"]

    deleted = http.delete(url)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert http.delete(f"/software_configs/{config['id']}").status_code == 204
    fault(http.get(url), 404, "EntityNotFound")
    fault(http.get(f"/software_configs/{config['id']}"), 404, "EntityNotFound")
    fault(http.delete(f"/software_configs/{config['id']}"), 404, "EntityNotFound")


def test_deployment_shape(http: httpx.Client) -> None:
    config = make_config(http, "shape")
    deployment = make_deployment(http, config_id=config["id"], server_id="shape-server")
    assert set(deployment) == {
        "id",
        "config_id",
        "server_id",
        "input_values",
        "output_values",
        "action",
        "status",
        "status_reason",
        "creation_time",
    }
    url = f"/software_deployments/{deployment['id']}"
    updated = http.put(url, json={}).json()["software_deployment"]
    assert re.match(TIME, updated["updated_time"])
    assert updated["status"] == deployment["status"]
    http.delete(url)
    http.delete(f"/software_configs/{config['id']}")


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/software_configs", "[1, 2]", "The server could not comply"),
        ("/software_configs", "not json", "The server could not comply"),
        ("/software_configs", '{"inputs": "x"}', "must be in a list"),
        ("/software_configs", '{"inputs": [{"name": "a", "extra": 1}]}', "Unknown Property"),
        ("/software_configs", '{"outputs": [{}]}', "Property name not assigned"),
        ("/software_configs", '{"options": []}', "options must be a map"),
        ("/software_configs", '{"name": {"a": 1}}', "name must be a string"),
        ("/software_deployments", "[]", "The server could not comply"),
        ("/software_deployments", '{"server_id": "s"}', "config_id must be specified"),
        ("/software_deployments", '{"config_id": 5, "server_id": "s"}', "must be a string"),
    ],
)
def test_bad_bodies_are_400(http: httpx.Client, path: str, body: str, expected: str) -> None:
    response = http.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]["message"]


def test_bad_deployment_updates_are_400(http: httpx.Client) -> None:
    config = make_config(http, "target")
    deployment = make_deployment(http, config_id=config["id"], server_id="upd-server")
    url = f"/software_deployments/{deployment['id']}"
    for body, expected in (
        ({"input_values": [1]}, "input_values must be a map"),
        ({"output_values": "x"}, "output_values must be a map"),
        ({"status": 3}, "status must be a string"),
        ({"config_id": "nope"}, "Config with id nope not found"),
    ):
        assert expected in fault(http.put(url, json=body), 400, "InvalidRequest")
    message = fault(http.put(url, content="[]"), 400, "HTTPBadRequest")
    assert "could not comply" in message
    message = fault(
        http.delete(f"/software_configs/{config['id']}"), 400, "InvalidRestrictedAction"
    )
    assert (
        message == f"Software config with id {config['id']} can not be deleted as it is referenced."
    )
    fault(http.put("/software_deployments/nope", json={}), 404, "EntityNotFound")
    fault(http.get("/software_configs?limit=x"), 400, "HTTPBadRequest")
    fault(http.get("/software_configs?global_tenant=maybe"), 400, "HTTPBadRequest")
    http.delete(url)
    http.delete(f"/software_configs/{config['id']}")


def test_projects_and_global_tenant(operator_server: HeatServer, project: str) -> None:
    """On a service whose operator lets admins list every project's configs."""
    mine_http = httpx.Client(base_url=operator_server.endpoint(project), timeout=30.0)
    other = httpx.Client(
        base_url=operator_server.endpoint(f"{project}-other"),
        headers={"X-Roles": "admin"},
        timeout=30.0,
    )
    with mine_http as http, other:
        mine = make_config(http, "mine")
        theirs = make_config(other, "theirs")
        assert mine["id"] not in {
            c["id"] for c in other.get("/software_configs").json()["software_configs"]
        }
        # An admin, where the policy grants it: global_tenant lists every project's configs.
        everything = other.get("/software_configs?global_tenant=true").json()["software_configs"]
        projects = {c["id"]: c["project"] for c in everything}
        assert projects[mine["id"]] == project
        assert projects[theirs["id"]] == f"{project}-other"
        other.delete(f"/software_configs/{theirs['id']}")
        http.delete(f"/software_configs/{mine['id']}")


def test_methods_not_routed(http: httpx.Client) -> None:
    response = http.patch("/software_configs/x", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET,DELETE"
    options = http.options("/software_deployments/x")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET,PUT,DELETE"
