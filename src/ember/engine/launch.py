"""Starting traversals: each stack operation (create, update, delete, rollback, suspend,
resume, check), a resource's own update and a signal becomes a graph stored in one
transaction with what it acts on; its ready nodes are then published.

``Launcher`` is what the operation classes and the nested-stack services share; the
``*_tx`` functions are its units of work.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.states import Action, Scope, Status
from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.models import Stack
from ember.db.records import NodeKey, NodeSpec
from ember.db.unit import UnitOfWork
from ember.engine import planner, progress
from ember.engine.definitions import DefinitionCache
from ember.engine.worker import publish_nodes
from ember.rpc.api import CANCEL_TOPIC
from ember.rpc.transport import Transport
from ember.template import TOO_MANY_RESOURCES, StackDefinition


def deadline(timeout_mins: float | None, default_seconds: int) -> dt.datetime:
    seconds = timeout_mins * 60 if timeout_mins else default_seconds
    return utcnow() + dt.timedelta(seconds=seconds)


def policies(defn: StackDefinition) -> dict[str, str]:
    return {name: rd.deletion_policy for name, rd in defn.resources.items()}


def requirements(defn: StackDefinition) -> dict[str, list[str]]:
    """What each resource refers to, within the stack."""
    return {
        n: sorted(r for r in rd.requires if r in defn.resources) for n, rd in defn.resources.items()
    }


@dataclass(frozen=True)
class NewStack:
    """A checked create request, ready to be stored."""

    values: dict[str, Any]
    raw: tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]
    tags: list[str]
    resources: list[dict[str, Any]]
    nodes: list[NodeSpec]
    deadline: dt.datetime
    action: str
    max_stacks: int
    tree_limit: int


@dataclass(frozen=True)
class StackChange:
    """A checked update (or rollback, or restore) of a stored stack."""

    stack_id: str
    raw: tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]
    defn: StackDefinition
    old_policies: dict[str, str]
    deadline: dt.datetime
    disable_rollback: bool
    timeout: Any
    action: str
    tags: list[str] | None
    node_data: dict[str, dict[str, Any]]
    # A rollback: the failed traversal it undoes; it starts only while that one is still the
    # stack's operation (the engine that failed it and one carrying on for it may both try).
    undoes: str | None = None
    # Names the change asked for: the same key asked again, while the traversal it started
    # runs (or once it completed), starts nothing new.
    request_key: str | None = None
    # A nested stack's resource_facade, as its owner resolved it now.
    facade: dict[str, Any] | None = None


class Launcher:
    """Stores traversals and publishes their ready nodes; tells the engines to stop the
    traversal a new one supersedes."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        transport: Transport,
        definitions: DefinitionCache,
    ) -> None:
        self.settings = settings
        self.db = db
        self.transport = transport
        self.definitions = definitions

    async def publish(self, ready: Sequence[NodeKey]) -> None:
        await publish_nodes(self.transport, list(ready))

    async def supersede(self, stack: Stack) -> None:
        """The newer traversal wins; resources caught mid-action keep their state and the
        new traversal takes them from there."""
        if stack.current_traversal:
            await self.transport.broadcast(
                CANCEL_TOPIC, {"traversal_id": stack.current_traversal, "superseded": True}
            )

    async def cancel_running(self, traversal_id: str) -> None:
        """Tell every engine to stop its running nodes of a cancelled traversal."""
        await self.transport.broadcast(CANCEL_TOPIC, {"traversal_id": traversal_id})

    async def create(self, new: NewStack) -> str:
        """Store the stack and start its create; the id of the stack stored, which for a
        create sent again with its idempotency key is the first one's."""
        stack_id, ready = await self.db.run(create_tx, new)
        await self.publish(ready)
        return stack_id

    async def update(self, change: StackChange) -> None:
        await self.publish(await self.db.run(update_tx, change))

    async def delete(
        self,
        stack_id: str,
        defn: StackDefinition,
        action: str = Action.DELETE,
        request_key: str | None = None,
    ) -> None:
        await self.publish(
            await self.db.run(
                delete_tx,
                stack_id,
                policies(defn),
                action,
                request_key=request_key,
                held_names=planner.held(defn, Action.DELETE),
            )
        )

    async def act(self, stack_id: str, action: str) -> None:
        """Suspend, resume or check every resource."""
        await self.publish(await self.db.run(action_tx, stack_id, action))

    async def rollback(self, stack_id: str, failed: str) -> None:
        """Undo the ``failed`` traversal: a create (delete what it made) or an update (back
        to the previous template), unless another operation has begun since."""
        stack = await self.db.run(_get_stack, stack_id)
        if stack is None or stack.current_traversal != failed:
            return
        current = await self.definitions.get(stack.id, stack.raw_template_id)
        if stack.prev_raw_template_id is None:
            await self.publish(
                await self.db.run(
                    delete_tx,
                    stack.id,
                    policies(current),
                    Action.ROLLBACK,
                    failed,
                    held_names=planner.held(current, Action.DELETE),
                )
            )
            return
        previous = await self.definitions.get(stack.id, stack.prev_raw_template_id)
        await self.update(
            StackChange(
                stack_id=stack.id,
                raw=(
                    previous.template.doc,
                    dict(previous.template.files),
                    previous.environment.to_dict(),
                ),
                defn=previous,
                old_policies=policies(current),
                deadline=deadline(stack.timeout_mins, self.settings.stack_action_timeout),
                disable_rollback=True,
                timeout=stack.timeout_mins,
                action=Action.ROLLBACK,
                tags=None,
                node_data={},
                undoes=failed,
                facade=stack.facade,
            )
        )

    async def update_resource(
        self, stack_id: str, resource_uuid: str, node_data: Mapping[str, Any]
    ) -> None:
        """Bring one resource to the stack's current definition (with ``node_data``), in a
        traversal of its own that leaves the rest of the stack alone."""
        await self.publish(
            await self.db.run(resource_tx, stack_id, resource_uuid, Action.UPDATE, dict(node_data))
        )

    async def signal(self, stack_id: str, resource_uuid: str, details: Any) -> str:
        """Run a signal as work of its own: claimed after whatever the resource is doing.
        The id of the traversal that runs it."""
        traversal_id, ready = await self.db.run(
            signal_tx, stack_id, resource_uuid, {"details": details}
        )
        await self.publish(ready)
        return traversal_id


