"""The heat-api application: routes, error mapping and the middleware in front of them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp

from ember.api.metrics import RequestMetrics
from ember.api.rest import (
    catalog,
    event_stream,
    failures,
    resources,
    software,
    stack_parts,
    stacks,
)
from ember.api.rest.event_stream import EventHub
from ember.api.rest.faults import HTTPError, fault_response
from ember.api.rest.middleware import Health, HeatMiddleware
from ember.api.rest.schemas import describe_routes
from ember.api.rest.signal_tokens import SignalTokens
from ember.common import errors
from ember.common.settings import Settings
from ember.policy.enforcer import Enforcer
from ember.rpc.client import EngineClient


def create_app(
    settings: Settings, engine: EngineClient, health: Health, keystone: Any = None
) -> ASGIApp:
    app = FastAPI(
        title="Ember Orchestration API",
        version="1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # As Heat's router: a path with a trailing slash (or one that ends in one once
        # decoded, ``..%2F``) is not found, never redirected.
        redirect_slashes=False,
    )
    policy = Enforcer.from_config_args(settings.config_args)
    app.state.engine = engine
    app.state.settings = settings
    app.state.policy = policy
    app.state.event_hub = EventHub(engine.transport)
    for module in (stacks, stack_parts, resources, event_stream, failures, catalog, software):
        app.include_router(module.router)
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_routes(generate_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(errors.EmberError)
    async def ember_error(request: Request, exc: errors.EmberError) -> Response:
        return fault_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return fault_response(
            HTTPError(
                400,
                "The server could not comply with the request "
                "since it is either malformed or otherwise "
                "incorrect.",
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = _allowed(app, request.url.path)
            headers["Allow"] = ",".join(allowed)
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=headers)
        return fault_response(HTTPError(exc.status_code, str(exc.detail)), headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return fault_response(exc)

    return RequestMetrics(
        HeatMiddleware(
            app,
            flavor=settings.paste_flavor,
            max_body=settings.max_json_body_size,
            health=health,
            policy=policy,
            keystone=keystone,
            signal_tokens=SignalTokens(engine),
        ),
        "heat-api",
    )


def _leaf_routes(routes: list[Any]) -> list[Any]:
    """Routes of included routers too (newer FastAPI keeps them nested)."""
    leaves: list[Any] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        leaves.extend(_leaf_routes(inner.routes) if inner is not None else [route])
    return leaves


def _allowed(app: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    for route in _leaf_routes(app.router.routes):
        scope = {"type": "http", "path": path, "method": "GET"}
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", set()) or set())
    methods.discard("HEAD")
    order = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [m for m in order if m in methods]
