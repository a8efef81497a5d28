"""Units of work for stacks, resources and events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.timeutils import utcnow
from ember.db.models import (
    Event,
    RawTemplate,
    Resource,
    ResourceData,
    Stack,
    StackTag,
    Traversal,
    TraversalNode,
)
from ember.engine.records import ClaimedNode, Outcome
from ember.engine.states import Action, Status, TraversalState

STACK_TYPE = "OS::Heat::Stack"
# Actions that may turn out to be no-ops: they show themselves only when they act.
DEFERRED_START = ("UPDATE", "CLEANUP")


def stack_event(stack: Stack, action: str, status: str, reason: str) -> dict[str, Any]:
    """Stack-level events carry the stack's name and id, as Heat's clients expect."""
    return {
        "uuid": str(uuid.uuid4()),
        "stack_id": stack.id,
        "root_stack_id": stack.root_stack_id or stack.id,
        "resource_name": stack.name,
        "physical_resource_id": stack.id,
        "resource_type": STACK_TYPE,
        "resource_action": action,
        "resource_status": status,
        "resource_status_reason": reason,
        "resource_properties": None,
        "created_at": utcnow(),
    }


def resource_event(
    node: ClaimedNode,
    root: str | None,
    action: str,
    status: str,
    reason: str,
    physical_id: str | None,
    properties: Any = None,
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "stack_id": node.stack_id,
        "root_stack_id": root or node.stack_id,
        "resource_name": node.resource_name,
        "physical_resource_id": physical_id or "",
        "resource_type": node.resource_type,
        "resource_action": action,
        "resource_status": status,
        "resource_status_reason": reason,
        "resource_properties": properties,
        "created_at": utcnow(),
    }


def insert_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    if events:
        session.execute(insert(Event), list(events))


def set_stack_state(session: Session, stack: Stack, action: str, status: str, reason: str) -> None:
    stack.action, stack.status, stack.status_reason = action, status, reason
    if action in (Action.UPDATE, Action.ROLLBACK, Action.RESTORE) and status == Status.IN_PROGRESS:
        stack.updated_at = utcnow()
    insert_events(session, [stack_event(stack, action, status, reason)])


def new_raw_template(
    session: Session, template: dict[str, Any], files: dict[str, Any], environment: dict[str, Any]
) -> int:
    raw = RawTemplate(template=template, files=files, environment=environment)
    session.add(raw)
    session.flush()
    return raw.id


def create_stack(
    session: Session,
    *,
    values: dict[str, Any],
    raw_template: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    tags: Sequence[str],
    resources: Sequence[dict[str, Any]],
    action: str = Action.CREATE,
) -> Stack:
    """Insert a stack, its template, tags and resource rows (INIT_COMPLETE)."""
    existing = session.execute(
        select(Stack.id).where(
            Stack.project_id == values["project_id"],
            Stack.name == values["name"],
            Stack.deleted_at.is_(None),
            Stack.owner_id.is_(None)
            if values.get("owner_id") is None
            else Stack.owner_id == values["owner_id"],
        )
    ).first()
    if existing is not None:
        raise errors.StackExists(stack_name=values["name"])
    raw_id = new_raw_template(session, *raw_template)
    stack = Stack(
        raw_template_id=raw_id,
        action=action,
        status=Status.IN_PROGRESS,
        status_reason=f"Stack {action} started",
        **values,
    )
    if stack.root_stack_id is None:
        stack.root_stack_id = stack.id
    session.add(stack)
    session.flush()
    if tags:
        session.execute(insert(StackTag), [{"stack_id": stack.id, "tag": t} for t in tags])
        stack.tags = ",".join(tags)
    add_resources(session, stack, resources, raw_id)
    insert_events(
        session, [stack_event(stack, action, Status.IN_PROGRESS, f"Stack {action} started")]
    )
    return stack


def add_resources(
    session: Session, stack: Stack, resources: Sequence[dict[str, Any]], template_id: int | None
) -> None:
    if resources:
        now = utcnow()
        session.execute(
            insert(Resource),
            [
                {
                    "uuid": r["uuid"],
                    "stack_id": stack.id,
                    "root_stack_id": stack.root_stack_id,
                    "name": r["name"],
                    "type": r["type"],
                    "action": Action.INIT,
                    "status": Status.COMPLETE,
                    "status_reason": "",
                    "requires": r.get("requires", []),
                    "replaces": r.get("replaces"),
                    "template_id": template_id,
                    "needs_replace": False,
                    "created_at": now,
                    "physical_resource_id": r.get("physical_id"),
                }
                for r in resources
            ],
        )


def load_resource_data(session: Session, nodes: Sequence[ClaimedNode]) -> None:
    by_id = {n.resource_id: n for n in nodes}
    for rid, key, value in session.execute(
        select(ResourceData.resource_id, ResourceData.key, ResourceData.value).where(
            ResourceData.resource_id.in_(list(by_id))
        )
    ):
        by_id[rid].data[key] = value


def load_peers(session: Session, nodes: Sequence[ClaimedNode]) -> None:
    """What each node's properties refer to: the current row of each required resource."""
    wanted: dict[str, set[str]] = {}
    for node in nodes:
        wanted.setdefault(node.stack_id, set()).update(node.requires)
    for stack_id, names in wanted.items():
        if not names:
            continue
        rows = session.execute(
            select(Resource.name, Resource.reference_id, Resource.attributes).where(
                Resource.stack_id == stack_id,
                Resource.name.in_(sorted(names)),
                Resource.replaced_by.is_(None),
            )
        ).all()
        peers = {name: (ref, attrs or {}) for name, ref, attrs in rows}
        for node in nodes:
            if node.stack_id == stack_id:
                node.peers = {n: peers[n] for n in node.requires if n in peers}


