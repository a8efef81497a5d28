"""A stack's parts: template, environment, files, outputs, actions, abandon/export and
snapshots."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ember.api.rest import util
from ember.api.rest.faults import HTTPError
from ember.api.rest.schemas import ACTION_BODY, SNAPSHOT_BODY, body_doc

router = APIRouter()
STACK = "/v1/{tenant_id}/stacks/{stack_name}/{stack_id}"
ACTIONS = ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback")


@router.get(STACK + "/template")
async def template(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:template")
    return util.json(
        await util.engine(request).get_template(
            util.rpc_ctx(request), stack_name, stack_id=stack_id
        )
    )


@router.get(STACK + "/environment")
async def environment(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:environment")
    return util.json(
        await util.engine(request).get_environment(
            util.rpc_ctx(request), stack_name, stack_id=stack_id
        )
    )


@router.get(STACK + "/files")
async def files(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:files")
    return util.json(
        await util.engine(request).get_files(util.rpc_ctx(request), stack_name, stack_id=stack_id)
    )


@router.get(STACK + "/outputs")
async def outputs(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:list_outputs")
    listed = await util.engine(request).list_outputs(
        util.rpc_ctx(request), stack_name, stack_id=stack_id
    )
    return util.json({"outputs": listed})


@router.get(STACK + "/outputs/{output_key}")
async def output(
    tenant_id: str, stack_name: str, stack_id: str, output_key: str, request: Request
) -> Response:
    util.authorize(request, "stacks:show_output")
    shown = await util.engine(request).show_output(
        util.rpc_ctx(request), stack_name, output_key, stack_id=stack_id
    )
    return util.json({"output": shown})


@router.post(STACK + "/actions", openapi_extra=body_doc(ACTION_BODY))
async def actions(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    data = await util.body(request)
    if not data:
        raise HTTPError(400, "No action specified")
    if len(data) > 1:
        raise HTTPError(400, "Multiple actions specified")
    action = next(iter(data))
    if action not in ACTIONS:
        raise HTTPError(400, f"Invalid action {action} specified")
    # Each action has its own rule, as in Heat (``actions:action`` is not asked).
    util.authorize(request, f"actions:{action}")
    await util.engine(request).stack_action(
        util.rpc_ctx(request), stack_name, action, stack_id=stack_id
    )
    return util.null()


@router.delete(STACK + "/abandon")
async def abandon(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:abandon")
    return util.json(
        await util.engine(request).abandon_stack(
            util.rpc_ctx(request), stack_name, stack_id=stack_id, abandon=True
        )
    )


@router.get(STACK + "/export")
async def export(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:export")
    return util.json(
        await util.engine(request).abandon_stack(
            util.rpc_ctx(request), stack_name, stack_id=stack_id, abandon=False
        )
    )


@router.post(STACK + "/snapshots", openapi_extra=body_doc(SNAPSHOT_BODY, required=False))
async def snapshot(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:snapshot")
    data = await util.body(request, required=False)
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise HTTPError(400, "Snapshot name must be a string")
    return util.json(
        await util.engine(request).snapshot_stack(
            util.rpc_ctx(request), stack_name, name=name, stack_id=stack_id
        )
    )


@router.get(STACK + "/snapshots")
async def snapshots(tenant_id: str, stack_name: str, stack_id: str, request: Request) -> Response:
    util.authorize(request, "stacks:list_snapshots")
    listed = await util.engine(request).list_snapshots(
        util.rpc_ctx(request), stack_name, stack_id=stack_id
    )
    return util.json({"snapshots": listed})


@router.get(STACK + "/snapshots/{snapshot_id}")
async def show_snapshot(
    tenant_id: str, stack_name: str, stack_id: str, snapshot_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:show_snapshot")
    shown = await util.engine(request).show_snapshot(
        util.rpc_ctx(request), stack_name, snapshot_id, stack_id=stack_id
    )
    return util.json({"snapshot": shown})


@router.delete(STACK + "/snapshots/{snapshot_id}", status_code=204)
async def delete_snapshot(
    tenant_id: str, stack_name: str, stack_id: str, snapshot_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:delete_snapshot")
    await util.engine(request).delete_snapshot(
        util.rpc_ctx(request), stack_name, snapshot_id, stack_id=stack_id
    )
    return Response(status_code=204)


@router.post(STACK + "/snapshots/{snapshot_id}/restore", status_code=202)
async def restore_snapshot(
    tenant_id: str, stack_name: str, stack_id: str, snapshot_id: str, request: Request
) -> Response:
    util.authorize(request, "stacks:restore_snapshot")
    await util.engine(request).restore_snapshot(
        util.rpc_ctx(request), stack_name, snapshot_id, stack_id=stack_id
    )
    return Response(status_code=202)
