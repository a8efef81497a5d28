"""How a traversal moves on, as units of work: claiming nodes, and recording what a batch
of nodes did — counting down their dependents, parking the ones that wait, ending the
traversal when its last node is done, and waking whatever waited for that.

Every change here is one transaction, so a node's outcome, its dependents becoming ready,
and the wake-ups it causes are recorded together or not at all. Dependents that become
ready may be claimed in the same transaction by the engine that finished their
prerequisite (up to its free capacity), so a chain of resources costs one transaction
per link and no message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from ember.common.failures import Failure
from ember.common.states import Action, Scope, Status, TraversalState
from ember.common.timeutils import utcnow
from ember.db.records import (
    ClaimedNode,
    NodeKey,
    NodeResult,
    Progress,
    Recovery,
    TraversalRow,
    signal_key,
    stack_key,
)
from ember.db.unit import UnitOfWork
from ember.engine import outcomes


def claim(uow: UnitOfWork, engine_id: str, keys: Sequence[NodeKey]) -> list[ClaimedNode]:
    """Take READY nodes, load what running them needs, and show them started."""
    claimed = uow.traversals.claim(
        engine_id, keys, lambda node: outcomes.start_values(node, engine_id)
    )
    if claimed:
        uow.traversals.load_data(claimed)
        uow.traversals.load_peers(claimed)
        uow.events.add(outcomes.start_events(claimed))
    return claimed


def take_orphans(uow: UnitOfWork, engine_id: str, held: Collection[NodeKey]) -> Recovery:
    """Release the nodes this engine claimed without knowing it (see
    ``TraversalRepository.orphaned``)."""
    recovery = uow.traversals.orphaned(engine_id, held)
    uow.resources.fail_abandoned(recovery.abandoned)
    return recovery


def complete(
    uow: UnitOfWork, engine_id: str, results: Sequence[NodeResult], local: int
) -> Progress:
    """Record the results of nodes this engine still owns; claim up to ``local`` of the
    nodes that became ready for this engine to run without publishing them."""
    progress = Progress()
    mine = uow.traversals.owned(engine_id, results)
    if not mine:
        return progress
    progress.ready.extend(_write(uow, mine))
    progress.ready.extend(uow.traversals.finish(mine))
    for result in mine:
        if result.park is None:
            continue
        if uow.traversals.satisfied(result.park):
            progress.ready.extend(uow.traversals.wake_nodes([result.node.key], "ready"))
        elif result.park.at is not None:
            progress.deadlines.append((result.node.key, result.park.at))
    by_traversal: dict[str, list[NodeResult]] = defaultdict(list)
    for result in mine:
        if result.park is None:
            by_traversal[result.node.key.traversal_id].append(result)
    for traversal_id in sorted(by_traversal):
        _advance(uow, traversal_id, by_traversal[traversal_id], progress)
    if local > 0 and progress.ready:
        here, progress.ready = progress.ready[:local], progress.ready[local:]
        progress.claimed = claim(uow, engine_id, here)
    return progress


def _write(uow: UnitOfWork, results: Sequence[NodeResult]) -> list[NodeKey]:
    """Record the results' rows and events; returns the nodes their signals woke."""
    writes = [w for r in results for w in r.writes]
    data: dict[int, dict[str, str]] = {}
    for r in results:
        for rid, values in r.data.items():
            data.setdefault(rid, {}).update(values)
    uow.resources.write(writes)
    uow.resources.save_data(data)
    for rid, key in (f for r in results for f in r.forget):
        uow.resources.delete_data(rid, key)
    uow.resources.remove([rid for r in results for rid in r.removed])
    uow.events.add([e for r in results for e in r.events])
    signalled = sorted({r.node.resource_id for r in results if r.signalled})
    for rid in signalled:
        uow.resources.count_signal(rid)
    return uow.traversals.wake([signal_key(rid) for rid in signalled], "signal")