def mark_in_progress(session: Session, nodes: Sequence[ClaimedNode], engine_id: str) -> None:
    roots = _roots(session, {n.stack_id for n in nodes})
    events = []
    nodes = [n for n in nodes if n.action not in DEFERRED_START]
    for node in nodes:
        if node.resource_action == node.action and node.resource_status == Status.IN_PROGRESS:
            continue  # taken over after an engine died: already shown as started
        events.append(
            resource_event(
                node,
                roots.get(node.stack_id),
                node.action,
                Status.IN_PROGRESS,
                "state changed",
                node.physical_id,
                node.properties,
            )
        )
    for action in {n.action for n in nodes}:
        ids = [n.resource_id for n in nodes if n.action == action]
        session.execute(
            update(Resource)
            .where(Resource.id.in_(ids))
            .values(
                action=action,
                status=Status.IN_PROGRESS,
                status_reason="state changed",
                engine_id=engine_id,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    insert_events(session, events)


def _roots(session: Session, stack_ids: Iterable[str]) -> dict[str, str | None]:
    return dict(
        session.execute(
            select(Stack.id, Stack.root_stack_id).where(Stack.id.in_(list(stack_ids)))
        ).all()
    )


def record_outcomes(session: Session, outcomes: Sequence[Outcome]) -> None:
    """Write every outcome's resource state, data and events in a few bulk statements."""
    if not outcomes:
        return
    roots = _roots(session, {o.node.stack_id for o in outcomes})
    events = []
    removed = [o.node.resource_id for o in outcomes if o.success and o.remove]
    # A failed replacement leaves the original as the stack's resource.
    removed += [
        o.replacement_id for o in outcomes if not o.success and o.replacement_id is not None
    ]
    now = utcnow()
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    replaced: list[dict[str, Any]] = []
    data: dict[int, dict[str, str]] = {}
    for o in outcomes:
        node = o.node
        if o.silent:
            if "template_id" in node.node_data:
                row = {"id": node.resource_id, "template_id": node.node_data["template_id"]}
                groups.setdefault(tuple(sorted(row)), []).append(row)
            continue
        status = Status.COMPLETE if o.success else Status.FAILED
        if o.keep_state:
            if o.event:
                events.append(
                    resource_event(
                        node,
                        roots.get(node.stack_id),
                        node.action,
                        status,
                        o.reason,
                        node.physical_id,
                    )
                )
            continue
        action = Action.CREATE if o.replacement_id is not None else node.action
        if node.action == "CLEANUP":
            action = Action.DELETE
        shown_id = (
            o.physical_id if o.replacement_id is not None else (o.physical_id or node.physical_id)
        )
        events.append(
            resource_event(
                node,
                roots.get(node.stack_id),
                action,
                status,
                o.reason,
                shown_id,
                o.properties if o.properties is not None else node.properties,
            )
        )
        if o.success and o.remove:
            continue
        if not o.success and o.replacement_id is not None:
            continue
        target = node.resource_id
        if o.replacement_id is not None:
            target = o.replacement_id
            replaced.append({"id": node.resource_id, "replaced_by": o.replacement_id})
        values = _row_values(o, target, action, status, now)
        groups.setdefault(tuple(sorted(values)), []).append(values)
        if o.data:
            data[target] = o.data
    for rows in groups.values():
        session.execute(update(Resource), rows)
    if replaced:
        session.execute(update(Resource), replaced)
    save_data_many(session, data)
    if removed:
        session.execute(delete(ResourceData).where(ResourceData.resource_id.in_(removed)))
        session.execute(delete(Resource).where(Resource.id.in_(removed)))
    insert_events(session, events)


def _row_values(o: Outcome, target: int, action: str, status: str, now: Any) -> dict[str, Any]:
    """The resource row columns an outcome sets (only those it knows)."""
    values: dict[str, Any] = {
        "id": target,
        "action": action,
        "status": status,
        "status_reason": o.reason,
        "engine_id": None,
        "updated_at": now,
    }
    if o.physical_id is not None:
        values["physical_resource_id"] = o.physical_id
    if o.properties is not None:
        values["properties"] = o.properties
    if o.attributes is not None:
        values["attributes"] = o.attributes
    if o.reference_id is not None:
        values["reference_id"] = o.reference_id
    if o.metadata is not None:
        values["metadata_"] = o.metadata
    if "template_id" in o.node.node_data and o.success:
        values["template_id"] = o.node.node_data["template_id"]
    return values


def save_data(session: Session, resource_id: int, data: dict[str, str]) -> None:
    save_data_many(session, {resource_id: data})


def save_data_many(session: Session, data: dict[int, dict[str, str]]) -> None:
    """Insert or update resource data of many resources at once."""
    data = {rid: d for rid, d in data.items() if d}
    if not data:
        return
    existing = {
        (rid, key): row_id
        for row_id, rid, key in session.execute(
            select(ResourceData.id, ResourceData.resource_id, ResourceData.key).where(
                ResourceData.resource_id.in_(list(data))
            )
        )
    }
    now = utcnow()
    inserts, updates = [], []
    for rid, values in data.items():
        for key, value in values.items():
            row_id = existing.get((rid, key))
            if row_id is None:
                inserts.append(
                    {
                        "resource_id": rid,
                        "key": key,
                        "value": value,
                        "redact": False,
                        "created_at": now,
                    }
                )
            else:
                updates.append({"id": row_id, "value": value, "updated_at": now})
    if inserts:
        session.execute(insert(ResourceData), inserts)
    if updates:
        session.execute(update(ResourceData), updates)


def stack_failed(session: Session, trav: Traversal, first: Outcome) -> None:
    stack = session.get(Stack, trav.stack_id)
    if stack is None or stack.current_traversal != trav.id:
        return
    action = trav.data.get("stack_action", trav.action)
    detail = first.stack_reason or first.reason
    reason = "Timed out" if first.timed_out else f"Resource {first.node.action} failed: {detail}"
    set_stack_state(session, stack, action, Status.FAILED, reason)


def finish_traversal(session: Session, trav: Traversal) -> bool:
    """Close a traversal whose nodes are all finished. True when a rollback should start."""
    stack = session.get(Stack, trav.stack_id)
    if trav.state in (TraversalState.SUPERSEDED, TraversalState.CANCELLED) or stack is None:
        return False
    if stack.current_traversal != trav.id:
        trav.state = TraversalState.SUPERSEDED
        return False
    action = trav.data.get("stack_action", trav.action)
    if trav.state == TraversalState.FAILED:
        return bool(trav.data.get("rollback_on_failure"))
    trav.state = TraversalState.COMPLETE
    set_stack_state(
        session, stack, action, Status.COMPLETE, f"Stack {action} completed successfully"
    )
    if trav.data.get("delete_stack"):
        stack.deleted_at = utcnow()
        session.execute(delete(Resource).where(Resource.stack_id == stack.id))
    if trav.data.get("raw_template_id") and action != Action.DELETE:
        stack.raw_template_id = trav.data["raw_template_id"]
        stack.prev_raw_template_id = None
    return False


def mark_started(session: Session, nodes: Sequence[ClaimedNode], engine_id: str) -> list[None]:
    """UPDATE or CLEANUP nodes that turned out to have real work show it now."""
    if not nodes:
        return []
    roots = _roots(session, {n.stack_id for n in nodes})
    now = utcnow()
    rows, events = [], []
    for node in nodes:
        action = Action.DELETE if node.action == "CLEANUP" else node.action
        rows.append(
            {
                "id": node.resource_id,
                "action": action,
                "status": Status.IN_PROGRESS,
                "status_reason": "state changed",
                "engine_id": engine_id,
                "updated_at": now,
            }
        )
        events.append(
            resource_event(
                node,
                roots.get(node.stack_id),
                action,
                Status.IN_PROGRESS,
                "state changed",
                node.physical_id,
                node.properties,
            )
        )
    session.execute(update(Resource), rows)
    insert_events(session, events)
    return [None] * len(nodes)


def checkpoint(
    session: Session, resource_id: int, physical_id: str | None, data: dict[str, str]
) -> None:
    """Record what a handler made before it finishes, so it is never made twice."""
    if physical_id is not None:
        session.execute(
            update(Resource)
            .where(Resource.id == resource_id)
            .values(physical_resource_id=physical_id)
        )
    save_data(session, resource_id, data)


def begin_replacements(
    session: Session,
    items: Sequence[tuple[ClaimedNode, str, str]],
) -> list[tuple[int, str, str | None, dict[str, str]]]:
    """The new rows that replace the nodes' resources (reused when resuming): the old row
    shows UPDATE_IN_PROGRESS then UPDATE_COMPLETE "requires replacement", the new one
    CREATE_IN_PROGRESS."""
    if not items:
        return []
    nodes = [node for node, _, _ in items]
    ids = [n.resource_id for n in nodes]
    resuming = {}
    for row in session.execute(
        select(Resource)
        .where(Resource.replaces.in_(ids), Resource.status == Status.IN_PROGRESS)
        .order_by(Resource.id)
    ).scalars():
        resuming[row.replaces] = row
    roots = _roots(session, {n.stack_id for n in nodes})
    now = utcnow()
    events, old_rows, new_rows = [], [], []
    for node, reason, new_type in items:
        if node.resource_id in resuming:
            continue
        root = roots.get(node.stack_id)
        if not (
            node.resource_action == Action.UPDATE and node.resource_status == Status.IN_PROGRESS
        ):
            events.append(
                resource_event(
                    node, root, Action.UPDATE, Status.IN_PROGRESS, "state changed", node.physical_id
                )
            )
        events.append(
            resource_event(node, root, Action.UPDATE, Status.COMPLETE, reason, node.physical_id)
        )
        events.append(
            resource_event(node, root, Action.CREATE, Status.IN_PROGRESS, "state changed", None)
        )
        old_rows.append(
            {
                "id": node.resource_id,
                "action": Action.UPDATE,
                "status": Status.COMPLETE,
                "status_reason": reason,
                "updated_at": now,
            }
        )
        new_rows.append(
            {
                "uuid": str(uuid.uuid4()),
                "stack_id": node.stack_id,
                "root_stack_id": root,
                "name": node.resource_name,
                "type": new_type,
                "action": Action.CREATE,
                "status": Status.IN_PROGRESS,
                "status_reason": "state changed",
                "requires": node.requires,
                "replaces": node.resource_id,
                "needs_replace": False,
                "created_at": now,
            }
        )
    if old_rows:
        session.execute(update(Resource), old_rows)
    if new_rows:
        session.execute(insert(Resource), new_rows)
        for row in session.execute(
            select(Resource).where(Resource.uuid.in_([r["uuid"] for r in new_rows]))
        ).scalars():
            resuming[row.replaces] = row
    insert_events(session, events)
    out = []
    for node, _, _ in items:
        row = resuming[node.resource_id]
        data = (
            {}
            if row.physical_resource_id is None
            else dict(
                session.execute(
                    select(ResourceData.key, ResourceData.value).where(
                        ResourceData.resource_id == row.id
                    )
                ).all()
            )
        )
        out.append((row.id, row.uuid, row.physical_resource_id, data))
    return out


def fail_abandoned(session: Session, nodes: Sequence[tuple[str, int]]) -> None:
    """Resources left IN_PROGRESS by an engine that died in a traversal that since stopped."""
    for traversal_id, seq in nodes:
        node = session.get(TraversalNode, (traversal_id, seq))
        if node is None:
            continue
        session.execute(
            update(Resource)
            .where(Resource.id == node.resource_id, Resource.status == Status.IN_PROGRESS)
            .values(
                status=Status.FAILED,
                status_reason=f"Engine went down during resource {node.action}",
            )
        )


def hook_wait(session: Session, node: ClaimedNode, hook: str, action: str) -> str | None:
    """Pause at a breakpoint: mark it waiting (once) and report its state."""
    key = "hook:" + hook
    state = session.execute(
        select(ResourceData.value).where(
            ResourceData.resource_id == node.resource_id, ResourceData.key == key
        )
    ).scalar()
    if state is None:
        reason = f"{action} paused until Hook {hook} is cleared"
        save_data(session, node.resource_id, {key: "waiting"})
        root = _roots(session, [node.stack_id]).get(node.stack_id)
        session.execute(
            update(Resource)
            .where(Resource.id == node.resource_id)
            .values(action=action, status=Status.IN_PROGRESS, status_reason=reason)
        )
        insert_events(
            session,
            [resource_event(node, root, action, Status.IN_PROGRESS, reason, node.physical_id)],
        )
        return "waiting"
    if state == "cleared":
        session.execute(
            delete(ResourceData).where(
                ResourceData.resource_id == node.resource_id, ResourceData.key == key
            )
        )
    return state


def purge_events(session: Session, traversal_ids: Sequence[str], keep: int) -> int:
    """Keep only the newest ``keep`` events of each stack these traversals belong to."""
    if keep < 0 or not traversal_ids:
        return 0
    stack_ids = set(
        session.execute(
            select(Traversal.stack_id).where(Traversal.id.in_(list(traversal_ids)))
        ).scalars()
    )
    removed = 0
    for stack_id in stack_ids:
        boundary = session.execute(
            select(Event.id)
            .where(Event.stack_id == stack_id)
            .order_by(Event.id.desc())
            .offset(keep)
            .limit(1)
        ).scalar()
        if boundary is not None:
            result = session.execute(
                delete(Event).where(Event.stack_id == stack_id, Event.id <= boundary)
            )
            removed += int(result.rowcount or 0)
    return removed
