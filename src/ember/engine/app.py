"""One engine: the operation classes by domain, the worker that runs nodes, liveness and
timers, and the RPC server answering the declared engine API."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from ember.common.settings import Settings
from ember.db.database import Database
from ember.db.records import Progress
from ember.db.unit import UnitOfWork
from ember.engine import views
from ember.engine.definitions import DefinitionCache
from ember.engine.dispatch import Dispatcher, bind_handlers
from ember.engine.launch import Launcher
from ember.engine.liveness import Liveness
from ember.engine.metadata_refresh import refresh_metadata
from ember.engine.nested import NestedStacks
from ember.engine.ops.catalog import CatalogOps
from ember.engine.ops.credentials import CredentialOps
from ember.engine.ops.events import EventOps
from ember.engine.ops.previews import PreviewOps
from ember.engine.ops.resources import ResourceOps
from ember.engine.ops.service import ServiceOps
from ember.engine.ops.snapshots import SnapshotOps
from ember.engine.ops.software import SoftwareOps
from ember.engine.ops.stacks import StackOps
from ember.engine.plugins import PluginRegistry
from ember.engine.runner import NodeRunner
from ember.engine.signal_access import SignalCredentials
from ember.engine.stack_requests import limits_of
from ember.engine.timers import Timers
from ember.engine.worker import NodeWorker
from ember.policy.enforcer import Enforcer
from ember.rpc.api import CANCEL_TOPIC, ENGINE_TOPIC, EVENTS_TOPIC, engine_topic
from ember.rpc.transport import Transport

LOG = logging.getLogger(__name__)


class Engine:
    """Contract: ``start`` makes the engine take work from the shared queue and answer
    the engine topic; ``stop`` stops taking work and leaves whatever ran to be carried on
    (by this engine's successor or any other)."""

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
        self.definitions = DefinitionCache(db, settings.region_name, limits=limits_of(settings))
        self.launcher = Launcher(settings, db, transport, self.definitions)
        # Heat's policy, for the resource types a caller may use.
        self.policy = Enforcer.from_config_args(settings.config_args)
        self.stacks = StackOps(
            settings, db, self.plugins, self.definitions, self.launcher, self.policy
        )
        self.software = SoftwareOps(settings, db, self.launcher.publish)
        self.resources = ResourceOps(
            settings, db, self.plugins, self.definitions, self.stacks, self.launcher
        )
        self.events = EventOps(db)
        self.snapshots = SnapshotOps(settings, db, self.stacks, self.launcher)
        self.previews = PreviewOps(settings, db, self.plugins, self.stacks)
        self.catalog = CatalogOps(settings, self.plugins, self.policy)
        self.service = ServiceOps(self.engine_id, settings, db, transport)
        self.credentials = CredentialOps(db)
        self.dispatcher = Dispatcher(
            bind_handlers(
                {
                    "stacks": self.stacks,
                    "previews": self.previews,
                    "resources": self.resources,
                    "events": self.events,
                    "catalog": self.catalog,
                    "snapshots": self.snapshots,
                    "software": self.software,
                    "service": self.service,
                    "credentials": self.credentials,
                }
            )
        )
        self.nested = NestedStacks(settings, db, self.stacks, self.software)
        self.runner = NodeRunner(
            self.engine_id,
            db,
            self.definitions,
            self.plugins,
            self.nested,
            SignalCredentials(settings, db),
        )
        self.timers = Timers(db, transport)
        self.worker = NodeWorker(
            self.engine_id,
            db,
            transport,
            self.runner,
            self._after,
            self.timers,
            concurrency=settings.executor_batch_size,
        )
        self.liveness = Liveness(
            self.engine_id,
            db,
            transport,
            self.timers,
            settings.host,
            settings.heartbeat_interval,
            self.launcher.rollback,
        )

    async def _after(self, moved: Progress) -> None:
        """What follows the end of traversals: old events go, failed ones roll back, and
        after a signal the metadata that may read what it changed is resolved again."""
        if moved.finished:
            await self.db.run(_purge_events, moved.finished, self.settings.max_events_per_stack)
        for stack_id, failed in moved.rollbacks:
            await self.launcher.rollback(stack_id, failed)
        for stack_id in dict.fromkeys(moved.signalled):
            await refresh_metadata(self.db, self.definitions, self.plugins, stack_id)

    async def _push_events(self, events: list[dict[str, Any]]) -> None:
        """Tell the APIs' event streams what was just committed: best effort, the events
        are in the database whatever happens (a follower that missed some reconnects with
        its last event id)."""
        try:
            await self.transport.broadcast(
                EVENTS_TOPIC, {"events": [views.written_event_view(e) for e in events]}
            )
        except Exception as exc:
            LOG.warning("could not push %d events to the APIs: %s", len(events), exc)

    async def start(self) -> None:
        self.db.on_events = self._push_events
        self.worker.start()
        await self.liveness.start()
        await self.transport.serve(ENGINE_TOPIC, self.dispatcher)
        await self.transport.serve(
            engine_topic(self.engine_id), self.service.answer_ping, exclusive=True
        )
        await self.transport.subscribe(CANCEL_TOPIC, self._cancel)

    async def _cancel(self, message: dict[str, Any]) -> None:
        self.worker.cancel_traversal(
            str(message.get("traversal_id")), superseded=bool(message.get("superseded"))
        )

    async def stop(self) -> None:
        await self.worker.stop()
        self.timers.stop()
        await self.liveness.stop()


def _purge_events(uow: UnitOfWork, traversal_ids: list[str], keep: int) -> int:
    return uow.events.purge(traversal_ids, keep)
