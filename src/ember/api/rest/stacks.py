"""Stack routes: list, create, preview, show, update, delete, and the name/id look-ups
that answer with a redirect to the canonical ``/stacks/{name}/{id}`` URL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest import util
from ember.api.rest.faults import HTTPError
from ember.api.rest.schemas import LIST_FILTERS, QUERIES, STACK_BODY, body_doc
from ember.common import errors

router = APIRouter()
PREFIX = "/v1/{tenant_id}/stacks"
SAFE_NAME = re.compile(r"[A-Za-z0-9_.~-]+")
# What GET /stacks takes, as its OpenAPI description declares it.
LIST_QUERY = QUERIES[("get", PREFIX)]
# Query parameters holding a comma-separated list of tags.
TAG_FILTERS = ("tags", "tags_any", "not_tags", "not_tags_any")
SUB_PATHS = (
    "resources",
    "events",
    "template",
    "actions",
    "environment",
    "files",
    "outputs",
    "snapshots",
    "abandon",
    "export",
    "preview",
)


IDEMPOTENCY_HEADER = "X-Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255


def _stack_args(data: dict[str, Any]) -> dict[str, Any]:
    """The create/update fields the engine takes from a request body."""
    if data.get("template_url") and data.get("template") is None:
        raise HTTPError(
            400,
            f'Could not fetch remote template "{data["template_url"]}": '
            "fetching templates from URLs is disabled; send the template "
            "in the request.",
        )
    args: dict[str, Any] = {}
    if "timeout_mins" in data and data["timeout_mins"] not in (None, 0, "0"):
        try:
            timeout = int(data["timeout_mins"])
        except (TypeError, ValueError):
            raise HTTPError(400, "timeout_mins must be an integer") from None
        if timeout < 0 or timeout > util.MAX_INT:
            raise HTTPError(400, f"Invalid timeout value {timeout}")
        args["timeout_mins"] = timeout
    tags = data.get("tags")
    if tags is not None and not (
        isinstance(tags, str) or (isinstance(tags, list) and all(isinstance(t, str) for t in tags))
    ):
        raise HTTPError(400, f"Invalid tags, not a list: {tags}")
    clear = data.get("clear_parameters")
    if clear is not None and not (
        isinstance(clear, list) and all(isinstance(p, str) for p in clear)
    ):
        raise HTTPError(400, f"Invalid clear_parameters, not a list of names: {clear}")
    if "disable_rollback" in data:
        value = data["disable_rollback"]
        args["disable_rollback"] = (
            util.flag(str(value), "disable_rollback") if not isinstance(value, bool) else value
        )
    for key in ("tags", "adopt_stack_data", "existing", "clear_parameters", "converge"):
        if key in data:
            args[key] = data[key]
    return args


def _idempotency_key(request: Request) -> str | None:
    """The client's key for a create (``X-Idempotency-Key``): sent again with the same key
    (after a 503 or a lost answer), the create answers with the stack the first one made.
    Not the request id: a client's global request id may cover several creates."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise HTTPError(
            400,
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
        )
    return key


def _check_sizes(data: dict[str, Any], limit: int) -> None:
    """``max_template_size`` for every document of a request however it is given: a
    template or environment sent as a JSON object counts as its JSON text, and each file
    (a nested template, an environment file, a script read by ``get_file``) counts too."""
    adopt = data.get("adopt_stack_data")
    documents: list[tuple[str, Any]] = [
        ("Template", data.get("template")),
        ("Environment", data.get("environment")),
        ("Template", adopt.get("template") if isinstance(adopt, dict) else None),
    ]
    files = data.get("files")
    if isinstance(files, dict):
        documents += [(f"File {name}", content) for name, content in files.items()]
    for what, document in documents:
        if document is None:
            continue
        if isinstance(document, str):
            size = len(document.encode("utf-8", "replace"))
        else:
            size = len(orjson.dumps(document))
        if size > limit:
            raise errors.RequestLimitExceeded(
                f"{what} size ({size} bytes) exceeds maximum allowed size ({limit} bytes)."
            )


def _engine_fields(data: dict[str, Any], max_template_size: int) -> dict[str, Any]:
    _check_sizes(data, max_template_size)
    parameters = data.get("parameters") or {}
    files = data.get("files") or {}
    env_files = data.get("environment_files")
    if not isinstance(parameters, dict) or not isinstance(files, dict):
        raise HTTPError(400, "parameters and files must be maps")
    if env_files is not None and not isinstance(env_files, list):
        raise HTTPError(400, "environment_files must be a list")
    environment = data.get("environment")
    if isinstance(environment, dict):
        for section in ("parameters", "parameter_defaults", "resource_registry"):
            if environment.get(section) is not None and not isinstance(environment[section], dict):
                raise HTTPError(
                    400,
                    f"The environment is invalid: {section} must be a map",
                    "InvalidEnvironment",
                )
    return {
        "template": data.get("template"),
        "params": parameters,
        "files": files,
        "environment": data.get("environment"),
        "environment_files": env_files,
    }


