"""The traversal aggregate: a traversal and its nodes, and the state machine of a node.

    WAITING --(prerequisites done)--> READY --(claim)--> CLAIMED --> DONE | FAILED
                                        ^                  |
                                        +----(wake)---- PARKED      (any) --> CANCELLED

Claims are conditional updates stamped with a token, so two engines never run one node;
a claim also takes the lock of the node's resource (the token again), so at most one node
of any traversal acts on a resource at a time; a node that cannot have the lock parks
until it is released. Parking and waking happen in the transaction that records why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, case, or_, select, update
from sqlalchemy.orm import Session

from ember.common.states import Action, NodeState, Scope, Status, TraversalState
from ember.common.timeutils import utcnow
from ember.db.bulk import affected, update_by_key
from ember.db.models import Resource, ResourceData, Stack, Traversal, TraversalNode, table_of
from ember.db.records import (
    ClaimedNode,
    NodeKey,
    NodeResult,
    NodeSpec,
    Recovery,
    TraversalRow,
    Wait,
    lock_key,
    turn_key,
)

# Tables, not mapped classes: these statements run for every resource action.
NODES = table_of(TraversalNode)
N = NODES.c
TRAVERSALS = table_of(Traversal)
T = TRAVERSALS.c
RESOURCES = table_of(Resource)
R = RESOURCES.c
STACKS = table_of(Stack)
S = STACKS.c
D = table_of(ResourceData).c
NODE_KEY = ("traversal_id", "seq")
# What a claimed node's resource shows as it starts: columns to set, or None.
Starting = Callable[[ClaimedNode], Mapping[str, Any] | None]


def _seqs() -> Any:
    return bindparam("seqs", expanding=True)


# What every resource action runs, built once: building a statement costs several times
# what running it does. Statements name one traversal and a list of its node numbers.
def _one() -> Any:
    """Nodes of one traversal (``t``) by number (``seqs``): what prebuilt statements take."""
    return and_(N.traversal_id == bindparam("t"), N.seq.in_(_seqs()))


def _claim(nodes: Any) -> Update:
    return (
        update(NODES)
        .where(nodes, N.state == NodeState.READY)
        .values(
            state=NodeState.CLAIMED,
            engine_id=bindparam("engine"),
            claimed_at=bindparam("now"),
            attempts=N.attempts + 1,
            lock_token=bindparam("token"),
        )
    )


def _load_claimed(nodes: Any) -> Select[Any]:
    return (
        select(
            N.traversal_id,
            N.seq,
            N.action,
            N.data.label("node_data"),
            N.attempts,
            N.woken_by,
            N.progress,
            N.dependents,
            T.action.label("traversal_action"),
            T.state.label("traversal_state"),
            T.deadline,
            T.data.label("traversal_data"),
            T.scope,
            R.id.label("resource_id"),
            R.uuid,
            R.name.label("resource_name"),
            R.type,
            R.physical_resource_id,
            R.action.label("resource_action"),
            R.status,
            R.properties,
            R.attributes,
            R.requires,
            R.reference_id,
            R.rsrc_metadata,
            R.replaced_by,
            R.needs_replace,
            R.signals,
            R.locked_by,
            R.template_id.label("resource_template_id"),
            S.id.label("stack_id"),
            S.name.label("stack_name"),
            S.project_id,
            S.root_stack_id,
            S.raw_template_id,
            S.nested_depth,
        )
        .select_from(NODES)
        .join(TRAVERSALS, T.id == N.traversal_id)
        .join(RESOURCES, R.id == N.resource_id)
        .join(STACKS, S.id == T.stack_id)
        .where(nodes, N.lock_token == bindparam("token"))
    )


HOLDERS = (
    select(R.id, R.locked_by)
    .where(R.id.in_(bindparam("ids", expanding=True)))
    .order_by(R.id)
    .with_for_update()
)
RELEASE_LOCKS = (
    update(RESOURCES)
    .where(
        R.id.in_(bindparam("ids", expanding=True)),
        R.locked_by.in_(bindparam("tokens", expanding=True)),
    )
    .values(locked_by=None)
)
DATA_OF = select(D.resource_id, D.key, D.value).where(
    D.resource_id.in_(bindparam("ids", expanding=True))
)
PEERS_OF = select(R.name, R.reference_id, R.attributes).where(
    R.stack_id == bindparam("stack"),
    R.name.in_(bindparam("names", expanding=True)),
    R.replaced_by.is_(None),
)


def _owned(nodes: Any) -> Select[Any]:
    return select(N.traversal_id, N.seq, N.state, N.engine_id, N.lock_token).where(nodes)


def _finish(nodes: Any) -> Update:
    return update(NODES).where(nodes).values(state=bindparam("state"), wake_key=None, wake_at=None)


LOCK_TRAVERSAL = (
    select(
        T.id,
        T.stack_id,
        T.action,
        T.scope,
        T.state,
        T.remaining,
        T.failed,
        T.data,
        T.deadline,
        T.created_at,
    )
    .where(T.id == bindparam("t"))
    .with_for_update()
)
SET_TRAVERSAL = (
    update(TRAVERSALS)
    .where(T.id == bindparam("t"))
    .values(state=bindparam("state"), failed=bindparam("failed"), remaining=bindparam("remaining"))
)
# A waiting node whose last prerequisite finishes becomes READY in the same statement.
# The state is set first: MySQL evaluates later assignments with earlier ones applied.
COUNT_DOWN = (
    update(NODES)
    .where(N.traversal_id == bindparam("t"), N.seq.in_(_seqs()))
    .ordered_values(
        (
            N.state,
            case(
                (
                    and_(N.state == NodeState.WAITING, N.pending - bindparam("amount") <= 0),
                    NodeState.READY,
                ),
                else_=N.state,
            ),
        ),
        (N.pending, N.pending - bindparam("amount")),
    )
)
# Nothing else makes a counted-down node READY: those that are, just became so.
NOW_READY = select(N.seq).where(
    N.traversal_id == bindparam("t"), N.seq.in_(_seqs()), N.state == NodeState.READY
)
WAITING_ON = (
    select(N.traversal_id, N.seq)
    .where(N.wake_key.in_(bindparam("keys", expanding=True)), N.state == NodeState.PARKED)
    .with_for_update()
)


def _wake(nodes: Any) -> Update:
    return (
        update(NODES)
        .where(nodes, N.state == NodeState.PARKED)
        .values(state=NodeState.READY, woken_by=bindparam("reason"), wake_key=None, wake_at=None)
    )


CLAIM = _claim(_one())
LOAD_CLAIMED = _load_claimed(_one())
OWNED = _owned(_one())
FINISH = _finish(_one())
WAKE = _wake(_one())


def _by_traversal(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    seqs: dict[str, list[int]] = defaultdict(list)
    for traversal_id, seq in sorted(set(pairs)):
        seqs[traversal_id].append(seq)
    return seqs


UNFINISHED = (NodeState.WAITING, NodeState.READY, NodeState.CLAIMED, NodeState.PARKED)
# Woken for these reasons, a node whose traversal stopped still runs to record its end.
WOKEN_TO_FINISH = ("cancel",)


def _pairs(keys: Iterable[NodeKey]) -> list[tuple[str, int]]:
    return sorted({(k.traversal_id, k.seq) for k in keys})


def _key_in(pairs: Sequence[tuple[str, int]]) -> Any:
    """Nodes by primary key. Grouped by traversal rather than a row-value IN, which
    SQLite answers by scanning the table once it holds two rows."""
    seqs: dict[str, list[int]] = defaultdict(list)
    for traversal_id, seq in pairs:
        seqs[traversal_id].append(seq)
    return or_(*(and_(N.traversal_id == t, N.seq.in_(sorted(s))) for t, s in sorted(seqs.items())))


class TraversalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._row_locks = session.get_bind().dialect.name != "sqlite"

    def _keyed(
        self,
        build: Callable[[Any], Any],
        prebuilt: Any,
        pairs: Sequence[tuple[str, int]],
        params: Mapping[str, Any],
    ) -> Any:
        """Run a statement on nodes given by key: the prebuilt one for nodes of one
        traversal (the usual case), else one built for the set at hand (one statement
        beats one per traversal)."""
        groups = _by_traversal(pairs)
        if len(groups) == 1:
            [(traversal_id, seqs)] = groups.items()
            return self.session.execute(prebuilt, {**params, "t": traversal_id, "seqs": seqs})
        return self.session.execute(build(_key_in(pairs)), dict(params))

    # Starting ------------------------------------------------------------------------------

    def start(
        self,
        *,
        stack_id: str,
        action: str,
        nodes: Sequence[NodeSpec],
        deadline: dt.datetime | None,
        data: dict[str, Any],
        scope: str = Scope.STACK,
    ) -> tuple[str, list[NodeKey]]:
        """Write a traversal and its nodes. A stack-scoped one becomes the stack's current
        operation and supersedes the one before (whose parked nodes are dropped: the new
        traversal takes their resources over). Returns the ready nodes (none when the graph
        is empty: the caller finishes such traversals at once)."""
        traversal_id = str(uuid.uuid4())
        if scope == Scope.STACK:
            stack = self.session.get(Stack, stack_id, with_for_update=True)
            assert stack is not None
            old = stack.current_traversal
            if old is not None:
                self.session.execute(
                    update(TRAVERSALS)
                    .where(
                        T.id == old,
                        T.state.in_([TraversalState.RUNNING, TraversalState.FAILED]),
                    )
                    .values(state=TraversalState.SUPERSEDED)
                )
                self._drop_parked(old)
            stack.current_traversal = traversal_id
        self.session.add(
            Traversal(
                id=traversal_id,
                stack_id=stack_id,
                action=action,
                scope=scope,
                state=TraversalState.RUNNING,
                remaining=len(nodes),
                failed=0,
                deadline=deadline,
                data=data,
            )
        )
        self.session.flush()
        ids = (
            dict(
                self.session.execute(
                    select(R.uuid, R.id).where(R.uuid.in_({n.resource_uuid for n in nodes}))
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
            self.session.execute(NODES.insert(), rows)
        ready = [NodeKey(traversal_id, node.seq) for node in nodes if not node.requires]
        return traversal_id, ready

    def _drop_parked(self, traversal_id: str) -> None:
        """Parked nodes of a superseded traversal: never resumed, counted as finished."""
        result = self.session.execute(
            update(NODES)
            .where(N.traversal_id == traversal_id, N.state == NodeState.PARKED)
            .values(state=NodeState.CANCELLED, wake_key=None, wake_at=None)
        )
        dropped = affected(result)
        if dropped:
            self._count_finished(traversal_id, dropped)

    def requested(self, traversal_id: str | None, request_key: str) -> bool:
        """Whether ``traversal_id`` was started for ``request_key`` and is running or has
        completed: asking for the same change again is then answered by it."""
        if traversal_id is None:
            return False
        row = self.session.execute(
            select(T.state, T.data).where(T.id == traversal_id)
        ).one_or_none()
        return (
            row is not None
            and (row.data or {}).get("request_key") == request_key
            and row.state in (TraversalState.RUNNING, TraversalState.COMPLETE)
        )

    def undoes_update(self, traversal_id: str | None) -> bool:
        """Whether ``traversal_id`` is a rollback back to an earlier template (an update's
        rollback), not one that deletes what a failed create made."""
        if traversal_id is None:
            return False
        row = self.session.execute(
            select(T.action, T.data).where(T.id == traversal_id)
        ).one_or_none()
        return (
            row is not None
            and row.action == Action.ROLLBACK
            and bool((row.data or {}).get("raw_template_id"))
        )

    def lock(self, traversal_id: str) -> TraversalRow:
        row = self.session.execute(LOCK_TRAVERSAL, {"t": traversal_id}).one()
        return TraversalRow(**row._asdict())

    def set_state(self, trav: TraversalRow, state: str, *, failed: int = 0) -> None:
        trav.state = state
        trav.failed += failed
        self._save(trav)

    def count_finished(self, trav: TraversalRow, count: int) -> int:
        """Count ``count`` more nodes finished; how many remain."""
        trav.remaining -= count
        self._save(trav)
        return trav.remaining

    def _save(self, trav: TraversalRow) -> None:
        self.session.execute(
            SET_TRAVERSAL,
            {"t": trav.id, "state": trav.state, "failed": trav.failed, "remaining": trav.remaining},
        )

    def _count_finished(self, traversal_id: str, count: int) -> None:
        self.session.execute(
            update(TRAVERSALS).where(T.id == traversal_id).values(remaining=T.remaining - count)
        )

    # Claiming ------------------------------------------------------------------------------

    def claim(
        self, engine_id: str, keys: Sequence[NodeKey], starting: Starting = lambda node: None
    ) -> list[ClaimedNode]:
        """Take READY nodes for this engine with their resources' locks. A node whose
        resource another node holds parks until it is released; a node of a traversal
        that stopped is counted finished without running (unless it was woken to record
        its end). A message delivered twice finds its node no longer READY and is dropped.

        ``starting(node)`` names the resource columns a node sets as it starts (or None);
        they are written with the lock, in one statement."""
        pairs = _pairs(keys)
        if not pairs:
            return []
        token = str(uuid.uuid4())
        now = utcnow()
        self._keyed(_claim, CLAIM, pairs, {"engine": engine_id, "now": now, "token": token})
        return self._load_claimed(token, pairs, starting)

    def _load_claimed(
        self, token: str, pairs: Sequence[tuple[str, int]], starting: Starting
    ) -> list[ClaimedNode]:
        rows = self._keyed(_load_claimed, LOAD_CLAIMED, pairs, {"token": token}).all()
        claimed: list[ClaimedNode] = []
        stale: list[tuple[str, int]] = []
        holders: dict[int, str | None] = {}
        for row in rows:
            state = row.traversal_state
            # A node that was ready (dispatched) or parked when its traversal failed carries
            # on, as running nodes do; one woken because its traversal was cancelled records
            # that; any other node of a stopped traversal never runs.
            cancelled = state == TraversalState.CANCELLED and row.woken_by in WOKEN_TO_FINISH
            carry_on = state == TraversalState.FAILED
            if not (state == TraversalState.RUNNING or cancelled or carry_on):
                stale.append((row.traversal_id, row.seq))
                continue
            holders[row.resource_id] = row.locked_by
            traversal_data = row.traversal_data or {}
            claimed.append(
                ClaimedNode(
                    key=NodeKey(row.traversal_id, row.seq),
                    action=row.action,
                    node_data=row.node_data or {},
                    traversal_action=row.traversal_action,
                    traversal_data=traversal_data,
                    scope=row.scope,
                    deadline=row.deadline,
                    stack_id=row.stack_id,
                    stack_name=row.stack_name,
                    project_id=row.project_id,
                    root_stack_id=row.root_stack_id or row.stack_id,
                    raw_template_id=traversal_data.get("raw_template_id", row.raw_template_id),
                    nested_depth=row.nested_depth,
                    resource_id=row.resource_id,
                    resource_uuid=row.uuid,
                    resource_name=row.resource_name,
                    resource_type=row.type,
                    physical_id=row.physical_resource_id,
                    resource_action=row.resource_action,
                    resource_status=row.status,
                    properties=row.properties,
                    attributes=row.attributes,
                    data={},
                    attempts=row.attempts,
                    lock_token=token,
                    requires=list(row.requires or []),
                    dependents=tuple(row.dependents or ()),
                    reference_id=row.reference_id,
                    metadata=row.rsrc_metadata,
                    replaced_by=row.replaced_by,
                    needs_replace=row.needs_replace,
                    template_id=row.resource_template_id,
                    signals=row.signals,
                    woken_by=row.woken_by,
                    progress=row.progress,
                    cancelled=cancelled,
                )
            )
        if stale:
            self._cancel_nodes(stale)
        if not claimed:
            return []
        return self._take_locks(claimed, holders, token, starting)

    def _take_locks(
        self,
        claimed: list[ClaimedNode],
        holders: dict[int, str | None],
        token: str,
        starting: Starting,
    ) -> list[ClaimedNode]:
        """Give each node its resource's lock, or park it until the holder lets go."""
        if self._row_locks:
            # Lock the rows, so a holder letting go now either commits first (and is seen
            # here) or waits for this transaction (and then sees the parked waiter).
            holders = dict(self.session.execute(HOLDERS, {"ids": sorted(holders)}).all())
        got: list[ClaimedNode] = []
        blocked: list[ClaimedNode] = []
        taken: set[int] = set()
        for node in claimed:
            holder = holders.get(node.resource_id)
            if node.cancelled:
                got.append(node)  # records its cancellation only; acts on nothing
            elif holder in (None, token) and node.resource_id not in taken:
                got.append(node)
                taken.add(node.resource_id)
            else:
                blocked.append(node)
        if taken:
            rows = []
            for node in got:
                if node.resource_id in taken:
                    values = starting(node) or {}
                    rows.append({"id": node.resource_id, "locked_by": token, **values})
            update_by_key(self.session, RESOURCES, ("id",), rows)
        if blocked:
            update_by_key(
                self.session,
                NODES,
                NODE_KEY,
                [
                    {
                        "traversal_id": n.key.traversal_id,
                        "seq": n.key.seq,
                        "state": NodeState.PARKED,
                        "engine_id": None,
                        "wake_key": lock_key(n.resource_id),
                        "wake_at": None,
                        "lock_token": None,
                    }
                    for n in blocked
                ],
            )
        return got

    def _cancel_nodes(self, pairs: Sequence[tuple[str, int]]) -> None:
        """Nodes of a traversal that stopped: never run, but counted as finished."""
        self.session.execute(
            update(NODES)
            .where(_key_in(pairs))
            .values(state=NodeState.CANCELLED, wake_key=None, wake_at=None)
        )
        by_traversal: dict[str, int] = defaultdict(int)
        for traversal_id, _ in pairs:
            by_traversal[traversal_id] += 1
        for traversal_id, count in sorted(by_traversal.items()):
            self._count_finished(traversal_id, count)

    def load_data(self, nodes: Sequence[ClaimedNode]) -> None:
        """Each node's resource data (a resource never acted on has none)."""
        by_id = {n.resource_id: n for n in nodes if n.resource_action != "INIT" or n.woken_by}
        if not by_id:
            return
        for rid, key, value in self.session.execute(DATA_OF, {"ids": sorted(by_id)}):
            by_id[rid].data[key] = value

    def load_peers(self, nodes: Sequence[ClaimedNode]) -> None:
        """What each node's properties refer to: the current row of each required resource."""
        wanted: dict[str, set[str]] = {}
        for node in nodes:
            if node.requires:
                wanted.setdefault(node.stack_id, set()).update(node.requires)
        for stack_id, names in wanted.items():
            rows = self.session.execute(PEERS_OF, {"stack": stack_id, "names": sorted(names)}).all()
            peers = {name: (ref, attrs or {}) for name, ref, attrs in rows}
            for node in nodes:
                if node.stack_id == stack_id:
                    node.peers = {n: peers[n] for n in node.requires if n in peers}

    # Finishing -------------------------------------------------------------------------------

    def owned(self, engine_id: str, results: Sequence[NodeResult]) -> list[NodeResult]:
        """The results whose nodes this engine still holds under the same claim (a node
        taken over after this engine was thought dead is no longer its to finish)."""
        pairs = _pairs(r.node.key for r in results)
        if not pairs:
            return []
        # By primary key only: an index on the engine would walk its whole history.
        current = {
            (t, s): (state, engine, token)
            for t, s, state, engine, token in self._keyed(_owned, OWNED, pairs, {})
        }
        mine = []
        for result in results:
            key = result.node.key
            found = current.get((key.traversal_id, key.seq))
            if (
                found is not None
                and found[0] == NodeState.CLAIMED
                and found[1] == engine_id
                and found[2] == result.node.lock_token
            ):
                mine.append(result)
        return mine

    def finish(self, results: Sequence[NodeResult]) -> list[NodeKey]:
        """Mark nodes DONE or FAILED, or park them, and let go of their resources; returns
        the nodes that waited for those resources, now READY."""
        done = [
            (r.node.key.traversal_id, r.node.key.seq)
            for r in results
            if r.park is None and r.success
        ]
        failed = [
            (r.node.key.traversal_id, r.node.key.seq)
            for r in results
            if r.park is None and not r.success
        ]
        for pairs, state in ((done, NodeState.DONE), (failed, NodeState.FAILED)):
            if pairs:
                self._keyed(_finish, FINISH, pairs, {"state": state})
        parked = [r for r in results if r.park is not None]
        if parked:
            update_by_key(
                self.session,
                NODES,
                NODE_KEY,
                [
                    {
                        "traversal_id": r.node.key.traversal_id,
                        "seq": r.node.key.seq,
                        "state": NodeState.PARKED,
                        "engine_id": None,
                        "lock_token": None,
                        "wake_key": r.park.key if r.park else None,
                        "wake_at": r.park.at if r.park else None,
                        "woken_by": None,
                        "progress": r.progress,
                    }
                    for r in parked
                ],
            )
        woken = self.release_locks([(r.node.resource_id, r.node.lock_token) for r in results])
        # Nodes waiting for their turn at a resource (``turn_key``): one of its nodes ended.
        ended = sorted({r.node.resource_id for r in results if r.park is None})
        return woken + self.wake([turn_key(rid) for rid in ended], "turn")

    def set_progress(self, keys: Sequence[NodeKey], progress: str | None) -> None:
        """Remember how far claimed nodes got (kept across parking and takeovers)."""
        pairs = _pairs(keys)
        if pairs:
            self.session.execute(update(NODES).where(_key_in(pairs)).values(progress=progress))

    def release_locks(self, held: Sequence[tuple[int, str | None]]) -> list[NodeKey]:
        """Let go of resource locks; wake the nodes waiting for them."""
        pairs = sorted({(rid, token) for rid, token in held if token is not None})
        if not pairs:
            return []
        self.session.execute(
            RELEASE_LOCKS,
            {"ids": sorted({rid for rid, _ in pairs}), "tokens": sorted({t for _, t in pairs})},
        )
        return self.wake([lock_key(rid) for rid, _ in pairs], "lock")

    def count_down(self, traversal_id: str, results: Sequence[NodeResult]) -> list[NodeKey]:
        """Count down the dependents of finished nodes; return those that became READY."""
        decrements: dict[int, int] = defaultdict(int)
        for result in results:
            for seq in result.node.dependents:
                decrements[int(seq)] += 1
        if not decrements:
            return []
        by_amount: dict[int, list[int]] = defaultdict(list)
        for seq, amount in decrements.items():
            by_amount[amount].append(seq)
        for amount, group in sorted(by_amount.items()):
            self.session.execute(
                COUNT_DOWN, {"t": traversal_id, "seqs": sorted(group), "amount": amount}
            )
        ready = sorted(
            self.session.execute(
                NOW_READY, {"t": traversal_id, "seqs": sorted(decrements)}
            ).scalars()
        )
        return [NodeKey(traversal_id, seq) for seq in ready]

    def cancel_unstarted(self, traversal_id: str) -> int:
        """Nodes of a failed traversal whose prerequisites never finished: they will not
        start (nodes already dispatched go on, as in Heat)."""
        result = self.session.execute(
            update(NODES)
            .where(N.traversal_id == traversal_id, N.state == NodeState.WAITING)
            .values(state=NodeState.CANCELLED, wake_key=None, wake_at=None)
        )
        return affected(result)

    def cancel(self, traversal_id: str, *, stop_started: bool = True) -> list[NodeKey]:
        """A user's cancel: the traversal stops; nodes not started never will. With
        ``stop_started``, parked nodes are woken to record that they were cancelled. Without,
        the traversal ends as a failed one does, with no rollback: nodes running or parked
        carry on and finish as they would have."""
        if stop_started:
            stopped = update(TRAVERSALS).values(state=TraversalState.CANCELLED)
        else:
            data = self.session.execute(select(T.data).where(T.id == traversal_id)).scalar()
            stopped = update(TRAVERSALS).values(
                state=TraversalState.FAILED, data={**(data or {}), "rollback_on_failure": False}
            )
        self.session.execute(stopped.where(T.id == traversal_id))
        self.session.execute(
            update(NODES)
            .where(
                N.traversal_id == traversal_id,
                N.state.in_([NodeState.WAITING, NodeState.READY]),
            )
            .values(state=NodeState.CANCELLED)
        )
        if not stop_started:
            return []
        return self._wake_where(
            and_(N.traversal_id == traversal_id, N.state == NodeState.PARKED), "cancel"
        )

    # Parking and waking ----------------------------------------------------------------------

    def wake(self, keys: Sequence[str], reason: str) -> list[NodeKey]:
        """Make every node parked on one of ``keys`` READY, recording why."""
        if not keys:
            return []
        found = [
            tuple(row) for row in self.session.execute(WAITING_ON, {"keys": sorted(set(keys))})
        ]
        if found:
            self._keyed(_wake, WAKE, found, {"reason": reason})
        return [NodeKey(t, s) for t, s in sorted(found)]

    def wake_nodes(self, keys: Sequence[NodeKey], reason: str) -> list[NodeKey]:
        """Wake these parked nodes (a deadline passed)."""
        pairs = _pairs(keys)
        if not pairs:
            return []
        return self._wake_where(and_(_key_in(pairs), N.state == NodeState.PARKED), reason)

    def wake_due(self, keys: Sequence[NodeKey], now: dt.datetime) -> list[NodeKey]:
        """Wake these parked nodes if their deadline has passed."""
        pairs = _pairs(keys)
        if not pairs:
            return []
        return self._wake_where(
            and_(_key_in(pairs), N.state == NodeState.PARKED, N.wake_at <= now), "deadline"
        )

    def _wake_where(self, condition: Any, reason: str) -> list[NodeKey]:
        found = [
            (t, s)
            for t, s in self.session.execute(
                select(N.traversal_id, N.seq).where(condition).with_for_update()
            )
        ]
        if not found:
            return []
        self.session.execute(
            update(NODES)
            .where(_key_in(found), N.state == NodeState.PARKED)
            .values(state=NodeState.READY, woken_by=reason, wake_key=None, wake_at=None)
        )
        return [NodeKey(t, s) for t, s in sorted(found)]

    def satisfied(self, wait: Wait) -> bool:
        """Whether what a node is about to wait for has already happened (checked in the
        transaction that parks it, against rows the waker changes, so no wake is lost). A
        wait with both a key and a deadline is over when either is."""
        if wait.at is not None and wait.at <= utcnow():
            return True
        if wait.key is None:
            return False
        kind, _, rest = wait.key.partition(":")
        if kind == "stack":
            status = self.session.execute(
                select(S.status).where(S.id == rest).with_for_update()
            ).scalar()
            return status != Status.IN_PROGRESS
        if kind == "hook":
            resource_id, _, hook = rest.partition(":")
            state = self.session.execute(
                select(D.value).where(
                    D.resource_id == int(resource_id),
                    D.key == f"hook:{hook}",
                )
            ).scalar()
            self._lock_resource(int(resource_id))
            return state != "waiting"
        if kind == "signal":
            signals = self._lock_resource(int(rest))
            return signals is None or signals > wait.seen
        return False

    def _lock_resource(self, resource_id: int) -> int | None:
        return self.session.execute(
            select(R.signals).where(R.id == resource_id).with_for_update()
        ).scalar()

    def state_of(self, traversal_id: str) -> str | None:
        return self.session.execute(select(T.state).where(T.id == traversal_id)).scalar()

    def parked_until(self, key: NodeKey) -> dt.datetime | None:
        """The deadline of ``key`` if it is parked with one (``None`` once it has woken)."""
        return self.session.execute(
            select(N.wake_at).where(
                N.traversal_id == key.traversal_id, N.seq == key.seq, N.state == NodeState.PARKED
            )
        ).scalar()

    def parked_deadlines(self) -> list[tuple[NodeKey, dt.datetime]]:
        """Every parked node with a deadline, soonest first (an engine starting up, or
        learning that another has gone, takes their timers on)."""
        rows = self.session.execute(
            select(N.traversal_id, N.seq, N.wake_at)
            .where(N.state == NodeState.PARKED, N.wake_at.is_not(None))
            .order_by(N.wake_at)
        ).all()
        return [(NodeKey(t, s), at) for t, s, at in rows]

    # Engines that stopped ----------------------------------------------------------------------

    def pending_rollbacks(self) -> list[tuple[str, str]]:
        """(stack id, traversal id) of failed operations that asked to roll back, all of
        whose nodes have finished, still their stack's current operation: the rollback was
        never started (the engine that was to start it stopped first)."""
        rows = self.session.execute(
            select(T.stack_id, T.id, T.data)
            .join(STACKS, S.current_traversal == T.id)
            .where(
                T.state == TraversalState.FAILED,
                T.remaining <= 0,
                S.status == Status.FAILED,
                S.deleted_at.is_(None),
            )
        ).all()
        return [(s, t) for s, t, data in rows if (data or {}).get("rollback_on_failure")]

    def recoverable(self, live_engines: Sequence[str], *, all_ready: bool) -> Recovery:
        """Release nodes claimed by engines that stopped, and their resource locks. With
        ``all_ready`` every READY node of a running traversal is published again too (an
        in-process queue starts empty)."""
        gone = N.engine_id.not_in(list(live_engines))
        return self._release(self._claimed(gone), gone, all_ready=all_ready)

    def orphaned(self, engine_id: str, held: Collection[NodeKey]) -> Recovery:
        """Release the nodes claimed by ``engine_id`` that it does not hold: claimed by a
        transaction whose answer it never had (the connection broke at COMMIT, which
        went through), so it never ran them. Every READY node of a running traversal is
        published again too: that transaction's ready nodes were never published. The
        engine must not be claiming or recording meanwhile."""
        mine = N.engine_id == engine_id
        rows = [row for row in self._claimed(mine) if NodeKey(row[0], row[1]) not in held]
        return self._release(rows, mine, all_ready=True)

    def _claimed(self, owner: Any) -> list[Any]:
        return list(
            self.session.execute(
                select(N.traversal_id, N.seq, N.lock_token, N.resource_id, N.action, T.state)
                .join(Traversal, T.id == N.traversal_id)
                .where(N.state == NodeState.CLAIMED, owner)
            ).all()
        )

    def _release(self, stranded: list[Any], owner: Any, *, all_ready: bool) -> Recovery:
        released = [row for row in stranded if row[5] == TraversalState.RUNNING]
        dead = [row for row in stranded if row[5] != TraversalState.RUNNING]
        if released:
            self.session.execute(
                update(NODES)
                .where(
                    _key_in([(t, s) for t, s, *_ in released]),
                    # Still stranded: not finished or claimed anew since the select above.
                    N.state == NodeState.CLAIMED,
                    owner,
                )
                .values(state=NodeState.READY, engine_id=None, lock_token=None)
            )
        if dead:
            self._cancel_nodes([(t, s) for t, s, *_ in dead])
        woken = self.release_locks([(rid, token) for _, _, token, rid, _, _ in stranded])
        recovery = Recovery(abandoned=[(rid, action) for _, _, _, rid, action, _ in dead])
        if all_ready:
            rows = self.session.execute(
                select(N.traversal_id, N.seq)
                .join(Traversal, T.id == N.traversal_id)
                .where(N.state == NodeState.READY, T.state == TraversalState.RUNNING)
                .order_by(N.traversal_id, N.seq)
            ).all()
            recovery.publish = [NodeKey(t, s) for t, s in rows]
        else:
            recovery.publish = [NodeKey(t, s) for t, s, *_ in released] + woken
        return recovery
