"""The engine client the APIs talk through: every operation declared in ``rpc.api``, sent
over a transport to whichever engine answers ``ENGINE_TOPIC``."""

from __future__ import annotations

import time
from typing import Any

from ember.rpc import api
from ember.rpc import errors as rpc_errors
from ember.rpc.metrics import CALL_SECONDS
from ember.rpc.transport import Transport


class EngineClient(api.EngineAPI):
    """Operations are inherited from ``EngineAPI``; this class only sends them."""

    def __init__(self, transport: Transport, timeout: float = 60.0) -> None:
        self.transport = transport
        self.timeout = timeout

    async def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        begun = time.perf_counter()
        outcome = "error"
        try:
            answer = await self.transport.call(
                api.ENGINE_TOPIC, operation, api.envelope(arguments), self.timeout
            )
            outcome = "ok"
            return answer
        except rpc_errors.RPCTimeout:
            outcome = "timeout"
            raise
        finally:
            CALL_SECONDS.labels(operation, outcome).observe(time.perf_counter() - begun)

    async def healthy(self, timeout: float = 5.0) -> bool:
        """Whether an engine answers within ``timeout`` and reaches the database."""
        try:
            return bool(
                await self.transport.call(api.ENGINE_TOPIC, "health", api.envelope({}), timeout)
            )
        except Exception:
            return False
