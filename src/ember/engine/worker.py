"""The node worker: claims ready nodes, runs them concurrently, records outcomes.

Claims and outcomes are written in batches (group commit): while one transaction runs, the
next batch gathers, so a large stack costs a handful of transactions, not several per
resource. A message is acknowledged only after its outcome is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ember.engine import store_nodes
from ember.engine.database import Database
from ember.engine.records import ClaimedNode, Completion, NodeKey, Outcome
from ember.rpc.transport import Delivery, Transport

LOG = logging.getLogger(__name__)
WORK_TOPIC = "engine"
MAX_BATCH = 500
RETRY_SECONDS = 1.0

Runner = Callable[[ClaimedNode], Awaitable[Outcome]]
CompletionHook = Callable[[Completion], Awaitable[None]]


async def publish_nodes(transport: Transport, keys: list[NodeKey]) -> None:
    if keys:
        await transport.publish(WORK_TOPIC, [k.to_message() for k in keys])


class NodeWorker:
    def __init__(
        self,
        engine_id: str,
        db: Database,
        transport: Transport,
        runner: Runner,
        on_completion: CompletionHook,
        *,
        concurrency: int = 256,
    ) -> None:
        self.engine_id = engine_id
        self.db = db
        self.transport = transport
        self.runner = runner
        self.on_completion = on_completion
        self._intake: asyncio.Queue[Delivery] = asyncio.Queue()
        self._done: asyncio.Queue[tuple[Outcome, Delivery]] = asyncio.Queue()
        self._slots = asyncio.Semaphore(concurrency)
        self._credit = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._tasks: list[asyncio.Task[Any]] = []
        self._running: set[asyncio.Task[Any]] = set()
        self.by_traversal: dict[str, set[asyncio.Task[Any]]] = {}
        self._stopping = False
        self._superseded: set[str] = set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._receive(), name="ember-receive"),
            asyncio.create_task(self._claim_loop(), name="ember-claim"),
            asyncio.create_task(self._commit_loop(), name="ember-commit"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        for task in [*self._tasks, *self._running]:
            task.cancel()
        for task in [*self._tasks, *self._running]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @contextlib.asynccontextmanager
    async def waiting(self) -> AsyncIterator[None]:
        """Give back a running node's slot and credit while it waits on other work."""
        self._slots.release()
        self._credit.release()
        try:
            yield
        finally:
            await self._credit.acquire()
            await self._slots.acquire()

    def cancel_traversal(self, traversal_id: str, *, superseded: bool = False) -> int:
        """Stop this engine's running nodes of a traversal: cancelled by the user (the
        resources fail) or superseded by a newer one (they keep their state)."""
        if superseded:
            self._superseded.add(traversal_id)
        tasks = self.by_traversal.get(traversal_id, set())
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def _receive(self) -> None:
        # Credit-based flow control, like RabbitMQ's prefetch: an engine holds at most
        # ``concurrency`` unfinished messages, so several engines share a large stack. The
        # broker may hand out twice that: nodes waiting on nested stacks give their local
        # credit back but keep their message until they finish.
        deliveries = self.transport.consume(WORK_TOPIC, prefetch=2 * self._concurrency).__aiter__()
        while True:
            await self._credit.acquire()
            delivery = await deliveries.__anext__()
            self._intake.put_nowait(delivery)

    async def _settle(self, delivery: Delivery) -> None:
        await delivery.ack()
        self._credit.release()

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
            keys = {}
            for delivery in batch:
                try:
                    keys[NodeKey.from_message(delivery.message)] = delivery
                except (KeyError, TypeError, ValueError):
                    LOG.warning("dropping malformed work message %r", delivery.message)
                    await self._settle(delivery)
            try:
                claimed = await self.db.run(store_nodes.claim, self.engine_id, list(keys))
            except Exception:
                LOG.exception("claiming %d nodes failed; trying again", len(keys))
                await asyncio.sleep(RETRY_SECONDS)
                for delivery in keys.values():
                    self._intake.put_nowait(delivery)
                continue
            for node in claimed:
                delivery = keys.pop(node.key)
                task = asyncio.create_task(self._run(node, delivery))
                self._running.add(task)
                self.by_traversal.setdefault(node.key.traversal_id, set()).add(task)
                task.add_done_callback(self._forget(node.key.traversal_id))
            for delivery in keys.values():  # taken by another engine, or no longer needed
                await self._settle(delivery)

    def _forget(self, traversal_id: str) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            self._running.discard(task)
            tasks = self.by_traversal.get(traversal_id)
            if tasks is not None:
                tasks.discard(task)
                if not tasks:
                    del self.by_traversal[traversal_id]
                    self._superseded.discard(traversal_id)

        return done

    async def _run(self, node: ClaimedNode, delivery: Delivery) -> None:
        try:
            async with self._slots:
                outcome = await self.runner(node)
        except asyncio.CancelledError:
            if self._stopping:
                raise  # left claimed: recovered once this engine is known to be gone
            if node.key.traversal_id in self._superseded:
                outcome = Outcome(
                    node,
                    success=False,
                    keep_state=True,
                    event=False,
                    reason=f"{node.action} superseded",
                )
            else:
                outcome = Outcome(node, success=False, reason=f"{node.action} cancelled")
        except Exception as exc:  # a plugin bug must not lose the node
            LOG.exception("resource %s failed unexpectedly", node.resource_name)
            outcome = Outcome(node, success=False, reason=f"{type(exc).__name__}: {exc}")
        self._done.put_nowait((outcome, delivery))

    async def _commit_loop(self) -> None:
        while True:
            batch = self._drain(self._done, await self._done.get())
            outcomes = [outcome for outcome, _ in batch]
            try:
                completion = await self.db.run(store_nodes.complete, self.engine_id, outcomes)
            except Exception:
                LOG.exception("recording %d outcomes failed; trying again", len(batch))
                await asyncio.sleep(RETRY_SECONDS)
                for item in batch:
                    self._done.put_nowait(item)
                continue
            await publish_nodes(self.transport, completion.ready)
            for _, delivery in batch:
                await self._settle(delivery)
            if completion.finished or completion.rollbacks:
                await self.on_completion(completion)
