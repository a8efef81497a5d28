"""heat-api-cfn as operators deploy it: its own process (``python -m ember.cmd.api_cfn``,
and once the checkout's ``python bin/heat-api-cfn``) beside heat-engine, the two talking
over RabbitMQ, on a MariaDB database that ``heat-manage db_sync`` prepared and in which
``heat-manage ec2-credentials create`` made the key pair boto3 signs with.

Each process must stop on SIGTERM with status 0, leaving nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ember.db import migration
from tests.api.cfn import templates
from tests.api.cfn.conftest import (
    KeyPair,
    all_pages,
    boto3_client,
    described,
    make_key_pair,
    wait_for,
)
from tests.api.conftest import free_port
from tests.api.helpers import need
from tests.backends import ScratchDatabase, wipe
from tests.deploy.conftest import (
    Daemon,
    Launcher,
    changed,
    checkout_command,
    heat_conf,
    module_command,
    reset_broker,
    start_engine,
    wait_health,
)

httpx = need("httpx")
boto3 = need("boto3")

SPLIT_PAGE_SIZE = 2
NAME = "heat-api-cfn"


@dataclass
class Split:
    sections: dict[str, dict[str, object]]
    conf: Path
    engine: Daemon
    cfn: Daemon
    key: KeyPair

    @property
    def endpoint(self) -> str:
        return f"{self.cfn.url}/v1/"


def cfn_sections(sections: dict[str, dict[str, object]], port: int) -> dict[str, dict[str, object]]:
    return changed(
        sections,
        heat_api_cfn={
            "bind_host": "127.0.0.1",
            "bind_port": port,
            "workers": 1,
            "page_size": SPLIT_PAGE_SIZE,
        },
    )


def start_cfn(launcher: Launcher, argv: list[str], port: int) -> Daemon:
    """heat-api-cfn (one worker), once it is ready and healthy."""
    cfn = launcher.start(NAME, argv, port)
    cfn.wait_ready(1)
    try:
        wait_health(cfn.url, 200)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{launcher.logs()}") from None
    return cfn


@pytest.fixture(scope="module")
def split_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path_factory.mktemp("cfn-split"))
    try:
        yield launcher
    finally:
        launcher.stop_all()


@pytest.fixture(scope="module")
def split(request: pytest.FixtureRequest, split_launcher: Launcher, project: str) -> Split:
    scratch: ScratchDatabase = request.getfixturevalue("mysql_scratch")
    reset_broker()
    wipe(scratch.url)
    port = free_port()
    sections = cfn_sections(
        heat_conf(database_url=scratch.url, port=free_port(), engine_workers=1, api_workers=1),
        port,
    )
    conf = split_launcher.conf("heat.conf", sections)
    split_launcher.manage(conf, "db_sync")
    assert split_launcher.manage(conf, "db_version").strip() == migration.head()
    key = make_key_pair(conf, project, "split-user", ("member",), cwd=split_launcher.workdir)
    engine = start_engine(split_launcher, conf, 1)
    cfn = start_cfn(split_launcher, module_command("ember.cmd.api_cfn", conf), port)
    return Split(sections, conf, engine, cfn, key)


@pytest.fixture(scope="module")
def cf(split: Split) -> Any:
    return boto3_client(split.endpoint, split.key)


def test_stack_lifecycle(cf: Any, split: Split) -> None:
    made = cf.create_stack(
        StackName="split",
        TemplateBody=templates.MAIN,
        Parameters=[{"ParameterKey": "Word", "ParameterValue": "over rabbit"}],
        Tags=[{"Key": "where", "Value": "mariadb"}],
    )
    arn = made["StackId"]
    assert f":{split.key.project_id}:stacks/split/" in arn
    wait_for(cf, "stack_create_complete", "split")
    stack = described(cf, "split")
    assert stack["StackId"] == arn and stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["W"] == "over rabbit" and len(outputs["Out"]) == 8
    assert stack["Tags"] == [{"Key": "where", "Value": "mariadb"}]
    assert stack["DisableRollback"] is False

    cf.update_stack(
        StackName=arn,
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": "Word", "UsePreviousValue": True},
            {"ParameterKey": "Len", "ParameterValue": "5"},
        ],
    )
    wait_for(cf, "stack_update_complete", "split")
    stack = described(cf, "split")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["W"] == "over rabbit" and len(outputs["Out"]) == 5
    detail = cf.describe_stack_resource(StackName="split", LogicalResourceId="V")
    assert detail["StackResourceDetail"]["ResourceStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")

    events, pages = all_pages(
        cf.get_paginator("describe_stack_events"), "StackEvents", StackName="split"
    )
    ids = [e["EventId"] for e in events]
    assert len(ids) == len(set(ids)) > 2 * SPLIT_PAGE_SIZE
    assert pages == -(-len(ids) // SPLIT_PAGE_SIZE)
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == (
        "split",
        "UPDATE_COMPLETE",
    )

    cf.delete_stack(StackName="split")
    wait_for(cf, "stack_delete_complete", "split")
    assert described(cf, arn)["StackStatus"] == "DELETE_COMPLETE"


def test_listings_over_pages(cf: Any) -> None:
    names = [f"split-list-{i}" for i in range(5)]
    for name in names:
        cf.create_stack(StackName=name, TemplateBody=templates.NONE)
    for name in names:
        wait_for(cf, "stack_create_complete", name)

    summaries, pages = all_pages(
        cf.get_paginator("list_stacks"), "StackSummaries", StackStatusFilter=["CREATE_COMPLETE"]
    )
    assert sorted(s["StackName"] for s in summaries) == names
    assert pages == 3
    stacks, pages = all_pages(cf.get_paginator("describe_stacks"), "Stacks")
    assert [s["StackName"] for s in stacks] == [s["StackName"] for s in summaries]
    assert pages == 3
    resources, pages = all_pages(
        cf.get_paginator("list_stack_resources"), "StackResourceSummaries", StackName=names[0]
    )
    assert [(r["LogicalResourceId"], pages) for r in resources] == [("nothing", 1)]


def test_health_and_versions(split: Split) -> None:
    health = httpx.get(f"{split.cfn.url}/healthcheck", timeout=10.0)
    assert (health.status_code, health.text) == (200, "OK")

    versions = httpx.get(f"{split.cfn.url}/", timeout=10.0)
    assert versions.status_code == 300
    assert versions.json() == {
        "versions": [
            {
                "id": "v1.0",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{split.cfn.url}/v1/"}],
            }
        ]
    }
    # What HAProxy's ``option httpchk`` sends: any 2xx or 3xx answer keeps the server up.
    checked = httpx.request("OPTIONS", f"{split.cfn.url}/", timeout=10.0)
    assert checked.status_code == 300
    unsigned = httpx.get(split.endpoint, params={"Action": "ListStacks"}, timeout=10.0)
    assert unsigned.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in unsigned.text


def test_the_checkout_script_serves_the_same_stacks(cf: Any, split: Split, tmp_path: Path) -> None:
    """A second heat-api-cfn, run from the checkout's ``bin/``, beside the first: both reach
    the same engine and database."""
    port = free_port()
    launcher = Launcher(tmp_path)
    try:
        conf = launcher.conf("heat.conf", cfn_sections(split.sections, port))
        other = start_cfn(launcher, checkout_command(NAME, conf), port)
        assert other.children() == [], "one worker runs in the heat-api-cfn process itself"
        second = boto3_client(f"{other.url}/v1/", split.key)

        arn = second.create_stack(StackName="from-bin", TemplateBody=templates.NONE)["StackId"]
        wait_for(second, "stack_create_complete", "from-bin")
        assert described(cf, "from-bin")["StackId"] == arn
        assert described(second, arn)["StackStatus"] == "CREATE_COMPLETE"
        cf.delete_stack(StackName="from-bin")
        wait_for(second, "stack_delete_complete", arn)
        assert described(cf, arn)["StackStatus"] == "DELETE_COMPLETE"
        other.stop()
        assert f"{NAME} listening on 127.0.0.1:{port}" in other.output()
    finally:
        launcher.stop_all()
