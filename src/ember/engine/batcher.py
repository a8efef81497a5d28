"""Coalescing concurrent small transactions into one: callers submit items and await their
own result; whatever arrives while a transaction runs goes into the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ember.db.database import Database
from ember.db.unit import UnitOfWork

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(self, db: Database, unit: Callable[..., Sequence[R]], *args: Any) -> None:
        # ``unit(uow, items, *args)`` returns one result per item, in order.
        self.db = db
        self.unit = unit
        self.args = args
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._running = False

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                items = [item for item, _ in batch]
                try:
                    results = await self.db.run(self._call, items)
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._running = False

    def _call(self, uow: UnitOfWork, items: list[T]) -> Sequence[R]:
        return self.unit(uow, items, *self.args)
