"""A supervisor killed outright (SIGKILL, which it cannot catch or pass on) takes its workers
with it: each of them stops by itself, the engines' consumers leave the work queue, and a
supervisor started again runs exactly its own workers. The work a killed engine had in
hand is carried on by the engines' liveness checks (see test_sturdiness)."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from tests.api.conftest import free_port
from tests.api.helpers import wait_until
from tests.deploy.conftest import (
    Daemon,
    Launcher,
    Pid,
    changed,
    heat_conf,
    module_command,
    process_group,
    reset_broker,
    start_engine,
    wait_consumers,
    work_queue,
)

WORKERS = 3
# A worker that sees its parent gone stops as on SIGTERM, which takes a few seconds at most.
GONE_TIMEOUT = 30.0


def kill_supervisor(daemon: Daemon) -> list[Pid]:
    """SIGKILL ``daemon``'s supervisor alone; its workers at that moment."""
    workers = daemon.children()
    assert len(workers) == WORKERS, daemon.describe()
    os.kill(daemon.pid, signal.SIGKILL)
    daemon.process.wait(GONE_TIMEOUT)
    daemon.stopped = True  # nothing left to stop with SIGTERM once the workers are gone
    return workers


def wait_gone(daemon: Daemon, workers: list[Pid]) -> None:
    try:
        wait_until(
            lambda: [w for w in workers if w.alive()],
            lambda alive: not alive,
            GONE_TIMEOUT,
            f"the {daemon.name} workers {[w.pid for w in workers]} to exit",
        )
    except AssertionError as exc:
        os.killpg(daemon.pid, signal.SIGKILL)  # the orphans of this test, by their group
        raise AssertionError(f"{exc}\n{daemon.describe()}") from None
    assert not process_group(daemon.pid), daemon.describe()


def test_engine_workers_stop_with_their_supervisor(launcher: Launcher, tmp_path: Path) -> None:
    reset_broker()
    sections = heat_conf(
        database_url=f"sqlite:///{tmp_path / 'ember.sqlite'}",
        port=free_port(),
        engine_workers=WORKERS,
    )
    conf = launcher.conf("heat.conf", sections)
    launcher.manage(conf, "db_sync")
    engine = start_engine(launcher, conf, WORKERS)

    wait_gone(engine, kill_supervisor(engine))
    assert "its parent process has gone; stopping" in engine.output()
    wait_consumers(0, GONE_TIMEOUT)

    again = start_engine(launcher, conf, WORKERS)
    assert len(again.children()) == WORKERS, again.describe()
    assert work_queue().consumers == WORKERS, work_queue()


def test_api_workers_stop_with_their_supervisor(launcher: Launcher, tmp_path: Path) -> None:
    port = free_port()
    sections = heat_conf(
        database_url=f"sqlite:///{tmp_path / 'ember.sqlite'}", port=port, api_workers=WORKERS
    )
    conf = launcher.conf("api.conf", changed(sections, DEFAULT={"rpc_response_timeout": 3}))
    argv = module_command("ember.cmd.api", conf)
    api = launcher.start("heat-api", argv, port)
    api.wait_ready(WORKERS)

    wait_gone(api, kill_supervisor(api))
    # Nothing listens on the port any more: the workers held the listening socket.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0

    again = launcher.start("heat-api", argv, port)
    again.wait_ready(WORKERS)
    assert len(again.children()) == WORKERS, again.describe()
