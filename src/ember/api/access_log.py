"""One log line per request answered, as Heat's API servers write them::

    127.0.0.1 "POST /v1/p/stacks HTTP/1.1" status: 201  len: 180 time: 0.0123

Written when the last byte of the answer is sent, from within the request's task, so the
line carries the request's tags (request id, project, stack).
"""

from __future__ import annotations

import logging
import time

from starlette.types import Message, Scope, Send

LOG = logging.getLogger("ember.api.access")
QUIET = frozenset({"/healthcheck", "/metrics"})


def logged(scope: Scope, send: Send, *, with_query: bool = True) -> Send:
    """``send``, logging the request once its answer is complete (without its query
    string unless ``with_query``: a signed CloudFormation query carries a signature)."""
    begun = time.perf_counter()
    status = 0
    length = 0

    async def send_and_log(message: Message) -> None:
        nonlocal status, length
        await send(message)
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            length += len(message.get("body", b""))
            if not message.get("more_body", False):
                _line(scope, with_query, status, length, time.perf_counter() - begun)

    return send_and_log


def _line(scope: Scope, with_query: bool, status: int, length: int, seconds: float) -> None:
    client = scope.get("client")
    query = scope.get("query_string", b"") if with_query else b""
    target = scope.get("path", "") + (f"?{query.decode('latin-1')}" if query else "")
    path = scope.get("path", "")
    # What probes and scrapers ask every few seconds only shows when debugging.
    level = logging.DEBUG if path.rstrip("/") in QUIET else logging.INFO
    LOG.log(
        level,
        '%s "%s %s HTTP/%s" status: %d  len: %d time: %.4f',
        client[0] if client else "-",
        scope.get("method", ""),
        target,
        scope.get("http_version", "1.1"),
        status,
        length,
        seconds,
    )
