"""Running units of work from asyncio: each is a plain function taking a Session, run in
a worker thread as one transaction, retried on deadlocks."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ember.db import engine as db_engine

P = ParamSpec("P")
R = TypeVar("R")


class Database:
    def __init__(self, url: str, *, threads: int = 8) -> None:
        self.url = url
        self.engine: Engine = db_engine.create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite serialises writers anyway; one thread avoids lock contention.
        size = 1 if self.engine.dialect.name == "sqlite" else threads
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="ember-db")

    def _transaction(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        def attempt() -> R:
            with self._sessions.begin() as session:
                return fn(session, *args, **kwargs)

        return db_engine.retry_on_deadlock(attempt)()

    async def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn(session, *args)`` as one committed transaction."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._transaction, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def run_sync(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        return self._transaction(fn, *args, **kwargs)

    async def healthy(self) -> bool:
        try:
            await self.run(lambda session: session.execute(text("SELECT 1")))
        except Exception:
            return False
        return True

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


SessionFn = Callable[[Session], Any]