def _get_stack(uow: UnitOfWork, stack_id: str) -> Stack | None:
    return uow.stacks.get(stack_id)


# Units of work -----------------------------------------------------------------------------


def created_before(uow: UnitOfWork, project_id: str, key: str, stack_name: str) -> str | None:
    """The id of the stack an earlier create with idempotency ``key`` made, if any; that
    create must have been for the same stack name."""
    earlier = uow.stacks.created_with(project_id, key)
    if earlier is None:
        return None
    if earlier.name != stack_name:
        raise errors.IdempotencyKeyInUse(key=key, stack_name=earlier.name)
    return earlier.id


def create_tx(uow: UnitOfWork, new: NewStack) -> tuple[str, list[NodeKey]]:
    key = new.values.get("idempotency_key")
    if key is not None:
        earlier = created_before(uow, new.values["project_id"], key, new.values["name"])
        if earlier is not None:
            return earlier, []
    root = new.values.get("root_stack_id")
    # The resource limit counts resources over the whole tree of nested stacks.
    if (
        new.tree_limit != -1
        and root is not None
        and uow.resources.count_in_tree(root) + len(new.resources) > new.tree_limit
    ):
        raise errors.RequestLimitExceeded(TOO_MANY_RESOURCES)
    if (
        new.max_stacks != -1
        and new.values.get("owner_id") is None
        and uow.stacks.count_top_level(new.values["project_id"]) >= new.max_stacks
    ):
        raise errors.RequestLimitExceeded(
            "You have reached the maximum stacks per tenant, please contact your cloud "
            "administrator."
        )
    stack = uow.stacks.create(
        values=new.values, raw_template=new.raw, tags=new.tags, action=new.action
    )
    uow.resources.add(stack, new.resources, stack.raw_template_id)
    traversal_id, ready = uow.traversals.start(
        stack_id=stack.id,
        action=new.action,
        nodes=new.nodes,
        deadline=new.deadline,
        data={
            "stack_action": new.action,
            "rollback_on_failure": not new.values["disable_rollback"],
        },
    )
    return stack.id, ready + progress.close_if_empty(uow, traversal_id, not new.nodes)


def delete_tx(
    uow: UnitOfWork,
    stack_id: str,
    old_policies: dict[str, str],
    action: str,
    undoes: str | None = None,
    *,
    request_key: str | None = None,
    held_names: frozenset[str] = frozenset(),
) -> list[NodeKey]:
    stack = uow.stacks.lock(stack_id)
    if undoes is not None and stack.current_traversal != undoes:
        return []
    if request_key is not None and uow.traversals.requested(stack.current_traversal, request_key):
        return []
    rows = uow.resources.of_stack(stack_id)
    stored = [planner.StoredResource(r.uuid, r.name, r.type, tuple(r.requires or ())) for r in rows]
    nodes = planner.delete_nodes(stored, old_policies, Action.DELETE, held_names)
    stack_action = Action.ROLLBACK if action == Action.ROLLBACK else Action.DELETE
    uow.stacks.set_state(stack, stack_action, Status.IN_PROGRESS, f"Stack {stack_action} started")
    traversal_id, ready = uow.traversals.start(
        stack_id=stack_id,
        action=stack_action,
        nodes=nodes,
        deadline=None,
        data={
            "stack_action": stack_action,
            "delete_stack": action == Action.DELETE,
            **({"request_key": request_key} if request_key else {}),
        },
    )
    return ready + progress.close_if_empty(uow, traversal_id, not nodes)


