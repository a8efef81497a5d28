"""Nested stacks for plugins (template resources, groups, AWS::CloudFormation::Stack).

A nested stack is an ordinary stack with an owner. The owning resource records the child's
id as its physical id before waiting, so a resumed node waits for the same child instead of
making a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.db.models import Stack
from ember.engine.database import Database
from ember.engine.ops_software import config_for_resource
from ember.engine.resource import ResourceContext, ResourceFailure
from ember.engine.states import Action, Status

if TYPE_CHECKING:
    from ember.engine.service import EngineService

POLL_SECONDS = 0.5
# A failed stack's reason, as the runner and store write it:
# "Resource CREATE failed: ValueError: resources[0]: Test Resource failed 0".
_FAILED_REASON = re.compile(
    r"^Resource [A-Z]+ failed: (?P<type>[A-Za-z_][\w.]*): (?P<path>resources[.\[][^:]*): "
    r"(?P<message>.*)$",
    re.DOTALL,
)


class NestedStackFailed(ResourceFailure):
    """A nested stack failed: keeps the failing resource's error type and its path inside
    the nested stack, so the owner's reason reads like Heat's
    ``ValueError: resources.group.resources[0]: Test Resource failed 0``."""

    def __init__(self, reason: str) -> None:
        match = _FAILED_REASON.match(reason)
        self.error_type = "ResourceFailure"  # e.g. "Timed out", "Stack CREATE cancelled"
        self.nested_path = ""
        if match:
            self.error_type = match.group("type")
            self.nested_path = match.group("path")
            reason = match.group("message")
        super().__init__(reason)


def _state(session: Session, stack_id: str) -> tuple[str, str, str, bool] | None:
    row = session.execute(
        select(Stack.action, Stack.status, Stack.status_reason, Stack.deleted_at).where(
            Stack.id == stack_id
        )
    ).first()
    if row is None:
        return None
    return row.action, row.status, row.status_reason or "", row.deleted_at is not None


def _root_of(session: Session, stack_id: str) -> str:
    root = session.execute(select(Stack.root_stack_id).where(Stack.id == stack_id)).scalar()
    return root or stack_id


class NestedStacks:
    def __init__(self, service: EngineService, db: Database) -> None:
        self.service = service
        self.db = db
        self._changed = asyncio.Condition()
        self.worker: Any = None  # set by the engine: the NodeWorker running plugins

    def notify(self, finished: Iterable[str]) -> None:
        if finished:
            asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, stack_id: str, action: str) -> None:
        # Waiting on a child gives back this node's worker slot, so the child's own nodes
        # can run however many parents wait at once.
        idle = self.worker.waiting() if self.worker is not None else contextlib.nullcontext()
        async with idle:
            await self._wait_loop(stack_id, action)

    async def _wait_loop(self, stack_id: str, action: str) -> None:
        while True:
            state = await self.db.run(_state, stack_id)
            if state is None:
                if action == Action.DELETE:
                    return
                raise ResourceFailure("The nested stack has gone")
            got_action, status, reason, deleted = state
            if action == Action.DELETE and deleted:
                return
            if deleted:
                raise ResourceFailure("The nested stack has gone")
            if got_action == action and status == Status.COMPLETE:
                return
            if got_action in (action, Action.ROLLBACK) and status == Status.FAILED:
                raise NestedStackFailed(reason)
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), POLL_SECONDS)

    def _ctx(self, ctx: ResourceContext) -> dict[str, Any]:
        return {"project_id": ctx.project_id, "is_admin": False}

    async def create_nested(
        self,
        ctx: ResourceContext,
        template: dict[str, Any],
        parameters: Mapping[str, Any],
        files: Mapping[str, str],
        timeout_mins: int | None,
        environment: Mapping[str, Any] | None = None,
    ) -> str:
        if ctx.physical_id is None:
            limit = self.service.settings.max_nested_stack_depth
            if ctx.nested_depth >= limit:
                raise errors.RequestLimitExceeded(f"Recursion depth exceeds {limit}.")
            root = await self.db.run(_root_of, ctx.stack_id)
            name = ctx.physical_name()
            # Errors in the nested definition keep their type (StackValidationFailed, ...).
            created = await self.service.create_stack(
                self._ctx(ctx),
                name,
                template,
                params=dict(parameters),
                files=dict(files),
                environment=dict(environment or {}),
                args={"timeout_mins": timeout_mins, "disable_rollback": True},
                owner={
                    "stack_id": ctx.stack_id,
                    "resource_name": ctx.name,
                    "root_stack_id": root,
                    "depth": ctx.nested_depth + 1,
                },
            )
            ctx.physical_id = created["stack_id"]
            await ctx.checkpoint()
        await self._wait(ctx.physical_id, Action.CREATE)
        return ctx.physical_id

    async def update_nested(
        self,
        ctx: ResourceContext,
        stack_id: str,
        template: dict[str, Any],
        parameters: Mapping[str, Any],
        files: Mapping[str, str],
        timeout_mins: int | None,
        environment: Mapping[str, Any] | None = None,
    ) -> None:
        await self.service.update_stack(
            self._ctx(ctx),
            stack_id,
            template,
            params=dict(parameters),
            files=dict(files),
            environment=dict(environment or {}),
            args={"timeout_mins": timeout_mins},
            stack_id=None,
        )
        await self._wait(stack_id, Action.UPDATE)

    async def delete_nested(self, ctx: ResourceContext, stack_id: str) -> None:
        state = await self.db.run(_state, stack_id)
        if state is None or state[3]:
            return
        try:
            await self.service.delete_stack(self._ctx(ctx), stack_id)
        except errors.EntityNotFound:
            return
        await self._wait(stack_id, Action.DELETE)

    async def nested_action(self, ctx: ResourceContext, stack_id: str, action: str) -> None:
        """``action`` is SUSPEND, RESUME or CHECK (either case)."""
        await self.service.stack_action(self._ctx(ctx), stack_id, action.lower())
        await self._wait(stack_id, action.upper())

    async def nested_outputs(self, stack_id: str) -> dict[str, Any]:
        shown = await self.service.show_stack(
            {"project_id": None, "is_admin": True, "all_projects": True}, stack_id
        )
        return {o["output_key"]: o.get("output_value") for o in shown.get("outputs", [])}

    async def create_software_config(self, ctx: ResourceContext, **fields: Any) -> str:
        # The resource's own id names the config, so a resumed create finds it.
        return await config_for_resource(self.service, self._ctx(ctx), ctx.uuid, fields)

    async def delete_software_config(self, ctx: ResourceContext, config_id: str) -> None:
        await self.service.delete_software_config(self._ctx(ctx), config_id)

    async def nested_template(self, stack_id: str) -> dict[str, Any]:
        """The nested stack's current template (what its resources are defined as)."""
        return await self.service.get_template(
            {"project_id": None, "is_admin": True, "all_projects": True}, stack_id
        )
