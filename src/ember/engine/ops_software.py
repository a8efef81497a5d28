"""Software configs and deployments: what servers are told to apply, as in Heat.

A config is immutable once made; a deployment ties a config to a server with input values
and records how applying it went. ``metadata_software_deployments`` is what a server polls:
every config deployed to it, sorted by config name, with the deployment's input values.

Callers see their own project's configs; a deployment is also visible to the project named
as its ``stack_user_project_id``. An admin may read any one by id, and list every project's
configs with ``global_tenant``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.timeutils import utcnow
from ember.db.models import SoftwareConfig, SoftwareDeployment
from ember.engine.ops_queries import after_marker
from ember.engine.software_io import (
    DEFAULT_GROUP,
    config_view,
    deployment_view,
    invalid,
    io_list,
    optional_map,
    optional_string,
    required_string,
    with_input_values,
)

if TYPE_CHECKING:
    from ember.engine.service import EngineService

CONFIG_FIELDS = ("name", "group", "config", "inputs", "outputs", "options")
DEFAULT_ACTION = "INIT"
DEFAULT_STATUS = "COMPLETE"


def _caller(ctx: Mapping[str, Any]) -> tuple[str, bool]:
    return str(ctx["project_id"]), bool(ctx.get("is_admin"))


def _config_not_found(config_id: str) -> errors.EntityNotFound:
    return errors.EntityNotFound(f"Software config with id {config_id} not found")


def _deployment_not_found(deployment_id: str) -> errors.EntityNotFound:
    return errors.EntityNotFound(f"Deployment with id {deployment_id} not found")


def _get_config(session: Session, project: str, admin: bool, config_id: str) -> SoftwareConfig:
    row = session.get(SoftwareConfig, config_id)
    if row is None or not (admin or row.project_id == project):
        raise _config_not_found(config_id)
    return row


def _config_for_deployment(
    session: Session, project: str, admin: bool, config_id: str
) -> SoftwareConfig:
    """The config a deployment names; a missing one is a bad request, as in Heat."""
    try:
        return _get_config(session, project, admin, config_id)
    except errors.EntityNotFound:
        raise invalid(f"Config with id {config_id} not found") from None


def _deployment_scope(project: str) -> Any:
    return or_(
        SoftwareDeployment.project_id == project,
        SoftwareDeployment.stack_user_project_id == project,
    )


def _get_deployment(
    session: Session, project: str, admin: bool, deployment_id: str
) -> SoftwareDeployment:
    row = session.get(SoftwareDeployment, deployment_id)
    if row is None or not (admin or project in (row.project_id, row.stack_user_project_id)):
        raise _deployment_not_found(deployment_id)
    return row


def _check_quota(session: Session, query: Any, limit: int, what: str) -> None:
    if limit < 0:
        return
    count = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if count >= limit:
        raise errors.RequestLimitExceeded(
            f"You have reached the maximum software {what}s per tenant, {limit}. "
            f"Please delete some {what}s."
        )


# Units of work -------------------------------------------------------------------------


def _create_config_tx(
    session: Session, project: str, limit: int, values: dict[str, Any], config_id: str | None
) -> dict[str, Any]:
    if config_id is not None and (found := session.get(SoftwareConfig, config_id)) is not None:
        if found.project_id != project:
            raise invalid(f"Software config id {config_id} is in use")
        return config_view(found)  # made before, by the same request resumed
    scope = select(SoftwareConfig.id).where(SoftwareConfig.project_id == project)
    _check_quota(session, scope, limit, "config")
    row = SoftwareConfig(id=config_id or str(uuid.uuid4()), project_id=project, **values)
    session.add(row)
    session.flush()
    return config_view(row)


def _list_configs_tx(
    session: Session,
    project: str | None,
    limit: int | None,
    marker: str | None,
    include_project: bool,
) -> list[dict[str, Any]]:
    query = select(SoftwareConfig)
    if project is not None:
        query = query.where(SoftwareConfig.project_id == project)
    columns = [SoftwareConfig.created_at, SoftwareConfig.id]
    # As Heat: a marker naming no config is ignored.
    if marker and (found := session.get(SoftwareConfig, marker)) is not None:
        query = query.where(after_marker(columns, (found.created_at, found.id), True))
    query = query.order_by(*columns)
    if limit is not None:
        query = query.limit(limit)
    return [
        config_view(r, detail=False, include_project=include_project)
        for r in session.execute(query).scalars()
    ]


def _delete_config_tx(session: Session, project: str, admin: bool, config_id: str) -> None:
    row = _get_config(session, project, admin, config_id)
    used = session.execute(
        select(SoftwareDeployment.id).where(SoftwareDeployment.config_id == row.id).limit(1)
    ).first()
    if used is not None:
        raise errors.InvalidRestrictedAction(
            f"Software config with id {config_id} can not be deleted as it is referenced."
        )
    session.delete(row)


def _create_deployment_tx(
    session: Session, project: str, admin: bool, limit: int, values: dict[str, Any]
) -> dict[str, Any]:
    _config_for_deployment(session, project, admin, values["config_id"])
    scope = select(SoftwareDeployment.id).where(_deployment_scope(project))
    _check_quota(session, scope, limit, "deployment")
    row = SoftwareDeployment(project_id=project, **values)
    session.add(row)
    session.flush()
    return deployment_view(row)


def _update_deployment_tx(
    session: Session, project: str, admin: bool, deployment_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    row = _get_deployment(session, project, admin, deployment_id)
    if "config_id" in changes:
        _config_for_deployment(session, project, admin, changes["config_id"])
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    return deployment_view(row)


def _list_deployments_tx(
    session: Session, project: str, server_id: str | None
) -> list[SoftwareDeployment]:
    query = select(SoftwareDeployment).where(_deployment_scope(project))
    if server_id:
        query = query.where(SoftwareDeployment.server_id == server_id)
    query = query.order_by(SoftwareDeployment.created_at, SoftwareDeployment.id)
    return list(session.execute(query).scalars())


def _metadata_tx(session: Session, project: str, server_id: str) -> list[dict[str, Any]]:
    deployments = _list_deployments_tx(session, project, server_id)
    ids = {d.config_id for d in deployments}
    configs = {
        c.id: c
        for c in session.execute(select(SoftwareConfig).where(SoftwareConfig.id.in_(ids))).scalars()
    }
    pairs = [(configs[d.config_id], d) for d in deployments if d.config_id in configs]
    # Sorted by config name (stable, so deployments of one name keep their age order).
    pairs.sort(key=lambda pair: pair[0].name or "")
    return [with_input_values(config_view(c), d.input_values or {}) for c, d in pairs]


# Request checks ------------------------------------------------------------------------


def _config_values(
    name: Any, group: Any, config: Any, inputs: Any, outputs: Any, options: Any
) -> dict[str, Any]:
    return {
        "name": optional_string(name, "name"),
        "group": optional_string(group, "group") or DEFAULT_GROUP,
        "config": {
            "config": config,
            "inputs": io_list(inputs, "inputs"),
            "outputs": io_list(outputs, "outputs"),
            "options": optional_map(options, "options") or {},
        },
    }


def _id(value: Any, field: str) -> str:
    if isinstance(value, str) and value:
        return value
    if value is None or value == "":
        raise invalid(f"{field} must be specified")
    raise invalid(f"{field} must be a string")


async def store_config(
    service: EngineService,
    ctx: Mapping[str, Any],
    values: dict[str, Any],
    config_id: str | None = None,
) -> dict[str, Any]:
    """Store a checked config. With ``config_id`` (a resource's own id, for
    OS::Heat::SoftwareConfig) a second call finds the config the first one made."""
    project, admin = _caller(ctx)
    limit = -1 if admin else service.settings.max_software_configs_per_tenant
    return await service.db.run(_create_config_tx, project, limit, values, config_id)


async def config_for_resource(
    service: EngineService, ctx: Mapping[str, Any], config_id: str, fields: dict[str, Any]
) -> str:
    """The id of the config an OS::Heat::SoftwareConfig resource makes (once)."""
    values = _config_values(**{k: fields.get(k) for k in CONFIG_FIELDS})
    return str((await store_config(service, ctx, values, config_id))["id"])


class SoftwareOps:
    """Mixed into EngineService."""

    # Configs ---------------------------------------------------------------------------

    async def create_software_config(
        self: EngineService,
        ctx: Mapping[str, Any],
        name: Any = None,
        group: Any = None,
        config: Any = None,
        inputs: Any = None,
        outputs: Any = None,
        options: Any = None,
    ) -> dict[str, Any]:
        values = _config_values(name, group, config, inputs, outputs, options)
        return await store_config(self, ctx, values)

    async def list_software_configs(
        self: EngineService,
        ctx: Mapping[str, Any],
        limit: int | None = None,
        marker: str | None = None,
        global_tenant: bool = False,
    ) -> list[dict[str, Any]]:
        project, admin = _caller(ctx)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise invalid("limit must be an integer")
        if limit is not None and limit < 0:
            raise invalid("limit must be a non-negative integer")
        marker = optional_string(marker, "marker")
        scope = None if admin and global_tenant else project
        return await self.db.run(_list_configs_tx, scope, limit, marker, admin)

    async def show_software_config(
        self: EngineService, ctx: Mapping[str, Any], config_id: str
    ) -> dict[str, Any]:
        project, admin = _caller(ctx)
        config_id = _id(config_id, "config_id")
        row = await self.db.run(_get_config, project, admin, config_id)
        return config_view(row)

    async def delete_software_config(
        self: EngineService, ctx: Mapping[str, Any], config_id: str
    ) -> None:
        project, admin = _caller(ctx)
        await self.db.run(_delete_config_tx, project, admin, _id(config_id, "config_id"))

    # Deployments -----------------------------------------------------------------------

    async def create_software_deployment(
        self: EngineService,
        ctx: Mapping[str, Any],
        server_id: Any = None,
        config_id: Any = None,
        input_values: Any = None,
        action: Any = None,
        status: Any = None,
        status_reason: Any = None,
        stack_user_project_id: Any = None,
    ) -> dict[str, Any]:
        project, admin = _caller(ctx)
        values = {
            "id": str(uuid.uuid4()),
            "config_id": required_string(config_id, "config_id"),
            "server_id": required_string(server_id, "server_id"),
            "input_values": optional_map(input_values, "input_values") or {},
            "output_values": {},
            "action": optional_string(action, "action") or DEFAULT_ACTION,
            "status": optional_string(status, "status") or DEFAULT_STATUS,
            "status_reason": optional_string(status_reason, "status_reason") or "",
            "stack_user_project_id": optional_string(
                stack_user_project_id, "stack_user_project_id"
            ),
        }
        limit = -1 if admin else self.settings.max_software_deployments_per_tenant
        return await self.db.run(_create_deployment_tx, project, admin, limit, values)

    async def list_software_deployments(
        self: EngineService, ctx: Mapping[str, Any], server_id: str | None = None
    ) -> list[dict[str, Any]]:
        project, _ = _caller(ctx)
        server_id = optional_string(server_id, "server_id")
        rows = await self.db.run(_list_deployments_tx, project, server_id)
        return [deployment_view(r) for r in rows]

    async def metadata_software_deployments(
        self: EngineService, ctx: Mapping[str, Any], server_id: str
    ) -> list[dict[str, Any]]:
        project, _ = _caller(ctx)
        return await self.db.run(_metadata_tx, project, required_string(server_id, "server_id"))

    async def show_software_deployment(
        self: EngineService, ctx: Mapping[str, Any], deployment_id: str
    ) -> dict[str, Any]:
        project, admin = _caller(ctx)
        deployment_id = _id(deployment_id, "deployment_id")
        row = await self.db.run(_get_deployment, project, admin, deployment_id)
        return deployment_view(row)

    async def update_software_deployment(
        self: EngineService,
        ctx: Mapping[str, Any],
        deployment_id: str,
        config_id: Any = None,
        input_values: Any = None,
        output_values: Any = None,
        action: Any = None,
        status: Any = None,
        status_reason: Any = None,
    ) -> dict[str, Any]:
        """Apply only the fields given (not null)."""
        project, admin = _caller(ctx)
        checked = {
            "config_id": optional_string(config_id, "config_id"),
            "input_values": optional_map(input_values, "input_values"),
            "output_values": optional_map(output_values, "output_values"),
            "action": optional_string(action, "action"),
            "status": optional_string(status, "status"),
            "status_reason": optional_string(status_reason, "status_reason"),
        }
        changes = {k: v for k, v in checked.items() if v is not None}
        return await self.db.run(
            _update_deployment_tx, project, admin, _id(deployment_id, "deployment_id"), changes
        )

    async def delete_software_deployment(
        self: EngineService, ctx: Mapping[str, Any], deployment_id: str
    ) -> None:
        project, admin = _caller(ctx)
        deployment_id = _id(deployment_id, "deployment_id")

        def unit(session: Session) -> None:
            session.delete(_get_deployment(session, project, admin, deployment_id))

        await self.db.run(unit)
