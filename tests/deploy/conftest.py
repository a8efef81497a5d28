"""A separate-process deployment, as operators run one: ``heat-manage db_sync`` on an empty
MariaDB or PostgreSQL database, then ``heat-engine`` and ``heat-api`` (each a supervisor
forking workers) talking over RabbitMQ.

- ``deployment``: started once per test module and backend (``mysql``, ``postgresql``),
  stopped with SIGTERM at the end of the module (which must end every process within
  ``STOP_TIMEOUT``);
- ``launcher``: starts processes for one test and stops what is still running after it;
- ``hc`` / ``cli``: python-heatclient and the ``openstack`` CLI on ``/v1/<project>``.

RabbitMQ is shared: each deployment runs alone and starts from deleted ``engine`` and
``engine.rpc`` queues, so messages of an earlier run cannot reach it. A failed test's
report carries the logs of the processes it used. With ``CI=true`` a missing broker,
database server or client fails the tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa

from ember.db import migration
from ember.db.engine import create_engine
from ember.db.models import Resource, Stack, Traversal, TraversalNode
from ember.db.records import NodeKey
from ember.rpc.api import ENGINE_TOPIC, WORK_TOPIC
from ember.rpc.rabbit import RabbitTransport, broker_urls
from tests import broker
from tests.api.conftest import (
    OPENSTACK,
    Cli,
    HeatServer,
    free_port,
    legacy_client,
    require,
    session_client,
)
from tests.api.helpers import need, wait_until
from tests.backends import ScratchDatabase, wipe

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TRANSPORT_URL = os.environ.get("EMBER_TEST_TRANSPORT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
VHOST = broker.vhost_of(TRANSPORT_URL)
# The queues every deployment shares on the broker: work (round-robin) and engine calls.
QUEUES = (WORK_TOPIC, ENGINE_TOPIC)
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
READY = "{name} ready"

Sections = Mapping[str, Mapping[str, object]]


# Processes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pid:
    """A process, told apart from a later one that reuses its pid by its start time."""

    pid: int
    started: int

    def alive(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat[3] == self.started and stat[0] != "Z"

    def age(self) -> float:
        """Seconds since the process started."""
        uptime = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
        return uptime - self.started / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """State, parent pid, process group and start time (clock ticks after boot) from
    ``/proc/<pid>/stat``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # fields 3 onwards; comm may hold spaces
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def _processes(field: int, value: int) -> list[Pid]:
    """Living processes whose ``/proc/<pid>/stat`` field (1: parent, 2: group) is ``value``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is not None and stat[field] == value and stat[0] != "Z":
            found.append(Pid(int(entry.name), stat[3]))
    return sorted(found, key=lambda p: p.pid)


def children(pid: int) -> list[Pid]:
    """Living child processes of ``pid``."""
    return _processes(1, pid)


def process_group(pgid: int) -> list[Pid]:
    """Living processes of a process group: a daemon's own session, whatever forked them."""
    return _processes(2, pgid)


