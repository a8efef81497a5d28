"""Scratch databases on the three backends Ember supports, for tests.

MariaDB/MySQL and PostgreSQL are reached at the addresses in ``EMBER_TEST_MYSQL_URL`` and
``EMBER_TEST_POSTGRESQL_URL`` (defaults: local servers, root / postgres without password).
Each test session gets its own uniquely named database per server, dropped at the end.
When ``CI=true`` an unreachable server fails the tests that need it instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from ember.db import migration
from ember.db.engine import create_engine
from ember.db.models import Base

BACKENDS = ("sqlite", "mysql", "postgresql")
SERVER_URLS = {
    "mysql": os.environ.get("EMBER_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/"),
    "postgresql": os.environ.get(
        "EMBER_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
}


def unavailable(reason: str) -> None:
    """Skip, or fail under CI, because a database server cannot be used."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: database servers are required)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class ScratchDatabase:
    """A database of its own on a server; ``url`` is written the way heat.conf writes it."""

    backend: str
    name: str
    admin_url: URL

    @property
    def url(self) -> str:
        if self.backend == "mysql":
            return self.admin_url.set(
                drivername="mysql+pymysql", database=self.name, query={"charset": "utf8"}
            ).render_as_string(hide_password=False)
        return self.admin_url.set(drivername="postgresql", database=self.name).render_as_string(
            hide_password=False
        )

    def _admin(self) -> sa.Engine:
        return sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        engine = self._admin()
        try:
            with engine.connect() as conn:
                if self.backend == "mysql":
                    conn.exec_driver_sql(
                        f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                    )
                else:
                    conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        finally:
            engine.dispose()

    def drop(self) -> None:
        engine = self._admin()
        try:
            with engine.connect() as conn:
                if self.backend == "mysql":
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.name}`")
                else:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            engine.dispose()


def open_scratch(backend: str) -> ScratchDatabase:
    """Create a scratch database on ``backend``'s server, or skip/fail if it is down."""
    admin_url = make_url(SERVER_URLS[backend]).update_query_dict({"connect_timeout": "5"})
    scratch = ScratchDatabase(backend, f"ember_test_{uuid.uuid4().hex[:12]}", admin_url)
    try:
        scratch.create()
    except sa.exc.OperationalError as exc:
        problem = f"{backend} server at {admin_url.render_as_string()} unreachable: {exc.orig}"
    else:
        return scratch
    unavailable(problem)
    raise AssertionError("unreachable")  # unavailable() always raises


def wipe(url: str) -> None:
    """Drop every table (migration bookkeeping included) from the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            metadata.drop_all(conn)
    finally:
        engine.dispose()


def empty_rows(url: str) -> None:
    """Delete every row of Ember's tables, children first."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()


def migrated(url: str) -> str:
    """``url`` with the newest schema and no rows; quick when it is already migrated."""
    if migration.current(url) == migration.head():
        empty_rows(url)
    else:
        wipe(url)
        migration.db_sync(url)
    return url
