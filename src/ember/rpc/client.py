"""The engine client the APIs talk through: every operation declared in ``rpc.api``, sent
over a transport to whichever engine answers ``ENGINE_TOPIC``."""

from __future__ import annotations

from typing import Any

from ember.rpc import api
from ember.rpc.transport import Transport


class EngineClient(api.EngineAPI):
    """Operations are inherited from ``EngineAPI``; this class only sends them."""

    def __init__(self, transport: Transport, timeout: float = 60.0) -> None:
        self.transport = transport
        self.timeout = timeout

    async def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        return await self.transport.call(
            api.ENGINE_TOPIC, operation, api.envelope(arguments), self.timeout
        )

    async def healthy(self, timeout: float = 5.0) -> bool:
        """Whether an engine answers within ``timeout`` and reaches the database."""
        try:
            return bool(
                await self.transport.call(api.ENGINE_TOPIC, "health", api.envelope({}), timeout)
            )
        except Exception:
            return False
