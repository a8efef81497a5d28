"""The ``ember`` CLI against a real ``heat-all`` (the fixtures of ``tests/api``), run as a
user runs it: the console script of the virtualenv, in a subprocess, with
``OS_AUTH_TYPE=none`` and ``OS_ENDPOINT`` naming the test module's project."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ember.client import Client, Session
from tests.api.conftest import (  # noqa: F401 - the heat-all log of a failed test
    HeatServer,
    _mark_server_log,
    free_port,
    pytest_runtest_makereport,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import need, require

EMBER = Path(sys.executable).parent / "ember"


@dataclass
class Ember:
    """``ember ...`` against one project's endpoint, in a directory of the test's files."""

    endpoint: str
    cwd: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            OS_AUTH_TYPE="none",
            OS_ENDPOINT=self.endpoint,
            COLUMNS="200",
            NO_PROXY="127.0.0.1,localhost",
        )
        return env

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(EMBER), *args],
            cwd=self.cwd,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(
        self, process: subprocess.Popen[str], timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"{process.args} timed out:\n{out}\n{err}") from None
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def __call__(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return self.finish(self.start(*args), timeout)

    def write(self, name: str, text: str) -> Path:
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


@pytest.fixture(scope="session")
def heat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeatServer]:
    """heat-all on SQLite on a free port, as ``tests/api`` starts it."""
    need("httpx")
    workdir = tmp_path_factory.mktemp("heat-all")
    port = free_port()
    server = start_heat_all(workdir, write_heat_conf(workdir, port), port)
    try:
        yield server
    finally:
        stop_heat_all(server)


@pytest.fixture(scope="module")
def project(request: pytest.FixtureRequest) -> str:
    """A project per test module: ``test_client`` runs in project ``client``."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    return module.removeprefix("test_").replace("_", "-")


@pytest.fixture(scope="module")
def ember(heat_server: HeatServer, project: str, tmp_path_factory: pytest.TempPathFactory) -> Ember:
    require(EMBER.is_file(), f"the ember console script ({EMBER})")
    return Ember(heat_server.endpoint(project), tmp_path_factory.mktemp(project))


@pytest.fixture(scope="module")
def client(heat_server: HeatServer, project: str) -> Iterator[Client]:
    with Client(Session.noauth(heat_server.endpoint(project))) as made:
        yield made
