"""Configurations heat-api and heat-engine refuse at start, with an exit status and a
message telling the operator what to do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ember.db import migration
from tests.api.conftest import free_port
from tests.backends import ScratchDatabase, wipe
from tests.deploy.conftest import Launcher, heat_conf, module_command

API = "ember.cmd.api"
ENGINE = "ember.cmd.engine"


def refused(launcher: Launcher, module: str, sections: dict[str, dict[str, object]]) -> str:
    """Run ``module`` with a heat.conf of ``sections``; it must exit at once, serving
    nothing. Its combined output, with the exit status on the first line."""
    conf = launcher.conf("heat.conf", sections)
    done: subprocess.CompletedProcess[str] = launcher.run(
        module_command(module, conf), timeout=60.0
    )
    assert "ready" not in done.stdout, done.stdout
    assert "listening on" not in done.stderr, done.stderr
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}"


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ember.sqlite'}"


@pytest.mark.parametrize(("module", "name"), [(API, "heat-api"), (ENGINE, "heat-engine")])
def test_no_message_broker(launcher: Launcher, tmp_path: Path, module: str, name: str) -> None:
    sections = heat_conf(database_url=sqlite(tmp_path), port=free_port(), broker=False)
    output = refused(launcher, module, sections)
    assert output.startswith("exit 2\n"), output
    assert f"{name}: needs a message broker" in output
    assert "transport_url" in output


@pytest.mark.parametrize("server", ["mysql", "postgresql"])
def test_engine_on_a_database_never_synced(
    launcher: Launcher, request: pytest.FixtureRequest, server: str
) -> None:
    scratch: ScratchDatabase = request.getfixturevalue(f"{server}_scratch")
    wipe(scratch.url)
    sections = heat_conf(database_url=scratch.url, port=free_port())
    output = refused(launcher, ENGINE, sections)
    assert output.startswith("exit 1\n"), output
    assert "heat-engine: the database schema is not current; run heat-manage db_sync" in output
    assert migration.current(scratch.url) is None, "the engine left the database alone"


def test_engine_on_an_unreachable_database(launcher: Launcher) -> None:
    sections = heat_conf(database_url="mysql+pymysql://root@127.0.0.1:1/heat", port=free_port())
    output = refused(launcher, ENGINE, sections)
    assert output.startswith("exit 1\n"), output
    assert "heat-engine: cannot reach the database" in output


def test_api_refuses_noauth_on_a_public_address(launcher: Launcher, tmp_path: Path) -> None:
    sections = heat_conf(database_url=sqlite(tmp_path), port=free_port(), bind_host="0.0.0.0")
    output = refused(launcher, API, sections)
    assert not output.startswith("exit 0\n"), output
    assert "heat-api: refusing to serve the noauth flavor on 0.0.0.0" in output
    assert "allow_noauth_remote" in output
