"""The database out of reach, through a relay in front of the server (``tests.relay``):
every call ends, in time, with ``DatabaseUnavailable`` (which the API answers with 503),
and works again once the server can be reached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ember.common import errors
from ember.db.database import Database
from ember.db.engine import Timeouts, create_engine
from ember.db.unit import UnitOfWork
from tests.backends import ScratchDatabase
from tests.relay import Mode, Relay

LIMITS = Timeouts(connect=2.0, statement=2.0, pool=2.0)
# Liveness bound: a call during a cut must end within this (its timeouts plus slack).
ANSWERS_WITHIN = 8.0


@pytest.fixture(params=["mysql", "postgresql"])
def server(request: pytest.FixtureRequest) -> ScratchDatabase:
    scratch: ScratchDatabase = request.getfixturevalue(f"{request.param}_scratch")
    return scratch


@pytest.fixture
def relay(server: ScratchDatabase) -> Iterator[Relay]:
    started = Relay("127.0.0.1", int(make_url(server.url).port or 0)).start()
    yield started
    started.stop()


def _through(server: ScratchDatabase, relay: Relay) -> str:
    return (
        make_url(server.url)
        .set(host="127.0.0.1", port=relay.port)
        .render_as_string(hide_password=False)
    )


def _select_one(uow: UnitOfWork) -> Any:
    return uow.session.execute(text("SELECT 1")).scalar_one()


async def _fails_unavailable(call: Any) -> float:
    """Run ``call``; it must raise DatabaseUnavailable within ANSWERS_WITHIN seconds."""
    started = time.monotonic()
    with pytest.raises(errors.DatabaseUnavailable):
        await asyncio.wait_for(call, ANSWERS_WITHIN)
    return time.monotonic() - started


@pytest.mark.parametrize("mode", ["reset", "blackhole"])
async def test_a_cut_database_is_unavailable_and_comes_back(
    server: ScratchDatabase, relay: Relay, mode: Mode
) -> None:
    db = Database(_through(server, relay), timeouts=LIMITS)
    try:
        assert await db.run(_select_one) == 1
        assert await db.read(_select_one) == 1
        if mode == "blackhole" and server.backend == "postgresql":
            # libpq has no read timeout of its own: a pooled connection relies on TCP
            # (tcp_user_timeout, keepalives), which the relay, acknowledging what it
            # holds, does not let fire. New connections are bounded by connect_timeout.
            db.engine.dispose()
            db.read_engine.dispose()
        with relay.cut(mode):
            # Pooled connections (reset, or silent) and new ones (refused, or never
            # answered) alike.
            await _fails_unavailable(db.run(_select_one))
            db.engine.dispose()
            db.read_engine.dispose()
            await _fails_unavailable(db.run(_select_one))
            await _fails_unavailable(db.read(_select_one))
        assert await db.run(_select_one) == 1
        assert await db.read(_select_one) == 1
    finally:
        db.close()


def test_mysql_statements_wait_no_longer_than_the_statement_timeout(
    mysql_scratch: ScratchDatabase,
) -> None:
    """A statement whose answer does not come (a partition, a stuck server) is given up
    after the read timeout instead of holding its thread for as long as TCP retries."""
    engine = create_engine(mysql_scratch.url, timeouts=LIMITS)
    try:
        with engine.connect() as conn:
            started = time.monotonic()
            with pytest.raises(Exception, match=r"timed out|Lost connection"):
                conn.execute(text("SELECT SLEEP(30)"))
            assert time.monotonic() - started < ANSWERS_WITHIN
    finally:
        engine.dispose()


def test_postgresql_statements_are_ended_by_the_server_after_the_statement_timeout(
    postgresql_scratch: ScratchDatabase,
) -> None:
    engine = create_engine(postgresql_scratch.url, timeouts=LIMITS)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "2s"
            started = time.monotonic()
            with pytest.raises(Exception, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(30)"))
            assert time.monotonic() - started < ANSWERS_WITHIN
    finally:
        engine.dispose()


def test_timeouts_in_the_url_win(postgresql_scratch: ScratchDatabase) -> None:
    url = make_url(postgresql_scratch.url).update_query_dict(
        {"options": "-c statement_timeout=7000"}
    )
    engine = create_engine(url, timeouts=LIMITS)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "7s"
    finally:
        engine.dispose()
