"""What the APIs count, and ``GET /metrics`` in Prometheus's text format.

Requests are counted by service, route (the path template, never the path itself, so
that stack names do not become series), method and status, with a histogram of their
durations. When the process's workers share their metrics (``PROMETHEUS_MULTIPROC_DIR``,
set by the process that forks them), ``/metrics`` adds up every worker's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUESTS = Counter(
    "ember_api_requests_total",
    "HTTP requests answered, by service, route, method and status.",
    ["service", "route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "ember_api_request_seconds",
    "Time to answer an HTTP request, by service, route and method.",
    ["service", "route", "method"],
)
RouteOf = Callable[[Scope], str]


def metrics_response() -> Response:
    """Every metric of this process (of all its sibling workers, when they share them)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """The route the router matched (its path template), else ``unmatched``."""
    route = scope.get("route")
    return route.path if isinstance(route, Route) else "unmatched"


class RequestMetrics:
    """ASGI middleware counting each request and timing it until its last byte."""

    def __init__(self, app: ASGIApp, service: str, route_of: RouteOf = route_template) -> None:
        self.app = app
        self.service = service
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        begun = time.perf_counter()
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            route, method = self.route_of(scope), str(scope.get("method", ""))
            REQUESTS.labels(self.service, route, method, str(status)).inc()
            REQUEST_SECONDS.labels(self.service, route, method).observe(time.perf_counter() - begun)
