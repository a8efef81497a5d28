"""Heat's logging options in heat.conf: ``use_json`` and ``log_file`` give one JSON object
per line, each tagged with what it is about (the request id the client was answered with,
the project, the stack, the traversal that ran a resource)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import (
    FEATURES,
    HeatServer,
    free_port,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import need

httpx = need("httpx")

PROJECT = "logged"
FAILING = {
    "heat_template_version": "2016-10-14",
    "resources": {"bad": {"type": "OS::Heat::TestResource", "properties": {"fail": True}}},
}


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeatServer]:
    workdir = tmp_path_factory.mktemp("heat-all-json-logs")
    port = free_port()
    conf = write_heat_conf(
        workdir, port, default=FEATURES + f"use_json = true\nlog_file = {workdir / 'heat.log'}\n"
    )
    server = start_heat_all(workdir, conf, port)
    try:
        yield server
    finally:
        stop_heat_all(server)


def records(server: HeatServer) -> list[dict[str, Any]]:
    lines = (server.workdir / "heat.log").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]  # every line one JSON object


def wait_for_record(
    server: HeatServer, accept: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [r for r in records(server) if accept(r)]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no log record of {what}")


def test_each_line_is_json_tagged_with_request_project_stack_and_traversal(
    logged_server: HeatServer,
) -> None:
    with httpx.Client(base_url=logged_server.endpoint(PROJECT), timeout=30.0) as client:
        created = client.post(
            "/stacks",
            json={"stack_name": "failing", "template": FAILING},
            headers={"X-Auth-User": "alice"},
        )
        assert created.status_code == 201, created.text
        request_id = created.headers["x-openstack-request-id"]
        stack_id = created.json()["stack"]["id"]

        posted = wait_for_record(
            logged_server,
            lambda r: (
                r["name"] == "ember.api.access" and '"POST /v1/logged/stacks ' in r["message"]
            ),
            "the stack create request",
        )
        assert posted["context"]["request_id"] == request_id
        assert posted["context"]["project_id"] == PROJECT
        assert posted["context"]["user_id"] == "alice"
        assert "status: 201" in posted["message"]

        failed = wait_for_record(
            logged_server,
            lambda r: r["extra"].get("stack_id") == stack_id and "failed bad" in r["message"],
            "the resource's failure",
        )
        assert failed["levelname"] == "INFO"
        assert failed["context"]["project_id"] == PROJECT
        assert "Test Resource failed" in failed["message"]
        assert len(failed["extra"]["traversal_id"]) == 36

        shown = client.get(f"/stacks/failing/{stack_id}")
        assert shown.status_code == 200
        read = wait_for_record(
            logged_server,
            lambda r: r["context"].get("request_id") == shown.headers["x-openstack-request-id"],
            "the stack show request",
        )
        assert read["extra"]["stack_id"] == stack_id

    # Lines about no request carry no request's tags.
    untagged = [r for r in records(logged_server) if r["name"] == "ember.heat-all"]
    assert untagged and all(r["context"] == {} and r["extra"] == {} for r in untagged)


def test_a_bad_logging_option_is_a_configuration_error(tmp_path: Path) -> None:
    port = free_port()
    conf = write_heat_conf(tmp_path, port, default=FEATURES + "use_json = perhaps\n")
    done = subprocess.run(
        [sys.executable, "-m", "ember.cmd.all", "--config-file", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "use_json" in done.stderr
