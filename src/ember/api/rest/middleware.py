"""The ASGI layer in front of the routes: request ids, version negotiation, health checks,
authentication and body limits (what Heat's paste pipeline does). ``HEAD`` is answered as
``GET`` is, without the body (the server leaves it out)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ember.api import access_log
from ember.api.metrics import metrics_response
from ember.api.rest import context as ctxmod
from ember.api.rest import signal_tokens
from ember.api.rest.faults import Forbidden, HTTPError, fault_response
from ember.api.rest.signal_tokens import SignalTokens
from ember.api.versions import versions_document
from ember.common import errors, log_tags
from ember.common.nesting import MAX_DEPTH, nested_deeper_than
from ember.policy.enforcer import Enforcer

LOG = logging.getLogger(__name__)
VERSION_PATH = re.compile(r"^/v1(?:\.0)?(?=/|$)")
Health = Callable[[], Awaitable[bool]]
# The widest identities the database stores (project and user ids, user names).
IDENTITY_LIMITS = {"project id": 64, "user id": 64, "user name": 255}
STACK_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Unauthorized(errors.EmberError):
    msg_fmt = "Authentication required"


class HeatMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        flavor: str | None,
        max_body: int,
        health: Health,
        policy: Enforcer,
        keystone: Callable[[Request], Awaitable[Request | None]] | None = None,
        signal_tokens: SignalTokens | None = None,
    ) -> None:
        self.app = app
        self.signal_tokens = signal_tokens
        self.policy = policy
        self.flavor = flavor or "keystone"
        self.max_body = max_body
        self.health = health
        self.keystone = keystone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            # Routed as GET; the server still knows the request was HEAD and sends no body.
            scope = {**scope, "method": "GET"}
        request_id = f"req-{uuid.uuid4()}"
        header = (b"x-openstack-request-id", request_id.encode())

        send_logged = access_log.logged(scope, send)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], header]
            await send_logged(message)

        with log_tags.tagged(request_id=request_id):
            try:
                response = await self._route(scope, request_id)
            except errors.EmberError as exc:
                response = fault_response(exc)
            except Exception as exc:
                # Failing below the routes (a health probe, the token check) is still
                # answered with the fault body, as the routes' own failures are.
                LOG.exception("%s %s failed", scope["method"], scope["path"])
                response = fault_response(exc)
            if response is not None:
                await response(scope, receive, send_with_id)
                return
            await self._with_body_limit(scope, receive, send_with_id)

    async def _route(self, scope: Scope, request_id: str) -> Response | None:
        request = Request(scope)
        path: str = scope["path"]
        if path.rstrip("/") == "/healthcheck":
            healthy = await self.health()
            return PlainTextResponse(
                "OK" if healthy else "DOWN", status_code=200 if healthy else 503
            )
        if path.rstrip("/") == "/metrics":  # as /healthcheck: for the operator's scraper
            return metrics_response()
        if path in ("/openapi.json",):
            return None
        first = path.strip("/").split("/", 1)[0]
        if first in ("", "versions") or (
            re.fullmatch(r"v\d+(\.\d+)?", first) and not VERSION_PATH.match(path)
        ):
            return versions_document(request)
        if not VERSION_PATH.match(path):
            accept = request.headers.get("accept", "")
            if "application/vnd.openstack.orchestration-v1.0" not in accept:
                raise HTTPError(404, "The resource could not be found.")
            scope["path"] = "/v1" + path
            path = scope["path"]
        parts = path.strip("/").split("/")
        tenant = parts[1] if len(parts) > 1 else None
        context = (await self._context(request, tenant, request_id)).with_policy(self.policy)
        log_tags.tag(
            project_id=context.project_id, user_id=context.user_id, stack_id=_stack_id(parts)
        )
        _check_identity(context)
        if tenant is not None and tenant != context.project_id:
            if not context.is_admin:
                raise Forbidden()
            # As in Heat, an admin's path project is silently replaced by its own.
            parts[1] = context.project_id
            scope["path"] = "/" + "/".join(parts) + ("/" if path.endswith("/") else "")
        scope.setdefault("state", {})["context"] = context
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise HTTPError(
                400,
                f"Request limit exceeded: JSON body size ({length} bytes) "
                f"exceeds maximum allowed size ({self.max_body} bytes).",
                "RequestLimitExceeded",
            )
        return None

    async def _context(
        self, request: Request, tenant: str | None, request_id: str
    ) -> ctxmod.RequestContext:
        token = request.headers.get("x-auth-token")
        if self.signal_tokens is not None and signal_tokens.is_signal_token(token):
            # A resource's own token, whatever the flavor: Keystone never issued it.
            assert token is not None
            scoped = await self.signal_tokens.context(token, request_id)
            if scoped is None:
                raise _Unauthorized401()
            if not signal_tokens.allowed(request.method, request.url.path):
                raise Forbidden()
            return scoped
        if self.flavor == "noauth":
            return ctxmod.noauth_context(request, tenant, request_id)
        if self.keystone is None:
            raise Unauthorized()
        validated = await self.keystone(request)
        context = ctxmod.keystone_context(validated, request_id) if validated else None
        if context is None:
            raise _Unauthorized401(getattr(self.keystone, "challenge", None))
        return context

    async def _with_body_limit(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        limit = self.max_body

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPError(
                        400,
                        "Request limit exceeded: JSON body size exceeds "
                        f"maximum allowed size ({limit} bytes).",
                        "RequestLimitExceeded",
                    )
            return message

        try:
            await self.app(scope, limited, send)
        except HTTPError as exc:
            await fault_response(exc)(scope, receive, send)


class _Unauthorized401(HTTPError):
    def __init__(self, challenge: str | None = None) -> None:
        # keystonemiddleware's challenge names where to get a token (www_authenticate_uri).
        headers = {"WWW-Authenticate": challenge} if challenge else None
        super().__init__(401, "Authentication required", "HTTPUnauthorized", headers)


def _check_identity(context: ctxmod.RequestContext) -> None:
    """The caller's identity fits the columns that record it (it may come from headers)."""
    for what, value in (
        ("project id", context.project_id),
        ("user id", context.user_id),
        ("user name", context.username),
    ):
        limit = IDENTITY_LIMITS[what]
        if len(value) > limit:
            raise HTTPError(
                400, f"The {what} ({len(value)} characters) is longer than {limit} characters."
            )


def json_body(raw: bytes, content_type: str | None) -> Any:
    """Heat parses a body as JSON only when it looks like a JSON object."""
    kind = (content_type or "application/json").split(";")[0].strip().lower()
    if (
        not raw
        or kind not in ("application/json", "text/plain")
        or not raw.lstrip().startswith(b"{")
    ):
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HTTPError(
            400,
            f"The server could not comply with the request since it is either "
            f"malformed or otherwise incorrect: {exc}",
        ) from None
    # Each member (a template, an environment, parameters...) nests no deeper than a
    # document may; deeper ones could not be passed on to the engines either.
    if isinstance(data, dict) and raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        for key, value in data.items():
            if nested_deeper_than(value, MAX_DEPTH):
                raise HTTPError(
                    400, f"The {key!r} of the request is nested more than {MAX_DEPTH} levels deep."
                )
    return data


def _stack_id(parts: list[str]) -> str | None:
    """The stack id a ``/v1/{project}/stacks/{name}/{id}...`` path names, if any."""
    if len(parts) > 4 and parts[2] == "stacks" and STACK_ID.fullmatch(parts[4]):
        return parts[4]
    return None
