"""A real ``heat-all`` process for the end-to-end API tests, and the real clients that
drive it: python-heatclient (legacy HTTP client and keystoneauth session), the
``openstack`` CLI, and raw HTTP.

- ``heat_server``: the service, started once per session on a free port with its own
  heat.conf and SQLite file, stopped with SIGTERM at the end;
- ``project``: a project of its own for each test module, so listings stay predictable;
- ``hc`` / ``session_hc``: heatclient clients on ``/v1/<project>``;
- ``cli``: runs ``openstack ...`` against ``/v1/<project>`` with ``OS_AUTH_TYPE=none``;
- ``http``: an httpx client on ``/v1/<project>`` that does not follow redirects.

With ``CI=true`` a missing client fails the tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import need, require

OPENSTACK = Path(sys.executable).parent / "openstack"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now and never handed out before in this run: the kernel
    may offer a port again as soon as its probe socket closes, and two services of one
    test given the same port would fight over it."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@dataclass
class HeatServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    workdir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, project: str) -> str:
        return f"{self.url}/v1/{project}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


FEATURES = "enable_stack_abandon = true\nenable_stack_adopt = true\n"


def write_heat_conf(
    workdir: Path,
    port: int,
    *,
    default: str = FEATURES,
    connection: str | None = None,
    heat_api: str = "",
    sections: str = "",
    cfn_port: int | None = None,
    heat_api_cfn: str = "",
) -> Path:
    """``workdir/heat.conf`` for one noauth heat-all on 127.0.0.1:``port`` (SQLite in
    ``workdir`` unless ``connection`` names a database), with lines of the caller's own
    added to ``[DEFAULT]`` (``default``: abandon and adopt on), ``[heat_api]`` and after.
    The CloudFormation API listens on ``cfn_port`` (a free port unless given), with the
    caller's ``[heat_api_cfn]`` lines."""
    conf = workdir / "heat.conf"
    url = connection or f"sqlite:///{workdir / 'ember.sqlite'}"
    conf.write_text(
        "[DEFAULT]\n"
        "num_engine_workers = 1\n"
        f"{default}"
        "[database]\n"
        f"connection = {url}\n"
        "[heat_api]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {port}\n"
        f"{heat_api}"
        "[heat_api_cfn]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {cfn_port or free_port()}\n"
        f"{heat_api_cfn}"
        "[paste_deploy]\n"
        "flavor = noauth\n"
        f"{sections}",
        encoding="utf-8",
    )
    return conf


def _healthy(url: str) -> bool:
    httpx = need("httpx")
    try:
        return httpx.get(f"{url}/healthcheck", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_heat_all(workdir: Path, conf: Path, port: int) -> HeatServer:
    """``heat-all`` with ``conf`` (which binds ``port``), once it answers its health check;
    the test fails with the service's log if it exits or stays unhealthy."""
    log = workdir / "heat-all.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ember.cmd.all", "--config-file", str(conf)],
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = HeatServer(port, process, log, workdir)
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(server.url):
        if process.poll() is not None:
            pytest.fail(
                f"heat-all exited with {process.returncode}:\n{server.output()}", pytrace=False
            )
        if time.monotonic() > deadline:
            stop_heat_all(server)
            pytest.fail(f"heat-all did not become healthy:\n{server.output()}", pytrace=False)
        time.sleep(0.1)
    return server


def stop_heat_all(server: HeatServer) -> None:
    """SIGTERM, which must end ``heat-all`` within ``STOP_TIMEOUT``."""
    process = server.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)
        raise AssertionError(
            f"heat-all did not stop on SIGTERM within {STOP_TIMEOUT}s:\n{server.output()}"
        ) from None


# What an operator writes to grant more than Heat's defaults: admins list every
# project's stacks and configs, only admins use TestResource, and the deprecated
# defaults still count (``enforce_new_defaults = false``).
OPERATOR_POLICY = (
    '"stacks:global_index": "rule:context_is_admin"\n'
    '"software_configs:global_index": "rule:context_is_admin"\n'
    '"resource_types:OS::Heat::TestResource": "rule:project_admin"\n'
)


