"""Helpers shared by the route modules: the caller, request bodies, query parameters and
links built from the request's own URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest.context import RequestContext
from ember.api.rest.faults import HTTPError
from ember.api.rest.middleware import json_body

TRUE = {"true", "1", "yes", "on", "t", "y"}
# The largest count or timeout taken (a signed 32-bit column, as in Heat's database).
MAX_INT = 2**31 - 1
FALSE = {"false", "0", "no", "off", "f", "n"}
# The most values a list query takes for one filter (repeated, or comma-separated tags):
# each becomes a term of the database query, whose size every database bounds (SQLite's
# expression depth most tightly). Every filter of a query at this bound is still served.
MAX_FILTER_VALUES = 100


def context(request: Request) -> RequestContext:
    return request.scope["state"]["context"]  # type: ignore[no-any-return]


def authorize(request: Request, rule: str) -> None:
    """Refuse the request (Heat's 403 ``Forbidden``) unless the policy allows ``rule``."""
    request.app.state.policy.authorize(rule, context(request).credentials)


def rpc_ctx(request: Request, **extra: Any) -> dict[str, Any]:
    return context(request).rpc(**extra)


def engine(request: Request) -> Any:
    return request.app.state.engine


def max_template_size(request: Request) -> int:
    return int(request.app.state.settings.max_template_size)


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


async def body(request: Request, *, required: bool = True) -> dict[str, Any]:
    data = json_body(await request.body(), request.headers.get("content-type"))
    if data is None:
        if required:
            raise HTTPError(
                400,
                "The server could not comply with the request since it is "
                "either malformed or otherwise incorrect.",
            )
        return {}
    if not isinstance(data, dict):
        raise HTTPError(400, "The request body must be a JSON object.")
    return data


def flag(value: str | None, name: str, default: bool = False) -> bool:
    if value is None:
        return default
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise HTTPError(
        400, f'Unrecognized value "{value}" for "{name}", acceptable values are: true, false'
    )


def integer(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise HTTPError(400, f"{name} needs to be an integer") from None
    if number < 0:
        raise HTTPError(400, f"{name} needs to be a non-negative integer")
    if number > MAX_INT:
        raise HTTPError(400, f"{name} needs to be at most {MAX_INT}")
    return number


def check_value_counts(request: Request, comma_lists: tuple[str, ...] = ()) -> None:
    """Refuse a query giving one parameter more than ``MAX_FILTER_VALUES`` values; the
    parameters named in ``comma_lists`` count the comma-separated items of their value."""
    query = request.query_params
    for name in set(query.keys()):
        values = query.getlist(name)
        if name in comma_lists:
            count = len([item for item in (query.get(name) or "").split(",") if item])
        else:
            count = len(values)
        if count > MAX_FILTER_VALUES:
            raise HTTPError(
                400,
                f"Too many values for {name!r}: {count} given, at most {MAX_FILTER_VALUES}.",
            )


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def tenant_url(request: Request) -> str:
    tenant = request.path_params.get("tenant_id") or context(request).project_id
    return f"{base(request)}/v1/{quote(str(tenant), safe='')}"


def stack_url(request: Request, name: str, stack_id: str) -> str:
    return f"{tenant_url(request)}/stacks/{quote(name, safe='')}/{stack_id}"


def stack_links(request: Request, name: str, stack_id: str) -> list[dict[str, str]]:
    return [{"href": stack_url(request, name, stack_id), "rel": "self"}]


def redirect(request: Request, location: str) -> Response:
    if request.url.query:
        location = f"{location}?{request.url.query}"
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        payload = orjson.dumps(
            {
                "code": "302 Found",
                "title": "Found",
                "message": f'The resource was found at <a href="{location}">{location}</a>;',
            }
        )
        return Response(
            payload, status_code=302, media_type="application/json", headers={"Location": location}
        )
    return Response(
        f"302 Found\n\nThe resource was found at {location}; you should be "
        "redirected automatically.\n",
        status_code=302,
        media_type="text/plain",
        headers={"Location": location},
    )


def query_list(request: Request, name: str) -> list[str]:
    return request.query_params.getlist(name)


def next_link(request: Request, marker: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    params.append(("marker", marker))
    return f"{base(request)}{request.url.path}?{urlencode(params)}"


def null() -> Response:
    return Response(b"null", status_code=200, media_type="application/json")
