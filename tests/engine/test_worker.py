"""The node worker's contract under cancellation: a node it claimed always has its outcome
recorded, however early the cancel reaches it."""

from __future__ import annotations

import pytest

from ember.db.records import ClaimedNode
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
