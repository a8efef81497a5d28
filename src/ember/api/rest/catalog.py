"""Routes that need no stack: validate, resource types, template versions, build info and
engine services."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest import util
from ember.api.rest.faults import HTTPError
from ember.api.rest.schemas import VALIDATE_BODY, body_doc
from ember.api.rest.stacks import _engine_fields
from ember.common import errors

router = APIRouter()
TENANT = "/v1/{tenant_id}"


@router.post(TENANT + "/validate", openapi_extra=body_doc(VALIDATE_BODY))
async def validate(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:validate_template")
    data = await util.body(request)
    if data.get("template") is None:
        if data.get("template_url"):
            raise HTTPError(
                400,
                f'Could not fetch remote template "{data["template_url"]}": '
                "fetching templates from URLs is disabled.",
            )
        raise HTTPError(400, "No template specified")
    fields = _engine_fields(data, util.max_template_size(request))
    query = request.query_params
    ignore = [e for e in (query.get("ignore_errors") or "").split(",") if e]
    try:
        result = await util.engine(request).validate_template(
            util.rpc_ctx(request),
            fields["template"],
            params=fields["params"],
            files=fields["files"],
            environment=fields["environment"],
            environment_files=fields["environment_files"],
            show_nested=util.flag(query.get("show_nested"), "show_nested"),
            ignore_errors=ignore,
        )
    except errors.StackValidationFailed as exc:
        # Heat's validate answers its engine's refusal as a plain bad request; the other
        # errors (a wrong reference, a bad parameter schema) keep their own types.
        exc.shown_type = "HTTPBadRequest"
        raise
    return util.json(result)


@router.get(TENANT + "/resource_types")
async def resource_types(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:list_resource_types")
    query = request.query_params
    listed = await util.engine(request).list_resource_types(
        util.rpc_ctx(request),
        name=query.get("name"),
        support_status=query.get("support_status"),
        version=query.get("version"),
        with_description=util.flag(query.get("with_description"), "with_description"),
    )
    return util.json({"resource_types": listed})


@router.get(TENANT + "/resource_types/{type_name}")
async def resource_schema(tenant_id: str, type_name: str, request: Request) -> Response:
    util.authorize(request, "stacks:resource_schema")
    return util.json(
        await util.engine(request).resource_schema(
            util.rpc_ctx(request),
            type_name,
            with_description=util.flag(
                request.query_params.get("with_description"), "with_description"
            ),
        )
    )


@router.get(TENANT + "/resource_types/{type_name}/template")
async def resource_template(tenant_id: str, type_name: str, request: Request) -> Response:
    util.authorize(request, "stacks:generate_template")
    kind = request.query_params.get("template_type", "cfn")
    return util.json(
        await util.engine(request).generate_template(
            util.rpc_ctx(request), type_name, template_type=kind
        )
    )


@router.get(TENANT + "/template_versions")
async def template_versions(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:list_template_versions")
    listed = await util.engine(request).list_template_versions(util.rpc_ctx(request))
    return util.json({"template_versions": listed})


@router.get(TENANT + "/template_versions/{template_version}/functions")
async def template_functions(tenant_id: str, template_version: str, request: Request) -> Response:
    util.authorize(request, "stacks:list_template_functions")
    listed = await util.engine(request).list_template_functions(
        util.rpc_ctx(request),
        template_version,
        with_condition_func=util.flag(
            request.query_params.get("with_condition_func"), "with_condition_func"
        ),
    )
    return util.json({"template_functions": listed})


@router.get(TENANT + "/build_info")
async def build_info(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "build_info:build_info")
    revision = request.app.state.settings.heat_revision
    return util.json({"api": {"revision": revision}, "engine": {"revision": revision}})


@router.get(TENANT + "/services")
async def services(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "service:index")
    listed = await util.engine(request).list_services(util.rpc_ctx(request))
    return util.json({"services": listed})
