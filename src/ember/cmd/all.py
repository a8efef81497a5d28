"""``heat-all``: engines, the REST API and the CloudFormation API in one process, on the
in-process transport (or on the broker of ``transport_url`` when one is configured).
``[heat_all] enabled_services`` names which of ``engine``, ``api`` and ``api_cfn`` run, as
in Heat; the APIs listen on ``[heat_api]`` and ``[heat_api_cfn]`` (8004 and 8000).

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

from ember.api.cfn.app import CfnApp
from ember.api.rest.app import create_app
from ember.api.rest.keystone import auth_for
from ember.api.rest.middleware import Health
from ember.api.rest.server import check_noauth, server
from ember.cmd.api_cfn import cfn_server
from ember.cmd.config import ConfigError, database_timeouts, load_settings
from ember.cmd.logs import setup_logging
from ember.cmd.processes import name_process, run_loop
from ember.common.settings import Settings
from ember.db import migration
from ember.db.database import Database
from ember.engine.app import Engine
from ember.engine.plugins import PluginRegistry
from ember.rpc.client import EngineClient
from ember.rpc.factory import transport_for

LOG = logging.getLogger("ember.heat-all")
SERVICES = ("engine", "api", "api_cfn")


def prepare_database(settings: Settings) -> None:
    """The embedded SQLite database is created and upgraded on start; a server database
    must be brought up to date by ``heat-manage db_sync``, as in Heat."""
    if settings.database_url.startswith("sqlite"):
        migration.db_sync(settings.database_url)
        return
    if migration.current(settings.database_url) != migration.head():
        raise SystemExit("heat-all: the database schema is not current; run heat-manage db_sync")


async def run(settings: Settings) -> None:
    services = set(settings.enabled_services)
    prepare_database(settings)
    db = Database(settings.database_url, timeouts=database_timeouts(settings))
    transport = transport_for(settings)
    await transport.start()
    plugins = PluginRegistry.from_entry_points()
    engines = [
        Engine(settings, db, transport, plugins)
        for _ in range(max(1, settings.num_engine_workers) if "engine" in services else 0)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for engine in engines:
        await engine.start()
    client = EngineClient(transport, settings.rpc_response_timeout)

    async def health() -> bool:
        return await db.healthy() and await transport.healthy()

    servers: list[Any] = []
    cfn: CfnApp | None = None
    if "api" in services:
        servers.append(_rest_api(settings, client, health))
    if "api_cfn" in services:
        cfn, cfn_server = _cfn_api(settings, client, health)
        servers.append(cfn_server)
    LOG.info(
        "heat-all running: %d engine worker(s), database %s",
        len(engines),
        db.engine.url.render_as_string(hide_password=True),
    )
    serving = [asyncio.create_task(srv.serve()) for srv in servers]
    await _started(servers, serving)
    print("heat-all ready", flush=True)
    await stop.wait()
    LOG.info("heat-all stopping")
    for srv in servers:
        srv.should_exit = True
    await asyncio.gather(*serving, return_exceptions=True)
    if cfn is not None:
        await cfn.close()
    for engine in engines:
        await engine.stop()
    await transport.close()
    db.close()


async def _started(servers: list[Any], serving: list[asyncio.Task[None]]) -> None:
    """Wait until every server listens; one that cannot (its port taken) ends heat-all."""
    while not all(srv.started for srv in servers):
        for task in serving:
            if task.done():
                raise SystemExit("heat-all: an API could not start listening (see above)")
        await asyncio.sleep(0.01)


def _embedded(settings: Settings) -> Settings:
    # heat-all with no flavor configured is the local, trusted embedded default.
    return dataclasses.replace(settings, paste_flavor=settings.paste_flavor or "noauth")


def _cfn_api(settings: Settings, engine: EngineClient, health: Health) -> tuple[CfnApp, Any]:
    settings = _embedded(settings)
    LOG.info(
        "heat-api-cfn listening on %s:%d",
        settings.heat_api_cfn.bind_host,
        settings.heat_api_cfn.bind_port,
    )
    return cfn_server(settings, engine, health)


def _rest_api(settings: Settings, engine: EngineClient, health: Health) -> Any:
    settings = _embedded(settings)
    flavor = settings.paste_flavor or "noauth"
    check_noauth(flavor, settings.heat_api, settings.allow_noauth_remote, "heat-all")
    keystone = auth_for(settings, "heat-all")
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
        setup_logging(settings, "heat-all")
    except ConfigError as exc:
        print(f"heat-all: {exc}", file=sys.stderr)
        return 2
    unknown = sorted(set(settings.enabled_services) - set(SERVICES))
    if unknown or not settings.enabled_services:
        print(
            f"heat-all: [heat_all] enabled_services: {', '.join(unknown) or '(none)'} is not "
            f"one of {', '.join(SERVICES)}",
            file=sys.stderr,
        )
        return 2
    name_process("heat-all")
    run_loop(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
