"""``heat-engine``: engine processes fed over the message broker.

    heat-engine --config-file /etc/heat/heat.conf

Runs ``num_engine_workers`` processes (default: one per core, at least four, as in Heat).
Every engine consumes the shared work queue and answers the API's calls; state lives in
the database of ``[database] connection``, whose schema ``heat-manage db_sync`` keeps.
With ``[heat_engine] metrics_bind_port`` set, ``GET /metrics`` there gives the metrics of
all its processes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from ember.cmd.config import database_timeouts
from ember.cmd.processes import broker_settings, connect, run_loop, run_workers, stop_event
from ember.common.settings import Settings
from ember.db import migration
from ember.db.database import Database
from ember.engine.app import Engine
from ember.engine.plugins import PluginRegistry
from ember.rpc.factory import transport_for

PROG = "heat-engine"
LOG = logging.getLogger(PROG)


async def serve(settings: Settings) -> None:
    stop = stop_event()
    transport = transport_for(settings)
    if not await connect(transport, settings.kombu_reconnect_delay, stop, PROG):
        return
    db = Database(settings.database_url, timeouts=database_timeouts(settings))
    engine = Engine(settings, db, transport, PluginRegistry.from_entry_points())
    await engine.start()
    LOG.info("engine %s running", engine.engine_id)
    print(f"{PROG} ready", flush=True)
    await stop.wait()
    await engine.stop()
    await transport.close()
    db.close()


def main(argv: Sequence[str] | None = None) -> int:
    settings = broker_settings(argv, PROG, "shared with heat-api")
    try:
        current = migration.current(settings.database_url)
    except Exception as exc:
        print(f"{PROG}: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    if current != migration.head():
        print(
            f"{PROG}: the database schema is not current; run heat-manage db_sync", file=sys.stderr
        )
        return 1
    return run_workers(
        settings.num_engine_workers, lambda: _worker(settings), PROG, settings.engine_metrics
    )


def _worker(settings: Settings) -> int:
    run_loop(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
