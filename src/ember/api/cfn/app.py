"""The heat-api-cfn application: ``/v1`` (and ``/v1/``) dispatches on ``Action``, GET or
form POST, after the request's signature names its caller.

Every answer is CloudFormation's: a result or an ``ErrorResponse`` (XML, or JSON with
``ContentType=JSON``), with the request id also in ``x-amzn-RequestId``. An unexpected
failure is logged with its traceback and answered ``InternalFailure`` (500) with the
request id, never a bare server error. ``/healthcheck`` answers as heat-api's does, and
``/`` with the versions document, as Heat's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from ember.api import access_log
from ember.api.cfn import faults, render, signals, stack_parts, stacks, templates
from ember.api.cfn.auth import Authenticator
from ember.api.cfn.call import ActionCall, Fetch
from ember.api.cfn.query import Query, parse_pairs
from ember.api.cfn.signing import signed_request
from ember.api.cfn.throttle import Throttle
from ember.api.metrics import RequestMetrics, metrics_response
from ember.api.rest.context import RequestContext, with_implied
from ember.api.versions import versions_document
from ember.common import log_tags
from ember.common.settings import Settings
from ember.policy.enforcer import Enforcer
from ember.rpc.client import EngineClient

LOG = logging.getLogger(__name__)
Health = Callable[[], Awaitable[bool]]
Action = Callable[[ActionCall], Awaitable[Mapping[str, object] | None]]

ACTIONS: dict[str, Action] = {
    "CreateStack": stacks.create_stack,
    "UpdateStack": stacks.update_stack,
    "DeleteStack": stacks.delete_stack,
    "CancelUpdateStack": stacks.cancel_update_stack,
    "DescribeStacks": stacks.describe_stacks,
    "ListStacks": stacks.list_stacks,
    "DescribeStackEvents": stack_parts.describe_stack_events,
    "DescribeStackResource": stack_parts.describe_stack_resource,
    "DescribeStackResources": stack_parts.describe_stack_resources,
    "ListStackResources": stack_parts.list_stack_resources,
    "GetTemplate": templates.get_template,
    "ValidateTemplate": templates.validate_template,
    "GetTemplateSummary": templates.get_template_summary,
    "EstimateTemplateCost": templates.estimate_template_cost,
}
# Heat's policy rule of each action (``cloudformation:<Action>``); a summary is a validation.
RULES = {name: f"cloudformation:{name}" for name in ACTIONS}
RULES["GetTemplateSummary"] = "cloudformation:ValidateTemplate"
FORM = "application/x-www-form-urlencoded"
# What a resource's signal credential may ask of the Query API: its resource's metadata.
SIGNAL_SCOPED_ACTIONS = frozenset({"DescribeStackResource"})


VERSION_METHODS = ("GET", "HEAD", "OPTIONS")


def cfn_route(scope: Scope) -> str:
    """What a CloudFormation request is counted under: the Query API, a signal route, or
    the path of the few others (never an ARN)."""
    path = str(scope.get("path", ""))
    route = signals.route_of(path)
    if route is not None:
        return f"/v1/{route[0]}/{{arn}}"
    if path in ("/v1", "/v1/"):
        return "/v1/"
    return path if path.rstrip("/") in ("", "/healthcheck", "/metrics", "/versions") else "other"


class CfnApp:
    """The ASGI application of heat-api-cfn."""

    def __init__(
        self,
        settings: Settings,
        engine: EngineClient,
        health: Health,
        authenticator: Authenticator,
        fetch: Fetch | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.health = health
        self.authenticator = authenticator
        self.policy = Enforcer.from_config_args(settings.config_args)
        self.throttle = Throttle(
            settings.cfn_max_requests_per_second, settings.cfn_max_request_burst
        )
        # The fetcher this application made (and closes), unless the caller gave one.
        self._fetcher = (
            templates.TemplateFetcher(settings.template_url_hosts, settings.max_template_size)
            if fetch is None
            else None
        )
        self.fetch: Fetch = fetch or self._fetcher  # type: ignore[assignment]
        self._measured = RequestMetrics(self._serve, "heat-api-cfn", cfn_route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._measured(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        logged = access_log.logged(scope, send, with_query=False)
        with log_tags.tagged():  # what the request's lines are tagged with goes with it
            response = await self._answer(request)
            await response(scope, receive, logged)

    async def _answer(self, request: Request) -> Response:
        path = request.url.path
        if path.rstrip("/") == "/healthcheck":
            healthy = await self.health()
            return PlainTextResponse(
                "OK" if healthy else "DOWN", status_code=200 if healthy else 503
            )
        if path.rstrip("/") == "/metrics":
            return metrics_response()
        request_id = str(uuid.uuid4())
        log_tags.tag(request_id=request_id)
        route = signals.route_of(path)
        if route is not None:
            return await self._signal(request, route, request_id)
        if path not in ("/v1", "/v1/"):
            # OPTIONS too: HAProxy's ``option httpchk`` checks a server with ``OPTIONS /``.
            if path.strip("/") in ("", "versions") and request.method in VERSION_METHODS:
                return versions_document(request)
            return render.error(
                faults.NotFound("The resource could not be found."), request_id, False
            )
        if request.method not in ("GET", "POST", "HEAD"):
            return render.error(
                faults.MethodNotAllowed(f"The method {request.method[:16]} is not allowed."),
                request_id,
                False,
            )
        as_json = False
        try:
            query, body = await self._query(request)
            as_json = query.get("ContentType") == "JSON"
            return await self._act(request, query, body, request_id, as_json)
        except faults.AwsError as exc:
            return render.error(exc, request_id, as_json)
        except Exception:
            LOG.exception("heat-api-cfn request %s failed", request_id)
            return _internal_failure(request_id, as_json)

    async def _signal(self, request: Request, route: tuple[str, str], request_id: str) -> Response:
        try:
            kind, arn = route
            signals.check_method(kind, request.method)
            body = await self._body(request)
            context = await self._caller(request, body, request_id)
            return await signals.answer(kind, arn, body, context, self.engine)
        except faults.AwsError as exc:
            return render.error(exc, request_id, False)
        except Exception:
            LOG.exception("heat-api-cfn signal %s failed", request_id)
            return _internal_failure(request_id, False)

    async def _body(self, request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        limit = self.settings.max_json_body_size
        if length.isdigit() and int(length) > limit:
            raise faults.RequestEntityTooLarge(f"The request is larger than {limit} bytes.")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise faults.RequestEntityTooLarge(f"The request is larger than {limit} bytes.")
        return bytes(body)

    async def _query(self, request: Request) -> tuple[Query, bytes]:
        body = await self._body(request)
        pairs = [parse_pairs(request.scope.get("query_string", b""), "query string")]
        if request.method == "POST" and body:
            kind = request.headers.get("content-type", FORM).split(";")[0].strip().lower()
            if kind != FORM:
                raise faults.MalformedQueryString(f"A POST's body must be {FORM}.")
            pairs.append(parse_pairs(bytes(body), "request body"))
        return Query.of(*pairs), bytes(body)

    async def _act(
        self, request: Request, query: Query, body: bytes, request_id: str, as_json: bool
    ) -> Response:
        # Who is calling first: an unsigned request learns nothing, not even which actions
        # exist.
        context = await self._caller(request, body, request_id)
        name = query.get("Action")
        if not name:
            raise faults.MissingAction("The request must contain the parameter Action.")
        action = ACTIONS.get(name)
        if action is None:
            version = query.get("Version") or "NO_VERSION_SPECIFIED"
            raise faults.InvalidAction(
                f"Could not find operation {name[:64]} for version {version[:32]}"
            )
        if context.signal_scoped and name not in SIGNAL_SCOPED_ACTIONS:
            # A resource's signal credential reads its own resource, and signals it above.
            raise faults.AccessDenied(f"User is not authorized to perform: {RULES[name]}")
        if not self.policy.allows(RULES[name], context.credentials):
            raise faults.AccessDenied(f"User is not authorized to perform: {RULES[name]}")
        call = ActionCall(query, context, self.engine, self.settings, self.fetch)
        value = await action(call)
        return render.result(name, value, request_id, as_json)

    async def _caller(self, request: Request, body: bytes, request_id: str) -> RequestContext:
        signed = signed_request(
            request.method,
            request.headers.get("host", ""),
            # Still percent-encoded, as the client signed it.
            bytes(request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1"),
            parse_pairs(request.scope.get("query_string", b""), "query string"),
            # A POSTed form is signed with the query; a JSON body (a signal's) is not.
            parse_pairs(body, "request body") if _is_form(request, body) else [],
            request.headers,
            body,
            datetime.now(UTC),
        )
        self.throttle.admit(signed.access)
        identity = await self.authenticator.authenticate(signed)
        context = RequestContext(
            project_id=identity.project_id,
            username=identity.username,
            user_id=identity.user_id,
            roles=with_implied(identity.roles),
            request_id=request_id,
            signal_resource_id=identity.signal_resource_id,
        )
        log_tags.tag(project_id=context.project_id, user_id=context.user_id)
        return context.with_policy(self.policy)

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.close()
        await self.authenticator.aclose()


def _internal_failure(request_id: str, as_json: bool) -> Response:
    failure = faults.InternalFailure(
        f"The request processing has failed because of an unknown error (request {request_id})."
    )
    return render.error(failure, request_id, as_json)


def _is_form(request: Request, body: bytes) -> bool:
    kind = request.headers.get("content-type", FORM).split(";")[0].strip().lower()
    return request.method == "POST" and bool(body) and kind == FORM
