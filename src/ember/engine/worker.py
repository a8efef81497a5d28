"""The node worker: claims ready nodes, runs them concurrently, records outcomes.

Claims and outcomes are written in batches (group commit): while one transaction runs, the
next batch gathers, so a large stack costs a handful of transactions, not several per
resource. A message is acknowledged only after its outcome is committed. A node that
parks is acknowledged too: it holds no message and no slot while it waits. Nodes made
ready by a batch are claimed in the batch's own transaction, as many as this worker has
room for, and run here without a message; the rest are published for any engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ember.common import errors, log_tags
from ember.db.database import Database
from ember.db.records import ClaimedNode, NodeKey, Progress
from ember.engine import metrics, outcomes, progress
from ember.engine.outcomes import Outcome
from ember.engine.timers import Timers
from ember.rpc.api import WORK_TOPIC
from ember.rpc.transport import Delivery, Transport

LOG = logging.getLogger(__name__)
MAX_BATCH = 500
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 10.0
# After a claim or a record failed, this long before looking for nodes claimed without
# this worker knowing (the failure may have been a lost answer to a COMMIT that went through).
REPAIR_SECONDS = 3.0

Runner = Callable[[ClaimedNode], Awaitable[Outcome]]
ProgressHook = Callable[[Progress], Awaitable[None]]


async def publish_nodes(transport: Transport, keys: list[NodeKey]) -> None:
    if keys:
        await transport.publish(WORK_TOPIC, [k.to_message() for k in keys])


class Capacity:
    """How many nodes this worker may hold at once (running or being recorded)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._freed = asyncio.Event()

    async def take(self) -> None:
        while self.used >= self.size:
            self._freed.clear()
            await self._freed.wait()
        self.used += 1

    def take_up_to(self, wanted: int) -> int:
        granted = max(0, min(wanted, self.size - self.used))
        self.used += granted
        return granted

    def give(self, count: int = 1) -> None:
        self.used -= count
        self._freed.set()


