"""Stack operations: create, update, delete, the stack actions, and reading a stack and its
parts (template, environment, files, outputs)."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.states import Action, Status
from ember.db.database import Database
from ember.db.errors import DuplicateEntry
from ember.db.models import Stack
from ember.db.unit import UnitOfWork
from ember.engine import planner, views
from ember.engine.adoption import adopt_data_for, parse_adopt_data
from ember.engine.caller import Caller
from ember.engine.definitions import DefinitionCache
from ember.engine.launch import (
    Launcher,
    NewStack,
    StackChange,
    cancel_tx,
    created_before,
    deadline,
    policies,
    requirements,
)
from ember.engine.plugins import PluginRegistry
from ember.engine.runner import PeerResources
from ember.engine.stack_requests import (
    StackRequest,
    build_request,
    carried_over,
    check_stack_name,
    patched,
)
from ember.policy.enforcer import Enforcer
from ember.rpc.api import Ctx, JSONMap, StackIdentity, StackList
from ember.template import StackDefinition
from ember.template import StackIdentity as DefinitionIdentity
from ember.template.definitions import OutputValue
from ember.template.parameters import HIDDEN_VALUE, immutable_changes

ACTIONS = {"suspend": Action.SUSPEND, "resume": Action.RESUME, "check": Action.CHECK}
CANCELS = ("cancel_update", "cancel_without_rollback")


def tags_of(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    tags = raw.split(",") if isinstance(raw, str) else list(raw)
    tags = [str(t).strip() for t in tags]
    for tag in tags:
        if not tag or len(tag) > 80 or "," in tag:
            raise errors.InvalidRequest(
                f'Invalid tag, "{tag}" is longer than 80 characters'
                if len(tag) > 80
                else f'Invalid tag "{tag}"'
            )
    return tags


def identity_of(stack: Stack) -> StackIdentity:
    return {"stack_id": stack.id, "stack_name": stack.name, "project_id": stack.project_id}


class StackOps:
    """Contract: every operation decides what the caller may see through ``Caller`` and
    changes state only by starting a traversal (through ``Launcher``) or in one unit of
    work; none waits for resources to be acted on."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        plugins: PluginRegistry,
        definitions: DefinitionCache,
        launcher: Launcher,
        policy: Enforcer | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.plugins = plugins
        self.definitions = definitions
        self.launcher = launcher
        self.policy = policy or Enforcer.from_config_args(settings.config_args)

    # Create ----------------------------------------------------------------------------

    async def create_stack(
        self,
        ctx: Ctx,
        stack_name: str,
        template: Any,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
    ) -> StackIdentity:
        return await self.create(
            Caller.from_ctx(ctx),
            stack_name,
            template,
            params,
            files,
            environment,
            environment_files,
            args,
        )

    async def create(
        self,
        caller: Caller,
        stack_name: str,
        template: Any,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: Mapping[str, Any] | None = None,
        owner: Mapping[str, Any] | None = None,
    ) -> StackIdentity:
        """Check the request and start the create. ``owner`` (for a nested stack): the
        parent's ``stack_id``, the owning ``resource_name``, ``root_stack_id``, ``depth``
        and the ``facade`` its templates read with ``resource_facade``."""
        args = dict(args or {})
        check_stack_name(stack_name)
        key = args.get("idempotency_key")
        if key is not None:
            # Sent again (its answer lost, say): the first create's stack, at once.
            earlier = await self.db.read(created_before, caller.project_id, key, stack_name)
            if earlier is not None:
                return {
                    "stack_id": earlier,
                    "stack_name": stack_name,
                    "project_id": caller.project_id,
                }
        action: str = Action.CREATE
        node_data: dict[str, dict[str, Any]] = {}
        if args.get("adopt_stack_data") is not None:
            if not self.settings.enable_stack_adopt:
                raise errors.NotSupported(feature="Stack Adopt")
            adopt = parse_adopt_data(args["adopt_stack_data"])
            template = template if template is not None else adopt.get("template")
            files = files if files is not None else adopt.get("files")
            environment = environment if environment is not None else adopt.get("environment")
            node_data = {n: {"adopt": d} for n, d in adopt_data_for(adopt).items()}
            action = Action.ADOPT
        owner = owner or {}
        stack_id = str(uuid.uuid4())
        identity = DefinitionIdentity(
            stack_name, stack_id, caller.project_id, self.settings.region_name
        )
        request = await build_request(
            self.settings,
            self.plugins,
            identity=identity,
            template=template,
            parameters=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            depth=int(owner.get("depth", 0)),
            capabilities=_capabilities(args),
        )
        # The whole tree was held to max_resources_per_stack by build_request; what
        # is already in the tree of a nested stack is counted when it is stored.
        defn = request.defn
        caller.check_types(self.policy, (rd.type for rd in defn.resources.values()))
        uuids = {name: str(uuid.uuid4()) for name in defn.resources}
        timeout = args.get("timeout_mins")
        values = {
            "id": stack_id,
            "name": stack_name,
            "project_id": caller.project_id,
            "username": caller.username,
            "stack_user_project_id": caller.project_id,
            "disable_rollback": bool(args.get("disable_rollback", True)),
            "timeout_mins": math.ceil(float(timeout)) if timeout else None,
            "user_parameters": dict(params or {}),
            "owner_id": owner.get("stack_id"),
            "owner_resource": owner.get("resource_name"),
            "root_stack_id": owner.get("root_stack_id"),
            "nested_depth": int(owner.get("depth", 0)),
            "idempotency_key": key,
            "facade": owner.get("facade"),
        }
        requires = requirements(defn)
        new = NewStack(
            values=values,
            raw=(
                request.template.doc,
                dict(request.template.files),
                request.environment.to_dict(),
            ),
            tags=tags_of(args.get("tags")),
            resources=[
                {"uuid": uuids[n], "name": n, "type": rd.type, "requires": requires[n]}
                for n, rd in defn.resources.items()
            ],
            nodes=planner.create_nodes(defn, uuids, action, node_data),
            deadline=deadline(
                float(timeout) if timeout else None, self.settings.stack_action_timeout
            ),
            action=action,
            max_stacks=self.settings.max_stacks_per_tenant if caller.counts_stacks else -1,
            tree_limit=self.settings.max_resources_per_stack,
        )
        try:
            stack_id = await self.launcher.create(new)
        except DuplicateEntry:
            # The same create, sent twice at once: the other one stored its stack first.
            earlier = None
            if key is not None:
                earlier = await self.db.read(created_before, caller.project_id, key, stack_name)
            if earlier is None:
                raise
            stack_id = earlier
        return {"stack_id": stack_id, "stack_name": stack_name, "project_id": caller.project_id}

    # Update ----------------------------------------------------------------------------

    async def update_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        template: Any = None,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
        stack_id: str | None = None,
    ) -> StackIdentity:
        return await self.update(
            Caller.from_ctx(ctx),
            stack_identity,
            template,
            params,
            files,
            environment,
            environment_files,
            args,
            stack_id,
        )

    async def update(
        self,
        caller: Caller,
        stack_identity: str,
        template: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: Mapping[str, Any] | None = None,
        stack_id: str | None = None,
    ) -> StackIdentity:
        args = dict(args or {})
        stack = await self.find(caller, stack_identity, stack_id)
        if stack.action in (Action.SUSPEND, Action.DELETE) and not (
            stack.action == Action.SUSPEND and stack.status == Status.FAILED
        ):
            raise errors.NotSupported(feature=f"Updating a stack when it is {stack.action}")
        current, request = await self.update_request(
            stack, args, template, params, files, environment, environment_files
        )
        caller.check_types(self.policy, (rd.type for rd in request.defn.resources.values()))
        immutable_changes(
            request.defn.parameters.schemas, current.parameters, request.defn.parameters
        )
        timeout = args.get("timeout_mins", stack.timeout_mins)
        disable_rollback = args.get("disable_rollback")
        if disable_rollback is None:
            disable_rollback = stack.disable_rollback
        request_key = args.get("request_key")
        if request_key is not None and await self.db.run(
            _requested, stack.current_traversal, str(request_key)
        ):
            return identity_of(stack)
        await self.launcher.supersede(stack)
        await self.launcher.update(
            StackChange(
                stack_id=stack.id,
                raw=(
                    request.template.doc,
                    dict(request.template.files),
                    request.environment.to_dict(),
                ),
                defn=request.defn,
                old_policies=policies(current),
                deadline=deadline(
                    float(timeout) if timeout else None, self.settings.stack_action_timeout
                ),
                disable_rollback=bool(disable_rollback),
                timeout=timeout,
                action=args.get("action", Action.UPDATE),
                tags=tags_of(args["tags"]) if "tags" in args else None,
                node_data={n: {"restore": d} for n, d in (args.get("restore") or {}).items()},
                request_key=str(request_key) if request_key is not None else None,
                facade=args.get("facade", stack.facade),
            )
        )
        return identity_of(stack)

    async def update_request(
        self,
        stack: Stack,
        args: Mapping[str, Any],
        template: Any,
        params: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None,
        environment: Any,
        environment_files: list[str] | None,
    ) -> tuple[StackDefinition, StackRequest]:
        """The stack's current definition and the checked request an update (or its
        preview) would apply; PATCH (``existing``) merges into what is stored."""
        current = await self.definitions.get(stack.id, stack.raw_template_id)
        if args.get("existing"):
            template, files, environment = patched(
                current, template, params, files, environment, args.get("clear_parameters")
            )
            params = None
        elif args.get("previous_template") or args.get("previous_parameters"):
            template, files, environment = carried_over(
                current,
                template if not args.get("previous_template") else None,
                params,
                args.get("previous_parameters") or [],
            )
            params = None
        identity = DefinitionIdentity(
            stack.name, stack.id, stack.project_id, self.settings.region_name
        )
        request = await build_request(
            self.settings,
            self.plugins,
            identity=identity,
            template=template,
            parameters=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            depth=stack.nested_depth,
            capabilities=_capabilities(args),
        )
        return current, request

    # Delete and actions ------------------------------------------------------------------

    async def delete_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        request_key: str | None = None,
    ) -> None:
        await self.delete(Caller.from_ctx(ctx), stack_identity, stack_id, request_key)

    async def delete(
        self,
        caller: Caller,
        stack_identity: str,
        stack_id: str | None = None,
        request_key: str | None = None,
    ) -> None:
        stack = await self.find(caller, stack_identity, stack_id, deleted=request_key is not None)
        if request_key is not None and await self.db.run(
            _requested, stack.current_traversal, request_key
        ):
            # The same delete asked for again (a client's retry): it is under way or done.
            return
        if stack.action == Action.DELETE and stack.status == Status.COMPLETE:
            raise errors.EntityNotFound(entity="Stack", name=stack_identity)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        await self.launcher.supersede(stack)
        await self.launcher.delete(stack.id, defn, request_key=request_key)

    async def stack_action(
        self, ctx: Ctx, stack_identity: str, action: str, stack_id: str | None = None
    ) -> None:
        await self.act(Caller.from_ctx(ctx), stack_identity, action, stack_id)

    async def act(
        self, caller: Caller, stack_identity: str, action: str, stack_id: str | None = None
    ) -> None:
        stack = await self.find(caller, stack_identity, stack_id)
        if action in CANCELS:
            await self._cancel(stack, rollback=action == "cancel_update")
            return
        if action not in ACTIONS:
            raise errors.InvalidRequest(f"Invalid action {action} specified")
        kind = ACTIONS[action]
        if stack.status == Status.IN_PROGRESS:
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
        if kind == Action.RESUME and stack.action != Action.SUSPEND:
            raise errors.NotSupported(feature=f"Resuming a stack that is {stack.action}")
        await self.launcher.act(stack.id, kind)

    async def _cancel(self, stack: Stack, *, rollback: bool) -> None:
        allowed = (Action.UPDATE,) if rollback else (Action.UPDATE, Action.CREATE)
        if stack.status != Status.IN_PROGRESS or stack.action not in allowed:
            raise errors.NotSupported(
                message=f"Cancelling update when stack is {stack.action}_{stack.status} "
                "is not supported."
            )
        traversal = stack.current_traversal
        # As Heat's: a cancel that rolls back stops what runs; one that does not only stops
        # the operation going further, and what has started completes normally.
        woken = await self.db.run(cancel_tx, stack.id, traversal, stop_started=rollback)
        if traversal and rollback:
            await self.launcher.cancel_running(traversal)
        await self.launcher.publish(woken)
        if rollback and traversal:
            await self.launcher.rollback(stack.id, traversal)

    # Reads ----------------------------------------------------------------------------

    async def find(
        self, caller: Caller, identity: str, stack_id: str | None = None, *, deleted: bool = False
    ) -> Stack:
        return await self.db.read(
            _find, caller.stack_scope(identity, stack_id), identity, stack_id, deleted
        )

    async def identify_stack(self, ctx: Ctx, stack_identity: str) -> StackIdentity:
        return identity_of(await self.find(Caller.from_ctx(ctx), stack_identity))

    async def show_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        resolve_outputs: bool = True,
    ) -> JSONMap:
        return await self.show(Caller.from_ctx(ctx), stack_identity, stack_id, resolve_outputs)

    async def show_stacks(self, ctx: Ctx, stack_ids: list[str]) -> list[JSONMap]:
        caller = Caller.from_ctx(ctx)
        # One read for the whole page; the outputs are then worked out stack by stack.
        found = await self.db.read(_show_many, caller.scope(), stack_ids[:MAX_SHOWN])
        shown = []
        for stack, peers, update_rollback in found:
            view = await self._detail(stack, peers, resolve_outputs=True)
            view["update_rollback"] = update_rollback
            shown.append(view)
        return shown

    async def show(
        self,
        caller: Caller,
        stack_identity: str,
        stack_id: str | None = None,
        resolve_outputs: bool = True,
    ) -> JSONMap:
        stack, peers = await self.db.read(
            _show,
            caller.stack_scope(stack_identity, stack_id),
            stack_identity,
            stack_id,
            resolve_outputs,
        )
        return await self._detail(stack, peers, resolve_outputs=resolve_outputs)

    async def _detail(
        self, stack: Stack, peers: dict[str, Any], *, resolve_outputs: bool
    ) -> JSONMap:
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        outputs = None
        if resolve_outputs and not (
            stack.action == Action.DELETE and stack.status == Status.COMPLETE
        ):
            outputs = [o.to_api() for o in await _outputs(defn, PeerResources(peers))]
        return views.stack_detail(stack, defn, outputs)

    async def list_stacks(
        self,
        ctx: Ctx,
        filters: JSONMap | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort_keys: list[str] | None = None,
        sort_dir: str | None = None,
        tags: str | None = None,
        tags_any: str | None = None,
        not_tags: str | None = None,
        not_tags_any: str | None = None,
        show_deleted: bool = False,
        show_nested: bool = False,
        show_hidden: bool = False,
        global_tenant: bool = False,
    ) -> list[JSONMap]:
        listed = await self.count_and_list_stacks(
            ctx,
            filters,
            limit,
            marker,
            sort_keys,
            sort_dir,
            tags,
            tags_any,
            not_tags,
            not_tags_any,
            show_deleted,
            show_nested,
            show_hidden,
            global_tenant,
        )
        return listed["stacks"]

    async def count_and_list_stacks(
        self,
        ctx: Ctx,
        filters: JSONMap | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort_keys: list[str] | None = None,
        sort_dir: str | None = None,
        tags: str | None = None,
        tags_any: str | None = None,
        not_tags: str | None = None,
        not_tags_any: str | None = None,
        show_deleted: bool = False,
        show_nested: bool = False,
        show_hidden: bool = False,
        global_tenant: bool = False,
        with_count: bool = False,
    ) -> StackList:
        caller = Caller.from_ctx(ctx)
        params = {
            "filters": filters,
            "limit": limit,
            "marker": marker,
            "sort_keys": sort_keys,
            "sort_dir": sort_dir,
            "tags": tags,
            "tags_any": tags_any,
            "not_tags": not_tags,
            "not_tags_any": not_tags_any,
            "show_deleted": show_deleted,
            "show_nested": show_nested,
            "show_hidden": show_hidden,
            "with_count": with_count,
        }
        rows, count = await self.db.read(
            _list,
            caller.scope(every_project=global_tenant),
            params,
            tuple(self.settings.hidden_stack_tags),
        )
        out: StackList = {"stacks": views.stack_summaries(rows, with_project=caller.is_admin)}
        if count is not None:
            out["count"] = count
        return out

    async def get_template(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap:
        return await self.template(Caller.from_ctx(ctx), stack_identity, stack_id)

    async def template(
        self, caller: Caller, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap:
        stack = await self.find(caller, stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        return dict(defn.template.doc)

    async def get_environment(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap:
        stack = await self.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        env = defn.shown_environment()
        hidden = {n for n, s in defn.parameters.schemas.items() if s.hidden}
        env["parameters"] = {
            k: HIDDEN_VALUE if k in hidden else v for k, v in env["parameters"].items()
        }
        return env

    async def get_files(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap:
        stack = await self.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        return await self.db.read(_files, stack.raw_template_id)

    async def list_outputs(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> list[JSONMap]:
        stack = await self.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        return [{"output_key": o.name, "description": o.description} for o in defn.outputs.values()]

    async def show_output(
        self, ctx: Ctx, stack_identity: str, output_key: str, stack_id: str | None = None
    ) -> JSONMap:
        stack = await self.find(Caller.from_ctx(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        if output_key not in defn.outputs:
            raise errors.EntityNotFound(entity="Output", name=output_key)
        peers = await self.db.read(_peers, stack.id)
        return (await _outputs(defn, PeerResources(peers), [output_key]))[0].to_api()


async def _outputs(
    defn: StackDefinition, peers: PeerResources, names: list[str] | None = None
) -> list[OutputValue]:
    """The outputs' values within one budget; in a thread when they may take a while, so
    that the event loop goes on serving (the values are the same either way)."""
    rctx = defn.resolve_context(peers)
    if defn.outputs_amplify(names):
        return await asyncio.to_thread(defn.resolve_outputs, rctx, names)
    return defn.resolve_outputs(rctx, names)


# Units of work ----------------------------------------------------------------------------


def _find(
    uow: UnitOfWork, project: str | None, identity: str, stack_id: str | None, deleted: bool
) -> Stack:
    return uow.stacks.find(project, identity, stack_id, show_deleted=deleted)


def _show(
    uow: UnitOfWork, project: str | None, identity: str, stack_id: str | None, with_peers: bool
) -> tuple[Stack, dict[str, Any]]:
    stack = uow.stacks.find(project, identity, stack_id)
    return stack, uow.resources.peers_of(stack.id) if with_peers else {}


def _list(
    uow: UnitOfWork, project: str | None, params: Mapping[str, Any], hidden: tuple[str, ...]
) -> tuple[list[tuple[Any, ...]], int | None]:
    return uow.stacks.summaries(project, params, hidden)


def _files(uow: UnitOfWork, raw_template_id: int) -> JSONMap:
    return dict(uow.stacks.template(raw_template_id).files or {})


def _peers(uow: UnitOfWork, stack_id: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    return uow.resources.peers_of(stack_id)


# The most stacks one show_stacks answers (a page of DescribeStacks is at most this).
MAX_SHOWN = 1000


def _capabilities(args: Mapping[str, Any]) -> list[str] | None:
    """What a CloudFormation caller acknowledged; None when the request is not one."""
    value = args.get("capabilities")
    if value is None:
        return None
    if not isinstance(value, list):
        raise errors.InvalidRequest("capabilities must be a list")
    return [str(v) for v in value]


def _show_many(
    uow: UnitOfWork, project: str | None, identities: list[str]
) -> list[tuple[Stack, dict[str, Any], bool]]:
    """Each stack found (the others left out), its resources' data for the outputs, and
    whether it is rolling an update back."""
    out = []
    for identity in identities:
        try:
            stack = uow.stacks.find(project, identity)
        except errors.EntityNotFound:
            continue
        rolling_back_update = stack.action == Action.ROLLBACK and uow.traversals.undoes_update(
            stack.current_traversal
        )
        out.append((stack, uow.resources.peers_of(stack.id), rolling_back_update))
    return out


def _requested(uow: UnitOfWork, traversal_id: str | None, request_key: str) -> bool:
    return uow.traversals.requested(traversal_id, request_key)
