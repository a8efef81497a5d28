"""Wait conditions end to end, without Keystone: a real heat-all (REST and CloudFormation
APIs, noauth) holds a stack on a handle until something outside signals it with plain
HTTP: the handle's ``curl_cli`` as given (its own token), or the pre-signed
``/v1/waitcondition`` URL an ``AWS::CloudFormation::WaitConditionHandle`` refers to.

And what the signal credential cannot do: list stacks, read or signal another resource,
reach another project, or work once its resource is deleted."""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import (
    HeatServer,
    free_port,
    legacy_client,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import need, wait_stack, wait_until

WAIT = 120.0
HOT = """
heat_template_version: 2016-10-14
parameters:
  count: {type: number, default: 1}
  timeout: {type: number, default: 600}
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    properties:
      handle: {get_resource: handle}
      count: {get_param: count}
      timeout: {get_param: timeout}
  other:
    type: OS::Heat::WaitConditionHandle
outputs:
  data:
    value: {get_attr: [wait, data]}
"""
AWS = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Handle:
    Type: AWS::CloudFormation::WaitConditionHandle
  Url:
    Type: OS::Heat::Value
    Properties:
      value: {Ref: Handle}
  Wait:
    Type: AWS::CloudFormation::WaitCondition
    Properties:
      Handle: {Ref: Handle}
      Timeout: 600
Outputs:
  Data:
    Value: {'Fn::GetAtt': [Wait, Data]}
"""


class Cloud:
    """One heat-all and the REST client of a project."""

    def __init__(self, server: HeatServer, cfn_port: int) -> None:
        self.server = server
        self.cfn_port = cfn_port

    def client(self, project: str = "waiters") -> Any:
        return legacy_client(self.server.endpoint(project))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    need("httpx")
    workdir = tmp_path_factory.mktemp("wait-conditions")
    port, cfn_port = free_port(), free_port()
    conf = write_heat_conf(workdir, port, cfn_port=cfn_port)
    server = start_heat_all(workdir, conf, port)
    yield Cloud(server, cfn_port)
    stop_heat_all(server)


def create(hc: Any, name: str, template: str, **params: Any) -> str:
    created = hc.stacks.create(stack_name=name, template=template, parameters=params)
    return str(created["stack"]["id"])


def resource_done(hc: Any, stack_id: str, name: str) -> Any:
    return wait_until(
        lambda: hc.resources.get(stack_id, name),
        lambda r: r.resource_status in ("CREATE_COMPLETE", "CREATE_FAILED"),
        WAIT,
        f"{name} to be made",
    )


def curl(command: str, body: Any) -> tuple[int, str]:
    """Run a shell command line as a user pastes it, with the signal as its body."""
    argv = [*shlex.split(command), "-s", "--data-binary", json.dumps(body)]
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    # ``-i``: the status line and headers, a blank line, the body (as sent, CRLF intact).
    head, _, body = done.stdout.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


def token_request(method: str, url: str, token: str, body: Any = None) -> Any:
    httpx = need("httpx")
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    data = json.dumps(body) if body is not None else None
    return httpx.request(method, url, headers=headers, content=data, timeout=30)


def test_curl_cli_as_given_completes_the_wait(cloud: Cloud) -> None:
    hc = cloud.client()
    stack_id = create(hc, "curl", HOT)
    handle = resource_done(hc, stack_id, "handle")
    assert handle.resource_status == "CREATE_COMPLETE"
    attrs = handle.attributes
    assert attrs["curl_cli"].startswith("curl -i -X POST -H 'X-Auth-Token: ")
    assert attrs["endpoint"] in attrs["curl_cli"] and attrs["token"] in attrs["curl_cli"]
    assert hc.stacks.get(stack_id).stack_status == "CREATE_IN_PROGRESS"
    status, _ = curl(attrs["curl_cli"], {"status": "SUCCESS", "data": "ready", "id": "7"})
    assert status == 200
    stack = wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert json.loads(outputs["data"]) == {"7": "ready"}


def test_a_failure_signal_fails_the_wait_with_its_reason(cloud: Cloud) -> None:
    hc = cloud.client()
    stack_id = create(hc, "failing", HOT)
    attrs = resource_done(hc, stack_id, "handle").attributes
    status, _ = curl(attrs["curl_cli"], {"status": "FAILURE", "reason": "disk full"})
    assert status == 200
    stack = wait_stack(hc, stack_id, "CREATE_FAILED", WAIT)
    assert "disk full" in stack.stack_status_reason
    wait = hc.resources.get(stack_id, "wait")
    assert wait.resource_status == "CREATE_FAILED" and "disk full" in wait.resource_status_reason


def test_a_wait_that_times_out_fails_clearly(cloud: Cloud) -> None:
    hc = cloud.client()
    stack_id = create(hc, "late", HOT, timeout=2)
    wait_stack(hc, stack_id, "CREATE_FAILED", WAIT)
    wait = hc.resources.get(stack_id, "wait")
    assert wait.resource_status == "CREATE_FAILED"
    assert wait.resource_status_reason == "WaitConditionTimeout: resources.wait: 0 of 1 received"


def test_the_presigned_cfn_url_completes_an_aws_wait(cloud: Cloud) -> None:
    hc = cloud.client()
    stack_id = create(hc, "aws", AWS)
    url = resource_done(hc, stack_id, "Url").attributes["value"]
    split = urllib.parse.urlsplit(url)
    assert split.port == cloud.cfn_port and split.path.startswith("/v1/waitcondition/")
    signal = {"Status": "SUCCESS", "Reason": "configured", "UniqueId": "web1", "Data": "up"}
    status, body = curl(
        f"curl -i -X PUT -H 'Content-Type: application/json' {shlex.quote(url)}", signal
    )
    assert status == 200, body
    answer = json.loads(body)
    assert answer["resource"] == "Handle"
    stack = wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert json.loads(outputs["Data"]) == {"web1": "up"}


def test_a_presigned_url_signs_for_its_own_resource_and_verb_only(cloud: Cloud) -> None:
    httpx = need("httpx")
    hc = cloud.client()
    stack_id = create(hc, "tamper", AWS)
    url = resource_done(hc, stack_id, "Url").attributes["value"]
    split = urllib.parse.urlsplit(url)
    other = split._replace(path=split.path.replace("/resources/Handle", "/resources/Url"))
    moved = httpx.put(urllib.parse.urlunsplit(other), json={}, timeout=30)
    assert moved.status_code == 403 and "SignatureDoesNotMatch" in moved.text
    # The same signature on another verb or action is not the same request.
    listed = httpx.get(
        urllib.parse.urlunsplit(split._replace(path="/v1/")) + "&Action=ListStacks", timeout=30
    )
    assert listed.status_code == 403 and "SignatureDoesNotMatch" in listed.text
    posted = httpx.post(url, json={}, timeout=30)
    assert posted.status_code == 405
    assert hc.stacks.get(stack_id).stack_status == "CREATE_IN_PROGRESS"
    hc.stacks.delete(stack_id)


def test_a_signal_token_reaches_its_own_resource_only(cloud: Cloud) -> None:
    hc = cloud.client()
    stack_id = create(hc, "scoped", HOT)
    attrs = resource_done(hc, stack_id, "handle").attributes
    token, endpoint = attrs["token"], attrs["endpoint"]
    base = cloud.server.endpoint("waiters")
    # No other call: listing stacks, reading the stack, deleting it.
    assert token_request("GET", f"{base}/stacks", token).status_code == 403
    assert token_request("GET", f"{base}/stacks/scoped/{stack_id}", token).status_code == 403
    assert token_request("DELETE", f"{base}/stacks/scoped/{stack_id}", token).status_code == 403
    # No other resource of the stack.
    other = endpoint.replace("/resources/handle/", "/resources/other/")
    assert token_request("POST", other, token, {}).status_code == 404
    other_metadata = other.rsplit("/signal", 1)[0] + "/metadata"
    assert token_request("GET", other_metadata, token).status_code == 404
    # No other project.
    elsewhere = endpoint.replace("/waiters/", "/intruded/", 1)
    assert token_request("POST", elsewhere, token, {}).status_code == 403
    # Not even its own resource beyond its metadata (as Heat's stack users).
    own = endpoint.rsplit("/signal", 1)[0]
    assert token_request("GET", own, token).status_code == 403
    metadata = token_request("GET", own + "/metadata", token)
    assert metadata.status_code == 200 and "metadata" in metadata.json()
    assert token_request("POST", endpoint, token, {"status": "SUCCESS"}).status_code == 200
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    # Gone with its resource.
    hc.stacks.delete(stack_id)
    wait_stack(hc, stack_id, "DELETE_COMPLETE", WAIT)
    after = token_request("POST", endpoint, token, {"status": "SUCCESS"})
    assert after.status_code in (401, 404), after.text


def test_a_wait_survives_its_engine_being_killed(tmp_path: Path) -> None:
    port, cfn_port = free_port(), free_port()
    conf = write_heat_conf(tmp_path, port, cfn_port=cfn_port)
    server = start_heat_all(tmp_path, conf, port)
    try:
        hc = legacy_client(server.endpoint("survivors"))
        stack_id = create(hc, "survivor", HOT)
        attrs = resource_done(hc, stack_id, "handle").attributes
        wait_until(
            lambda: hc.resources.get(stack_id, "wait"),
            lambda r: r.resource_status == "CREATE_IN_PROGRESS",
            WAIT,
            "the wait to begin",
        )
        server.process.kill()
        server.process.wait(30)
        server = start_heat_all(tmp_path, conf, port)
        hc = legacy_client(server.endpoint("survivors"))
        assert hc.stacks.get(stack_id).stack_status == "CREATE_IN_PROGRESS"
        status, _ = curl(attrs["curl_cli"], {"status": "SUCCESS"})
        assert status == 200
        wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    finally:
        stop_heat_all(server)
