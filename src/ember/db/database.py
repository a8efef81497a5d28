"""Running units of work from asyncio: each is a plain function taking a ``UnitOfWork``,
run in a worker thread as one transaction, retried when the database gave it up to let
another through (so it must have no effects outside the database)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ember.common import errors
from ember.db import engine as db_engine
from ember.db.metrics import TRANSACTION_SECONDS
from ember.db.retry import is_unavailable
from ember.db.session import run_transaction, session_factory
from ember.db.unit import UnitOfWork

EventSink = Callable[[list[dict[str, Any]]], Awaitable[None]]
P = ParamSpec("P")
R = TypeVar("R")
Unit = Callable[Concatenate[UnitOfWork, P], R]
LOG = logging.getLogger(__name__)


class Database:
    """The one runner of units of work, for every part of Ember that keeps state."""

    def __init__(
        self, url: str, *, threads: int = 8, timeouts: db_engine.Timeouts | None = None
    ) -> None:
        self.url = url
        # Told of the events each committed transaction wrote (the engine pushes them to
        # the APIs' followers); never raises.
        self.on_events: EventSink | None = None
        self.engine: Engine = db_engine.create_engine(url, timeouts=timeouts)
        self._sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        sqlite = self.engine.dialect.name == "sqlite"
        # SQLite serialises writers anyway; one thread avoids lock contention. Its readers
        # (WAL) run beside the writer, on threads of their own, so API reads never queue
        # behind a long write.
        self._executor = ThreadPoolExecutor(
            max_workers=1 if sqlite else threads, thread_name_prefix="ember-db"
        )
        if sqlite:
            self.read_engine = self.engine
            self._readers_sessions = session_factory(self.engine, readonly=True)
            self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ember-db-read")
        else:
            # Reads on a server database autocommit: each is one round trip, with no
            # BEGIN/COMMIT, no rollback when the connection goes back to the pool and no
            # ping on checkout (a dropped connection is retried instead, reads being safe
            # to repeat).
            self.read_engine = db_engine.create_engine(
                url,
                timeouts=timeouts,
                isolation_level="AUTOCOMMIT",
                skip_autocommit_rollback=True,
                pool_pre_ping=False,
                pool_size=threads,
                max_overflow=threads,
            )
            self._readers_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
            self._readers = self._executor

    def _transaction(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        return self._transaction_with_events(fn, *args, **kwargs)[0]

    def _transaction_with_events(
        self, fn: Callable[..., R], *args: Any, **kwargs: Any
    ) -> tuple[R, list[dict[str, Any]]]:
        def unit(session: Session) -> tuple[R, list[dict[str, Any]]]:
            uow = UnitOfWork(session)
            result = fn(uow, *args, **kwargs)
            uow.flush()
            return result, uow.events.written

        return run_transaction(self._sessions, unit)

    async def run(self, fn: Unit[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(uow, *args)`` as one committed transaction. Raises
        ``DatabaseUnavailable`` when the database cannot be reached or does not answer in
        time (the transaction may then have been committed or not)."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._transaction_with_events, fn, *args, **kwargs)
        with _unavailable_as_error(fn), _timed(fn, "write"):
            result, events = await loop.run_in_executor(self._executor, call)
        if events and self.on_events is not None:
            await self.on_events(events)
        return result

    async def read(self, fn: Unit[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(uow, *args)`` in a transaction that only reads (on SQLite it takes no
        write lock and does not wait for the writer thread)."""

        def attempt() -> R:
            with self._readers_sessions() as session:  # nothing to commit
                return fn(UnitOfWork(session), *args, **kwargs)

        def read_once_more_if_dropped() -> R:
            try:
                return attempt()
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            return attempt()

        loop = asyncio.get_running_loop()
        with _unavailable_as_error(fn), _timed(fn, "read"):
            return await loop.run_in_executor(
                self._readers, db_engine.retry_on_deadlock(read_once_more_if_dropped)
            )

    def run_sync(self, fn: Unit[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        return self._transaction(fn, *args, **kwargs)

    async def healthy(self) -> bool:
        try:
            await self.run(_ping)
        except Exception:
            return False
        return True

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._readers is not self._executor:
            self._readers.shutdown(wait=True)
        self.engine.dispose()
        self.read_engine.dispose()


@contextlib.contextmanager
def _unavailable_as_error(fn: Callable[..., Any]) -> Iterator[None]:
    """The database's own errors of unavailability as ``DatabaseUnavailable``, which the
    API answers with 503 (its cause goes to the log, not to the client)."""
    try:
        yield
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        LOG.warning("database unavailable in %s: %s", getattr(fn, "__name__", fn), exc)
        raise errors.DatabaseUnavailable() from exc


@contextlib.contextmanager
def _timed(fn: Callable[..., Any], kind: str) -> Iterator[None]:
    """The transaction's time, by the unit of work it ran (a function's name: a few dozen
    in all)."""
    begun = time.perf_counter()
    try:
        yield
    finally:
        unit = getattr(fn, "__name__", "unit")
        TRANSACTION_SECONDS.labels(unit, kind).observe(time.perf_counter() - begun)


def _ping(uow: UnitOfWork) -> None:
    uow.session.execute(text("SELECT 1"))
