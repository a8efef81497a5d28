"""The engine service: every stack operation the RPC client can ask for.

Each operation checks its request, writes the stack and a traversal in one transaction,
and publishes the nodes that are ready; workers (here or in any other engine) do the rest.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.settings import Settings
from ember.common.timeutils import utcnow
from ember.db.models import Resource, Stack, StackTag, Traversal
from ember.engine import planner, store_nodes, store_reads, store_stacks, views
from ember.engine.database import Database
from ember.engine.definitions import DefinitionCache
from ember.engine.ops_actions import CANCEL_TOPIC, ActionOps
from ember.engine.ops_catalog import CatalogOps
from ember.engine.ops_preview import PreviewOps
from ember.engine.ops_queries import QueryOps
from ember.engine.ops_snapshots import SnapshotOps, adopt_data_for, parse_adopt_data
from ember.engine.ops_software import SoftwareOps
from ember.engine.plugins import PluginRegistry
from ember.engine.records import NodeKey, NodeSpec
from ember.engine.runner import PeerResources
from ember.engine.stack_requests import build_request, check_stack_name, patched
from ember.engine.states import Action, Status, TraversalState
from ember.engine.worker import NodeWorker, publish_nodes
from ember.rpc.transport import Transport
from ember.template import StackIdentity
from ember.template.parameters import immutable_changes


def _deadline(timeout_mins: float | None, default_seconds: int) -> dt.datetime:
    seconds = timeout_mins * 60 if timeout_mins else default_seconds
    return utcnow() + dt.timedelta(seconds=seconds)


def _policies(defn: Any) -> dict[str, str]:
    return {name: rd.deletion_policy for name, rd in defn.resources.items()}


class EngineService(QueryOps, CatalogOps, ActionOps, SnapshotOps, PreviewOps, SoftwareOps):
    def __init__(
        self,
        settings: Settings,
        db: Database,
        transport: Transport,
        plugins: PluginRegistry,
        definitions: DefinitionCache,
        worker: NodeWorker | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.transport = transport
        self.plugins = plugins
        self.definitions = definitions
        self.worker = worker

    # Create ---------------------------------------------------------------------------

    async def create_stack(
        self,
        ctx: Mapping[str, Any],
        stack_name: str,
        template: Any,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: Mapping[str, Any] | None = None,
        owner: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        args = dict(args or {})
        check_stack_name(stack_name)
        project_id = str(ctx["project_id"])
        action = Action.CREATE
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
        stack_id = str(uuid.uuid4())
        identity = StackIdentity(stack_name, stack_id, project_id, self.settings.region_name)
        request = build_request(
            self.settings,
            self.plugins,
            identity=identity,
            template=template,
            parameters=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            depth=int((owner or {}).get("depth", 0)),
        )
        defn = request.defn
        limit = self.settings.max_resources_per_stack
        if limit != -1 and len(defn.resources) > limit:
            raise errors.RequestLimitExceeded(
                "You have reached the maximum resources per stack, please contact your "
                "cloud administrator."
            )
        uuids = {name: str(uuid.uuid4()) for name in defn.resources}
        nodes = planner.create_nodes(defn, uuids, action, node_data)
        timeout = args.get("timeout_mins")
        values = {
            "id": stack_id,
            "name": stack_name,
            "project_id": project_id,
            "username": ctx.get("username"),
            "stack_user_project_id": project_id,
            "disable_rollback": bool(args.get("disable_rollback", True)),
            "timeout_mins": math.ceil(float(timeout)) if timeout else None,
            "user_parameters": dict(params or {}),
            "owner_id": (owner or {}).get("stack_id"),
            "owner_resource": (owner or {}).get("resource_name"),
            "root_stack_id": (owner or {}).get("root_stack_id"),
            "nested_depth": int((owner or {}).get("depth", 0)),
        }
        resources = [
            {
                "uuid": uuids[n],
                "name": n,
                "type": rd.type,
                "requires": sorted(r for r in rd.requires if r in defn.resources),
            }
            for n, rd in defn.resources.items()
        ]
        raw = (request.template.doc, dict(request.template.files), request.environment.to_dict())
        tags = _tags(args.get("tags"))
        ready = await self.db.run(
            _create_tx,
            values=values,
            raw=raw,
            tags=tags,
            resources=resources,
            nodes=nodes,
            deadline=_deadline(
                float(timeout) if timeout else None, self.settings.stack_action_timeout
            ),
            rollback=not values["disable_rollback"],
            max_stacks=self.settings.max_stacks_per_tenant if not ctx.get("is_admin") else -1,
            action=action,
            tree_limit=limit,
        )
        await publish_nodes(self.transport, ready)
        return {"stack_id": stack_id, "stack_name": stack_name, "project_id": project_id}

    # Delete ---------------------------------------------------------------------------

    async def delete_stack(
        self, ctx: Mapping[str, Any], stack_identity: str, stack_id: str | None = None
    ) -> None:
        stack = await self.db.run(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        if stack.action == Action.DELETE and stack.status == Status.COMPLETE:
            raise store_reads.not_found(stack_identity)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        if stack.current_traversal:
            # The newer traversal wins; resources caught mid-action keep their state and
            # the new traversal takes them from there.
            await self.transport.broadcast(
                CANCEL_TOPIC, {"traversal_id": stack.current_traversal, "superseded": True}
            )
        ready = await self.db.run(_delete_tx, stack.id, _policies(defn), Action.DELETE)
        await publish_nodes(self.transport, ready)

    # Reads ----------------------------------------------------------------------------

    async def identify_stack(self, ctx: Mapping[str, Any], stack_identity: str) -> dict[str, Any]:
        stack = await self.db.run(store_reads.find_stack, _project(ctx), stack_identity)
        return {"stack_id": stack.id, "stack_name": stack.name, "project_id": stack.project_id}

    async def show_stack(
        self,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
        resolve_outputs: bool = True,
    ) -> dict[str, Any]:
        stack, peers = await self.db.read(
            _show_tx, _project(ctx), stack_identity, stack_id, resolve_outputs
        )
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        outputs = None
        if resolve_outputs and not (
            stack.action == Action.DELETE and stack.status == Status.COMPLETE
        ):
            rctx = defn.resolve_context(PeerResources(peers))
            outputs = [o.to_api() for o in defn.resolve_outputs(rctx)]
        return views.stack_detail(stack, defn, outputs)

    async def get_template(
        self, ctx: Mapping[str, Any], stack_identity: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        stack = await self.db.read(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        return dict(defn.template.doc)

    # Update ---------------------------------------------------------------------------

    async def update_stack(
        self,
        ctx: Mapping[str, Any],
        stack_identity: str,
        template: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: Mapping[str, Any] | None = None,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        args = dict(args or {})
        stack = await self.db.run(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        if stack.action in (Action.SUSPEND, Action.DELETE) and not (
            stack.action == Action.SUSPEND and stack.status == Status.FAILED
        ):
            raise errors.NotSupported(feature=f"Updating a stack when it is {stack.action}")
        current, request = await self._update_request(
            stack, args, template, params, files, environment, environment_files
        )
        limit = self.settings.max_resources_per_stack
        if limit != -1 and len(request.defn.resources) > limit:
            raise errors.RequestLimitExceeded(
                "You have reached the maximum resources per stack, please contact your "
                "cloud administrator."
            )
        immutable_changes(
            request.defn.parameters.schemas, current.parameters, request.defn.parameters
        )
        timeout = args.get("timeout_mins", stack.timeout_mins)
        disable_rollback = args.get("disable_rollback")
        if disable_rollback is None:
            disable_rollback = stack.disable_rollback
        raw = (request.template.doc, dict(request.template.files), request.environment.to_dict())
        if stack.current_traversal:
            # The newer traversal wins; resources caught mid-action keep their state and
            # the new traversal takes them from there.
            await self.transport.broadcast(
                CANCEL_TOPIC, {"traversal_id": stack.current_traversal, "superseded": True}
            )
        ready = await self.db.run(
            _update_tx,
            stack_id=stack.id,
            raw=raw,
            defn=request.defn,
            old_policies=_policies(current),
            deadline=_deadline(
                float(timeout) if timeout else None, self.settings.stack_action_timeout
            ),
            disable_rollback=bool(disable_rollback),
            timeout=timeout,
            action=args.get("action", Action.UPDATE),
            tags=_tags(args["tags"]) if "tags" in args else None,
            node_data={n: {"restore": d} for n, d in (args.get("restore") or {}).items()},
        )
        await publish_nodes(self.transport, ready)
        return {"stack_id": stack.id, "stack_name": stack.name, "project_id": stack.project_id}

    async def _update_request(
        self,
        stack: Stack,
        args: Mapping[str, Any],
        template: Any,
        params: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None,
        environment: Any,
        environment_files: list[str] | None,
    ) -> tuple[Any, Any]:
        """The stack's current definition and the checked request an update (or its
        preview) would apply; PATCH (``existing``) merges into what is stored."""
        current = await self.definitions.get(stack.id, stack.raw_template_id)
        if args.get("existing"):
            template, files, environment = patched(
                current, template, params, files, environment, args.get("clear_parameters")
            )
            params = None
        identity = StackIdentity(stack.name, stack.id, stack.project_id, self.settings.region_name)
        request = build_request(
            self.settings,
            self.plugins,
            identity=identity,
            template=template,
            parameters=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            depth=stack.nested_depth,
        )
        return current, request

    # Completion hooks -----------------------------------------------------------------

    async def on_completion(self, completion: Any) -> None:
        if completion.finished:
            await self.db.run(
                store_stacks.purge_events, completion.finished, self.settings.max_events_per_stack
            )
        for stack_id in completion.rollbacks:
            await self._rollback(stack_id)

    async def _rollback(self, stack_id: str) -> None:
        stack = await self.db.run(lambda s: s.get(Stack, stack_id))
        if stack is None:
            return
        if stack.prev_raw_template_id is None:
            defn = await self.definitions.get(stack.id, stack.raw_template_id)
            ready = await self.db.run(_delete_tx, stack.id, _policies(defn), Action.ROLLBACK)
        else:
            previous = await self.definitions.get(stack.id, stack.prev_raw_template_id)
            current = await self.definitions.get(stack.id, stack.raw_template_id)
            raw = (
                previous.template.doc,
                dict(previous.template.files),
                previous.environment.to_dict(),
            )
            ready = await self.db.run(
                _update_tx,
                stack_id=stack.id,
                raw=raw,
                defn=previous,
                old_policies=_policies(current),
                deadline=_deadline(stack.timeout_mins, self.settings.stack_action_timeout),
                disable_rollback=True,
                timeout=stack.timeout_mins,
                action=Action.ROLLBACK,
                tags=None,
            )
        await publish_nodes(self.transport, ready)


def _project(ctx: Mapping[str, Any]) -> str | None:
    return None if ctx.get("is_admin") and ctx.get("all_projects") else str(ctx["project_id"])


def _tags(raw: Any) -> list[str]:
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


# Units of work ------------------------------------------------------------------------


def _finish_empty(
    session: Session, traversal_id: str, ready: list[NodeKey], nodes: list[NodeSpec]
) -> None:
    """A traversal with no nodes is complete at once."""
    if not nodes:
        trav = session.get(Traversal, traversal_id)
        assert trav is not None
        store_stacks.finish_traversal(session, trav)


def _create_tx(
    session: Session,
    *,
    values: dict[str, Any],
    raw: tuple[Any, Any, Any],
    tags: list[str],
    resources: list[dict[str, Any]],
    nodes: list[NodeSpec],
    deadline: dt.datetime,
    rollback: bool,
    max_stacks: int,
    action: str = Action.CREATE,
    tree_limit: int = -1,
) -> list[NodeKey]:
    root = values.get("root_stack_id")
    if tree_limit != -1 and root is not None:
        # The limit counts resources over the whole tree of nested stacks.
        in_tree = session.execute(
            select(func.count()).select_from(Resource).where(Resource.root_stack_id == root)
        ).scalar_one()
        if in_tree + len(resources) > tree_limit:
            raise errors.RequestLimitExceeded(
                "You have reached the maximum resources per stack, please contact your "
                "cloud administrator."
            )
    if max_stacks != -1 and values.get("owner_id") is None:
        count = session.execute(
            select(func.count())
            .select_from(Stack)
            .where(
                Stack.project_id == values["project_id"],
                Stack.deleted_at.is_(None),
                Stack.owner_id.is_(None),
            )
        ).scalar_one()
        if count >= max_stacks:
            raise errors.RequestLimitExceeded(
                "You have reached the maximum stacks per tenant, please contact your cloud "
                "administrator."
            )
    stack = store_stacks.create_stack(
        session, values=values, raw_template=raw, tags=tags, resources=resources, action=action
    )
    traversal_id, ready = store_nodes.start_traversal(
        session,
        stack_id=stack.id,
        action=action,
        nodes=nodes,
        deadline=deadline,
        data={"stack_action": action, "rollback_on_failure": rollback},
    )
    _finish_empty(session, traversal_id, ready, nodes)
    return ready


def _delete_tx(
    session: Session,
    stack_id: str,
    policies: dict[str, str],
    action: str,
) -> list[NodeKey]:
    stack = session.get(Stack, stack_id, with_for_update=True)
    assert stack is not None
    rows = store_reads.current_resources(session, stack_id)
    stored = [planner.StoredResource(r.uuid, r.name, r.type, tuple(r.requires or ())) for r in rows]
    nodes = planner.delete_nodes(stored, policies, Action.DELETE)
    stack_action = Action.ROLLBACK if action == Action.ROLLBACK else Action.DELETE
    store_stacks.set_stack_state(
        session, stack, stack_action, Status.IN_PROGRESS, f"Stack {stack_action} started"
    )
    traversal_id, ready = store_nodes.start_traversal(
        session,
        stack_id=stack_id,
        action=stack_action,
        nodes=nodes,
        deadline=None,
        data={"stack_action": stack_action, "delete_stack": action == Action.DELETE},
    )
    _finish_empty(session, traversal_id, ready, nodes)
    return ready


def _update_tx(
    session: Session,
    *,
    stack_id: str,
    raw: tuple[Any, Any, Any],
    defn: Any,
    old_policies: dict[str, str],
    deadline: dt.datetime,
    disable_rollback: bool,
    timeout: Any,
    action: str,
    tags: list[str] | None,
    node_data: dict[str, dict[str, Any]] | None = None,
) -> list[NodeKey]:
    stack = session.get(Stack, stack_id, with_for_update=True)
    assert stack is not None
    raw_id = store_stacks.new_raw_template(session, *raw)
    rows = [r for r in store_reads.current_resources(session, stack_id) if r.replaced_by is None]
    stored = [planner.StoredResource(r.uuid, r.name, r.type, tuple(r.requires or ())) for r in rows]
    kept = {r.name for r in rows}
    new_uuids = {name: str(uuid.uuid4()) for name in defn.resources if name not in kept}
    requires = {
        n: sorted(r for r in rd.requires if r in defn.resources) for n, rd in defn.resources.items()
    }
    store_stacks.add_resources(
        session,
        stack,
        [
            {
                "uuid": new_uuids[n],
                "name": n,
                "type": defn.resources[n].type,
                "requires": requires[n],
            }
            for n in new_uuids
        ],
        None,
    )
    for row in rows:
        if row.name in defn.resources:
            row.requires = requires[row.name]
    nodes = planner.update_nodes(defn, stored, new_uuids, old_policies, raw_id, node_data)
    if action == Action.UPDATE:
        stack.prev_raw_template_id = stack.raw_template_id
    stack.disable_rollback = disable_rollback
    stack.timeout_mins = math.ceil(float(timeout)) if timeout else None
    store_stacks.set_stack_state(
        session, stack, action, Status.IN_PROGRESS, f"Stack {action} started"
    )
    if tags is not None:
        session.execute(StackTag.__table__.delete().where(StackTag.stack_id == stack_id))
        for tag in tags:
            session.add(StackTag(stack_id=stack_id, tag=tag))
        stack.tags = ",".join(tags) or None
    traversal_id, ready = store_nodes.start_traversal(
        session,
        stack_id=stack_id,
        action=action,
        nodes=nodes,
        deadline=deadline,
        data={
            "stack_action": action,
            "rollback_on_failure": not disable_rollback and action == Action.UPDATE,
            "raw_template_id": raw_id,
        },
    )
    _finish_empty(session, traversal_id, ready, nodes)
    return ready


def _show_tx(
    session: Session,
    project_id: str | None,
    identity: str,
    stack_id: str | None,
    with_peers: bool,
) -> tuple[Stack, dict[str, Any]]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id, show_deleted=False)
    return stack, store_reads.peers_of(session, stack.id) if with_peers else {}


__all__ = ["EngineService", "TraversalState"]
