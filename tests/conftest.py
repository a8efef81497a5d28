"""Fixtures shared by every test package: databases on each supported backend.

- ``backend``: "sqlite", "mysql" or "postgresql" (tests using the fixtures below run once each);
- ``empty_database_url``: a database with no tables at all;
- ``database_url``: a database migrated to the newest schema, with no rows;
- ``db_engine``: an Ember engine on ``database_url``, disposed after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ember.db.engine import create_engine
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
