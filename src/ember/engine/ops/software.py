"""Software configs and deployments: what servers are told to apply, as in Heat.

A config is immutable once made; a deployment ties a config to a server with input values
and records how applying it went. ``metadata_software_deployments`` is what a server polls:
every config deployed to it, sorted by config name, with the deployment's input values.

Callers see and change their own project's configs; a deployment is also visible to the
project named as its ``stack_user_project_id``, which must therefore be the caller's own
project, and its server must not be another project's (one of its resources, or the
server of its deployments). An admin may read any config or deployment by id, and list
every project's configs with ``global_tenant``, but changes only their own project's.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.db.database import Database
from ember.db.models import SoftwareConfig, SoftwareDeployment
from ember.db.records import NodeKey, signal_key
from ember.db.unit import UnitOfWork
from ember.engine.caller import Caller
from ember.engine.ops.software_io import (
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
from ember.rpc.api import Ctx, JSONMap

# The end of a failed script's stderr its deployment's reason shows.
STDERR_SHOWN = 1000

CONFIG_FIELDS = ("name", "group", "config", "inputs", "outputs", "options")
DEFAULT_ACTION = "INIT"
DEFAULT_STATUS = "COMPLETE"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
# What every signal sets in a deployment's output values (null when the signal lacks it).
STATUS_CODE = "deploy_status_code"
SIGNAL_OUTPUTS = ("deploy_stdout", "deploy_stderr", STATUS_CODE)

Publish = Callable[[Sequence[NodeKey]], Awaitable[None]]


def _config_not_found(config_id: str) -> errors.EntityNotFound:
    return errors.EntityNotFound(f"Software config with id {config_id} not found")


def _deployment_not_found(deployment_id: str) -> errors.EntityNotFound:
    return errors.EntityNotFound(f"Deployment with id {deployment_id} not found")


def config_values(
    name: Any, group: Any, config: Any, inputs: Any, outputs: Any, options: Any
) -> dict[str, Any]:
    """A config's fields, checked and normalised as Heat does."""
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


def _quota(count: int, limit: int, what: str) -> None:
    if limit >= 0 and count >= limit:
        raise errors.RequestLimitExceeded(
            f"You have reached the maximum software {what}s per tenant, {limit}. "
            f"Please delete some {what}s."
        )


