"""heat-api-cfn's signal endpoints: ``PUT /v1/waitcondition/<arn>`` (what ``cfn-signal``
sends to a wait condition handle's pre-signed URL) and ``POST /v1/signal/<arn>`` (a
scaling policy's ``alarm_url``, a deployment's ``CFN_SIGNAL``).

The URL names the resource by its ARN, percent-quoted with ``/`` kept; the request is
signed (pre-signed Signature Version 2, as Heat's URLs are) by the resource's own signal
credential or by a user of its project. The body is the signal's details (JSON; empty is
no details). The engine checks that a signal credential reaches its own resource only.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from starlette.responses import JSONResponse, Response

from ember.api.cfn import faults
from ember.api.cfn.call import ask
from ember.api.rest.context import RequestContext
from ember.rpc.client import EngineClient

ROUTES = {"waitcondition": "PUT", "signal": "POST"}
PREFIX = re.compile(r"^/v1/(waitcondition|signal)/(.+)$")
RESOURCE_ARN = re.compile(
    r"^arn:openstack:heat::(?P<tenant>[^:]*):stacks/(?P<stack>[^/]+)/(?P<id>[^/]+)"
    r"/resources/(?P<resource>[^/]+)$"
)


def route_of(path: str) -> tuple[str, str] | None:
    """``(kind, arn)`` for a signal endpoint's path (as decoded), else None."""
    found = PREFIX.match(path)
    return (found.group(1), found.group(2)) if found else None


def check_method(kind: str, method: str) -> None:
    """Each endpoint takes one verb (the one its pre-signed URLs are signed for)."""
    if method != ROUTES[kind]:
        raise faults.MethodNotAllowed(f"The method {method[:16]} is not allowed.")


async def answer(
    kind: str, arn: str, body: bytes, context: RequestContext, engine: EngineClient
) -> Response:
    parts = RESOURCE_ARN.match(unquote(arn))
    if parts is None:
        raise faults.ValidationError(f"Invalid resource ARN {arn[:256]}")
    if parts["tenant"] != context.project_id:
        # Another project's resource: as if it did not exist.
        raise faults.ValidationError(f"Stack with id {parts['stack']} does not exist")
    details = _details(body)
    ctx: Any = context.rpc(request_id=context.request_id)
    stack, stack_id, resource = parts["stack"], parts["id"], parts["resource"]
    # A wait condition's signal is answered once handled (a refused one with why).
    await ask(
        engine.signal_resource(
            ctx, stack, resource, details, stack_id=stack_id, sync_call=kind == "waitcondition"
        )
    )
    if kind == "signal":
        return Response(status_code=200)
    metadata = await ask(engine.resource_metadata(ctx, stack, resource, stack_id=stack_id))
    return JSONResponse({"resource": resource, "metadata": metadata})


def _details(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise faults.ValidationError("The signal's body is not valid JSON.") from None
