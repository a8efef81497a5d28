"""The ``ember`` CLI against a real ``heat-all`` (the fixtures of ``tests/api``), run as a
user runs it: the console script of the virtualenv, in a subprocess, with
``OS_AUTH_TYPE=none`` and ``OS_ENDPOINT`` naming the test module's project."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ember.client import Client, Session
from tests.api.conftest import (  # noqa: F401 - the heat-all log of a failed test
    Cli,
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
class Ember(Cli):
    """``ember ...`` against one project's endpoint, in a directory of the test's files;
    its exit status is the test's to check."""

    executable: Path = EMBER
    columns: int = 200

    def __call__(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return self.finish(self.start(*args), check=False, timeout=timeout)


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
