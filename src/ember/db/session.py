"""Units of work: one Session, one transaction, committed or rolled back as a whole.

Each call opens its own Session, so these are safe to run from many threads at once
(``asyncio.to_thread``); objects stay readable after commit (``expire_on_commit=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ember.db.retry import DEFAULT_ATTEMPTS, retry_on_deadlock

P = ParamSpec("P")
R = TypeVar("R")

# Execution option read by the SQLite "begin" hook: how to BEGIN the transaction.
BEGIN_OPTION = "ember_sqlite_begin"


def session_factory(engine: Engine, *, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; ``readonly`` ones take no write lock on SQLite."""
    bind = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"}) if readonly else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """A Session whose transaction commits when the block ends, or rolls back on error.

    A ``readonly`` session must not write: on SQLite it begins without the write lock,
    so a write there could fail with "database is locked" instead of waiting.
    """
    session = session_factory(engine, readonly=readonly)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def run_transaction(sessions: sessionmaker[Session], fn: Callable[[Session], R]) -> R:
    """Run ``fn(session)`` as one transaction of a session from ``sessions``, retried on
    deadlock: the one place transactions are run. ``fn`` may run more than once, so it
    must not have effects outside the database."""

    def attempt() -> R:
        with sessions.begin() as session:
            return fn(session)

    return retry_on_deadlock(attempt, attempts=DEFAULT_ATTEMPTS)()


def transaction(
    engine: Engine,
    fn: Callable[Concatenate[Session, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Run ``fn(session, *args, **kwargs)`` as one transaction, retried on deadlock."""
    return run_transaction(session_factory(engine), lambda session: fn(session, *args, **kwargs))