class NodeWorker:
    """Contract: every claimed node's outcome is committed before its message (if any) is
    acknowledged; a node this worker stops running (``stop``) stays claimed and is
    carried on by another engine once this one is known to be gone."""

    def __init__(
        self,
        engine_id: str,
        db: Database,
        transport: Transport,
        runner: Runner,
        after: ProgressHook,
        timers: Timers,
        *,
        concurrency: int = 256,
    ) -> None:
        self.engine_id = engine_id
        self.db = db
        self.transport = transport
        self.runner = runner
        self.after = after
        self.timers = timers
        self.capacity = Capacity(concurrency)
        self._intake: asyncio.Queue[Delivery] = asyncio.Queue()
        self._done: asyncio.Queue[tuple[Outcome, Delivery | None]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self._running: set[asyncio.Task[Any]] = set()
        self._following: set[asyncio.Task[Any]] = set()
        # Nodes claimed for this worker that it runs or records now: any other node the
        # database shows claimed by this engine was claimed by a transaction whose answer
        # was lost.
        self._held: set[NodeKey] = set()
        # Held while claiming or recording, so that the set above matches the database.
        self._recording = asyncio.Lock()
        self._suspect = asyncio.Event()
        self.by_traversal: dict[str, set[asyncio.Task[Any]]] = {}
        self._stopping = False
        self._superseded: set[str] = set()

    @property
    def running(self) -> int:
        """Nodes whose handlers run here now (parked nodes are not among them)."""
        return len(self._running)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._receive(), name="ember-receive"),
            asyncio.create_task(self._claim_loop(), name="ember-claim"),
            asyncio.create_task(self._commit_loop(), name="ember-commit"),
            asyncio.create_task(self._repair_loop(), name="ember-repair"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        tasks = [*self._tasks, *self._running, *self._following]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def cancel_traversal(self, traversal_id: str, *, superseded: bool = False) -> int:
        """Stop this engine's running nodes of a traversal: cancelled by the user (the
        resources fail) or superseded by a newer one (they keep their state)."""
        tasks = self.by_traversal.get(traversal_id, set())
        if superseded and tasks:  # forgotten once they have all finished
            self._superseded.add(traversal_id)
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def _receive(self) -> None:
        # Credit-based flow control, like RabbitMQ's prefetch: an engine holds at most
        # ``size`` unfinished nodes, so several engines share a large stack.
        size = self.capacity.size
        deliveries = self.transport.consume(WORK_TOPIC, prefetch=size).__aiter__()
        while True:
            delivery = await deliveries.__anext__()
            await self.capacity.take()
            self._intake.put_nowait(delivery)

    async def _settle(self, delivery: Delivery | None) -> None:
        if delivery is not None:
            await delivery.ack()
        self.capacity.give()

    @staticmethod
    def _drain(queue: asyncio.Queue[Any], first: Any) -> list[Any]:
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                batch.append(queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        return batch

    async def _claim_loop(self) -> None:
        while True:
            batch = self._drain(self._intake, await self._intake.get())
            keys: dict[NodeKey, Delivery] = {}
            for delivery in batch:
                try:
                    key = NodeKey.from_message(delivery.message)
                except (KeyError, TypeError, ValueError):
                    LOG.warning("dropping malformed work message %r", delivery.message)
                    await self._settle(delivery)
                    continue
                if key in keys:
                    # The same node twice in one batch (published again after a failed
                    # transaction, say): one claim, and the copy is done with at once.
                    await self._settle(delivery)
                else:
                    keys[key] = delivery
            try:
                async with self._recording:
                    claimed = await self.db.run(progress.claim, self.engine_id, list(keys))
                    for node in claimed:
                        self._spawn(node, keys.pop(node.key))
            except Exception:
                LOG.exception("claiming %d nodes failed; trying again", len(keys))
                self._suspect.set()
                await asyncio.sleep(RETRY_SECONDS)
                for delivery in keys.values():
                    self._intake.put_nowait(delivery)
                continue
            for delivery in keys.values():  # taken by another engine, or no longer needed
                await self._settle(delivery)

    def _spawn(self, node: ClaimedNode, delivery: Delivery | None) -> None:
        metrics.NODES_CLAIMED.labels(node.resource_type, node.action).inc()
        metrics.NODES_RUNNING.labels(metrics.SERVICE).inc()
        self._held.add(node.key)
        task = asyncio.create_task(self._run(node, delivery))
        self._running.add(task)
        self.by_traversal.setdefault(node.key.traversal_id, set()).add(task)
        task.add_done_callback(self._forget(node, delivery))

    def _forget(
        self, node: ClaimedNode, delivery: Delivery | None
    ) -> Callable[[asyncio.Task[Any]], None]:
        traversal_id = node.key.traversal_id

        def done(task: asyncio.Task[Any]) -> None:
            self._running.discard(task)
            metrics.NODES_RUNNING.labels(metrics.SERVICE).dec()
            if task.cancelled() and not self._stopping:
                # Cancelled before it took its first step, so ``_run`` never saw it: its
                # outcome is recorded here, or the node would stay claimed for ever.
                self._done.put_nowait((self._stopped(node), delivery))
            tasks = self.by_traversal.get(traversal_id)
            if tasks is not None:
                tasks.discard(task)
                if not tasks:
                    del self.by_traversal[traversal_id]
                    self._superseded.discard(traversal_id)

        return done

    def _stopped(self, node: ClaimedNode) -> Outcome:
        """The outcome of a node whose handler was cancelled: superseded by a newer
        traversal (the resource keeps its state) or cancelled by the user (it fails)."""
        if node.key.traversal_id in self._superseded:
            return Outcome(
                node,
                success=False,
                keep_state=True,
                event=False,
                reason=f"{node.action} superseded",
            )
        return Outcome(node, success=False, reason=f"{node.action} cancelled")

    async def _run(self, node: ClaimedNode, delivery: Delivery | None) -> None:
        # The node's own task: its log lines are about its stack and traversal.
        log_tags.tag(
            project_id=node.project_id,
            stack_id=node.stack_id,
            traversal_id=node.key.traversal_id,
        )
        try:
            outcome = await self.runner(node)
        except asyncio.CancelledError:
            if self._stopping:
                raise  # left claimed: recovered once this engine is known to be gone
            outcome = self._stopped(node)
        except errors.DatabaseUnavailable:
            await self._give_back(node, delivery)
            return
        except Exception as exc:  # a plugin bug must not lose the node
            LOG.exception("resource %s failed unexpectedly", node.resource_name)
            outcome = Outcome(node, success=False, reason=f"{type(exc).__name__}: {exc}")
        self._done.put_nowait((outcome, delivery))

    async def _give_back(self, node: ClaimedNode, delivery: Delivery | None) -> None:
        """The database went out of reach while the node ran: that is no outcome of the
        resource's, and none could be recorded now. The node stays claimed in the database
        but is no longer held here, so the repair that follows (once the database answers)
        releases it and publishes it again, for any engine to run from the start, as
        after an engine's death."""
        LOG.warning(
            "%s of %s stopped: the database is unavailable; it will run again",
            node.action,
            node.resource_name,
        )
        self._held.discard(node.key)
        self._suspect.set()
        await self._settle(delivery)

    async def _commit_loop(self) -> None:
        while True:
            batch = self._drain(self._done, await self._done.get())
            results = [outcomes.result_for(outcome) for outcome, _ in batch]
            # The batch's own capacity passes to the nodes it makes ready, one each.
            local = min(len(batch), self.capacity.size - self.capacity.used + len(batch))
            try:
                async with self._recording:
                    moved = await self.db.run(progress.complete, self.engine_id, results, local)
                    # The batch's nodes are done; the nodes claimed here take their place.
                    for outcome, _ in batch:
                        self._held.discard(outcome.node.key)
                    self.capacity.give(len(batch))
                    self.capacity.used += len(moved.claimed)
                    for node in moved.claimed:
                        self._spawn(node, None)
            except Exception:
                LOG.exception("recording %d outcomes failed; trying again", len(batch))
                self._suspect.set()
                await asyncio.sleep(RETRY_SECONDS)
                for item in batch:
                    self._done.put_nowait(item)
                continue
            # Nothing after the commit may stop this loop: it alone frees capacity, so a
            # loop that died would leave the worker holding its deliveries for ever.
            try:
                await publish_nodes(self.transport, moved.ready)
            except Exception:  # the transport is closing; a new engine publishes them
                LOG.exception("publishing %d ready nodes failed", len(moved.ready))
            for _, delivery in batch:
                if delivery is not None:
                    await delivery.ack()
            for outcome, _ in batch:
                node = outcome.node
                result = "complete" if outcome.success else "failed"
                metrics.NODES_FINISHED.labels(node.resource_type, node.action, result).inc()
                _log_outcome(outcome)
            if moved.finished:
                metrics.TRAVERSALS_FINISHED.labels(metrics.SERVICE).inc(len(moved.finished))
            for action, seconds in moved.took:
                metrics.TRAVERSAL_SECONDS.labels(action).observe(seconds)
            for key, at in moved.deadlines:
                self.timers.schedule(key, at)
            if moved.finished or moved.rollbacks or moved.signalled:
                self._follow_up(moved)

    async def _repair_loop(self) -> None:
        """After a claim or a record failed, release the nodes the database shows claimed
        by this engine that it does not hold, and publish every ready node again (what
        that transaction made ready was not published). Tried until it succeeds."""
        while True:
            await self._suspect.wait()
            await asyncio.sleep(REPAIR_SECONDS)
            self._suspect.clear()  # a failure from here on asks for another repair
            try:
                async with self._recording:
                    found = await self.db.run(
                        progress.take_orphans, self.engine_id, set(self._held)
                    )
                await publish_nodes(self.transport, found.publish)
            except Exception:
                LOG.exception("looking for nodes claimed by a lost transaction failed")
                self._suspect.set()
                continue
            LOG.info(
                "after a failed transaction: %d ready nodes published again", len(found.publish)
            )

    def _follow_up(self, moved: Progress) -> None:
        """Run what follows the end of traversals beside the loop, again until it is
        done: the database may be unreachable for a while."""

        async def run() -> None:
            delay = RETRY_SECONDS
            while True:
                try:
                    await self.after(moved)
                    return
                except Exception:
                    LOG.exception("after traversals %s ended; trying again", moved.finished)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

        task = asyncio.create_task(run(), name="ember-after")
        self._following.add(task)
        task.add_done_callback(self._following.discard)


def _log_outcome(outcome: Outcome) -> None:
    """A line for each node recorded: a failure at INFO, the rest when debugging; tagged
    with the node's stack and traversal, as the lines of its run were."""
    node = outcome.node
    level = logging.DEBUG if outcome.success else logging.INFO
    if not LOG.isEnabledFor(level):
        return
    with log_tags.tagged(
        project_id=node.project_id, stack_id=node.stack_id, traversal_id=node.key.traversal_id
    ):
        LOG.log(
            level,
            "%s %s %s of stack %s/%s: %s",
            node.action,
            "succeeded" if outcome.success else "failed",
            node.resource_name,
            node.stack_name,
            node.stack_id,
            outcome.reason or "-",
        )
