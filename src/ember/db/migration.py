"""Bringing a database's schema up to date (``heat-manage db_sync``) and reading its
revision (``heat-manage db_version``). Alembic is configured here in code; no
``alembic.ini`` is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from ember.db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for Ember's migrations, on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # Alembic's option parser treats '%' as interpolation.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision the migrations know."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]


def db_sync(url: str, version: str | None = None) -> None:
    """Upgrade the database at ``url`` to ``version`` (default: the newest revision)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection), version or "head")
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The database's schema revision, or None for a database never synced."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
