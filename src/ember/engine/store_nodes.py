"""Units of work for traversals: writing a graph, claiming ready nodes, recording outcomes.

Claims are conditional updates, so two engines can never run one node. Counting down a
node's dependents happens in the transaction that records its outcome; the dependents that
reach zero become READY and are published after the commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session

from ember.common.timeutils import utcnow
from ember.db.models import Resource, Stack, Traversal, TraversalNode
from ember.engine import store_stacks
from ember.engine.records import ClaimedNode, Completion, NodeKey, NodeSpec, Outcome
from ember.engine.states import NodeState, Status, TraversalState


def start_traversal(
    session: Session,
    *,
    stack_id: str,
    action: str,
    nodes: Sequence[NodeSpec],
    deadline: dt.datetime | None,
    data: dict[str, Any],
) -> tuple[str, list[NodeKey]]:
    """Write a traversal and its nodes; make it the stack's current one. Returns the ready
    nodes (none when the graph is empty: the caller finishes such traversals at once)."""
    traversal_id = str(uuid.uuid4())
    stack = session.get(Stack, stack_id, with_for_update=True)
    assert stack is not None
    old = stack.current_traversal
    if old is not None:
        # The newer traversal wins: the old one stops propagating.
        session.execute(
            update(Traversal)
            .where(
                Traversal.id == old,
                Traversal.state.in_([TraversalState.RUNNING, TraversalState.FAILED]),
            )
            .values(state=TraversalState.SUPERSEDED)
        )
    session.add(
        Traversal(
            id=traversal_id,
            stack_id=stack_id,
            action=action,
            state=TraversalState.RUNNING,
            remaining=len(nodes),
            failed=0,
            deadline=deadline,
            data=data,
        )
    )
    stack.current_traversal = traversal_id
    session.flush()
    ids = (
        dict(
            session.execute(
                select(Resource.uuid, Resource.id).where(
                    Resource.uuid.in_({n.resource_uuid for n in nodes})
                )
            ).all()
        )
        if nodes
        else {}
    )
    dependents: dict[int, list[int]] = defaultdict(list)
    for node in nodes:
        for req in node.requires:
            dependents[req].append(node.seq)
    rows = [
        {
            "traversal_id": traversal_id,
            "seq": node.seq,
            "resource_id": ids[node.resource_uuid],
            "action": node.action,
            "state": NodeState.READY if not node.requires else NodeState.WAITING,
            "pending": len(node.requires),
            "dependents": sorted(dependents[node.seq]),
            "attempts": 0,
            "data": node.data,
        }
        for node in nodes
    ]
    if rows:
        session.execute(TraversalNode.__table__.insert(), rows)
    ready = [NodeKey(traversal_id, node.seq) for node in nodes if not node.requires]
    return traversal_id, ready


def claim(session: Session, engine_id: str, keys: Sequence[NodeKey]) -> list[ClaimedNode]:
    """Take READY nodes for this engine and mark their resources IN_PROGRESS."""
    if not keys:
        return []
    # Only the nodes that are READY now and locked by this transaction: a message
    # delivered twice (redelivery after a reconnect, a republish at start-up) finds its
    # node already CLAIMED, even by this same engine, and is dropped.
    pairs = [
        tuple(row)
        for row in session.execute(
            select(TraversalNode.traversal_id, TraversalNode.seq)
            .where(
                tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(
                    list({(k.traversal_id, k.seq) for k in keys})
                ),
                TraversalNode.state == NodeState.READY,
            )
            .with_for_update()
        )
    ]
    if not pairs:
        return []
    now = utcnow()
    session.execute(
        update(TraversalNode)
        .where(
            tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(pairs),
            TraversalNode.state == NodeState.READY,
        )
        .values(
            state=NodeState.CLAIMED,
            engine_id=engine_id,
            claimed_at=now,
            attempts=TraversalNode.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(TraversalNode, Traversal, Resource, Stack)
        .join(Traversal, Traversal.id == TraversalNode.traversal_id)
        .join(Resource, Resource.id == TraversalNode.resource_id)
        .join(Stack, Stack.id == Traversal.stack_id)
        .where(
            tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(pairs),
            TraversalNode.state == NodeState.CLAIMED,
            TraversalNode.engine_id == engine_id,
        )
    ).all()
    claimed: list[ClaimedNode] = []
    stale: list[TraversalNode] = []
    for node, trav, res, stack in rows:
        if trav.state != TraversalState.RUNNING:
            stale.append(node)
            continue
        claimed.append(
            ClaimedNode(
                key=NodeKey(node.traversal_id, node.seq),
                action=node.action,
                node_data=node.data,
                traversal_action=trav.action,
                deadline=trav.deadline,
                stack_id=stack.id,
                stack_name=stack.name,
                project_id=stack.project_id,
                raw_template_id=trav.data.get("raw_template_id", stack.raw_template_id),
                nested_depth=stack.nested_depth,
                resource_id=res.id,
                resource_uuid=res.uuid,
                resource_name=res.name,
                resource_type=res.type,
                physical_id=res.physical_resource_id,
                resource_action=res.action,
                resource_status=res.status,
                properties=res.properties,
                attributes=res.attributes,
                data={},
                attempts=node.attempts,
                requires=list(res.requires or []),
                reference_id=res.reference_id,
                metadata=res.metadata_,
                replaced_by=res.replaced_by,
                needs_replace=res.needs_replace,
            )
        )
    if stale:
        _cancel_claimed(session, stale)
    if claimed:
        store_stacks.load_resource_data(session, claimed)
        store_stacks.load_peers(session, claimed)
        store_stacks.mark_in_progress(session, claimed, engine_id)
    return claimed


def _cancel_claimed(session: Session, nodes: Iterable[TraversalNode]) -> None:
    """Nodes of a traversal that stopped: never run, but counted as finished."""
    by_traversal: dict[str, int] = defaultdict(int)
    for node in nodes:
        node.state = NodeState.CANCELLED
        by_traversal[node.traversal_id] += 1
    for traversal_id, count in by_traversal.items():
        session.execute(
            update(Traversal)
            .where(Traversal.id == traversal_id)
            .values(remaining=Traversal.remaining - count)
        )


def complete(session: Session, engine_id: str, outcomes: Sequence[Outcome]) -> Completion:
    """Record outcomes, count down dependents, and end traversals whose last node finished."""
    result = Completion()
    if not outcomes:
        return result
    mine = _finish_nodes(session, engine_id, outcomes)
    store_stacks.record_outcomes(session, [o for o in outcomes if o.node.key in mine])
    by_traversal: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.node.key in mine:
            by_traversal[outcome.node.key.traversal_id].append(outcome)
    for traversal_id in sorted(by_traversal):
        batch = by_traversal[traversal_id]
        trav = session.execute(
            select(Traversal).where(Traversal.id == traversal_id).with_for_update()
        ).scalar_one()
        finished = len(batch)
        failures = [o for o in batch if not o.success]
        if trav.state == TraversalState.RUNNING and failures:
            trav.state = TraversalState.FAILED
            trav.failed += len(failures)
            finished += _cancel_unstarted(session, traversal_id)
            store_stacks.stack_failed(session, trav, failures[0])
        elif trav.state == TraversalState.RUNNING:
            result.ready.extend(_count_down(session, traversal_id, batch))
        trav.remaining -= finished
        if trav.remaining <= 0:
            result.finished.append(traversal_id)
            if store_stacks.finish_traversal(session, trav):
                result.rollbacks.append(trav.stack_id)
    return result


def _finish_nodes(session: Session, engine_id: str, outcomes: Sequence[Outcome]) -> set[NodeKey]:
    """Mark nodes DONE/FAILED if this engine still owns them; return the ones it did."""
    done = [(o.node.key.traversal_id, o.node.key.seq) for o in outcomes if o.success]
    failed = [(o.node.key.traversal_id, o.node.key.seq) for o in outcomes if not o.success]
    for pairs, state in ((done, NodeState.DONE), (failed, NodeState.FAILED)):
        if pairs:
            session.execute(
                update(TraversalNode)
                .where(
                    tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(pairs),
                    TraversalNode.state == NodeState.CLAIMED,
                    TraversalNode.engine_id == engine_id,
                )
                .values(state=state)
                .execution_options(synchronize_session=False)
            )
    keys = [(o.node.key.traversal_id, o.node.key.seq) for o in outcomes]
    owned = session.execute(
        select(TraversalNode.traversal_id, TraversalNode.seq).where(
            tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(keys),
            TraversalNode.engine_id == engine_id,
            TraversalNode.state.in_([NodeState.DONE, NodeState.FAILED]),
        )
    ).all()
    return {NodeKey(t, s) for t, s in owned}


def _count_down(session: Session, traversal_id: str, batch: Sequence[Outcome]) -> list[NodeKey]:
    seqs = [o.node.key.seq for o in batch]
    rows = (
        session.execute(
            select(TraversalNode.dependents).where(
                TraversalNode.traversal_id == traversal_id, TraversalNode.seq.in_(seqs)
            )
        )
        .scalars()
        .all()
    )
    decrements: dict[int, int] = defaultdict(int)
    for dependents in rows:
        for seq in dependents:
            decrements[seq] += 1
    if not decrements:
        return []
    by_amount: dict[int, list[int]] = defaultdict(list)
    for seq, amount in decrements.items():
        by_amount[amount].append(seq)
    for amount, group in sorted(by_amount.items()):
        session.execute(
            update(TraversalNode)
            .where(TraversalNode.traversal_id == traversal_id, TraversalNode.seq.in_(sorted(group)))
            .values(pending=TraversalNode.pending - amount)
            .execution_options(synchronize_session=False)
        )
    ready = (
        session.execute(
            select(TraversalNode.seq).where(
                TraversalNode.traversal_id == traversal_id,
                TraversalNode.seq.in_(sorted(decrements)),
                TraversalNode.state == NodeState.WAITING,
                TraversalNode.pending <= 0,
            )
        )
        .scalars()
        .all()
    )
    if ready:
        session.execute(
            update(TraversalNode)
            .where(TraversalNode.traversal_id == traversal_id, TraversalNode.seq.in_(ready))
            .values(state=NodeState.READY)
            .execution_options(synchronize_session=False)
        )
    return [NodeKey(traversal_id, seq) for seq in ready]


def _cancel_unstarted(session: Session, traversal_id: str) -> int:
    result = session.execute(
        update(TraversalNode)
        .where(
            TraversalNode.traversal_id == traversal_id,
            TraversalNode.state.in_([NodeState.WAITING, NodeState.READY]),
        )
        .values(state=NodeState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def recoverable(session: Session, live_engines: Sequence[str], *, all_ready: bool) -> list[NodeKey]:
    """Release nodes claimed by engines that stopped. Returns them, or with ``all_ready``
    every READY node of a running traversal (an in-process queue starts empty)."""
    stranded = session.execute(
        select(TraversalNode.traversal_id, TraversalNode.seq, Traversal.state)
        .join(Traversal, Traversal.id == TraversalNode.traversal_id)
        .where(
            TraversalNode.state == NodeState.CLAIMED,
            TraversalNode.engine_id.not_in(list(live_engines)),
        )
    ).all()
    released = [NodeKey(t, s) for t, s, state in stranded if state == TraversalState.RUNNING]
    if released:
        session.execute(
            update(TraversalNode)
            .where(
                tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(
                    [(k.traversal_id, k.seq) for k in released]
                ),
                # Still stranded: not finished or claimed anew since the select above.
                TraversalNode.state == NodeState.CLAIMED,
                TraversalNode.engine_id.not_in(list(live_engines)),
            )
            .values(state=NodeState.READY, engine_id=None)
            .execution_options(synchronize_session=False)
        )
    # Nodes of stopped traversals will never run: count them finished.
    dead = [(t, s) for t, s, state in stranded if state != TraversalState.RUNNING]
    if dead:
        nodes = session.execute(
            select(TraversalNode).where(
                tuple_(TraversalNode.traversal_id, TraversalNode.seq).in_(dead)
            )
        ).scalars()
        _cancel_claimed(session, nodes)
        store_stacks.fail_abandoned(session, dead)
    if not all_ready:
        return released
    rows = session.execute(
        select(TraversalNode.traversal_id, TraversalNode.seq)
        .join(Traversal, Traversal.id == TraversalNode.traversal_id)
        .where(TraversalNode.state == NodeState.READY, Traversal.state == TraversalState.RUNNING)
        .order_by(TraversalNode.traversal_id, TraversalNode.seq)
    ).all()
    return [NodeKey(t, s) for t, s in rows]


def stalled_traversals(session: Session) -> list[str]:
    """Traversals whose nodes are all finished but which were never closed (a crash between
    the last node and the close cannot happen in one transaction, but a cancelled node
    count can reach zero without an outcome)."""
    return list(
        session.execute(
            select(Traversal.id).where(
                Traversal.state.in_([TraversalState.RUNNING, TraversalState.FAILED]),
                Traversal.remaining <= 0,
            )
        ).scalars()
    )


def unfinished_count(session: Session, traversal_id: str) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(TraversalNode)
            .where(
                TraversalNode.traversal_id == traversal_id,
                TraversalNode.state.in_([NodeState.WAITING, NodeState.READY, NodeState.CLAIMED]),
            )
        ).scalar_one()
    )


__all__ = ["Status", "claim", "complete", "recoverable", "start_traversal"]
