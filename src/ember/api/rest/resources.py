"""Resource and event routes of a stack."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest import util
from ember.api.rest.faults import HTTPError
from ember.api.rest.schemas import ANY_MAP, MARK_BODY, body_doc

router = APIRouter()
STACK = "/v1/{tenant_id}/stacks/{stack_name}/{stack_id}"
RESOURCE_FILTERS = ("type", "status", "name", "action", "id", "physical_resource_id")
EVENT_FILTERS = ("resource_status", "resource_action", "resource_name", "resource_type")


def _resource_links(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    stack = util.stack_url(request, item.pop("stack_name"), item.pop("stack_id"))
    links = [
        {"href": f"{stack}/resources/{quote(item['resource_name'], safe='')}", "rel": "self"},
        {"href": stack, "rel": "stack"},
    ]
    nested_name, nested_id = item.pop("nested_stack_name", None), item.pop("nested_stack_id", None)
    if nested_name and nested_id:
        links.append({"href": util.stack_url(request, nested_name, nested_id), "rel": "nested"})
    item["links"] = links
    return item


def event_links(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    stack = util.stack_url(request, item.pop("stack_name"), item.pop("stack_id"))
    resource = f"{stack}/resources/{quote(item['resource_name'], safe='')}"
    links = [
        {"href": f"{resource}/events/{item['id']}", "rel": "self"},
        {"href": resource, "rel": "resource"},
        {"href": stack, "rel": "stack"},
    ]
    root = item.pop("root_stack_id", None)
    if root:
        links.append({"href": f"{util.tenant_url(request)}/stacks/{root}", "rel": "root_stack"})
    item["links"] = links
    return item


@router.get(STACK + "/resources")
async def list_resources(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    util.authorize(request, "resource:index")
    query = request.query_params
    unknown = [k for k in query if k not in (*RESOURCE_FILTERS, "nested_depth", "with_detail")]
    if unknown:
        raise HTTPError(400, f"Invalid filter parameters {unknown}")
    util.check_value_counts(request)
    filters = {k: query.getlist(k) for k in RESOURCE_FILTERS if k in query}
    listed = await util.engine(request).list_resources(
        util.rpc_ctx(request),
        stack_name,
        stack_id=stack_id,
        with_detail=util.flag(query.get("with_detail"), "with_detail"),
        nested_depth=util.integer(query.get("nested_depth"), "nested_depth") or 0,
        filters=filters,
    )
    return util.json({"resources": [_resource_links(request, r) for r in listed]})


@router.get(STACK + "/resources/{resource_name}")
async def show_resource(
    tenant_id: str, stack_name: str, stack_id: str, resource_name: str, request: Request
) -> Response:
    util.authorize(request, "resource:show")
    shown = await util.engine(request).show_resource(
        util.rpc_ctx(request), stack_name, resource_name, stack_id=stack_id
    )
    wanted = request.query_params.getlist("with_attr")
    if wanted:
        shown["attributes"] = {k: shown["attributes"].get(k) for k in wanted}
    return util.json({"resource": _resource_links(request, shown)})


@router.get(STACK + "/resources/{resource_name}/metadata")
async def resource_metadata(
    tenant_id: str, stack_name: str, stack_id: str, resource_name: str, request: Request
) -> Response:
    util.authorize(request, "resource:metadata")
    metadata = await util.engine(request).resource_metadata(
        util.rpc_ctx(request), stack_name, resource_name, stack_id=stack_id
    )
    return util.json({"metadata": metadata})


@router.post(
    STACK + "/resources/{resource_name}/signal", openapi_extra=body_doc(ANY_MAP, required=False)
)
async def signal(
    tenant_id: str, stack_name: str, stack_id: str, resource_name: str, request: Request
) -> Response:
    util.authorize(request, "resource:signal")
    details = await util.body(request, required=False) or None
    await util.engine(request).signal_resource(
        util.rpc_ctx(request), stack_name, resource_name, details=details, stack_id=stack_id
    )
    return util.null()


@router.patch(STACK + "/resources/{resource_name}", openapi_extra=body_doc(MARK_BODY))
async def mark_unhealthy(
    tenant_id: str, stack_name: str, stack_id: str, resource_name: str, request: Request
) -> Response:
    util.authorize(request, "resource:mark_unhealthy")
    data = await util.body(request)
    unknown = [k for k in data if k not in ("mark_unhealthy", "resource_status_reason")]
    if unknown or "mark_unhealthy" not in data:
        raise HTTPError(
            400,
            f"Invalid keys in resource mark unhealthy {unknown}"
            if unknown
            else 'Missing mandatory ("mark_unhealthy") key',
        )
    value = data["mark_unhealthy"]
    if not isinstance(value, bool):
        value = util.flag(str(value), "mark_unhealthy")
    reason = data.get("resource_status_reason") or ""
    await util.engine(request).mark_unhealthy(
        util.rpc_ctx(request), stack_name, resource_name, value, str(reason), stack_id=stack_id
    )
    return util.null()


def _event_params(request: Request) -> dict[str, Any]:
    query = request.query_params
    unknown = [
        k
        for k in query
        if k not in (*EVENT_FILTERS, "limit", "marker", "sort_keys", "sort_dir", "nested_depth")
    ]
    if unknown:
        raise HTTPError(400, f"Invalid filter parameters {unknown}")
    util.check_value_counts(request)
    sort_dir = query.get("sort_dir", "desc")
    if sort_dir.lower() not in ("asc", "desc"):
        raise HTTPError(400, "Unknown sort direction, must be 'desc' or 'asc'")
    return {
        "filters": {k: query.getlist(k) for k in EVENT_FILTERS if k in query},
        "limit": util.integer(query.get("limit"), "limit"),
        "marker": query.get("marker"),
        "sort_keys": query.getlist("sort_keys"),
        "sort_dir": sort_dir,
        "nested_depth": util.integer(query.get("nested_depth"), "nested_depth") or 0,
    }


@router.get(STACK + "/events")
async def list_events(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "events:index")
    listed = await util.engine(request).list_events(
        util.rpc_ctx(request), stack_name, stack_id=stack_id, **_event_params(request)
    )
    return util.json({"events": [event_links(request, e) for e in listed]})


@router.get(STACK + "/resources/{resource_name}/events")
async def resource_events(
    tenant_id: str, stack_name: str, stack_id: str, resource_name: str, request: Request
) -> Response:
    util.authorize(request, "events:index")
    params = _event_params(request)
    params["filters"]["resource_name"] = [resource_name]
    listed = await util.engine(request).list_events(
        util.rpc_ctx(request), stack_name, stack_id=stack_id, **params
    )
    if not listed:
        raise HTTPError(404, f"No events found for resource {resource_name}", "EntityNotFound")
    return util.json({"events": [event_links(request, e) for e in listed]})


@router.get(STACK + "/resources/{resource_name}/events/{event_id}")
async def show_event(
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    event_id: str,
    request: Request,
) -> Response:
    util.authorize(request, "events:show")
    shown = await util.engine(request).show_event(
        util.rpc_ctx(request), stack_name, resource_name, event_id, stack_id=stack_id
    )
    return util.json({"event": event_links(request, shown)})