def update_tx(uow: UnitOfWork, change: StackChange) -> list[NodeKey]:
    stack = uow.stacks.lock(change.stack_id)
    if change.undoes is not None and stack.current_traversal != change.undoes:
        return []
    if change.request_key is not None and uow.traversals.requested(
        stack.current_traversal, change.request_key
    ):
        return []
    defn = change.defn
    raw_id = uow.stacks.add_template(*change.raw)
    # Every row, replaced ones too: what an earlier operation left behind is cleaned up.
    rows = uow.resources.of_stack(stack.id)
    stored = [
        planner.StoredResource(
            r.uuid, r.name, r.type, tuple(r.requires or ()), r.id, r.replaced_by, r.replaces
        )
        for r in rows
    ]
    standing, _ = planner.current_rows(stored)
    kept = set(standing)
    new_uuids = {name: str(uuid.uuid4()) for name in defn.resources if name not in kept}
    requires = requirements(defn)
    uow.resources.add(
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
    uow.resources.set_requires(
        {r.id: requires[r.name] for r in standing.values() if r.name in defn.resources}
    )
    nodes = planner.update_nodes(
        defn, stored, new_uuids, change.old_policies, raw_id, change.node_data
    )
    options: dict[str, Any] = {
        "disable_rollback": change.disable_rollback,
        "timeout_mins": math.ceil(float(change.timeout)) if change.timeout else None,
        "facade": change.facade,
    }
    if change.action == Action.UPDATE:
        options["prev_raw_template_id"] = stack.raw_template_id
    uow.stacks.set_options(stack, **options)
    uow.stacks.set_state(stack, change.action, Status.IN_PROGRESS, f"Stack {change.action} started")
    if change.tags is not None:
        uow.stacks.set_tags(stack, change.tags)
    traversal_id, ready = uow.traversals.start(
        stack_id=stack.id,
        action=change.action,
        nodes=nodes,
        deadline=change.deadline,
        data={
            "stack_action": change.action,
            "rollback_on_failure": not change.disable_rollback and change.action == Action.UPDATE,
            "raw_template_id": raw_id,
            **({"request_key": change.request_key} if change.request_key else {}),
        },
    )
    return ready + progress.close_if_empty(uow, traversal_id, not nodes)


def action_tx(uow: UnitOfWork, stack_id: str, action: str) -> list[NodeKey]:
    stack = uow.stacks.lock(stack_id)
    rows = uow.resources.live(stack_id)
    stored = [planner.StoredResource(r.uuid, r.name, r.type, tuple(r.requires or ())) for r in rows]
    nodes = planner.simple_nodes(stored, action, reverse=action == Action.SUSPEND)
    uow.stacks.set_state(stack, action, Status.IN_PROGRESS, f"Stack {action} started")
    traversal_id, ready = uow.traversals.start(
        stack_id=stack_id, action=action, nodes=nodes, deadline=None, data={"stack_action": action}
    )
    return ready + progress.close_if_empty(uow, traversal_id, not nodes)


def cancel_tx(
    uow: UnitOfWork, stack_id: str, traversal_id: str | None, *, stop_started: bool = True
) -> list[NodeKey]:
    """Stop the stack's operation: nothing more starts; with ``stop_started``, parked nodes
    wake only to record their cancellation, else what has started finishes."""
    stack = uow.stacks.lock(stack_id)
    woken = uow.traversals.cancel(traversal_id, stop_started=stop_started) if traversal_id else []
    uow.stacks.set_state(stack, stack.action, Status.FAILED, f"Stack {stack.action} cancelled")
    return woken


def resource_tx(
    uow: UnitOfWork, stack_id: str, resource_uuid: str, action: str, node_data: dict[str, Any]
) -> list[NodeKey]:
    """A traversal of one node acting on one resource, beside the stack's own."""
    return _one_node(uow, stack_id, resource_uuid, action, node_data)[1]


def signal_tx(
    uow: UnitOfWork, stack_id: str, resource_uuid: str, node_data: dict[str, Any]
) -> tuple[str, list[NodeKey]]:
    return _one_node(uow, stack_id, resource_uuid, Action.SIGNAL, node_data)


def _one_node(
    uow: UnitOfWork, stack_id: str, resource_uuid: str, action: str, node_data: dict[str, Any]
) -> tuple[str, list[NodeKey]]:
    stack = uow.stacks.lock(stack_id)
    node = NodeSpec(0, resource_uuid, action, (), node_data)
    return uow.traversals.start(
        stack_id=stack.id,
        action=action,
        nodes=[node],
        deadline=None,
        data={"stack_action": action, "raw_template_id": stack.raw_template_id},
        scope=Scope.RESOURCE,
    )
