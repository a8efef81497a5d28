"""``ember-agent`` as a separate process against a real heat-all: it reads a server's
deployment metadata, runs each new ``script`` config once (inputs as environment
variables, outputs from ``$heat_outputs_path.<name>``) and signals the result where the
deployment's ``deploy_signal_id`` says; a config of a group it has no hook for is reported
as a failure that says so."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import HeatServer
from tests.api.helpers import wait_stack

AGENT = [sys.executable, "-m", "ember.cmd.agent"]
SCRIPT = """#!/bin/sh
echo "hello $who"
echo "to stderr" >&2
printf '%s' "$who-done" > "$heat_outputs_path.result"
printf '%s' "$settings" > "$heat_outputs_path.settings"
exit ${code:-0}
"""


class Receiver:
    """A local HTTP server standing in for a signal URL: it keeps every request."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, Any]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _keep(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                owner.received.append((self.command, self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = _keep

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def agent(heat_server: HeatServer, project: str, server: str, state: Path) -> Any:
    argv = [*AGENT, "--server-id", server, "--heat-url", heat_server.endpoint(project)]
    argv += ["--state-dir", str(state), "--once"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def deploy(hc: Any, server: str, group: str, signal_url: str, **values: Any) -> Any:
    declared = ["who", "code", "settings", "deploy_signal_id", "deploy_signal_verb"]
    config = hc.software_configs.create(
        name=f"{server}-{group}",
        group=group,
        config=SCRIPT,
        inputs=[{"name": name} for name in declared],
        outputs=[{"name": "result"}, {"name": "settings"}],
        options={},
    )
    values = {"deploy_signal_id": signal_url, "deploy_signal_verb": "PUT", **values}
    return hc.software_deployments.create(
        config_id=config.id, server_id=server, input_values=values, action="CREATE"
    )


def test_the_agent_runs_a_script_config_once_and_signals_its_result(
    hc: Any, heat_server: HeatServer, project: str, receiver: Receiver, tmp_path: Path
) -> None:
    deploy(
        hc,
        "web1",
        "script",
        f"{receiver.url}/signal/one",
        who="world",
        settings={"a": [1, 2]},
    )
    ran = agent(heat_server, project, "web1", tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert len(receiver.received) == 1
    verb, path, body = receiver.received[0]
    assert (verb, path) == ("PUT", "/signal/one")
    assert body["deploy_stdout"] == "hello world\n"
    assert body["deploy_stderr"] == "to stderr\n"
    assert body["deploy_status_code"] == 0
    assert body["result"] == "world-done"
    assert json.loads(body["settings"]) == {"a": [1, 2]}, "a map input arrives as JSON"
    # Applied once: a second poll finds nothing new.
    again = agent(heat_server, project, "web1", tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(receiver.received) == 1


def test_a_failing_script_reports_its_exit_code_and_stderr(
    hc: Any, heat_server: HeatServer, project: str, receiver: Receiver, tmp_path: Path
) -> None:
    deploy(hc, "web2", "script", f"{receiver.url}/signal/two", who="x", code=3)
    ran = agent(heat_server, project, "web2", tmp_path)
    assert ran.returncode == 0, ran.stderr
    [(_, _, body)] = receiver.received
    assert body["deploy_status_code"] == 3
    assert body["deploy_stderr"] == "to stderr\n"


def test_a_group_without_a_hook_is_reported_not_skipped(
    hc: Any, heat_server: HeatServer, project: str, receiver: Receiver, tmp_path: Path
) -> None:
    deploy(hc, "web3", "puppet", f"{receiver.url}/signal/three")
    ran = agent(heat_server, project, "web3", tmp_path)
    assert ran.returncode == 0, ran.stderr
    [(_, _, body)] = receiver.received
    assert body["deploy_status_code"] != 0
    assert "no hook for group 'puppet'" in body["deploy_stderr"]


def test_an_undelivered_result_is_not_recorded_as_applied(
    hc: Any, heat_server: HeatServer, project: str, receiver: Receiver, tmp_path: Path
) -> None:
    deploy(hc, "web4", "script", f"{receiver.url}/signal/four", who="y")
    receiver.close()  # nobody listens: the signal cannot be delivered
    failed = agent(heat_server, project, "web4", tmp_path)
    assert failed.returncode == 1
    assert "Connect" in failed.stderr or "connect" in failed.stderr, failed.stderr
    state = tmp_path / "web4.json"
    applied = json.loads(state.read_text(encoding="utf-8"))["applied"] if state.exists() else []
    assert applied == [], "not recorded as applied: the next poll tries again"


DEPLOYED = """
heat_template_version: 2016-10-14
parameters:
  code: {type: number, default: 0}
  server: {type: string}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{name: who}, {name: code}]
      outputs: [{name: result}]
      config: |
        #!/bin/sh
        echo "deploying for $who"
        echo "disk is full" >&2
        printf '%s' "$who-done" > "$heat_outputs_path.result"
        exit $code
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_param: server}
      input_values: {who: world, code: {get_param: code}}
outputs:
  result: {value: {get_attr: [deployment, result]}}
  stdout: {value: {get_attr: [deployment, deploy_stdout]}}
  status_code: {value: {get_attr: [deployment, deploy_status_code]}}
"""


@pytest.fixture
def running_agent(heat_server: HeatServer, project: str, tmp_path: Path) -> Iterator[Any]:
    """``ember-agent`` polling for server ``agent-web`` twice a second, as a daemon."""
    argv = [*AGENT, "--server-id", "agent-web", "--heat-url", heat_server.endpoint(project)]
    argv += ["--state-dir", str(tmp_path), "--interval", "0.5"]
    log = tmp_path / "agent.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    process.wait(30)


def test_a_deployment_applied_by_the_agent_completes_with_its_outputs(
    hc: Any, running_agent: Any
) -> None:
    made = hc.stacks.create(
        stack_name="agent-ok", template=DEPLOYED, parameters={"server": "agent-web"}
    )
    stack = wait_stack(hc, made["stack"]["id"], "CREATE_COMPLETE", 120.0)
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert outputs["result"] == "world-done"
    assert outputs["stdout"] == "deploying for world\n"
    assert outputs["status_code"] == 0
    assert running_agent.poll() is None, "the agent keeps polling"


def test_a_failing_script_fails_the_deployment_with_its_stderr(hc: Any, running_agent: Any) -> None:
    made = hc.stacks.create(
        stack_name="agent-bad", template=DEPLOYED, parameters={"server": "agent-web", "code": 3}
    )
    wait_stack(hc, made["stack"]["id"], "CREATE_FAILED", 120.0)
    deployment = hc.resources.get(made["stack"]["id"], "deployment")
    assert deployment.resource_status == "CREATE_FAILED"
    assert "disk is full" in deployment.resource_status_reason
    assert "3" in deployment.resource_status_reason
