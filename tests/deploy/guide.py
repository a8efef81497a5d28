"""The operator guide's three-machine sample on one machine: A (127.0.0.1) runs HAProxy on
8004 and 8000, RabbitMQ and the database; B (127.0.0.2) and C (127.0.0.3) each run one
``python bin/heat-api``, one ``python bin/heat-api-cfn`` and two ``python bin/heat-engine``,
each with its own copy of A's ``heat.conf``, all written by ``heat-manage scale-out``.

A's ``heat.conf`` uses the guide's legacy options (``sql_connection``, ``rabbit_host``). The
database and the broker are reached through relays of the test's own (``tests.relay``),
so that a test can cut either; HAProxy runs as the guide starts it,
``haproxy -f apis-proxy.conf`` (it puts itself in the background; ``-p`` says where its pid
is written).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

from tests.api.helpers import wait_until
from tests.backends import ScratchDatabase, wipe
from tests.deploy.conftest import (
    ROOT,
    START_TIMEOUT,
    TRANSPORT_URL,
    Daemon,
    Launcher,
    reset_broker,
    wait_consumers,
    wait_health,
    write_conf,
)
from tests.relay import Relay

CONTROLLER = "127.0.0.1"
HOSTS = ("127.0.0.2", "127.0.0.3")
REST_PORT = 8004
CFN_PORT = 8000
ENGINES_PER_HOST = 2
ENGINE_WORKERS = 2
# Short enough for the fault tests, as an operator of a busy site would not set them.
RPC_TIMEOUT = 10
DATABASE_TIMEOUTS = {"connect_timeout": 3, "statement_timeout": 8}
CHECK_INTERVAL = "1s"
OPS_PROJECT = "ops"


def haproxy_binary() -> str:
    for directory in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/sbin"]:
        candidate = Path(directory) / "haproxy"
        if candidate.is_file():
            return str(candidate)
    return ""


@dataclass
class Proxy:
    """A running HAProxy: its pid file, and its stats socket if the configuration has one."""

    conf: Path
    pidfile: Path
    socket: Path | None = None

    @classmethod
    def start(cls, conf: Path, socket_path: Path | None = None) -> Proxy:
        binary = haproxy_binary()
        assert binary, "haproxy is not installed (.ci/run installs Debian's package)"
        pidfile = conf.with_suffix(".pid")
        done = subprocess.run(
            [binary, "-f", str(conf), "-p", str(pidfile)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd=conf.parent,
        )
        assert done.returncode == 0, f"haproxy -f {conf}: {done.returncode}\n{done.stderr}"
        proxy = cls(conf, pidfile, socket_path)
        wait_until(proxy.pids, bool, 10.0, "haproxy's pid file")
        return proxy

    def pids(self) -> list[int]:
        with contextlib.suppress(OSError, ValueError):
            return [int(p) for p in self.pidfile.read_text(encoding="ascii").split()]
        return []

    def stop(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

        def gone() -> bool:
            return not any(Path(f"/proc/{pid}").exists() for pid in self.pids())

        wait_until(gone, bool, 10.0, "haproxy to stop")

    def servers(self) -> dict[str, str]:
        """``proxy/server`` to its state (``UP``, ``DOWN``, ...), from ``show stat``."""
        assert self.socket is not None, "this HAProxy has no stats socket"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(str(self.socket))
            conn.sendall(b"show stat\n")
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return {
            f"{r['pxname']}/{r['svname']}": r["status"].split()[0]
            for r in rows
            if r["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_state(self, server: str, state: str, timeout: float = START_TIMEOUT) -> float:
        """Wait until HAProxy reports ``server`` in ``state``; the seconds that took."""
        begun = time.monotonic()
        wait_until(self.servers, lambda s: s.get(server) == state, timeout, f"{server} {state}")
        return time.monotonic() - begun


@dataclass(frozen=True)
class Line:
    """One process of a host's ``start.sh``: its name and command."""

    host: str
    name: str
    argv: list[str]

    @property
    def kind(self) -> str:
        return self.name.rsplit("-", 1)[0]


