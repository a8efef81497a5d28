"""Engine heartbeats and taking over the work of engines that stopped beating."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ember.common.timeutils import utcnow
from ember.db.models import Service
from ember.engine import store_nodes
from ember.engine.database import Database
from ember.engine.records import NodeKey
from ember.engine.worker import publish_nodes
from ember.rpc.transport import Transport

LOG = logging.getLogger(__name__)
MISSED_BEATS = 3


def register(session: Session, engine_id: str, host: str, interval: float) -> None:
    session.add(
        Service(
            id=str(uuid.uuid4()),
            engine_id=engine_id,
            host=host,
            hostname=socket.gethostname(),
            binary="heat-engine",
            topic="engine",
            report_interval=max(1, round(interval)),
            updated_at=utcnow(),
        )
    )


def beat(session: Session, engine_id: str) -> None:
    session.execute(
        update(Service).where(Service.engine_id == engine_id).values(updated_at=utcnow())
    )


def unregister(session: Session, engine_id: str) -> None:
    session.execute(delete(Service).where(Service.engine_id == engine_id))


def live_engines(session: Session, interval: float) -> list[str]:
    since = utcnow() - dt.timedelta(seconds=interval * MISSED_BEATS)
    return list(
        session.execute(
            select(Service.engine_id).where(
                Service.updated_at >= since, Service.deleted_at.is_(None)
            )
        ).scalars()
    )


def take_over(session: Session, interval: float, all_ready: bool) -> list[NodeKey]:
    """Release nodes of dead engines; see ``store_nodes.recoverable``."""
    alive = live_engines(session, interval)
    since = utcnow() - dt.timedelta(seconds=interval * MISSED_BEATS * 10)
    session.execute(delete(Service).where(Service.updated_at < since))
    return store_nodes.recoverable(session, alive, all_ready=all_ready)


class Liveness:
    def __init__(
        self, engine_id: str, db: Database, transport: Transport, host: str, interval: float
    ) -> None:
        self.engine_id = engine_id
        self.db = db
        self.transport = transport
        self.host = host
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.db.run(register, self.engine_id, self.host, self.interval)
        await self.recover(all_ready=True)
        self._task = asyncio.create_task(self._loop(), name="ember-liveness")

    async def recover(self, *, all_ready: bool = False) -> int:
        keys = await self.db.run(take_over, self.interval, all_ready)
        await publish_nodes(self.transport, keys)
        return len(keys)

    async def _loop(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.db.run(beat, self.engine_id)
                beats += 1
                if beats % MISSED_BEATS == 0:
                    found = await self.recover()
                    if found:
                        LOG.info("carrying on %d nodes of stopped engines", found)
            except Exception:
                LOG.exception("heartbeat failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.db.run(unregister, self.engine_id)