@dataclass
class Daemon:
    """A ``heat-api`` or ``heat-engine`` process (a supervisor when it runs several workers),
    its combined stdout/stderr in ``log``."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    workdir: Path
    port: int | None = None
    stopped: bool = False

    @property
    def server(self) -> HeatServer:
        assert self.port is not None, f"{self.name} listens on no port"
        return HeatServer(self.port, self.process, self.log, self.workdir)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def describe(self) -> str:
        return f"--- {self.name} (pid {self.pid}) log {self.log}:\n{self.output()[-20000:]}"

    def children(self) -> list[Pid]:
        return children(self.pid)

    def wait_output(self, text: str, count: int = 1, timeout: float = START_TIMEOUT) -> None:
        """Wait until the log holds ``text`` ``count`` times; fail if the process exits."""
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            if self.process.poll() is not None:
                pytest.fail(
                    f"{self.name} exited with {self.process.returncode} before logging "
                    f"{text!r} {count} time(s)\n{self.describe()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{self.name} did not log {text!r} {count} time(s) within {timeout}s\n"
                    f"{self.describe()}",
                    pytrace=False,
                )
            time.sleep(0.05)

    def wait_ready(self, workers: int) -> None:
        """Every worker has printed that it is ready."""
        self.wait_output(READY.format(name=self.name), workers)

    def stop(self) -> None:
        """SIGTERM; the process must exit with 0 within ``STOP_TIMEOUT`` and leave no process
        behind (each daemon runs in a session, and so a process group, of its own)."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is not None:
            leftover = [p.pid for p in process_group(self.pid)]
            self._kill()
            raise AssertionError(
                f"{self.name} had exited by itself (status {self.process.returncode}), "
                f"leaving {leftover} running\n{self.describe()}"
            )
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(
                f"{self.name} did not stop within {STOP_TIMEOUT}s of SIGTERM\n{self.describe()}"
            ) from None
        leftover = [p.pid for p in process_group(self.pid)]
        self._kill()
        assert not leftover, (
            f"{self.name} exited but left processes {leftover} running\n{self.describe()}"
        )
        assert code == 0, f"{self.name} exited with {code} on SIGTERM\n{self.describe()}"

    def _kill(self) -> None:
        """SIGKILL what is left of this daemon's process group (which this test started)."""
        if process_group(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(STOP_TIMEOUT)


# Configuration and commands -------------------------------------------------------------------


def broker_options(*, legacy: bool = False) -> dict[str, object]:
    """``[DEFAULT]`` options naming the test broker: ``transport_url``, or Heat's older
    ``rabbit_*`` options."""
    if not legacy:
        return {"transport_url": TRANSPORT_URL}
    parts = urlsplit(TRANSPORT_URL)
    options: dict[str, object] = {
        "rabbit_host": parts.hostname or "localhost",
        "rabbit_port": parts.port or 5672,
        "rabbit_userid": unquote(parts.username or "guest"),
        "rabbit_password": unquote(parts.password or "guest"),
    }
    if parts.path.strip("/"):
        options["rabbit_virtual_host"] = unquote(parts.path[1:])
    return options


def heat_conf(
    *,
    database_url: str,
    port: int,
    engine_workers: int = 2,
    api_workers: int = 2,
    broker: bool = True,
    legacy: bool = False,
    bind_host: str = "127.0.0.1",
    flavor: str | None = "noauth",
) -> dict[str, dict[str, object]]:
    """heat.conf sections: ``legacy`` writes the broker and database the older way
    (``rabbit_*`` and ``sql_connection`` in ``[DEFAULT]``)."""
    default: dict[str, object] = {"num_engine_workers": engine_workers}
    if broker:
        default |= broker_options(legacy=legacy)
    sections: dict[str, dict[str, object]] = {"DEFAULT": default}
    if legacy:
        default["sql_connection"] = database_url
    else:
        sections["database"] = {"connection": database_url}
    sections["heat_api"] = {"bind_host": bind_host, "bind_port": port, "workers": api_workers}
    if flavor is not None:
        sections["paste_deploy"] = {"flavor": flavor}
    return sections


def changed(sections: Sections, **groups: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """``sections`` with the options of ``groups`` set (``DEFAULT=...``, ``heat_api=...``)."""
    merged = {name: dict(options) for name, options in sections.items()}
    for name, options in groups.items():
        merged.setdefault(name, {}).update(options)
    return merged


def write_conf(path: Path, sections: Sections) -> Path:
    lines = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {value}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reset_broker() -> None:
    """Delete the shared queues (skip, or fail under CI, without a broker)."""
    aio_pika = need("aio_pika")

    async def delete() -> None:
        connection = await aio_pika.connect(broker_urls(TRANSPORT_URL)[0], timeout=5)
        async with connection:
            channel = await connection.channel()
            for queue in QUEUES:
                await channel.queue_delete(queue)

    try:
        asyncio.run(delete())
    except (OSError, aio_pika.exceptions.AMQPError) as exc:
        require(False, f"RabbitMQ at {TRANSPORT_URL} ({type(exc).__name__}: {exc})")


def work_queue() -> broker.QueueCounts:
    """The engines' work queue as the broker counts it."""
    return broker.queue(WORK_TOPIC, VHOST)


def wait_work_consumed(timeout: float = START_TIMEOUT) -> broker.QueueCounts:
    """Wait until the broker has handed out every work message and the engines have
    acknowledged each one. An engine acknowledges a node's message once the node's outcome
    is committed, or once it has found the node is not its to run (finished, or claimed by
    another engine): after this, no message delivered so far can still run anything."""
    return wait_until(
        work_queue,
        lambda counts: counts.idle,
        timeout,
        f"the work queue {WORK_TOPIC!r} to be empty with nothing unacknowledged",
    )


def wait_consumers(count: int, timeout: float = START_TIMEOUT) -> broker.QueueCounts:
    """Wait until ``count`` engine workers consume the work queue (an engine prints that it
    is ready while its consumer may still be on its way to the broker)."""
    return wait_until(
        work_queue,
        lambda counts: counts.consumers == count,
        timeout,
        f"{count} consumer(s) on the work queue {WORK_TOPIC!r}",
    )


def publish_work(messages: list[dict[str, Any]]) -> None:
    """Put messages on the engines' work queue through the transport engines publish with."""

    async def publish() -> None:
        transport = RabbitTransport(TRANSPORT_URL)
        await transport.start()
        try:
            await transport.publish(WORK_TOPIC, messages)
        finally:
            await transport.close()

    asyncio.run(publish())


def module_command(module: str, conf: Path) -> list[str]:
    return [sys.executable, "-m", module, "--config-file", str(conf)]


def checkout_command(script: str, conf: Path) -> list[str]:
    """A script of the checkout's ``bin/``, run as ``python bin/<script> --config-file ...``."""
    return [sys.executable, str(ROOT / "bin" / script), "--config-file", str(conf)]


@dataclass
class Launcher:
    """Starts processes in ``workdir`` (logs there too) and remembers them."""

    workdir: Path
    daemons: list[Daemon] = field(default_factory=list)

    def conf(self, name: str, sections: Sections) -> Path:
        return write_conf(self.workdir / name, sections)

    def run(self, argv: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run a command to its end; its output is captured."""
        try:
            return subprocess.run(
                argv, cwd=self.workdir, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"{argv} did not finish within {timeout}s:\n{exc.output}"
            ) from None

    def manage(self, conf: Path, *args: str, command: list[str] | None = None) -> str:
        """``heat-manage --config-file conf args...``, which must succeed; its stdout."""
        argv = command or [str(VENV_BIN / "heat-manage"), "--config-file", str(conf)]
        done = self.run([*argv, *args])
        assert done.returncode == 0, (
            f"{argv} {args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def start(self, name: str, argv: list[str], port: int | None = None) -> Daemon:
        count = sum(d.name == name for d in self.daemons)
        log = self.workdir / f"{name}-{count}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                argv,
                cwd=self.workdir,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        daemon = Daemon(name, process, log, self.workdir, port)
        self.daemons.append(daemon)
        return daemon

    def logs(self) -> str:
        return "\n".join(d.describe() for d in self.daemons)

    def stop_all(self) -> None:
        """Stop every process still running, the last started first; report every failure."""
        problems = []
        for daemon in reversed(self.daemons):
            try:
                daemon.stop()
            except AssertionError as exc:
                problems.append(str(exc))
        if problems:
            raise AssertionError("\n\n".join(problems))


def wait_health(url: str, status: int, timeout: float = START_TIMEOUT) -> float:
    """Poll ``GET /healthcheck`` until it answers ``status``; the seconds that took."""
    httpx = need("httpx")
    begun = time.monotonic()
    seen: object = None
    while time.monotonic() - begun < timeout:
        try:
            seen = httpx.get(f"{url}/healthcheck", timeout=10.0).status_code
        except httpx.HTTPError as exc:
            seen = repr(exc)
        if seen == status:
            return time.monotonic() - begun
        time.sleep(0.1)
    raise AssertionError(f"/healthcheck never answered {status} in {timeout}s; last: {seen}")


# The deployment -------------------------------------------------------------------------------


@dataclass
class Deployment:
    backend: str
    database_url: str
    sections: dict[str, dict[str, object]]
    launcher: Launcher
    engine: Daemon
    api: Daemon

    @property
    def daemons(self) -> list[Daemon]:
        return self.launcher.daemons

    def endpoint(self, project: str) -> str:
        return self.api.server.endpoint(project)

    def logs(self) -> str:
        return self.launcher.logs()


ENGINE_WORKERS = 2
API_WORKERS = 2


def start_engine(launcher: Launcher, conf: Path, workers: int) -> Daemon:
    """heat-engine with ``workers`` workers, each of them consuming the work queue."""
    engine = launcher.start("heat-engine", module_command("ember.cmd.engine", conf))
    engine.wait_ready(workers)
    try:
        wait_consumers(workers)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{launcher.logs()}") from None
    return engine


def start_api(launcher: Launcher, conf: Path, port: int, workers: int) -> Daemon:
    api = launcher.start("heat-api", module_command("ember.cmd.api", conf), port)
    api.wait_ready(workers)
    try:
        wait_health(api.url, 200)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{launcher.logs()}") from None
    return api


@pytest.fixture(scope="module", params=["mysql", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """heat-engine (2 workers) and heat-api (2 workers, noauth) on an empty database that
    ``heat-manage db_sync`` prepared. The PostgreSQL one is configured the legacy way."""
    backend = str(request.param)
    scratch: ScratchDatabase = request.getfixturevalue(f"{backend}_scratch")
    reset_broker()
    wipe(scratch.url)
    launcher = Launcher(tmp_path_factory.mktemp(f"deploy-{backend}"))
    sections = heat_conf(
        database_url=scratch.url,
        port=free_port(),
        engine_workers=ENGINE_WORKERS,
        api_workers=API_WORKERS,
        legacy=backend == "postgresql",
    )
    conf = launcher.conf("heat.conf", sections)
    try:
        launcher.manage(conf, "db_sync")
        version = launcher.manage(conf, "db_version").strip()
        assert version == migration.head(), version
        engine = start_engine(launcher, conf, ENGINE_WORKERS)
        port = int(str(sections["heat_api"]["bind_port"]))
        api = start_api(launcher, conf, port, API_WORKERS)
        yield Deployment(backend, scratch.url, sections, launcher, engine, api)
    finally:
        launcher.stop_all()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    started = Launcher(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def project(request: pytest.FixtureRequest) -> str:
    """A project per test module: ``test_stacks`` works in ``deploy-stacks``."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    return "deploy-" + module.removeprefix("test_").replace("_", "-")


@pytest.fixture(scope="module")
def hc(deployment: Deployment, project: str) -> Any:
    return legacy_client(deployment.endpoint(project))


@pytest.fixture(scope="module")
def admin_hc(deployment: Deployment, project: str) -> Any:
    """heatclient as an admin of the project (what the engine list needs), with the role
    an operator's front end would name."""
    return session_client(deployment.endpoint(project), headers={"X-Roles": "admin"})


@pytest.fixture(scope="module")
def cli(deployment: Deployment, project: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    require(OPENSTACK.is_file(), f"the openstack CLI ({OPENSTACK})")
    return Cli(deployment.endpoint(project), tmp_path_factory.mktemp(f"cli-{deployment.backend}"))


# Looking into the database ----------------------------------------------------------------


def node_claims(database_url: str, stack_id: str) -> collections.Counter[tuple[str, int]]:
    """How many traversal nodes of a stack and its nested stacks each engine finished, by
    (engine id, attempts): which engine processes did the work, and what was run again."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(TraversalNode.engine_id, TraversalNode.attempts)
                .join(Traversal, Traversal.id == TraversalNode.traversal_id)
                .join(Stack, Stack.id == Traversal.stack_id)
                .where(sa.or_(Stack.id == stack_id, Stack.root_stack_id == stack_id))
            ).all()
    finally:
        engine.dispose()
    return collections.Counter((str(r.engine_id), int(r.attempts)) for r in rows)


def work_messages(database_url: str, stack_id: str) -> list[dict[str, Any]]:
    """The work message of each traversal node of a stack (not of its nested stacks)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(TraversalNode.traversal_id, TraversalNode.seq)
                .join(Traversal, Traversal.id == TraversalNode.traversal_id)
                .where(Traversal.stack_id == stack_id)
            ).all()
    finally:
        engine.dispose()
    return [NodeKey(str(r.traversal_id), int(r.seq)).to_message() for r in rows]


def resource_engine(database_url: str, stack_id: str, name: str) -> str | None:
    """The engine running a resource's action now (None when none is)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(Resource.engine_id).where(
                    Resource.stack_id == stack_id, Resource.name == name
                )
            ).scalar_one_or_none()
    finally:
        engine.dispose()


ENGINE_STARTED = re.compile(
    r" (\d+) INFO heat-engine \[[^\]]*\] engine (\S+) running$", re.MULTILINE
)


def engine_pids(engine: Daemon) -> dict[str, int]:
    """Engine id to worker pid, from the line each engine worker logs when it starts."""
    return {engine_id: int(pid) for pid, engine_id in ENGINE_STARTED.findall(engine.output())}


# Reports --------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report shows the logs of the processes it used."""
    report = yield
    if report.failed:
        seen: set[int] = set()
        for value in getattr(item, "funcargs", {}).values():
            for daemon in getattr(value, "daemons", ()):
                if isinstance(daemon, Daemon) and daemon.pid not in seen:
                    seen.add(daemon.pid)
                    report.sections.append(
                        (f"{daemon.name} log ({daemon.log})", daemon.output()[-20000:])
                    )
    return report