def _advance(
    uow: UnitOfWork, traversal_id: str, finished: Sequence[NodeResult], progress: Progress
) -> None:
    trav = uow.traversals.lock(traversal_id)
    count = len(finished)
    failures = [r for r in finished if not r.success]
    if trav.state == TraversalState.RUNNING and failures:
        uow.traversals.set_state(trav, TraversalState.FAILED, failed=len(failures))
        count += uow.traversals.cancel_unstarted(traversal_id)
        if trav.scope == Scope.STACK:
            _stack_failed(uow, trav, failures[0], progress.ready)
    elif trav.state == TraversalState.RUNNING:
        progress.ready.extend(uow.traversals.count_down(traversal_id, finished))
    if uow.traversals.count_finished(trav, count) <= 0:
        progress.finished.append(traversal_id)
        progress.took.append((trav.action, (utcnow() - trav.created_at).total_seconds()))
        if close(uow, trav, progress.ready):
            progress.rollbacks.append((trav.stack_id, trav.id))
        if trav.scope == Scope.RESOURCE and trav.state == TraversalState.COMPLETE:
            progress.signalled.append(trav.stack_id)


def _stack_failed(
    uow: UnitOfWork, trav: TraversalRow, first: NodeResult, woken: list[NodeKey]
) -> None:
    stack = uow.stacks.get(trav.stack_id)
    if stack is None or stack.current_traversal != trav.id:
        return
    action = trav.data.get("stack_action", trav.action)
    reason = first.stack_reason or f"Resource {first.node.action} failed"
    uow.stacks.set_state(stack, action, Status.FAILED, reason, first.failure)
    if (
        action == Action.UPDATE
        and trav.data.get("raw_template_id")
        and not trav.data.get("rollback_on_failure")
    ):
        # As in Heat: a failed update that is not rolled back leaves the stack with the
        # template it was updated to (what a PATCH then starts from); the one before is
        # kept for a rollback.
        uow.stacks.set_options(stack, raw_template_id=trav.data["raw_template_id"])
    # Whatever waits for this stack (the resource owning it) hears of the failure now.
    woken.extend(uow.traversals.wake([stack_key(stack.id)], "child"))


def close(uow: UnitOfWork, trav: TraversalRow, woken: list[NodeKey]) -> bool:
    """End a traversal whose nodes are all finished; the nodes that waited for the stack
    to finish are added to ``woken``. True when a rollback should start."""
    if trav.scope == Scope.RESOURCE:
        if trav.state == TraversalState.RUNNING:
            uow.traversals.set_state(trav, TraversalState.COMPLETE)
        return False
    stack = uow.stacks.get(trav.stack_id)
    if trav.state in (TraversalState.SUPERSEDED, TraversalState.CANCELLED) or stack is None:
        return False
    if stack.current_traversal != trav.id:
        uow.traversals.set_state(trav, TraversalState.SUPERSEDED)
        return False
    action = trav.data.get("stack_action", trav.action)
    if trav.state == TraversalState.FAILED:
        return bool(trav.data.get("rollback_on_failure"))
    uow.traversals.set_state(trav, TraversalState.COMPLETE)
    uow.stacks.set_state(stack, action, Status.COMPLETE, f"Stack {action} completed successfully")
    if trav.data.get("delete_stack"):
        uow.stacks.mark_deleted(stack)
    if trav.data.get("raw_template_id") and action != Action.DELETE:
        uow.stacks.set_options(
            stack, raw_template_id=trav.data["raw_template_id"], prev_raw_template_id=None
        )
    woken.extend(uow.traversals.wake([stack_key(stack.id)], "child"))
    return False


def close_if_empty(uow: UnitOfWork, traversal_id: str, empty: bool) -> list[NodeKey]:
    """A traversal with no nodes is complete at once; returns the nodes that waited for
    its stack."""
    woken: list[NodeKey] = []
    if empty:
        close(uow, uow.traversals.lock(traversal_id), woken)
    return woken


def child_failure(reason: str, failure: dict[str, object] | None) -> Failure:
    """A nested stack's failure as its owner sees it (a timeout or a cancel has no
    failed resource: the stack's reason is the message)."""
    if failure:
        return Failure.from_dict(failure)
    return Failure("ResourceFailure", (), reason)