def start_lines(script: Path, host: str) -> list[Line]:
    """The ``start NAME COMMAND...`` lines of a ``start.sh``."""
    lines = []
    for text in script.read_text(encoding="utf-8").splitlines():
        if text.startswith("start "):
            words = shlex.split(text)
            lines.append(Line(host, words[1], words[2:]))
    return lines


def conf_port(argv: list[str], section: str) -> int:
    """``bind_port`` of ``section`` in the config copy an argv names."""
    conf = Path(next(a for a in argv if a.startswith("--config-file=")).split("=", 1)[1])
    current = ""
    for raw in conf.read_text(encoding="utf-8").splitlines():
        text = raw.strip()
        if text.startswith("["):
            current = text.strip("[]")
        elif current == section and text.replace(" ", "").startswith("bind_port="):
            return int(text.split("=", 1)[1])
    raise AssertionError(f"no [{section}] bind_port in {conf}")


@dataclass
class Guide:
    """The scaled-out deployment: each process by its ``host/name``."""

    backend: str
    database_url: str
    controller_conf: Path
    output: Path
    launcher: Launcher
    broker: Relay
    database: Relay
    lines: dict[str, Line]
    running: dict[str, Daemon] = field(default_factory=dict)
    started_proxy: Proxy | None = None

    @property
    def proxy(self) -> Proxy:
        assert self.started_proxy is not None, "HAProxy has not been started"
        return self.started_proxy

    @property
    def daemons(self) -> list[Daemon]:
        return self.launcher.daemons

    @property
    def rest_url(self) -> str:
        return f"http://{CONTROLLER}:{REST_PORT}"

    @property
    def cfn_url(self) -> str:
        return f"http://{CONTROLLER}:{CFN_PORT}/v1/"

    def endpoint(self, project: str) -> str:
        return f"{self.rest_url}/v1/{project}"

    def start(self, key: str, *, wait: bool = True) -> Daemon:
        line = self.lines[key]
        port = None
        if line.kind == "heat-api":
            port = conf_port(line.argv, "heat_api")
        elif line.kind == "heat-api-cfn":
            port = conf_port(line.argv, "heat_api_cfn")
        daemon = self.launcher.start(key.replace("/", "-"), line.argv, port)
        self.running[key] = daemon
        if wait:
            self.wait_ready(key)
        return daemon

    def wait_ready(self, key: str) -> None:
        """The process has said it is ready; an API's health check passes (it reaches an
        engine)."""
        line, daemon = self.lines[key], self.running[key]
        daemon.wait_output(f"{line.kind} ready")
        if daemon.port is not None:
            wait_health(f"http://{line.host}:{daemon.port}", 200)

    def kill(self, key: str) -> Daemon:
        """SIGKILL a whole process: a supervisor and every worker it forked."""
        daemon = self.running.pop(key)
        daemon.stopped = True  # by this test: its teardown need not stop it
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.process.wait(30)
        return daemon

    def engines(self) -> list[str]:
        return [k for k, line in self.lines.items() if line.kind == "heat-engine"]

    def logs(self) -> str:
        return self.launcher.logs()


def controller_sections(
    database_url: str, broker: Relay, policy: Path
) -> dict[str, dict[str, object]]:
    """A's ``heat.conf``, the guide's way: ``sql_connection`` and ``rabbit_host`` in
    ``[DEFAULT]``, the APIs bound where HAProxy will listen; the operators' project
    (``OPS_PROJECT``) may list the engines, as an admin may."""
    parts = urlsplit(TRANSPORT_URL)
    return {
        "DEFAULT": {
            "sql_connection": database_url,
            "rabbit_host": "localhost",
            "rabbit_port": broker.port,
            "rabbit_userid": parts.username or "guest",
            "rabbit_password": parts.password or "guest",
            "num_engine_workers": ENGINE_WORKERS,
            "rpc_response_timeout": RPC_TIMEOUT,
        },
        "database": dict(DATABASE_TIMEOUTS),
        "heat_api": {"bind_host": CONTROLLER, "bind_port": REST_PORT, "workers": 1},
        "heat_api_cfn": {"bind_host": CONTROLLER, "bind_port": CFN_PORT, "workers": 1},
        "paste_deploy": {"flavor": "noauth"},
        "oslo_policy": {"policy_file": str(policy)},
    }


