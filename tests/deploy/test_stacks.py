"""Stacks on a separate-process deployment (heat-api and heat-engine, two workers each,
RabbitMQ between them), driven by python-heatclient and the ``openstack`` CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Cli
from tests.api.helpers import need, wait_stack, wait_until
from tests.api.test_cli_stacks import events_in
from tests.deploy.conftest import ENGINE_WORKERS, Deployment, engine_pids, node_claims

exc = need("heatclient.exc")

# ``count`` random strings in a nested stack, and the list of their values.
GROUP = """\
heat_template_version: 2016-10-14
parameters:
  count:
    type: number
    default: 30
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def:
        type: OS::Heat::RandomString
        properties:
          length: 16
outputs:
  values:
    description: the members' random strings
    value: {get_attr: [group, value]}
"""

STACK_TIMEOUT = 60.0


def outputs(stack: Any) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in stack.outputs}


def check_values(values: Any, count: int) -> list[str]:
    assert isinstance(values, list), values
    assert len(values) == count, values
    assert all(isinstance(v, str) and len(v) == 16 for v in values), values
    assert len(set(values)) == count, values
    return values


def test_group_stack_life_with_heatclient(hc: Any) -> None:
    hc.stacks.create(stack_name="bystander", template=GROUP, parameters={"count": 1})
    created = hc.stacks.create(stack_name="group", template=GROUP, parameters={"count": 30})
    stack_id = created["stack"]["id"]

    stack = wait_stack(hc, "group", "CREATE_COMPLETE", STACK_TIMEOUT)
    first = check_values(outputs(stack)["values"], 30)
    assert stack.id == stack_id
    assert stack.parameters["count"] == "30"
    resources = hc.resources.list("group", nested_depth=1)
    members = [r for r in resources if r.resource_type == "OS::Heat::RandomString"]
    assert sorted(int(r.resource_name) for r in members) == list(range(30))
    assert {r.resource_status for r in resources} == {"CREATE_COMPLETE"}
    assert [r.resource_type for r in resources if r.resource_name == "group"] == [
        "OS::Heat::ResourceGroup"
    ]
    events = hc.events.list("group", nested_depth=1)
    completed = sorted(
        e.resource_name
        for e in events
        if e.resource_status == "CREATE_COMPLETE" and e.resource_name.isdigit()
    )
    assert completed == sorted(str(i) for i in range(30))
    top = [(e.resource_name, e.resource_status) for e in hc.events.list("group")]
    assert ("group", "CREATE_IN_PROGRESS") in top
    assert ("group", "CREATE_COMPLETE") in top
    assert top.count(("group", "CREATE_COMPLETE")) == 2  # the resource and the stack

    hc.stacks.update("group", existing=True, parameters={"count": 35})
    stack = wait_stack(hc, "group", "UPDATE_COMPLETE", STACK_TIMEOUT)
    grown = check_values(outputs(stack)["values"], 35)
    assert grown[:30] == first  # the first thirty members were kept as they were
    assert stack.parameters["count"] == "35"
    assert len(hc.resources.list("group", nested_depth=1)) == 36

    wait_stack(hc, "bystander", "CREATE_COMPLETE", STACK_TIMEOUT)
    names = {s.stack_name for s in hc.stacks.list()}
    assert names == {"group", "bystander"}
    updated = [s.stack_name for s in hc.stacks.list(filters={"stack_status": "UPDATE_COMPLETE"})]
    assert updated == ["group"]
    created_only = hc.stacks.list(filters={"stack_status": "CREATE_COMPLETE"})
    assert [s.stack_name for s in created_only] == ["bystander"]
    assert [s.id for s in hc.stacks.list(filters={"name": "group"})] == [stack_id]

    hc.stacks.delete(stack_id)
    hc.stacks.delete("bystander")
    wait_until(
        lambda: {s.stack_name for s in hc.stacks.list()}, lambda names: not names, STACK_TIMEOUT
    )
    with pytest.raises(exc.HTTPNotFound):
        hc.stacks.get("group")
    assert hc.stacks.get(stack_id).stack_status == "DELETE_COMPLETE"


def test_group_stack_with_the_openstack_cli(cli: Cli, hc: Any) -> None:
    template = cli.write("group.yaml", GROUP)
    done = cli(
        *("stack", "create", "--wait", "--poll", "1", "-t", str(template)),
        *("--parameter", "count=4", "cli-group", "-f", "json"),
    )
    # --wait prints the event log, then the stack.
    log, brace, shown = done.stdout.partition("\n{")
    events = events_in(log)
    assert events[0] == ("cli-group", "CREATE_IN_PROGRESS", "Stack CREATE started")
    assert events[-1] == ("cli-group", "CREATE_COMPLETE", "Stack CREATE completed successfully")
    assert ("cli-group.group", "CREATE_COMPLETE", "state changed") in events
    created = json.loads(brace.strip() + shown)
    assert created["stack_name"] == "cli-group"
    assert created["stack_status"] == "CREATE_COMPLETE", created

    shown, output = cli.json_all(
        ("stack", "show", "cli-group"), ("stack", "output", "show", "cli-group", "values")
    )
    assert shown["id"] == created["id"]
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["parameters"]["count"] == "4"
    listed = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    values = check_values(listed["values"], 4)
    value = output["output_value"]
    assert (json.loads(value) if isinstance(value, str) else value) == values
    assert output["description"] == "the members' random strings"

    # (``stack delete --wait`` polls every five seconds; heatclient watches quicker.)
    cli("stack", "delete", "--yes", "cli-group")
    wait_until(lambda: list(hc.stacks.list()), lambda stacks: not stacks, STACK_TIMEOUT)
    assert hc.stacks.get(created["id"]).stack_status == "DELETE_COMPLETE"
    assert cli.json("stack", "list") == []


def test_both_engine_workers_run_and_share_the_work(
    deployment: Deployment, hc: Any, admin_hc: Any
) -> None:
    engine_workers = deployment.engine.children()
    assert len(engine_workers) == ENGINE_WORKERS, deployment.logs()
    assert len(deployment.api.children()) == 2, deployment.logs()

    services = admin_hc.services.list()
    up = [s for s in services if s.status == "up"]
    assert len(up) == ENGINE_WORKERS, [s.to_dict() for s in services]
    assert {s.binary for s in up} == {"heat-engine"}
    assert {s.topic for s in up} == {"engine"}
    engine_ids = {s.engine_id for s in up}
    assert len(engine_ids) == ENGINE_WORKERS
    # Each service is one of the two worker processes (each logs its engine id).
    pids = engine_pids(deployment.engine)
    assert {pids.get(e) for e in engine_ids} == {w.pid for w in engine_workers}, pids

    # Forty independent resources: the broker hands their work out round-robin.
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {f"n{i}": {"type": "OS::Heat::None"} for i in range(40)},
    }
    created = hc.stacks.create(stack_name="shared", template=template)
    wait_stack(hc, "shared", "CREATE_COMPLETE", STACK_TIMEOUT)
    claims = node_claims(deployment.database_url, created["stack"]["id"])
    by_engine = {engine for engine, _attempts in claims}
    assert by_engine == engine_ids, claims
    assert sum(claims.values()) == 40
    assert {attempts for _engine, attempts in claims} == {1}
