"""SQLAlchemy engines for the database URLs that ``heat.conf`` holds.

``create_engine`` accepts URLs exactly as Heat operators write them and maps the driver
to the one Ember ships with: PyMySQL for MySQL/MariaDB, psycopg 3 for PostgreSQL.

SQLite is set up for several writers: a WAL journal (readers never block the writer),
a busy timeout, foreign keys enforced, and ``BEGIN IMMEDIATE`` for write transactions so
that concurrent writers queue for the lock instead of failing half-way through. Sessions
opened with ``session_scope(engine, readonly=True)`` begin deferred instead.

Every database call is bounded in time (``Timeouts``): connecting, and waiting for the
answer to a statement, in each driver's own words (PyMySQL's connect/read/write timeouts;
libpq's connect_timeout, TCP keepalives and tcp_user_timeout with the server's
statement_timeout). A partition that drops packets without a reset then fails the call
instead of holding its thread for as long as TCP keeps trying. Values given in the URL's
query win over these.

The engine is thread-safe and holds no module-level state; callers pass it around.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool

from ember.db.retry import is_retryable, retry_on_deadlock
from ember.db.session import BEGIN_OPTION, session_factory, session_scope, transaction

__all__ = [
    "Timeouts",
    "create_engine",
    "is_retryable",
    "normalise_url",
    "retry_on_deadlock",
    "session_factory",
    "session_scope",
    "transaction",
]

SQLITE_BUSY_TIMEOUT_S = 30
# Connections older than this are replaced: MySQL closes idle ones after wait_timeout.
POOL_RECYCLE_S = 3600


@dataclass(frozen=True)
class Timeouts:
    """Seconds a database call may wait: to connect, for one statement's answer, for a
    connection from the pool."""

    connect: float = 10.0
    statement: float = 60.0
    pool: float = 30.0


# TCP keepalives on server connections: the first probe after this many idle seconds, then
# one per interval, the connection dead after COUNT unanswered probes.
KEEPALIVE_IDLE_S = 10
KEEPALIVE_INTERVAL_S = 5
KEEPALIVE_COUNT = 3

# Driver names in heat.conf URLs -> the driver Ember installs.
_DRIVERS = {
    "mysql": "mysql+pymysql",
    "mysql+mysqldb": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "mariadb+mysqldb": "mariadb+pymysql",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def normalise_url(url: str | URL) -> URL:
    """The SQLAlchemy URL Ember connects with for a ``[database] connection`` value."""
    parsed = make_url(url)
    drivername = _DRIVERS.get(parsed.drivername, parsed.drivername)
    parsed = parsed.set(drivername=drivername)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        # Heat's documented "charset=utf8" is MySQL's three-byte subset; ask for all of
        # Unicode so names with emoji or rare scripts are stored, not refused.
        charset = parsed.query.get("charset")
        if charset in (None, "utf8", "utf8mb3"):
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def create_engine(
    url: str | URL, *, echo: bool = False, timeouts: Timeouts | None = None, **pool: Any
) -> Engine:
    """An engine for ``url``; ``pool`` overrides pool settings (e.g. ``pool_size``)."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    limits = timeouts or Timeouts()
    if backend == "sqlite":
        return _sqlite_engine(parsed, echo=echo, **pool)
    if backend in ("mysql", "mariadb"):
        return _mysql_engine(parsed, limits, echo=echo, **pool)
    if backend == "postgresql":
        return _server_engine(
            parsed, limits, _postgresql_connect_args(parsed, limits), echo=echo, **pool
        )
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)}")


def _unless_in_url(url: URL, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` without those the URL's query sets (the operator's word wins)."""
    return {key: value for key, value in args.items() if key not in url.query}


def _mysql_connect_args(url: URL, limits: Timeouts) -> dict[str, Any]:
    return _unless_in_url(
        url,
        {
            # PyMySQL takes whole seconds to connect; reads and writes may be fractions.
            "connect_timeout": max(1, round(limits.connect)),
            "read_timeout": limits.statement,
            "write_timeout": limits.statement,
        },
    )


def _postgresql_connect_args(url: URL, limits: Timeouts) -> dict[str, Any]:
    statement_ms = max(1, round(limits.statement * 1000))
    args = _unless_in_url(
        url,
        {
            "connect_timeout": max(2, round(limits.connect)),  # libpq's least
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_S,
            "keepalives_interval": KEEPALIVE_INTERVAL_S,
            "keepalives_count": KEEPALIVE_COUNT,
            # Data sent and not acknowledged for this long: the server is gone.
            "tcp_user_timeout": statement_ms,
        },
    )
    if "options" not in url.query:
        # The server ends a statement that runs too long, and a transaction whose client
        # went silent in the middle of it (it holds row locks).
        args["options"] = (
            f"-c statement_timeout={statement_ms} "
            f"-c idle_in_transaction_session_timeout={statement_ms}"
        )
    return args


def _server_engine(
    url: URL, limits: Timeouts, connect_args: dict[str, Any], *, echo: bool, **pool: Any
) -> Engine:
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_recycle": POOL_RECYCLE_S,
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": limits.pool,
        "connect_args": connect_args,
        # Row claims are conditional updates; READ COMMITTED sees the latest committed
        # row and, on MySQL, takes no gap locks, which keeps deadlocks rare.
        "isolation_level": "READ COMMITTED",
    }
    options.update(pool)
    return sa.create_engine(url, echo=echo, **options)


def _mysql_engine(url: URL, limits: Timeouts, *, echo: bool, **pool: Any) -> Engine:
    engine = _server_engine(url, limits, _mysql_connect_args(url, limits), echo=echo, **pool)

    @event.listens_for(engine, "connect")
    def _strict_mode(dbapi_connection: Any, _record: Any) -> None:
        # Refuse bad data instead of silently truncating it (as oslo.db does for Heat).
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")

    return engine


_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _sqlite_engine(url: URL, *, echo: bool, **pool: Any) -> Engine:
    memory = _is_memory(url)
    options: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
    }
    if memory:
        # An in-memory database lives in one connection: keep exactly one and hand it
        # to one thread at a time.
        options.update(poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=30)
    options.update(pool)
    engine = sa.create_engine(url, echo=echo, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown SQLite transaction mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
