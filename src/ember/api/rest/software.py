"""Software configs and deployments (Heat's ``/software_configs`` and
``/software_deployments``). Creation answers 200, not 201, as Heat does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest import util
from ember.api.rest.schemas import ANY_MAP, body_doc

router = APIRouter()
CONFIGS = "/v1/{tenant_id}/software_configs"
DEPLOYMENTS = "/v1/{tenant_id}/software_deployments"
IO_LIST = {"type": "array", "items": ANY_MAP}
CONFIG_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "group": {"type": "string"},
        "config": {},
        "inputs": IO_LIST,
        "outputs": IO_LIST,
        "options": ANY_MAP,
    },
}
_DEPLOYMENT_FIELDS: dict[str, Any] = {
    "config_id": {"type": "string"},
    "input_values": ANY_MAP,
    "action": {"type": "string"},
    "status": {"type": "string"},
    "status_reason": {"type": "string"},
}
DEPLOYMENT_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_DEPLOYMENT_FIELDS,
        "server_id": {"type": "string"},
        "stack_user_project_id": {"type": "string"},
    },
    "required": ["config_id", "server_id"],
}
DEPLOYMENT_UPDATE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {**_DEPLOYMENT_FIELDS, "output_values": ANY_MAP},
}
CREATE_CONFIG_FIELDS = ("name", "group", "config", "inputs", "outputs", "options")
CREATE_DEPLOYMENT_FIELDS = (
    "config_id",
    "server_id",
    "input_values",
    "action",
    "status",
    "status_reason",
    "stack_user_project_id",
)
UPDATE_DEPLOYMENT_FIELDS = (
    "config_id",
    "input_values",
    "output_values",
    "action",
    "status",
    "status_reason",
)


def _fields(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: data.get(name) for name in names}


# Configs -------------------------------------------------------------------------------


@router.get(CONFIGS)
async def list_configs(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "software_configs:index")
    query = request.query_params
    global_tenant = util.flag(query.get("global_tenant"), "global_tenant")
    if global_tenant:
        util.authorize(request, "software_configs:global_index")
    listed = await util.engine(request).list_software_configs(
        util.rpc_ctx(request),
        limit=util.integer(query.get("limit"), "limit"),
        marker=query.get("marker") or None,
        global_tenant=global_tenant,
    )
    return util.json({"software_configs": listed})


@router.post(CONFIGS, openapi_extra=body_doc(CONFIG_BODY))
async def create_config(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "software_configs:create")
    data = await util.body(request)
    created = await util.engine(request).create_software_config(
        util.rpc_ctx(request), **_fields(data, CREATE_CONFIG_FIELDS)
    )
    return util.json({"software_config": created})


@router.get(CONFIGS + "/{config_id}")
async def show_config(tenant_id: str, config_id: str, request: Request) -> Response:
    util.authorize(request, "software_configs:show")
    shown = await util.engine(request).show_software_config(util.rpc_ctx(request), config_id)
    return util.json({"software_config": shown})


@router.delete(CONFIGS + "/{config_id}", status_code=204)
async def delete_config(tenant_id: str, config_id: str, request: Request) -> Response:
    util.authorize(request, "software_configs:delete")
    await util.engine(request).delete_software_config(util.rpc_ctx(request), config_id)
    return Response(status_code=204)


# Deployments ---------------------------------------------------------------------------


@router.get(DEPLOYMENTS)
async def list_deployments(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "software_deployments:index")
    listed = await util.engine(request).list_software_deployments(
        util.rpc_ctx(request), server_id=request.query_params.get("server_id") or None
    )
    return util.json({"software_deployments": listed})


@router.get(DEPLOYMENTS + "/metadata/{server_id}")
async def deployment_metadata(tenant_id: str, server_id: str, request: Request) -> Response:
    util.authorize(request, "software_deployments:metadata")
    metadata = await util.engine(request).metadata_software_deployments(
        util.rpc_ctx(request), server_id
    )
    return util.json({"metadata": metadata})


@router.post(DEPLOYMENTS, openapi_extra=body_doc(DEPLOYMENT_BODY))
async def create_deployment(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "software_deployments:create")
    data = await util.body(request)
    created = await util.engine(request).create_software_deployment(
        util.rpc_ctx(request), **_fields(data, CREATE_DEPLOYMENT_FIELDS)
    )
    return util.json({"software_deployment": created})


@router.get(DEPLOYMENTS + "/{deployment_id}")
async def show_deployment(tenant_id: str, deployment_id: str, request: Request) -> Response:
    util.authorize(request, "software_deployments:show")
    shown = await util.engine(request).show_software_deployment(
        util.rpc_ctx(request), deployment_id
    )
    return util.json({"software_deployment": shown})


@router.put(DEPLOYMENTS + "/{deployment_id}", openapi_extra=body_doc(DEPLOYMENT_UPDATE_BODY))
async def update_deployment(tenant_id: str, deployment_id: str, request: Request) -> Response:
    util.authorize(request, "software_deployments:update")
    data = await util.body(request)
    updated = await util.engine(request).update_software_deployment(
        util.rpc_ctx(request), deployment_id, **_fields(data, UPDATE_DEPLOYMENT_FIELDS)
    )
    return util.json({"software_deployment": updated})


@router.delete(DEPLOYMENTS + "/{deployment_id}", status_code=204)
async def delete_deployment(tenant_id: str, deployment_id: str, request: Request) -> Response:
    util.authorize(request, "software_deployments:delete")
    await util.engine(request).delete_software_deployment(util.rpc_ctx(request), deployment_id)
    return Response(status_code=204)