def scale_out(launcher: Launcher, conf: Path, output: Path) -> None:
    """``python bin/heat-manage --config-file A.conf scale-out ...``, from the checkout."""
    argv = [sys.executable, str(ROOT / "bin" / "heat-manage"), "--config-file", str(conf)]
    argv += ["scale-out", "--controller", CONTROLLER, "--output", str(output)]
    argv += ["--engines", str(ENGINES_PER_HOST), "--check-interval", CHECK_INTERVAL]
    argv += ["--bin-dir", str(ROOT / "bin"), "--python", sys.executable]
    for host in HOSTS:
        argv += ["--host", host]
    done = launcher.run(argv)
    assert done.returncode == 0, f"{argv}: {done.returncode}\n{done.stdout}\n{done.stderr}"


def port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def guide_deployment(backend: str, scratch: ScratchDatabase, workdir: Path) -> Iterator[Guide]:
    for port in (REST_PORT, CFN_PORT):
        assert port_free(CONTROLLER, port), (
            f"{CONTROLLER}:{port} is taken; the guide's HAProxy listens there"
        )
    reset_broker()
    wipe(scratch.url)
    server = make_url(scratch.url)
    broker = Relay("127.0.0.1", urlsplit(TRANSPORT_URL).port or 5672).start()
    database = Relay("127.0.0.1", int(server.port or 0)).start()
    launcher = Launcher(workdir)
    proxy: Proxy | None = None
    try:
        database_url = server.set(host="127.0.0.1", port=database.port).render_as_string(
            hide_password=False
        )
        policy = workdir / "policy.yaml"
        policy.write_text(
            f'"service:index": "role:admin or project_id:{OPS_PROJECT}"\n', encoding="utf-8"
        )
        conf = write_conf(workdir / "heat.conf", controller_sections(database_url, broker, policy))
        launcher.manage(conf, "db_sync")
        output = workdir / "scale-out"
        scale_out(launcher, conf, output)
        lines = {
            f"{host}/{line.name}": line
            for host in HOSTS
            for line in start_lines(output / host / "start.sh", host)
        }
        guide = Guide(
            backend,
            scratch.url,
            conf,
            output,
            launcher,
            broker,
            database,
            lines,
        )
        for key in lines:
            guide.start(key, wait=False)
        for key in lines:
            guide.wait_ready(key)
        wait_consumers(len(HOSTS) * ENGINES_PER_HOST * ENGINE_WORKERS)
        proxy = Proxy.start(
            output / CONTROLLER / "apis-proxy.conf", output / CONTROLLER / "haproxy.sock"
        )
        guide.started_proxy = proxy
        for name in ("rest_api_proxy/rest-server-1", "rest_api_proxy/rest-server-2"):
            proxy.wait_state(name, "UP")
        for name in ("cfn_api_proxy/cfn-server-1", "cfn_api_proxy/cfn-server-2"):
            proxy.wait_state(name, "UP")
        yield guide
    finally:
        try:
            if proxy is not None:
                proxy.stop()
            launcher.stop_all()
        finally:
            broker.stop()
            database.stop()


def guide_fixture(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Guide]:
    backend = str(request.param)
    scratch: ScratchDatabase = request.getfixturevalue(f"{backend}_scratch")
    with guide_deployment(backend, scratch, tmp) as guide:
        yield guide
