"""EC2-style key pairs in the database, on every backend: stored, found by access key,
listed by owner, deleted only from their own project; migration 0005 adds and removes
their table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from ember.db import migration
from ember.db.engine import create_engine
from ember.db.errors import DuplicateEntry
from ember.db.models import Ec2Credential
from ember.db.session import session_scope
from ember.db.unit import UnitOfWork


def _add(engine: Engine, access: str, project: str = "p1", user: str = "u1") -> None:
    with session_scope(engine) as session:
        UnitOfWork(session).ec2_credentials.add(
            access=access,
            secret=f"encrypted-{access}",
            project_id=project,
            user_id=user,
            user_name=f"name-{user}",
            roles=["member", "heat_stack_owner"],
        )


def _row(engine: Engine, access: str) -> Ec2Credential | None:
    with session_scope(engine, readonly=True) as session:
        return UnitOfWork(session).ec2_credentials.by_access(access)


def test_a_key_pair_is_found_by_its_access_key(db_engine: Engine) -> None:
    _add(db_engine, "a" * 32)

    row = _row(db_engine, "a" * 32)

    assert row is not None
    assert (row.secret, row.project_id, row.user_id, row.user_name, row.roles) == (
        "encrypted-" + "a" * 32,
        "p1",
        "u1",
        "name-u1",
        ["member", "heat_stack_owner"],
    )
    assert row.created_at is not None
    assert _row(db_engine, "b" * 32) is None
    # Access keys are compared exactly (MySQL is configured to, as the others do).
    assert _row(db_engine, "A" * 32) is None


def test_an_access_key_is_stored_once(db_engine: Engine) -> None:
    _add(db_engine, "dup")
    with pytest.raises(DuplicateEntry):
        _add(db_engine, "dup", project="p2")
    row = _row(db_engine, "dup")
    assert row is not None and row.project_id == "p1"


def test_lists_are_by_project_and_user_oldest_first(db_engine: Engine) -> None:
    for access, project, user in [("k1", "p1", "u1"), ("k2", "p1", "u2"), ("k3", "p2", "u1")]:
        _add(db_engine, access, project, user)
    _add(db_engine, "k4", "p1", "u1")

    with session_scope(db_engine, readonly=True) as session:
        repo = UnitOfWork(session).ec2_credentials
        whole_project = [r.access for r in repo.list("p1")]
        one_user = [r.access for r in repo.list("p1", "u1")]
        nobody = repo.list("p3")

    assert whole_project == ["k1", "k2", "k4"]
    assert one_user == ["k1", "k4"]
    assert nobody == []


def test_delete_only_within_the_project(db_engine: Engine) -> None:
    _add(db_engine, "k1", "p1")

    with session_scope(db_engine) as session:
        other_project = UnitOfWork(session).ec2_credentials.delete("p2", "k1")
    assert other_project is False
    assert _row(db_engine, "k1") is not None

    with session_scope(db_engine) as session:
        own = UnitOfWork(session).ec2_credentials.delete("p1", "k1")
        again = UnitOfWork(session).ec2_credentials.delete("p1", "k1")
    assert (own, again) == (True, False)
    assert _row(db_engine, "k1") is None


def _columns(url: str) -> set[str] | None:
    engine = create_engine(url)
    try:
        inspector = sa.inspect(engine)
        if "ec2_credential" not in inspector.get_table_names():
            return None
        return {c["name"] for c in inspector.get_columns("ec2_credential")}
    finally:
        engine.dispose()


def test_migrations_0005_and_0006_add_the_table_and_take_it_away(database_url: str) -> None:
    signal_columns = {"stack_id", "resource_id", "token", "token_digest"}
    assert _columns(database_url) == {
        "id",
        "access",
        "secret",
        "project_id",
        "user_id",
        "user_name",
        "roles",
        "created_at",
        *signal_columns,
    }
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            command.downgrade(migration.alembic_config(conn), "0005")
        assert not signal_columns & (_columns(database_url) or set())
        with engine.connect() as conn:
            command.downgrade(migration.alembic_config(conn), "0004")
    finally:
        engine.dispose()
    assert migration.current(database_url) == "0004"
    assert _columns(database_url) is None

    migration.db_sync(database_url)
    assert migration.current(database_url) == migration.head()
    assert signal_columns <= (_columns(database_url) or set())
    engine = create_engine(database_url)
    try:
        _add(engine, "after-upgrade")
        assert _row(engine, "after-upgrade") is not None
    finally:
        engine.dispose()