class SoftwareOps:
    """Contract: a change of a deployment's status through ``update_software_deployment``
    (what a server reporting back does) wakes the deployment resource waiting on it: the
    resource whose physical id is the deployment's id. ``publish`` hands the nodes woken
    to the engines."""

    def __init__(self, settings: Settings, db: Database, publish: Publish | None = None) -> None:
        self.settings = settings
        self.db = db
        self.publish = publish

    async def store_config(
        self, caller: Caller, values: dict[str, Any], config_id: str | None = None
    ) -> JSONMap:
        """Store a checked config. With ``config_id`` (a resource's own id, for
        OS::Heat::SoftwareConfig) a second call finds the config the first one made."""
        limit = -1 if caller.unlimited else self.settings.max_software_configs_per_tenant
        return await self.db.run(_create_config_tx, caller.project_id, limit, values, config_id)

    async def config_for_resource(
        self, caller: Caller, config_id: str, fields: dict[str, Any]
    ) -> str:
        """The id of the config an OS::Heat::SoftwareConfig resource makes (once)."""
        values = config_values(**{k: fields.get(k) for k in CONFIG_FIELDS})
        return str((await self.store_config(caller, values, config_id))["id"])

    async def config_of(self, caller: Caller, config_id: str) -> JSONMap | None:
        """A config as the API shows it, or None when it is not there."""
        row = await self.db.run(_find_config, caller.reads_any(), config_id)
        return None if row is None else config_view(row)

    # Deployments of resources ------------------------------------------------------------

    async def deployment_for_resource(
        self, caller: Caller, deployment_id: str, fields: Mapping[str, Any]
    ) -> JSONMap:
        """Store the deployment an OS::Heat::SoftwareDeployment resource makes, under the
        resource's own id: made by the first call, brought to ``fields`` by later ones."""
        values: dict[str, Any] = {
            "config_id": required_string(fields.get("config_id"), "config_id"),
            "server_id": required_string(fields.get("server_id"), "server_id"),
            "input_values": optional_map(fields.get("input_values"), "input_values") or {},
            "action": optional_string(fields.get("action"), "action") or DEFAULT_ACTION,
            "status": optional_string(fields.get("status"), "status") or DEFAULT_STATUS,
            "status_reason": optional_string(fields.get("status_reason"), "status_reason") or "",
        }
        limit = -1 if caller.unlimited else self.settings.max_software_deployments_per_tenant
        return await self.db.run(
            _put_deployment_tx, caller.project_id, limit, deployment_id, values
        )

    async def deployment_of(self, caller: Caller, deployment_id: str) -> JSONMap | None:
        row = await self.db.run(_find_deployment, caller.reads_any(), deployment_id)
        return None if row is None else deployment_view(row)

    async def signal_deployment(
        self, caller: Caller, deployment_id: str, details: Any
    ) -> str | None:
        """What a server signals about a deployment, as Heat reads it: its outputs and
        status code decide whether the deployment completed or failed. A deployment no
        longer IN_PROGRESS takes no signal (None is returned)."""
        return await self.db.run(_signal_deployment_tx, caller.scope(), deployment_id, details)

    async def delete_deployment(self, caller: Caller, deployment_id: str) -> None:
        await self.db.run(_delete_deployment_tx, caller.scope(), deployment_id)

    # Configs -------------------------------------------------------------------------------

    async def create_software_config(
        self,
        ctx: Ctx,
        name: Any = None,
        group: Any = None,
        config: Any = None,
        inputs: Any = None,
        outputs: Any = None,
        options: Any = None,
    ) -> JSONMap:
        values = config_values(name, group, config, inputs, outputs, options)
        return await self.store_config(Caller.from_ctx(ctx), values)

    async def list_software_configs(
        self,
        ctx: Ctx,
        limit: Any = None,
        marker: Any = None,
        global_tenant: bool = False,
    ) -> list[JSONMap]:
        caller = Caller.from_ctx(ctx)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise invalid("limit must be an integer")
        if limit is not None and limit < 0:
            raise invalid("limit must be a non-negative integer")
        marker = optional_string(marker, "marker")
        scope = caller.scope(every_project=global_tenant)
        return await self.db.read(_list_configs_tx, scope, limit, marker, caller.is_admin)

    async def show_software_config(self, ctx: Ctx, config_id: Any) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        row = await self.db.read(_get_config, caller.reads_any(), _id(config_id, "config_id"))
        return config_view(row)

    async def delete_software_config(self, ctx: Ctx, config_id: Any) -> None:
        await self.delete_config(Caller.from_ctx(ctx), _id(config_id, "config_id"))

    async def delete_config(self, caller: Caller, config_id: str) -> None:
        await self.db.run(_delete_config_tx, caller.scope(), config_id)

    # Deployments -----------------------------------------------------------------------------

    async def create_software_deployment(
        self,
        ctx: Ctx,
        server_id: Any = None,
        config_id: Any = None,
        input_values: Any = None,
        action: Any = None,
        status: Any = None,
        status_reason: Any = None,
        stack_user_project_id: Any = None,
    ) -> JSONMap:
        caller = Caller.from_ctx(ctx)
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
        supi = values["stack_user_project_id"]
        if supi is not None and supi != caller.project_id and not caller.system:
            raise errors.Forbidden(
                f"The stack user project {supi} is not the project {caller.project_id}"
            )
        limit = -1 if caller.unlimited else self.settings.max_software_deployments_per_tenant
        return await self.db.run(
            _create_deployment_tx, caller.project_id, caller.scope(), limit, values
        )

    async def list_software_deployments(self, ctx: Ctx, server_id: Any = None) -> list[JSONMap]:
        caller = Caller.from_ctx(ctx)
        rows = await self.db.read(
            _list_deployments_tx, caller.project_id, optional_string(server_id, "server_id")
        )
        return [deployment_view(r) for r in rows]

    async def metadata_software_deployments(self, ctx: Ctx, server_id: Any) -> list[JSONMap]:
        caller = Caller.from_ctx(ctx)
        return await self.db.read(
            _metadata_tx, caller.project_id, required_string(server_id, "server_id")
        )

    async def show_software_deployment(self, ctx: Ctx, deployment_id: Any) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        row = await self.db.read(
            _get_deployment, caller.reads_any(), _id(deployment_id, "deployment_id")
        )
        return deployment_view(row)

    async def update_software_deployment(
        self,
        ctx: Ctx,
        deployment_id: Any,
        config_id: Any = None,
        input_values: Any = None,
        output_values: Any = None,
        action: Any = None,
        status: Any = None,
        status_reason: Any = None,
    ) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        checked = {
            "config_id": optional_string(config_id, "config_id"),
            "input_values": optional_map(input_values, "input_values"),
            "output_values": optional_map(output_values, "output_values"),
            "action": optional_string(action, "action"),
            "status": optional_string(status, "status"),
            "status_reason": optional_string(status_reason, "status_reason"),
        }
        changes = {k: v for k, v in checked.items() if v is not None}
        view, woken = await self.db.run(
            _update_deployment_tx,
            caller.scope(),
            _id(deployment_id, "deployment_id"),
            changes,
        )
        if woken and self.publish is not None:
            await self.publish(woken)
        return view

    async def delete_software_deployment(self, ctx: Ctx, deployment_id: Any) -> None:
        caller = Caller.from_ctx(ctx)
        await self.db.run(
            _delete_deployment_tx, caller.scope(), _id(deployment_id, "deployment_id")
        )


