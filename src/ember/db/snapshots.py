"""Snapshots of stacks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.db.models import Snapshot


class SnapshotRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self, stack_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count()).select_from(Snapshot).where(Snapshot.stack_id == stack_id)
            ).scalar_one()
        )

    def add(self, **values: Any) -> Snapshot:
        row = Snapshot(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def of_stack(self, stack_id: str) -> list[Snapshot]:
        return list(
            self.session.execute(
                select(Snapshot).where(Snapshot.stack_id == stack_id).order_by(Snapshot.created_at)
            ).scalars()
        )

    def get(self, stack_id: str, snapshot_id: str) -> Snapshot:
        row = self.session.get(Snapshot, snapshot_id)
        if row is None or row.stack_id != stack_id:
            raise errors.EntityNotFound(entity="Snapshot", name=snapshot_id)
        return row

    def delete(self, row: Snapshot) -> None:
        self.session.delete(row)
