"""retry_on_deadlock: real deadlocks and lock errors of each backend are retried."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError, OperationalError

from ember.db.models import Base, RawTemplate
from ember.db.retry import backoff, is_retryable, retry_on_deadlock
from ember.db.session import session_scope, transaction


def _two_rows(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        rows = [RawTemplate(template={"v": 0}), RawTemplate(template={"v": 0})]
        session.add_all(rows)
    return rows[0].id, rows[1].id


def _touch(session: sa.orm.Session, row_id: int, value: int) -> None:
    session.execute(
        update(RawTemplate).where(RawTemplate.id == row_id).values(template={"v": value})
    )


# SQLite serialises writers, so only the servers can deadlock.
@pytest.mark.parametrize("backend", ["mysql", "postgresql"], indirect=True)
def test_a_real_deadlock_is_retried_until_both_commit(db_engine: Engine) -> None:
    a, b = _two_rows(db_engine)
    both_hold_one_row = threading.Barrier(2, timeout=10)
    attempts = {"first": 0, "second": 0}
    errors: list[BaseException] = []

    def worker(name: str, mine: int, theirs: int) -> None:
        @retry_on_deadlock(attempts=5)
        def work() -> None:
            attempts[name] += 1
            with session_scope(db_engine) as session:
                _touch(session, mine, 1)
                if attempts[name] == 1:
                    both_hold_one_row.wait()
                _touch(session, theirs, 1)

        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=("first", a, b)),
        threading.Thread(target=worker, args=("second", b, a)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(attempts.values()) == [1, 2]


def test_a_locked_sqlite_database_is_retried(tmp_path: Path) -> None:
    path = tmp_path / "heat.sqlite"
    impatient = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    Base.metadata.create_all(impatient)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    calls = 0

    def release(_delay: float) -> None:
        holder.rollback()

    @retry_on_deadlock(attempts=3, sleep=release)
    def write() -> None:
        nonlocal calls
        calls += 1
        with impatient.begin() as conn:
            conn.execute(
                RawTemplate.__table__.insert().values(template={}, files={}, environment={})
            )

    try:
        write()
        assert calls == 2
    finally:
        holder.close()
        impatient.dispose()


def test_other_errors_are_not_retried(db_engine: Engine) -> None:
    calls = 0

    def insert_twice(session: sa.orm.Session) -> None:
        nonlocal calls
        calls += 1
        session.add(RawTemplate(id=1, template={}))
        session.flush()
        session.add(RawTemplate(id=1, template={}))

    with pytest.raises(IntegrityError):
        transaction(db_engine, insert_twice)
    assert calls == 1
    assert not is_retryable(ValueError("database is locked"))


def _locked() -> OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = 5  # type: ignore[attr-defined]
    return OperationalError("INSERT", {}, error)


def test_gives_up_after_the_last_attempt() -> None:
    calls = 0
    delays: list[float] = []

    @retry_on_deadlock(attempts=4, sleep=delays.append)
    def always_locked() -> None:
        nonlocal calls
        calls += 1
        raise _locked()

    with pytest.raises(OperationalError, match="database is locked"):
        always_locked()
    assert calls == 4
    assert len(delays) == 3


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    for attempt in range(1, 12):
        ceiling = min(2.0, 0.05 * 2 ** (attempt - 1))
        delays = {backoff(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retry_on_deadlock(attempts=0)
