"""Software configs and deployments.

A deployment is visible to its own project and to the project named as its
``stack_user_project_id``; ``project=None`` means every project.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ember.common.timeutils import utcnow
from ember.db.models import Resource, SoftwareConfig, SoftwareDeployment, Stack
from ember.db.stack_queries import after_marker


def _deployments_of(project: str | None) -> Any:
    if project is None:
        return SoftwareDeployment.id.is_not(None)
    return or_(
        SoftwareDeployment.project_id == project,
        SoftwareDeployment.stack_user_project_id == project,
    )


class SoftwareRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Configs -------------------------------------------------------------------------------

    def config(self, config_id: str, project: str | None) -> SoftwareConfig | None:
        row = self.session.get(SoftwareConfig, config_id)
        if row is None or (project is not None and row.project_id != project):
            return None
        return row

    def config_by_id(self, config_id: str) -> SoftwareConfig | None:
        """Whoever owns it (ids made from a resource's own id must not be reused)."""
        return self.session.get(SoftwareConfig, config_id)

    def count_configs(self, project: str) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(SoftwareConfig)
                .where(SoftwareConfig.project_id == project)
            ).scalar_one()
        )

    def add_config(self, **values: Any) -> SoftwareConfig:
        row = SoftwareConfig(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def configs(
        self, project: str | None, limit: int | None, marker: str | None
    ) -> list[SoftwareConfig]:
        """Oldest first; a marker naming no config is ignored, as in Heat."""
        query = select(SoftwareConfig)
        if project is not None:
            query = query.where(SoftwareConfig.project_id == project)
        columns = [SoftwareConfig.created_at, SoftwareConfig.id]
        if marker and (found := self.config(marker, project)) is not None:
            query = query.where(after_marker(columns, (found.created_at, found.id), True))
        query = query.order_by(*columns)
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.execute(query).scalars())

    def config_in_use(self, config_id: str) -> bool:
        return (
            self.session.execute(
                select(SoftwareDeployment.id)
                .where(SoftwareDeployment.config_id == config_id)
                .limit(1)
            ).first()
            is not None
        )

    def configs_by_id(self, config_ids: set[str]) -> dict[str, SoftwareConfig]:
        if not config_ids:
            return {}
        return {
            c.id: c
            for c in self.session.execute(
                select(SoftwareConfig).where(SoftwareConfig.id.in_(sorted(config_ids)))
            ).scalars()
        }

    def delete(self, row: SoftwareConfig | SoftwareDeployment) -> None:
        self.session.delete(row)

    # Deployments -----------------------------------------------------------------------------

    def deployment(self, deployment_id: str, project: str | None) -> SoftwareDeployment | None:
        row = self.session.get(SoftwareDeployment, deployment_id)
        if row is None or (
            project is not None and project not in (row.project_id, row.stack_user_project_id)
        ):
            return None
        return row

    def server_projects(self, server_id: str) -> set[str]:
        """The projects a server id is known in: those of its deployments, and of the
        stacks with a resource whose physical id it is."""
        deployed = select(SoftwareDeployment.project_id).where(
            SoftwareDeployment.server_id == server_id
        )
        owned = (
            select(Stack.project_id)
            .join(Resource, Resource.stack_id == Stack.id)
            .where(Resource.physical_resource_id == server_id, Stack.deleted_at.is_(None))
        )
        return {str(p) for p in self.session.execute(deployed.union(owned)).scalars()}

    def count_deployments(self, project: str) -> int:
        return int(
            self.session.execute(
                select(func.count()).select_from(SoftwareDeployment).where(_deployments_of(project))
            ).scalar_one()
        )

    def add_deployment(self, **values: Any) -> SoftwareDeployment:
        row = SoftwareDeployment(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def change_deployment(self, row: SoftwareDeployment, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        self.session.flush()

    def deployments(self, project: str | None, server_id: str | None) -> list[SoftwareDeployment]:
        query = select(SoftwareDeployment).where(_deployments_of(project))
        if server_id:
            query = query.where(SoftwareDeployment.server_id == server_id)
        query = query.order_by(SoftwareDeployment.created_at, SoftwareDeployment.id)
        return list(self.session.execute(query).scalars())
