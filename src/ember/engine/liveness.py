"""Engine heartbeats, and taking over the work of engines that stopped beating: their
claimed nodes are released and published again, and their timers are taken on."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.records import Recovery
from ember.db.unit import UnitOfWork
from ember.engine import metrics
from ember.engine.timers import Timers
from ember.engine.worker import publish_nodes
from ember.rpc.transport import Transport

LOG = logging.getLogger(__name__)
MISSED_BEATS = 3


def _register(uow: UnitOfWork, engine_id: str, host: str, interval: float) -> None:
    uow.services.register(engine_id, host, interval)


def _beat(uow: UnitOfWork, engine_id: str, interval: float) -> list[str]:
    """Beat; the engines alive now."""
    uow.services.beat(engine_id)
    return uow.services.live(utcnow() - dt.timedelta(seconds=interval * MISSED_BEATS))


def _stopped(uow: UnitOfWork, engine_id: str) -> None:
    uow.services.stopped(engine_id)


def take_over(uow: UnitOfWork, interval: float, all_ready: bool, gone: bool) -> Recovery:
    """Release nodes of dead engines (see ``TraversalRepository.recoverable``); when an
    engine has stopped (or this one starts), find the rollbacks it did not start."""
    alive = uow.services.live(utcnow() - dt.timedelta(seconds=interval * MISSED_BEATS))
    uow.services.forget_older_than(utcnow() - dt.timedelta(seconds=interval * MISSED_BEATS * 10))
    recovery = uow.traversals.recoverable(alive, all_ready=all_ready)
    uow.resources.fail_abandoned(recovery.abandoned)
    if all_ready or gone or recovery.publish or recovery.abandoned:
        recovery.rollbacks = uow.traversals.pending_rollbacks()
    return recovery


class Liveness:
    def __init__(
        self,
        engine_id: str,
        db: Database,
        transport: Transport,
        timers: Timers,
        host: str,
        interval: float,
        rollback: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.engine_id = engine_id
        self.db = db
        self.transport = transport
        self.timers = timers
        self.host = host
        self.interval = interval
        self.rollback = rollback
        self._task: asyncio.Task[None] | None = None
        self._recovering: asyncio.Task[None] | None = None
        self._alive: set[str] = set()

    async def start(self) -> None:
        await self.db.run(_register, self.engine_id, self.host, self.interval)
        await self.recover(all_ready=True)
        await self.timers.reload()
        self._task = asyncio.create_task(self._loop(), name="ember-liveness")

    async def recover(self, *, all_ready: bool = False, gone: bool = False) -> int:
        recovery = await self.db.run(take_over, self.interval, all_ready, gone)
        await publish_nodes(self.transport, recovery.publish)
        for stack_id, failed in recovery.rollbacks:
            try:
                await self.rollback(stack_id, failed)
            except Exception:
                LOG.exception("rolling back stack %s failed", stack_id)
        return len(recovery.publish)

    def _recovering_now(self) -> bool:
        return self._recovering is not None and not self._recovering.done()

    async def _carry_on(self, gone: bool) -> None:
        try:
            found = await self.recover(gone=gone)
        except Exception:
            LOG.exception("taking over from stopped engines failed")
            return
        if found:
            LOG.info("carrying on %d nodes of stopped engines", found)

    async def _loop(self) -> None:
        beats = 0
        # Beats in a row since this engine last failed to beat. While the database was out
        # of reach no engine could beat: once it is back, every other engine looks silent
        # until it has beaten again, and none of them may be taken for dead before each
        # had the time to (their nodes would run twice).
        steady = 0
        while True:
            await asyncio.sleep(self.interval)
            try:
                alive = set(await self.db.run(_beat, self.engine_id, self.interval))
            except Exception:
                LOG.exception("heartbeat failed")
                steady = 0
                continue
            steady += 1
            metrics.ENGINES_ALIVE.labels(metrics.SERVICE).set(len(alive))
            metrics.NODES_PARKED.labels(metrics.SERVICE).set(len(self.timers))
            if steady <= MISSED_BEATS:
                self._alive |= alive
                continue
            try:
                gone = self._alive - alive
                self._alive = alive
                if gone:
                    # Another engine went away: its parked nodes' deadlines are ours now.
                    await self.timers.reload()
                beats += 1
                if (beats % MISSED_BEATS == 0 or gone) and not self._recovering_now():
                    # Beside the beats: publishing waits for the broker while it is out of
                    # reach, and an engine that stopped beating meanwhile would be taken
                    # for dead while it still runs its nodes.
                    self._recovering = asyncio.create_task(self._carry_on(bool(gone)))
            except Exception:
                LOG.exception("taking over from stopped engines failed")

    async def stop(self) -> None:
        for task in (self._task, self._recovering):
            if task is not None:
                task.cancel()
        await self.db.run(_stopped, self.engine_id)
