"""The in-process transport of ``heat-all``: asyncio queues and direct calls.

Calls still go through a JSON round trip, so nothing works in-process that would break
over RabbitMQ.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson

from ember.rpc import errors as rpc_errors
from ember.rpc.transport import Delivery, Handler


def _round_trip(value: Any) -> Any:
    """What the value becomes on the wire (JSON), so in-process calls behave as remote ones."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


async def _no_ack() -> None:
    return None


class InProcTransport:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        self._handlers: dict[str, Handler] = {}
        self._subscribers: dict[str, list[Any]] = defaultdict(list)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()

    async def publish(self, topic: str, messages: list[dict[str, Any]]) -> None:
        queue = self._queues[topic]
        for message in messages:
            queue.put_nowait(message)

    async def consume(self, topic: str, prefetch: int = 100) -> AsyncIterator[Delivery]:
        queue = self._queues[topic]
        while True:
            message = await queue.get()
            yield Delivery(message, _no_ack)

    def pending(self, topic: str) -> int:
        return self._queues[topic].qsize()

    async def serve(self, topic: str, handler: Handler, *, exclusive: bool = False) -> None:
        self._handlers[topic] = handler

    async def call(
        self,
        topic: str,
        method: str,
        kwargs: dict[str, Any],
        timeout: float,
        *,
        exclusive: bool = False,
    ) -> Any:
        handler = self._handlers.get(topic)
        if handler is None:
            raise rpc_errors.RPCTimeout()
        request = _round_trip(kwargs)
        try:
            result = await asyncio.wait_for(handler(method, request), timeout)
        except TimeoutError:
            raise rpc_errors.RPCTimeout() from None
        except Exception as exc:
            raise rpc_errors.deserialize(rpc_errors.serialize(exc)) from None
        return _round_trip(result)

    async def broadcast(self, topic: str, message: dict[str, Any]) -> None:
        for handler in list(self._subscribers[topic]):
            await handler(_round_trip(message))

    async def subscribe(self, topic: str, handler: Any) -> None:
        self._subscribers[topic].append(handler)

    async def healthy(self) -> bool:
        return True
