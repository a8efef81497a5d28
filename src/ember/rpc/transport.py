"""The transport seam: a shared work queue (round-robin between engines) and request/reply
calls. ``inproc`` runs everything in one process; ``rabbit`` uses RabbitMQ."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]


@dataclass(slots=True)
class Delivery:
    message: dict[str, Any]
    ack: Callable[[], Awaitable[None]]


class Transport(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, messages: list[dict[str, Any]]) -> None:
        """Put work on a shared queue; each message goes to one consumer."""

    def consume(self, topic: str, prefetch: int = 100) -> AsyncIterator[Delivery]:
        """Messages of a shared queue, at most ``prefetch`` unacknowledged at a time; ack
        each after its outcome is committed."""

    async def call(
        self,
        topic: str,
        method: str,
        kwargs: dict[str, Any],
        timeout: float,
        *,
        exclusive: bool = False,
    ) -> Any:
        """Ask one server of ``topic`` to run ``method`` and return its JSON reply.
        ``exclusive``: the topic one server serves ``exclusive``ly, which the caller must
        not create; a call to a server that has gone times out."""

    async def serve(self, topic: str, handler: Handler, *, exclusive: bool = False) -> None:
        """Answer calls on ``topic`` with ``handler``. ``exclusive``: this server alone
        answers the topic, which goes when the server's connection does (however the
        process ends), so a call to it after that times out rather than waiting for it."""

    async def broadcast(self, topic: str, message: dict[str, Any]) -> None:
        """Deliver to every subscriber of ``topic`` (every engine): cancel requests."""

    async def subscribe(
        self, topic: str, handler: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None: ...

    async def healthy(self) -> bool: ...
