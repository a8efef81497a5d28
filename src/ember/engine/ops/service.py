"""The engine as a service: whether it reaches its database, and which engines run.

An engine is reported up when it answers a ping on its own topic within
``engine_life_check_timeout``, as Heat checks an engine's liveness: its heartbeats alone
would leave a killed engine "up" until it had missed three of them. An engine that stopped
(its row marked so) or has been silent for three beats is down without asking.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.models import Service
from ember.db.unit import UnitOfWork
from ember.engine.caller import Caller
from ember.engine.liveness import MISSED_BEATS
from ember.rpc.api import Ctx, JSONMap, engine_topic
from ember.rpc.transport import Transport

PING = "ping"


class ServiceOps:
    def __init__(
        self, engine_id: str, settings: Settings, db: Database, transport: Transport
    ) -> None:
        self.engine_id = engine_id
        self.settings = settings
        self.db = db
        self.transport = transport

    async def health(self) -> bool:
        """Whether this engine reaches its database: what a stand-alone heat-api reports."""
        return await self.db.healthy()

    async def list_services(self, ctx: Ctx) -> list[JSONMap]:
        Caller.from_ctx(ctx)
        rows = await self.db.read(_services)
        limit = dt.timedelta(seconds=self.settings.heartbeat_interval * MISSED_BEATS)
        now = utcnow()
        asked = [r for r in rows if _may_be_up(r, now, limit)]
        answers = await asyncio.gather(*(self._answers(r.engine_id) for r in asked))
        up = {r.engine_id for r, answered in zip(asked, answers, strict=True) if answered}
        return [_view(r, r.engine_id in up) for r in rows]

    async def _answers(self, engine_id: str) -> bool:
        try:
            answer = await self.transport.call(
                engine_topic(engine_id),
                PING,
                {},
                self.settings.engine_life_check_timeout,
                exclusive=True,
            )
        except (errors.EmberError, OSError):  # a timeout (RPCTimeout) or no broker
            return False
        return bool(answer == engine_id)

    async def answer_ping(self, method: str, _kwargs: dict[str, Any]) -> Any:
        """What an engine answers on its own topic: its id, to a ping."""
        if method != PING:
            raise errors.InvalidRequest(f"an engine's own topic answers {PING!r} only")
        return self.engine_id


def _may_be_up(r: Service, now: dt.datetime, limit: dt.timedelta) -> bool:
    return r.deleted_at is None and r.updated_at is not None and now - r.updated_at <= limit


def _view(r: Service, up: bool) -> JSONMap:
    return {
        "id": r.id,
        "binary": r.binary,
        "engine_id": r.engine_id,
        "host": r.host,
        "hostname": r.hostname,
        "topic": r.topic,
        "report_interval": r.report_interval,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat() if r.updated_at else None,
        "deleted_at": r.deleted_at.isoformat() if r.deleted_at else None,
        "status": "up" if up else "down",
    }


def _services(uow: UnitOfWork) -> list[Service]:
    return uow.services.all()
