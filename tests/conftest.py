"""Fixtures shared by every test package: databases on each supported backend, and the
``heat-all`` the API and CLI tests drive.

- ``backend``: "sqlite", "mysql" or "postgresql" (tests using the fixtures below run once each);
- ``empty_database_url``: a database with no tables at all;
- ``database_url``: a database migrated to the newest schema, with no rows;
- ``db_engine``: an Ember engine on ``database_url``, disposed after the test;
- ``heat_server``: heat-all (SQLite, noauth) on a free port, for the whole session;
- ``project``: a project per test module (``test_cli_stacks`` runs in ``cli-stacks``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ember.db.engine import create_engine
from tests.api.conftest import HeatServer, free_port, start_heat_all, stop_heat_all, write_heat_conf
from tests.api.helpers import need
from tests.backends import BACKENDS, ScratchDatabase, migrated, open_scratch, wipe


@pytest.fixture(scope="session")
def mysql_scratch() -> Iterator[ScratchDatabase]:
    scratch = open_scratch("mysql")
    yield scratch
    scratch.drop()


@pytest.fixture(scope="session")
def postgresql_scratch() -> Iterator[ScratchDatabase]:
    scratch = open_scratch("postgresql")
    yield scratch
    scratch.drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def _database_location(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ember.sqlite'}"
    scratch: ScratchDatabase = request.getfixturevalue(f"{backend}_scratch")
    return scratch.url


@pytest.fixture
def empty_database_url(_database_location: str) -> str:
    wipe(_database_location)
    return _database_location


@pytest.fixture
def database_url(_database_location: str) -> str:
    return migrated(_database_location)


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def heat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeatServer]:
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
    module = request.module.__name__.rsplit(".", 1)[-1]
    return module.removeprefix("test_").replace("_", "-")