# Units of work -----------------------------------------------------------------------------


def _get_config(uow: UnitOfWork, project: str | None, config_id: str) -> SoftwareConfig:
    row = uow.software.config(config_id, project)
    if row is None:
        raise _config_not_found(config_id)
    return row


def _config_for_deployment(uow: UnitOfWork, project: str | None, config_id: str) -> None:
    """The config a deployment names; a missing one is a bad request, as in Heat."""
    if uow.software.config(config_id, project) is None:
        raise invalid(f"Config with id {config_id} not found")


def _get_deployment(uow: UnitOfWork, project: str | None, deployment_id: str) -> SoftwareDeployment:
    row = uow.software.deployment(deployment_id, project)
    if row is None:
        raise _deployment_not_found(deployment_id)
    return row


def _create_config_tx(
    uow: UnitOfWork, project: str, limit: int, values: dict[str, Any], config_id: str | None
) -> dict[str, Any]:
    if config_id is not None and (found := uow.software.config_by_id(config_id)) is not None:
        if found.project_id != project:
            raise invalid(f"Software config id {config_id} is in use")
        return config_view(found)  # made before, by the same request resumed
    _quota(uow.software.count_configs(project), limit, "config")
    row = uow.software.add_config(id=config_id or str(uuid.uuid4()), project_id=project, **values)
    return config_view(row)


def _list_configs_tx(
    uow: UnitOfWork,
    project: str | None,
    limit: int | None,
    marker: str | None,
    include_project: bool,
) -> list[dict[str, Any]]:
    return [
        config_view(r, detail=False, include_project=include_project)
        for r in uow.software.configs(project, limit, marker)
    ]


def _delete_config_tx(uow: UnitOfWork, project: str | None, config_id: str) -> None:
    row = _get_config(uow, project, config_id)
    if uow.software.config_in_use(row.id):
        raise errors.InvalidRestrictedAction(
            f"Software config with id {config_id} can not be deleted as it is referenced."
        )
    uow.software.delete(row)


def _create_deployment_tx(
    uow: UnitOfWork, project: str, scope: str | None, limit: int, values: dict[str, Any]
) -> dict[str, Any]:
    _config_for_deployment(uow, scope, values["config_id"])
    if scope is not None and uow.software.server_projects(values["server_id"]) - {scope}:
        raise errors.Forbidden(f"The server {values['server_id']} is another project's")
    _quota(uow.software.count_deployments(project), limit, "deployment")
    row = uow.software.add_deployment(project_id=project, **values)
    return deployment_view(row)


def _update_deployment_tx(
    uow: UnitOfWork, scope: str | None, deployment_id: str, changes: dict[str, Any]
) -> tuple[dict[str, Any], list[NodeKey]]:
    row = _get_deployment(uow, scope, deployment_id)
    if "config_id" in changes:
        _config_for_deployment(uow, scope, changes["config_id"])
    uow.software.change_deployment(row, changes)
    woken = _wake_owner(uow, row) if "status" in changes else []
    return deployment_view(row), woken


