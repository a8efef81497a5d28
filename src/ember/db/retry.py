"""Retrying a whole transaction when the database gave it up to let another one through.

Retried: deadlocks and lock-wait timeouts (MySQL/MariaDB 1213, 1205), serialization
failures and deadlocks (PostgreSQL 40001, 40P01), and SQLite's busy/locked errors. In all
of these the database rolled the transaction back, so running it again is safe.

Not retried: lost connections. A connection that dropped during COMMIT leaves the outcome
unknown, and running the transaction again could apply it twice.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar, overload

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

P = ParamSpec("P")
R = TypeVar("R")

LOG = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 5
BASE_DELAY_S = 0.05
MAX_DELAY_S = 2.0

_MYSQL_CODES = frozenset({1205, 1213})  # lock wait timeout, deadlock
_PG_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
_SQLITE_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)
_SQLITE_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` means the transaction was rolled back to resolve lock contention."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _PG_SQLSTATES
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_CODES
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and type(orig).__module__.startswith("pymysql"):
        return args[0] in _MYSQL_CODES
    message = str(orig).lower()
    return any(text in message for text in _SQLITE_MESSAGES)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached or did not answer in time
    (refused, reset or timed-out connections, a pool with no connection to give, a
    statement cancelled by its timeout, SQLite's lock held past the busy timeout): the
    same request may succeed later. Not: errors in the request itself."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if isinstance(getattr(exc.orig, "sqlite_errorcode", None), int) or (
        type(exc.orig).__module__.startswith("sqlite3")
    ):
        # SQLite's OperationalError also means a bad schema ("no such table"); only a
        # lock held too long is unavailability.
        message = str(exc.orig).lower()
        return any(text in message for text in _SQLITE_MESSAGES)
    return True


def backoff(attempt: int, *, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): exponential, with jitter."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


@overload
def retry_on_deadlock(
    fn: Callable[P, R],
    *,
    attempts: int = ...,
    sleep: Callable[[float], None] = ...,
) -> Callable[P, R]: ...


@overload
def retry_on_deadlock(
    fn: None = None,
    *,
    attempts: int = ...,
    sleep: Callable[[float], None] = ...,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def retry_on_deadlock(
    fn: Callable[P, R] | None = None,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function that runs one whole transaction so that it is retried.

    Use as ``@retry_on_deadlock`` or ``@retry_on_deadlock(attempts=3)``. The function must
    open and commit its own transaction (a retry inside an outer transaction would run
    on a connection whose transaction the database already rolled back).
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except DBAPIError as exc:
                    if attempt == attempts or not is_retryable(exc):
                        raise
                    delay = backoff(attempt)
                    LOG.debug("retrying %s in %.3fs after: %s", func.__name__, delay, exc.orig)
                    sleep(delay)
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate if fn is None else decorate(fn)