@router.get(PREFIX)
async def list_stacks(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:index")
    query = request.query_params
    unknown = [k for k in query if k not in LIST_QUERY]
    if unknown:
        raise HTTPError(400, f"Invalid filter parameters {unknown}")
    util.check_value_counts(request, TAG_FILTERS)
    filters: dict[str, list[Any]] = {k: query.getlist(k) for k in LIST_FILTERS if k in query}
    if "disable_rollback" in filters:
        filters["disable_rollback"] = [
            util.flag(v, "disable_rollback") for v in filters["disable_rollback"]
        ]
    if "timeout_mins" in filters:
        # An integer column: PostgreSQL compares it with integers only.
        filters["timeout_mins"] = [util.integer(v, "timeout_mins") for v in filters["timeout_mins"]]
    limit = util.integer(query.get("limit"), "limit")
    sort_dir = query.get("sort_dir")
    if sort_dir is not None and sort_dir.lower() not in ("asc", "desc"):
        raise HTTPError(400, "Unknown sort direction, must be 'desc' or 'asc'")
    params = {
        "filters": filters,
        "limit": limit,
        "marker": query.get("marker"),
        "sort_keys": query.getlist("sort_keys"),
        "sort_dir": sort_dir,
        "tags": query.get("tags"),
        "tags_any": query.get("tags_any"),
        "not_tags": query.get("not_tags"),
        "not_tags_any": query.get("not_tags_any"),
    }
    for key in ("show_deleted", "show_nested", "show_hidden", "global_tenant", "with_count"):
        params[key] = util.flag(query.get(key), key)
    if params["global_tenant"]:
        util.authorize(request, "stacks:global_index")
    result = await util.engine(request).count_and_list_stacks(util.rpc_ctx(request), **params)
    stacks = result["stacks"]
    prefix = f"{util.tenant_url(request)}/stacks/"  # built once: lists can be long
    for stack in stacks:
        name = stack["stack_name"]
        # Stack names are almost always URL-safe already; quote only those that are not.
        if not SAFE_NAME.fullmatch(name):
            name = quote(name, safe="")
        stack["links"] = [{"href": f"{prefix}{name}/{stack['id']}", "rel": "self"}]
    out: dict[str, Any] = {"stacks": stacks}
    if limit is not None and stacks and len(stacks) == limit:
        out["links"] = [{"rel": "next", "href": util.next_link(request, stacks[-1]["id"])}]
    if "count" in result:
        out["count"] = result["count"]
    return util.json(out)


@router.get(PREFIX + "/detail")
async def list_stacks_detail(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:detail")
    engine, ctx = util.engine(request), util.rpc_ctx(request)
    summaries = await engine.list_stacks(ctx)
    detailed = []
    for summary in summaries:
        stack = await engine.show_stack(ctx, summary["id"])
        stack["links"] = util.stack_links(request, stack["stack_name"], stack["id"])
        detailed.append(stack)
    return util.json({"stacks": detailed})


@router.post(PREFIX, status_code=201, openapi_extra=body_doc(STACK_BODY))
async def create_stack(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:create")
    data = await util.body(request)
    name = data.get("stack_name")
    if not name:
        raise HTTPError(400, "No stack name specified")
    if (
        data.get("template") is None
        and data.get("template_url") is None
        and data.get("adopt_stack_data") is None
    ):
        raise HTTPError(400, "No template specified")
    args = _stack_args(data)
    key = _idempotency_key(request)
    if key is not None:
        args["idempotency_key"] = key
    created = await util.engine(request).create_stack(
        util.rpc_ctx(request),
        name,
        args=args,
        **_engine_fields(data, util.max_template_size(request)),
    )
    location = util.stack_url(request, created["stack_name"], created["stack_id"])
    body = {"stack": {"id": created["stack_id"], "links": [{"href": location, "rel": "self"}]}}
    return util.json(body, 201, headers={"Location": location})


@router.post(PREFIX + "/preview", openapi_extra=body_doc(STACK_BODY))
async def preview_stack(tenant_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:preview")
    data = await util.body(request)
    name = data.get("stack_name")
    if not name:
        raise HTTPError(400, "No stack name specified")
    stack = await util.engine(request).preview_stack(
        util.rpc_ctx(request),
        name,
        args=_stack_args(data),
        **_engine_fields(data, util.max_template_size(request)),
    )
    stack["links"] = util.stack_links(request, name, stack["id"])
    return util.json({"stack": stack})


async def _lookup(request: Request, identity: str, sub: str = "") -> Response:
    found = await util.engine(request).identify_stack(util.rpc_ctx(request), identity)
    location = util.stack_url(request, found["stack_name"], found["stack_id"])
    return util.redirect(request, location + (f"/{sub}" if sub else ""))


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):

    @router.api_route(
        PREFIX + "/{stack_identity}",
        methods=[_method],
        status_code=302,
        name=f"lookup_{_method.lower()}",
    )
    async def lookup(tenant_id: str, stack_identity: str, request: Request) -> Response:
        util.authorize(request, "stacks:lookup")
        return await _lookup(request, stack_identity)


@router.api_route(
    PREFIX + "/arn:{arn:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    status_code=302,
    include_in_schema=False,
)
async def lookup_arn(tenant_id: str, arn: str, request: Request) -> Response:
    util.authorize(request, "stacks:lookup")
    full = f"arn:{arn}"
    head, _, rest = full.partition(":stacks/")
    parts = rest.split("/")
    identity = f"{head}:stacks/{'/'.join(parts[:2])}"
    return await _lookup(request, identity, "/".join(parts[2:]))


for _sub in (
    "resources",
    "events",
    "template",
    "actions",
    "environment",
    "files",
    "outputs",
    "snapshots",
):
    # One route per method, so that each operation gets an id of its own.
    @router.api_route(
        PREFIX + "/{stack_identity}/" + _sub,
        methods=["GET"],
        status_code=302,
        name=f"lookup_{_sub}_get",
    )
    @router.api_route(
        PREFIX + "/{stack_identity}/" + _sub,
        methods=["POST"],
        status_code=302,
        name=f"lookup_{_sub}_post",
    )
    async def lookup_sub(tenant_id: str, stack_identity: str, request: Request) -> Response:
        util.authorize(request, "stacks:lookup")
        return await _lookup(request, stack_identity, request.url.path.rsplit("/", 1)[1])


@router.get(PREFIX + "/{stack_name}/{stack_id}")
async def show_stack(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:show")
    resolve = util.flag(request.query_params.get("resolve_outputs"), "resolve_outputs", True)
    stack = await util.engine(request).show_stack(
        util.rpc_ctx(request), stack_name, stack_id=stack_id, resolve_outputs=resolve
    )
    stack["links"] = util.stack_links(request, stack["stack_name"], stack["id"])
    return util.json({"stack": stack})


async def _update(request: Request, stack_name: str, stack_id: str, *, patch: bool) -> None:
    data = await util.body(request, required=not patch)
    args = _stack_args(data)
    if patch:
        args["existing"] = True
    await util.engine(request).update_stack(
        util.rpc_ctx(request),
        stack_name,
        stack_id=stack_id,
        args=args,
        **_engine_fields(data, util.max_template_size(request)),
    )


# What a PATCH may carry that changes the stack (``existing`` only says "keep the rest").
CHANGES = (
    "template",
    "template_url",
    "parameters",
    "environment",
    "environment_files",
    "files",
    "files_container",
)


def _no_change(data: dict[str, Any]) -> bool:
    """Heat's "PATCH with no changes" (its own rule): nothing but ``existing``."""
    return not any(data.get(k) for k in CHANGES) and all(
        k == "existing" or k in CHANGES for k in data
    )


ACCEPTED = "202 Accepted\n\nThe request is accepted for processing.\n"


@router.put(
    PREFIX + "/{stack_name}/{stack_id}", status_code=202, openapi_extra=body_doc(STACK_BODY)
)
async def update_stack(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:update")
    await _update(request, stack_name, stack_id, patch=False)
    return Response(ACCEPTED, status_code=202, media_type="text/plain")


@router.patch(
    PREFIX + "/{stack_name}/{stack_id}", status_code=202, openapi_extra=body_doc(STACK_BODY)
)
async def update_stack_patch(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    data = await util.body(request, required=False)
    rule = "stacks:update_no_change" if _no_change(data) else "stacks:update_patch"
    util.authorize(request, rule)
    await _update(request, stack_name, stack_id, patch=True)
    return Response(ACCEPTED, status_code=202, media_type="text/plain")


async def _preview_update(
    request: Request, stack_name: str, stack_id: str, *, patch: bool
) -> Response:
    data = await util.body(request, required=not patch)
    args = _stack_args(data)
    if patch:
        args["existing"] = True
    if util.flag(request.query_params.get("show_nested"), "show_nested"):
        args["show_nested"] = True
    changes = await util.engine(request).preview_update_stack(
        util.rpc_ctx(request),
        stack_name,
        stack_id=stack_id,
        args=args,
        **_engine_fields(data, util.max_template_size(request)),
    )
    return util.json(changes)


@router.put(PREFIX + "/{stack_name}/{stack_id}/preview", openapi_extra=body_doc(STACK_BODY))
async def preview_update(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:preview_update")
    return await _preview_update(request, stack_name, stack_id, patch=False)


@router.patch(PREFIX + "/{stack_name}/{stack_id}/preview", openapi_extra=body_doc(STACK_BODY))
async def preview_update_patch(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:preview_update_patch")
    return await _preview_update(request, stack_name, stack_id, patch=True)


@router.delete(PREFIX + "/{stack_name}/{stack_id}", status_code=204)
async def delete_stack(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:delete")
    await util.engine(request).delete_stack(util.rpc_ctx(request), stack_name, stack_id=stack_id)
    return Response(status_code=204)
