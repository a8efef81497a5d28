"""The engine as a service: whether it reaches its database, and which engines run."""

from __future__ import annotations

from typing import Any

from ember.common.settings import Settings
from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.models import Service
from ember.db.unit import UnitOfWork
from ember.engine.caller import Caller
from ember.rpc.api import Ctx, JSONMap


class ServiceOps:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    async def health(self) -> bool:
        """Whether this engine reaches its database: what a stand-alone heat-api reports."""
        return await self.db.healthy()

    async def list_services(self, ctx: Ctx) -> list[JSONMap]:
        Caller.from_ctx(ctx)
        rows = await self.db.read(_services)
        limit = self.settings.heartbeat_interval * 3
        now = utcnow()
        return [_view(r, now, limit) for r in rows]


def _view(r: Service, now: Any, limit: float) -> JSONMap:
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
        "deleted_at": None,
        "status": "up"
        if r.updated_at and (now - r.updated_at).total_seconds() <= limit
        else "down",
    }


def _services(uow: UnitOfWork) -> list[Service]:
    return uow.services.all()
