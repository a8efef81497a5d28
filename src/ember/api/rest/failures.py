"""``GET .../stacks/{name}/{id}/failures``: why a stack failed, root cause first. An
extension (Heat's clients never ask for it): the failed resources of the stack and of all
its nested stacks that have nothing failed below them, deepest first, each with its reason,
its path from the root stack and the chain of its parents up to the root."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest import util
from ember.api.rest.resources import STACK
from ember.common.root_causes import Cause, Listed, StackTree, root_causes

router = APIRouter()
# Deeper than any stack may nest: the engine caps it at max_nested_stack_depth.
WHOLE_TREE = 1_000


@router.get(STACK + "/failures", include_in_schema=False)
async def list_failures(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> Response:
    util.authorize(request, "resource:index")
    engine, ctx = util.engine(request), util.rpc_ctx(request)
    stack = await engine.show_stack(ctx, stack_name, stack_id=stack_id, resolve_outputs=False)
    listed = await engine.list_resources(
        ctx, stack_name, stack_id=stack_id, nested_depth=WHOLE_TREE
    )
    causes = root_causes(
        StackTree(stack["id"], stack["stack_name"]),
        [_listed(item) for item in listed],
        stack["stack_status"],
        stack.get("stack_status_reason") or "",
    )
    return util.json({"failures": [_view(request, cause) for cause in causes]})


def _listed(item: dict[str, Any]) -> Listed:
    return Listed(
        stack_id=item["stack_id"],
        stack_name=item["stack_name"],
        name=item["resource_name"],
        type=item["resource_type"],
        status=item["resource_status"],
        reason=item.get("resource_status_reason") or "",
        nested_stack_id=item.get("nested_stack_id"),
    )


def _view(request: Request, cause: Cause) -> dict[str, Any]:
    res = cause.resource
    return {
        "path": cause.path,
        "resource_name": res.name,
        "resource_type": res.type,
        "resource_status": res.status,
        "resource_status_reason": res.reason,
        "stack_name": res.stack_name,
        "stack_id": res.stack_id,
        "links": [{"href": util.stack_url(request, res.stack_name, res.stack_id), "rel": "stack"}],
        "parents": [
            {"path": p.path, "status": p.status, "reason": p.reason} for p in cause.parents
        ],
    }
