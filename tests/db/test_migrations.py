"""The migrations build exactly the schema the models declare, on every backend."""

from __future__ import annotations

import datetime as dt
import tomllib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select

from ember.db import migration
from ember.db.engine import create_engine
from ember.db.models import Base, RawTemplate, Stack
from ember.db.session import session_scope
from tests.backends import ScratchDatabase, migrated

MODEL_TABLES = set(Base.metadata.tables)
ROOT = Path(__file__).resolve().parents[2]


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _differences(url: str, metadata: sa.MetaData) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_one_head_and_one_base() -> None:
    scripts = ScriptDirectory.from_config(migration.alembic_config())
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
    assert migration.head() == scripts.get_current_head()
    chain = [rev.revision for rev in scripts.walk_revisions("base", "heads")]
    assert chain[-1] == scripts.get_bases()[0]
    assert chain[0] == migration.head()


def test_upgrade_from_empty_to_head(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    assert migration.current(empty_database_url) is None

    migration.db_sync(empty_database_url)

    assert migration.current(empty_database_url) == migration.head()
    assert _tables(empty_database_url) == MODEL_TABLES | {"alembic_version"}


def test_models_and_migrations_agree(database_url: str) -> None:
    assert _differences(database_url, Base.metadata) == []


def test_comparison_sees_a_difference(database_url: str) -> None:
    """The agreement above means something: a changed model is noticed on this backend."""
    changed = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["stack"].append_column(sa.Column("extra", sa.Integer()))
    changed.tables["event"].indexes.clear()

    differences = _differences(database_url, changed)

    kinds = {d[0] for d in differences if isinstance(d, tuple)}
    assert "add_column" in kinds
    assert "remove_index" in kinds


def test_db_sync_is_idempotent_and_keeps_data(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with session_scope(engine) as session:
            template = RawTemplate(template={"resources": {}})
            session.add(template)
        migration.db_sync(database_url)
        migration.db_sync(database_url, migration.head())
        with session_scope(engine, readonly=True) as session:
            assert session.get(RawTemplate, template.id) is not None
    finally:
        engine.dispose()
    assert migration.current(database_url) == migration.head()


def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            command.downgrade(migration.alembic_config(conn), "base")
    finally:
        engine.dispose()
    assert _tables(database_url) <= {"alembic_version"}
    assert migration.current(database_url) is None

    migration.db_sync(database_url)
    assert _tables(database_url) == MODEL_TABLES | {"alembic_version"}


def test_db_sync_to_unknown_revision_fails(empty_database_url: str) -> None:
    with pytest.raises(Exception, match="nope"):
        migration.db_sync(empty_database_url, "nope")
    assert migration.current(empty_database_url) is None


def _stack(template_id: int, name: str, when: dt.datetime) -> Stack:
    return Stack(
        id=str(uuid.uuid4()),
        name=name,
        project_id="p",
        raw_template_id=template_id,
        action="CREATE",
        status="COMPLETE",
        created_at=when,
    )


def test_times_keep_microseconds_and_names_compare_exactly(db_engine: Engine) -> None:
    when = dt.datetime(2025, 1, 2, 3, 4, 5, 678901)
    with session_scope(db_engine) as session:
        template = RawTemplate(template={})
        session.add(template)
        session.flush()
        session.add_all(
            [
                _stack(template.id, "Web", when),
                _stack(template.id, "web", when),
                _stack(template.id, "wéb-🔥", when),
            ]
        )
    with session_scope(db_engine, readonly=True) as session:
        assert session.scalars(select(Stack.name).where(Stack.name == "web")).all() == ["web"]
        assert session.scalars(select(Stack.name).where(Stack.name == "wéb-🔥")).all() == ["wéb-🔥"]
        assert set(session.scalars(select(Stack.created_at))) == {when}


def test_mysql_tables_are_innodb_utf8mb4_with_precise_times(mysql_scratch: ScratchDatabase) -> None:
    engine = create_engine(migrated(mysql_scratch.url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT table_name, engine, table_collation FROM information_schema.tables"
                    " WHERE table_schema = DATABASE() AND table_name != 'alembic_version'"
                )
            ).all()
            precisions = conn.execute(
                sa.text(
                    "SELECT DISTINCT datetime_precision FROM information_schema.columns"
                    " WHERE table_schema = DATABASE() AND data_type = 'datetime'"
                )
            ).scalars()
            assert set(precisions) == {6}
    finally:
        engine.dispose()
    assert {row[0] for row in rows} == MODEL_TABLES
    assert {(row[1], row[2]) for row in rows} == {("InnoDB", "utf8mb4_bin")}


def test_migration_files_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    assert "script.py.mako" in package_data["ember.db.migrations"]
    assert (migration.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (migration.MIGRATIONS_DIR / "env.py").is_file()
    assert (migration.MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