@pytest.fixture(scope="session")
def operator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeatServer]:
    """heat-all (noauth) with the operator's ``policy.yaml`` beside its heat.conf, named
    relatively in ``[oslo_policy] policy_file``."""
    need("httpx")
    workdir = tmp_path_factory.mktemp("heat-all-operator")
    port = free_port()
    (workdir / "policy.yaml").write_text(OPERATOR_POLICY, encoding="utf-8")
    conf = write_heat_conf(
        workdir,
        port,
        sections="[oslo_policy]\npolicy_file = policy.yaml\nenforce_new_defaults = false\n",
    )
    server = start_heat_all(workdir, conf, port)
    try:
        yield server
    finally:
        stop_heat_all(server)


def legacy_client(endpoint: str) -> Any:
    client = need("heatclient.client")
    return client.Client("1", endpoint=endpoint, token="x")


def session_client(endpoint: str, headers: dict[str, str] | None = None) -> Any:
    client = need("heatclient.client")
    noauth = need("keystoneauth1.noauth")
    session = need("keystoneauth1.session")
    sess = session.Session(auth=noauth.NoAuth(endpoint=endpoint), additional_headers=headers)
    return client.Client("1", session=sess, endpoint_override=endpoint)


@pytest.fixture(scope="module")
def hc(heat_server: HeatServer, project: str) -> Any:
    """python-heatclient with its legacy HTTP client."""
    return legacy_client(heat_server.endpoint(project))


@pytest.fixture(scope="module")
def session_hc(heat_server: HeatServer, project: str) -> Any:
    """python-heatclient on a keystoneauth session with the ``none`` auth plugin."""
    return session_client(heat_server.endpoint(project))


@pytest.fixture(scope="module")
def http(heat_server: HeatServer, project: str) -> Iterator[Any]:
    httpx = need("httpx")
    with httpx.Client(base_url=heat_server.endpoint(project), timeout=30.0) as client:
        yield client


@dataclass
class Cli:
    """``openstack ...`` (or another command line, ``executable``) as a user runs it,
    against one project's endpoint."""

    endpoint: str
    cwd: Path
    executable: Path = OPENSTACK
    columns: int = 250

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            OS_AUTH_TYPE="none",
            OS_ENDPOINT=self.endpoint,
            COLUMNS=str(self.columns),
            NO_PROXY="127.0.0.1,localhost",
        )
        return env

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(self.executable), *args],
            cwd=self.cwd,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(
        self, process: subprocess.Popen[str], *, check: bool = True, timeout: float = 90.0
    ) -> subprocess.CompletedProcess[str]:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"{process.args} timed out:\n{out}\n{err}") from None
        done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        if check and done.returncode != 0:
            command = " ".join(str(a) for a in process.args[1:])  # type: ignore[index]
            raise AssertionError(
                f"{self.executable.name} {command} exited {done.returncode}\n"
                f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            )
        return done

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.finish(self.start(*args), check=check)

    def run_all(self, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
        """Run several commands at once; each must succeed."""
        started = [self.start(*command) for command in commands]
        return [self.finish(process) for process in started]

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-f", "json").stdout)

    def json_all(self, *commands: tuple[str, ...]) -> list[Any]:
        """Run several ``-f json`` commands at once; their parsed outputs."""
        done = self.run_all(*((*command, "-f", "json") for command in commands))
        return [json.loads(d.stdout) for d in done]

    def write(self, name: str, text: str) -> Path:
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def cli(heat_server: HeatServer, project: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    require(OPENSTACK.is_file(), f"the openstack CLI ({OPENSTACK})")
    return Cli(heat_server.endpoint(project), tmp_path_factory.mktemp(project))


LOG_OFFSET = pytest.StashKey[int]()


@pytest.fixture(autouse=True)
def _mark_server_log(request: pytest.FixtureRequest) -> None:
    if "heat_server" in request.fixturenames:
        server: HeatServer = request.getfixturevalue("heat_server")
        request.node.stash[LOG_OFFSET] = server.log.stat().st_size


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report shows what heat-all logged while it ran."""
    report = yield
    server = getattr(item, "funcargs", {}).get("heat_server")
    if report.failed and isinstance(server, HeatServer) and LOG_OFFSET in item.stash:
        with server.log.open("rb") as log:
            log.seek(item.stash[LOG_OFFSET])
            text = log.read().decode("utf-8", errors="replace")
        if text.strip():
            report.sections.append(("heat-all log", text[-20000:]))
    return report
