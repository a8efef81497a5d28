"""The node worker's contract under cancellation and lost databases: a node it claimed always
has its outcome recorded, however early the cancel reaches it, and a node whose run lost the
database runs again."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from ember.common import errors
from ember.db.models import TraversalNode
from ember.db.records import ClaimedNode, NodeKey
from ember.engine.outcomes import Outcome
from ember.rpc.transport import Delivery
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import hot, resources, tres


@pytest.mark.parametrize("superseded", [False, True])
async def test_a_node_cancelled_before_its_first_step_is_recorded(
    env: EngineEnv, monkeypatch: pytest.MonkeyPatch, superseded: bool
) -> None:
    worker = env.engine.worker
    spawn = worker._spawn

    def spawn_then_cancel(node: ClaimedNode, delivery: Delivery | None) -> None:
        spawn(node, delivery)
        # The cancel lands before the node's task has run at all.
        worker.cancel_traversal(node.key.traversal_id, superseded=superseded)

    monkeypatch.setattr(worker, "_spawn", spawn_then_cancel)
    stack = await env.create("early", hot({"a": tres("a")}))
    assert stack["stack_status"] == "CREATE_FAILED"
    listed = await resources(env, "early")
    if superseded:
        # A superseded node keeps the state it was caught in, for the traversal that
        # replaces it to take on from there.
        assert listed["a"]["resource_status"] == "CREATE_IN_PROGRESS"
    else:
        assert listed["a"]["resource_status"] == "CREATE_FAILED"
        assert listed["a"]["resource_status_reason"] == "CREATE cancelled"
    assert worker.capacity.used == 0 and worker.running == 0


async def test_a_node_whose_run_lost_the_database_runs_again(
    env: EngineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database out of reach in the middle of a node's action is not the resource's
    failure: the node is given back and run again once the database answers, and the stack
    completes."""
    worker = env.engine.worker
    run = worker.runner
    runs: list[str] = []

    async def lose_the_database_once(node: ClaimedNode) -> Outcome:
        runs.append(node.resource_name)
        if runs.count(node.resource_name) == 1 and node.resource_name == "b":
            raise errors.DatabaseUnavailable()
        return await run(node)

    monkeypatch.setattr(worker, "runner", lose_the_database_once)
    stack = await env.create(
        "lost", hot({"a": tres("a"), "b": tres("b", depends_on=["a"]), "c": tres("c")})
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert sorted(runs) == ["a", "b", "b", "c"]
    listed = await resources(env, "lost")
    assert {r["resource_status"] for r in listed.values()} == {"CREATE_COMPLETE"}
    assert worker.capacity.used == 0 and worker.running == 0


async def test_one_node_twice_in_a_batch_is_claimed_once_and_both_copies_acknowledged(
    env: EngineEnv,
) -> None:
    """After a failed transaction every ready node is published again, so two copies of
    one node's message can reach a worker together: each copy must be acknowledged (an
    unacknowledged one would hold the worker's capacity and the broker's message for ever)."""
    await env.create("twice", hot({"a": tres("a")}))
    row = await env.engine.db.read(
        lambda uow: uow.session.execute(
            sa.select(TraversalNode.traversal_id, TraversalNode.seq)
        ).one()
    )
    traversal_id, seq = row
    message = NodeKey(str(traversal_id), int(seq)).to_message()
    worker = env.engine.worker
    acked: list[int] = []

    def delivery(number: int) -> Delivery:
        async def ack() -> None:
            acked.append(number)

        return Delivery(dict(message), ack)

    # As the receiving loop does: a unit of capacity for each, then both in one batch.
    for number in (1, 2):
        await worker.capacity.take()
        worker._intake.put_nowait(delivery(number))
    deadline = asyncio.get_running_loop().time() + 10
    while sorted(acked) != [1, 2] and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    assert sorted(acked) == [1, 2]
    assert worker.capacity.used == 0
