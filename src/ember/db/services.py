"""Engine processes and their heartbeats."""

from __future__ import annotations

import datetime as dt
import socket
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ember.common.timeutils import utcnow
from ember.db.models import Service


class ServiceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def register(self, engine_id: str, host: str, interval: float) -> None:
        self.session.add(
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

    def beat(self, engine_id: str) -> None:
        self.session.execute(
            update(Service).where(Service.engine_id == engine_id).values(updated_at=utcnow())
        )

    def stopped(self, engine_id: str) -> None:
        """The engine stopped: listed as down until forgotten, never counted alive."""
        self.session.execute(
            update(Service).where(Service.engine_id == engine_id).values(deleted_at=utcnow())
        )

    def live(self, since: dt.datetime) -> list[str]:
        """Engines that beat at ``since`` or later."""
        return list(
            self.session.execute(
                select(Service.engine_id).where(
                    Service.updated_at >= since, Service.deleted_at.is_(None)
                )
            ).scalars()
        )

    def forget_older_than(self, since: dt.datetime) -> None:
        self.session.execute(delete(Service).where(Service.updated_at < since))

    def all(self) -> list[Service]:
        return list(self.session.execute(select(Service)).scalars())
