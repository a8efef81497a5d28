"""Deadlines of parked nodes: when one passes, the node is woken (in one transaction) and
published again. Each engine keeps timers for the nodes it parked; an engine starting up,
or learning that another engine has gone, loads every parked deadline, so a deadline is
kept while any engine runs. Several engines may fire the same deadline: waking is a
conditional update, so the node is woken once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.records import NodeKey
from ember.db.unit import UnitOfWork
from ember.rpc.api import WORK_TOPIC
from ember.rpc.transport import Transport

LOG = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
MIN_RETRY_SECONDS = 0.01


class Timers:
    def __init__(self, db: Database, transport: Transport) -> None:
        self.db = db
        self.transport = transport
        self._handles: dict[NodeKey, tuple[dt.datetime, asyncio.TimerHandle]] = {}
        self._firing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._handles)

    def schedule(self, key: NodeKey, at: dt.datetime) -> None:
        held = self._handles.get(key)
        if held is not None and held[0] <= at:
            return
        if held is not None:
            held[1].cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, (at - utcnow()).total_seconds())
        handle = loop.call_later(delay, self._fire, key, at)
        self._handles[key] = (at, handle)

    async def reload(self) -> int:
        """Take on every parked deadline (one query, not one per node)."""
        deadlines = await self.db.read(_deadlines)
        for key, at in deadlines:
            self.schedule(key, at)
        return len(deadlines)

    def _fire(self, key: NodeKey, at: dt.datetime) -> None:
        held = self._handles.get(key)
        if held is not None and held[0] == at:
            del self._handles[key]
        task = asyncio.get_running_loop().create_task(self._wake(key, at))
        self._firing.add(task)
        task.add_done_callback(self._firing.discard)

    async def _wake(self, key: NodeKey, at: dt.datetime) -> None:
        try:
            woken = await self.db.run(_wake_due, [key])
            if woken:
                await self.transport.publish(WORK_TOPIC, [k.to_message() for k in woken])
                return
            # Not due by the database's reckoning (this clock and the one that set the
            # deadline may differ a little): wait for it again rather than lose the wake.
            later = await self.db.read(_parked_until, key)
            if later is not None:
                self.schedule(key, max(later, utcnow() + dt.timedelta(seconds=MIN_RETRY_SECONDS)))
        except Exception:
            LOG.exception("waking %s at its deadline failed; trying again", key)
            self.schedule(key, utcnow() + dt.timedelta(seconds=RETRY_SECONDS))

    def stop(self) -> None:
        for _, handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        for task in list(self._firing):
            task.cancel()


def _deadlines(uow: UnitOfWork) -> list[tuple[NodeKey, dt.datetime]]:
    return uow.traversals.parked_deadlines()


def _parked_until(uow: UnitOfWork, key: NodeKey) -> dt.datetime | None:
    return uow.traversals.parked_until(key)


def _wake_due(uow: UnitOfWork, keys: Sequence[NodeKey]) -> list[NodeKey]:
    return uow.traversals.wake_due(keys, utcnow())