def _wake_owner(uow: UnitOfWork, row: SoftwareDeployment) -> list[NodeKey]:
    """A deployment resource parked until its deployment's status changes is woken as a
    signal would wake it (it counts as one, so the resource, resumed, reads the status);
    a deployment no resource owns (one made through the API) wakes nothing. A resource's
    deployment is named by the resource's own id, so no other resource is taken for it."""
    try:
        owner, _ = uow.resources.with_physical_id(row.project_id, row.id)
    except errors.EntityNotFound:
        return []
    if owner.uuid != row.id:
        return []
    uow.resources.count_signal(owner.id)
    return uow.traversals.wake([signal_key(owner.id)], "deployment")


def _find_config(uow: UnitOfWork, project: str | None, config_id: str) -> SoftwareConfig | None:
    return uow.software.config(config_id, project)


def _find_deployment(
    uow: UnitOfWork, project: str | None, deployment_id: str
) -> SoftwareDeployment | None:
    return uow.software.deployment(deployment_id, project)


def _put_deployment_tx(
    uow: UnitOfWork, project: str, limit: int, deployment_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    _config_for_deployment(uow, project, values["config_id"])
    row = uow.software.deployment(deployment_id, None)
    if row is not None:
        if row.project_id != project:
            raise invalid(f"Software deployment id {deployment_id} is in use")
        uow.software.change_deployment(row, values)
        return deployment_view(row)
    if uow.software.server_projects(values["server_id"]) - {project}:
        raise errors.Forbidden(f"The server {values['server_id']} is another project's")
    _quota(uow.software.count_deployments(project), limit, "deployment")
    row = uow.software.add_deployment(
        id=deployment_id,
        project_id=project,
        stack_user_project_id=project,
        output_values={},
        **values,
    )
    return deployment_view(row)


def _signal_deployment_tx(
    uow: UnitOfWork, scope: str | None, deployment_id: str, details: Any
) -> str | None:
    row = _get_deployment(uow, scope, deployment_id)
    if row.status != IN_PROGRESS:
        return None  # outputs are only taken while the deployment waits for them
    given: Mapping[str, Any] = details if isinstance(details, Mapping) else {}
    outputs = dict(row.output_values or {})
    reasons: dict[str, str] = {}
    failed = False
    code = given.get(STATUS_CODE)
    if code and str(code) != "0":
        failed = True
        reasons[STATUS_CODE] = f"Deployment exited with non-zero status code: {code}"
        # Heat stops there; what the script said is the root cause, so it is shown too.
        stderr = str(given.get("deploy_stderr") or "").strip()
        if stderr:
            reasons[STATUS_CODE] += f" (stderr: {stderr[-STDERR_SHOWN:]})"
        said = f"deployment {deployment_id} failed ({code})"
    else:
        said = f"deployment {deployment_id} succeeded"
    config = uow.software.config_by_id(row.config_id)
    declared = ((config.config or {}).get("outputs") if config is not None else None) or []
    for output in declared:
        key = str(output.get("name"))
        if key in given:
            outputs[key] = given[key]
            if output.get("error_output"):
                failed = True
                reasons[key] = str(given[key])
                said = f"deployment {deployment_id} failed"
    for key in SIGNAL_OUTPUTS:
        outputs[key] = given.get(key)
    if failed:
        status, reason = FAILED, ", ".join(f"{k} : {v}" for k, v in reasons.items())
    else:
        status, reason = COMPLETE, "Outputs received"
    uow.software.change_deployment(
        row, {"output_values": outputs, "status": status, "status_reason": reason}
    )
    return said


def _delete_deployment_tx(uow: UnitOfWork, scope: str | None, deployment_id: str) -> None:
    uow.software.delete(_get_deployment(uow, scope, deployment_id))


def _list_deployments_tx(
    uow: UnitOfWork, project: str, server_id: str | None
) -> list[SoftwareDeployment]:
    return uow.software.deployments(project, server_id)


def _metadata_tx(uow: UnitOfWork, project: str, server_id: str) -> list[dict[str, Any]]:
    deployments = uow.software.deployments(project, server_id)
    configs = uow.software.configs_by_id({d.config_id for d in deployments})
    pairs = [(configs[d.config_id], d) for d in deployments if d.config_id in configs]
    # Sorted by config name (stable, so deployments of one name keep their age order).
    pairs.sort(key=lambda pair: pair[0].name or "")
    return [with_input_values(config_view(c), d.input_values or {}) for c, d in pairs]
