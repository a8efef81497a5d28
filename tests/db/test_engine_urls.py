"""Database URLs as heat.conf writes them, and how each backend's engine is set up."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from ember.db import engine as db_engine
from ember.db.engine import create_engine, normalise_url
from ember.db.models import Base, RawTemplate, Stack
from ember.db.session import session_scope, transaction
from tests.api.helpers import wait_until


@pytest.mark.parametrize(
    ("heat_url", "driver", "charset"),
    [
        ("mysql+pymysql://root:pw@127.0.0.1/heat?charset=utf8", "mysql+pymysql", "utf8mb4"),
        ("mysql://heat:secret@db.example/heat?charset=utf8", "mysql+pymysql", "utf8mb4"),
        ("mysql+mysqldb://heat:secret@db.example/heat", "mysql+pymysql", "utf8mb4"),
        ("mysql+pymysql://root@localhost/heat?charset=latin1", "mysql+pymysql", "latin1"),
        ("mariadb://root@localhost/heat", "mariadb+pymysql", "utf8mb4"),
        ("postgresql://heat:pw@10.0.0.1/heat", "postgresql+psycopg", None),
        ("postgresql+psycopg2://heat:pw@10.0.0.1:5433/heat", "postgresql+psycopg", None),
        ("postgres://heat:pw@10.0.0.1/heat", "postgresql+psycopg", None),
        ("postgresql+psycopg://heat:pw@10.0.0.1/heat", "postgresql+psycopg", None),
        ("sqlite:////var/lib/heat/heat.sqlite", "sqlite", None),
        ("sqlite://", "sqlite", None),
    ],
)
def test_normalise_url(heat_url: str, driver: str, charset: str | None) -> None:
    url = normalise_url(heat_url)
    assert url.drivername == driver
    assert url.query.get("charset") == charset
    original = sa.make_url(heat_url)
    assert (url.host, url.port, url.database, url.username, url.password) == (
        original.host,
        original.port,
        original.database,
        original.username,
        original.password,
    )


def test_passwords_with_special_characters_survive() -> None:
    url = normalise_url("mysql://heat:p%40ss%2Fw%3Ard@db/heat?charset=utf8")
    assert url.password == "p@ss/w:rd"


@pytest.mark.parametrize(
    ("heat_url", "driver"),
    [
        ("mysql://root:pw@127.0.0.1/heat?charset=utf8", "pymysql"),
        ("postgresql+psycopg2://heat:pw@127.0.0.1/heat", "psycopg"),
    ],
)
def test_server_engines_use_installed_drivers_and_check_connections(
    heat_url: str, driver: str
) -> None:
    engine = create_engine(heat_url)  # nothing connects until first use
    try:
        assert engine.dialect.driver == driver
        assert engine.pool._pre_ping is True
        assert engine.pool._recycle == db_engine.POOL_RECYCLE_S
    finally:
        engine.dispose()


def test_pool_settings_can_be_overridden() -> None:
    engine = create_engine("postgresql://h@127.0.0.1/heat", pool_size=3, pool_recycle=60)
    try:
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        assert engine.pool._recycle == 60
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["oracle://scott:tiger@db/heat", "mssql+pyodbc://h@db/heat"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        create_engine(url)


def _pragmas(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }


def test_sqlite_file_is_wal_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'heat.sqlite'}")
    try:
        assert _pragmas(engine) == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": db_engine.SQLITE_BUSY_TIMEOUT_S * 1000,
        }
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(db_engine: Engine) -> None:
    stack = Stack(
        id=str(uuid.uuid4()),
        name="orphan",
        project_id="p",
        raw_template_id=987654,
        action="CREATE",
        status="COMPLETE",
    )
    with pytest.raises(IntegrityError), session_scope(db_engine) as session:
        session.add(stack)


def _sqlite_file_engine(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'heat.sqlite'}")
    Base.metadata.create_all(engine)
    return engine


def _in_a_statement(thread: threading.Thread) -> bool:
    """``thread`` is inside a database statement: SQLAlchemy's ``do_execute*`` is the
    innermost Python frame while the driver runs (or waits to run) it."""
    frame = sys._current_frames().get(thread.ident or -1)
    return frame is not None and frame.f_code.co_name.startswith("do_execute")


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    engine = _sqlite_file_engine(tmp_path)
    first_holds_lock = threading.Event()
    order: list[str] = []
    problems: list[BaseException] = []

    def first() -> None:
        with session_scope(engine) as session:
            session.add(RawTemplate(template={"n": 1}))
            session.flush()
            first_holds_lock.set()
            try:  # the second writer is now held up by this transaction's lock (or, wrongly, done)
                wait_until(
                    lambda: _in_a_statement(threads[1]) or not threads[1].is_alive(),
                    bool,
                    30.0,
                    "the second writer to wait for the lock",
                )
            except AssertionError as exc:  # reported below
                problems.append(exc)
            order.append("first")

    def second() -> None:
        first_holds_lock.wait()
        with session_scope(engine) as session:
            session.add(RawTemplate(template={"n": 2}))
            session.flush()  # begins the write transaction: waits for the first to commit
            order.append("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert problems == []
        assert order == ["first", "second"]
        with session_scope(engine, readonly=True) as session:
            assert len(session.scalars(select(RawTemplate)).all()) == 2
    finally:
        engine.dispose()


def test_sqlite_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    engine = _sqlite_file_engine(tmp_path)
    with session_scope(engine) as session:
        session.add(RawTemplate(template={}))
    try:
        with session_scope(engine) as writer:
            writer.add(RawTemplate(template={}))
            writer.flush()
            started = time.monotonic()
            with session_scope(engine, readonly=True) as reader:
                assert len(reader.scalars(select(RawTemplate)).all()) == 1
            # A reader held up by the writer would wait the whole busy timeout.
            assert time.monotonic() - started < db_engine.SQLITE_BUSY_TIMEOUT_S / 3
    finally:
        engine.dispose()


def test_sqlite_read_modify_write_loses_no_updates(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE serialises whole transactions: no lost update, no lock error."""
    engine = _sqlite_file_engine(tmp_path)
    with session_scope(engine) as session:
        counter = RawTemplate(template={"count": 0})
        session.add(counter)
    errors: list[BaseException] = []

    def bump(session: sa.orm.Session) -> None:
        row = session.get(RawTemplate, counter.id)
        assert row is not None
        count = row.template["count"]
        time.sleep(0.001)
        row.template = {"count": count + 1}

    def worker() -> None:
        try:
            for _ in range(15):
                transaction(engine, bump)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with session_scope(engine, readonly=True) as session:
            row = session.get(RawTemplate, counter.id)
            assert row is not None
            assert row.template == {"count": 90}
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_shared_by_threads() -> None:
    engine = create_engine("sqlite://")
    try:
        Base.metadata.create_all(engine)

        def insert() -> int:
            with session_scope(engine) as session:
                template = RawTemplate(template={"from": "thread"})
                session.add(template)
            return template.id

        async def run() -> list[int]:
            return list(await asyncio.gather(*(asyncio.to_thread(insert) for _ in range(4))))

        ids = asyncio.run(run())
        with session_scope(engine, readonly=True) as session:
            assert set(session.scalars(select(RawTemplate.id))) == set(ids)
        assert len(ids) == 4
    finally:
        engine.dispose()
