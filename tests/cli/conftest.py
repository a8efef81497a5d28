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
    pytest_runtest_makereport,
)
from tests.api.helpers import require

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


@pytest.fixture(scope="module")
def ember(heat_server: HeatServer, project: str, tmp_path_factory: pytest.TempPathFactory) -> Ember:
    require(EMBER.is_file(), f"the ember console script ({EMBER})")
    return Ember(heat_server.endpoint(project), tmp_path_factory.mktemp(project))


@pytest.fixture(scope="module")
def client(heat_server: HeatServer, project: str) -> Iterator[Client]:
    with Client(Session.noauth(heat_server.endpoint(project))) as made:
        yield made
