"""``heat-all``: engines and the REST API in one process, on the in-process transport
(or on the broker of ``transport_url`` when one is configured).

    python -m ember.cmd.all [--config-file /etc/heat/heat.conf]

With no configuration it keeps its state in ``ember.sqlite`` in the current directory and
creates or upgrades the schema itself. SIGTERM and SIGINT stop it cleanly: running resource
actions are left to be carried on at the next start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from ember.api.rest.app import create_app
from ember.api.rest.keystone import auth_for
from ember.api.rest.server import check_noauth, server
from ember.cmd.config import ConfigError, database_timeouts, load_settings
from ember.cmd.processes import run_loop
from ember.common.settings import Settings
from ember.db import migration
from ember.db.database import Database
from ember.engine.app import Engine
from ember.engine.plugins import PluginRegistry
from ember.rpc.client import EngineClient
from ember.rpc.factory import transport_for
from ember.rpc.transport import Transport

LOG = logging.getLogger("ember.heat-all")


def prepare_database(settings: Settings) -> None:
    """The embedded SQLite database is created and upgraded on start; a server database
    must be brought up to date by ``heat-manage db_sync``, as in Heat."""
    if settings.database_url.startswith("sqlite"):
        migration.db_sync(settings.database_url)
        return
    if migration.current(settings.database_url) != migration.head():
        raise SystemExit("heat-all: the database schema is not current; run heat-manage db_sync")


async def run(settings: Settings) -> None:
    prepare_database(settings)
    db = Database(settings.database_url, timeouts=database_timeouts(settings))
    transport = transport_for(settings)
    await transport.start()
    plugins = PluginRegistry.from_entry_points()
    engines = [
        Engine(settings, db, transport, plugins) for _ in range(max(1, settings.num_engine_workers))
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for engine in engines:
        await engine.start()
    api = _rest_api(settings, db, transport)
    LOG.info(
        "heat-all running: %d engine worker(s), database %s",
        len(engines),
        db.engine.url.render_as_string(hide_password=True),
    )
    print("heat-all ready", flush=True)
    serving = asyncio.create_task(api.serve())
    await stop.wait()
    LOG.info("heat-all stopping")
    api.should_exit = True
    await serving
    for engine in engines:
        await engine.stop()
    await transport.close()
    db.close()


def _rest_api(settings: Settings, db: Database, transport: Transport) -> Any:
    # heat-all with no flavor configured is the local, trusted embedded default.
    flavor = settings.paste_flavor or "noauth"
    settings = dataclasses.replace(settings, paste_flavor=flavor)
    check_noauth(flavor, settings.heat_api, settings.allow_noauth_remote, "heat-all")
    keystone = auth_for(settings, "heat-all")

    async def health() -> bool:
        return await db.healthy() and await transport.healthy()

    engine = EngineClient(transport, settings.rpc_response_timeout)
    app = create_app(settings, engine, health, keystone)
    LOG.info(
        "heat-api listening on %s:%d (%s)",
        settings.heat_api.bind_host,
        settings.heat_api.bind_port,
        flavor,
    )
    return server(
        app,
        settings.heat_api,
        settings.client_socket_timeout,
        trusted_proxies=settings.forwarded_allow_ips,
        max_header_line=settings.max_header_line,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(argv, prog="heat-all")
    except ConfigError as exc:
        print(f"heat-all: {exc}", file=sys.stderr)
        return 2
    run_loop(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
