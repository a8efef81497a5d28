"""One engine: its worker, liveness, and the RPC server answering the engine topic."""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.engine.database import Database
from ember.engine.definitions import DefinitionCache
from ember.engine.liveness import Liveness
from ember.engine.nested import NestedStacks
from ember.engine.ops_actions import CANCEL_TOPIC
from ember.engine.plugins import PluginRegistry
from ember.engine.runner import NodeRunner
from ember.engine.service import EngineService
from ember.engine.worker import NodeWorker
from ember.rpc.transport import Transport

LOG = logging.getLogger(__name__)
ENGINE_TOPIC = "engine.rpc"


class Engine:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        transport: Transport,
        plugins: PluginRegistry | None = None,
    ) -> None:
        self.engine_id = str(uuid.uuid4())
        self.settings = settings
        self.db = db
        self.transport = transport
        self.plugins = plugins or PluginRegistry.from_entry_points()
        self.definitions = DefinitionCache(db, settings.region_name)
        self.service = EngineService(settings, db, transport, self.plugins, self.definitions)
        self.nested = NestedStacks(self.service, db)
        self.runner = NodeRunner(self.engine_id, db, self.definitions, self.plugins, self.nested)
        self.worker = NodeWorker(
            self.engine_id,
            db,
            transport,
            self.runner,
            self._on_completion,
            concurrency=settings.executor_batch_size,
        )
        self.service.worker = self.worker
        self.nested.worker = self.worker
        self.liveness = Liveness(
            self.engine_id, db, transport, settings.host, settings.heartbeat_interval
        )

    async def _on_completion(self, completion: Any) -> None:
        await self.service.on_completion(completion)
        self.nested.notify(completion.finished)

    async def start(self) -> None:
        self.worker.start()
        await self.liveness.start()
        await self.transport.serve(ENGINE_TOPIC, self.dispatch)
        await self.transport.subscribe(CANCEL_TOPIC, self._cancel)

    async def _cancel(self, message: dict[str, Any]) -> None:
        self.worker.cancel_traversal(
            str(message.get("traversal_id")), superseded=bool(message.get("superseded"))
        )

    async def stop(self) -> None:
        await self.worker.stop()
        await self.liveness.stop()

    async def dispatch(self, method: str, kwargs: dict[str, Any]) -> Any:
        if method.startswith("_"):
            raise errors.InvalidRequest(f"Unknown engine method {method}")
        handler = getattr(self.service, method, None)
        if handler is None or not inspect.iscoroutinefunction(handler):
            raise errors.InvalidRequest(f"Unknown engine method {method}")
        return await handler(**kwargs)
