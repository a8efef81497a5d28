"""``heat-api``: the Orchestration REST API v1 as its own process(es).

    heat-api --config-file /etc/heat/heat.conf

Listens on ``[heat_api] bind_host``/``bind_port`` with ``[heat_api] workers`` processes
(0: one per core) and reaches the engines over the message broker of ``transport_url`` (or
the legacy ``rabbit_*`` options). It keeps no state, so any number of them can run behind a
load balancer.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Sequence

from ember.api.rest.app import create_app
from ember.api.rest.keystone import auth_for
from ember.api.rest.server import check_noauth, server
from ember.cmd.processes import (
    broker_settings,
    connect,
    run_api,
    serve_until_stopped,
    stop_event,
)
from ember.common.settings import Settings
from ember.rpc.client import EngineClient
from ember.rpc.factory import transport_for

PROG = "heat-api"
LOG = logging.getLogger(PROG)


async def serve(settings: Settings, sock: socket.socket) -> None:
    stop = stop_event()
    transport = transport_for(settings)
    if not await connect(transport, settings.kombu_reconnect_delay, stop, PROG):
        return
    keystone = auth_for(settings, PROG)
    engine = EngineClient(transport, settings.rpc_response_timeout)

    async def health() -> bool:
        # The database is the engines' to reach: healthy when the broker is up and an
        # engine answers that its database does.
        return await transport.healthy() and await engine.healthy()

    app = create_app(settings, engine, health, keystone)
    api = server(
        app,
        settings.heat_api,
        settings.client_socket_timeout,
        trusted_proxies=settings.forwarded_allow_ips,
        max_header_line=settings.max_header_line,
    )
    await serve_until_stopped(api, sock, stop, PROG)
    await transport.close()


def main(argv: Sequence[str] | None = None) -> int:
    settings = broker_settings(argv, PROG, "to reach the engines")
    check_noauth(settings.paste_flavor, settings.heat_api, settings.allow_noauth_remote, PROG)
    auth_for(settings, PROG)  # a bad flavor or [keystone_authtoken] fails here, once
    return run_api(settings, settings.heat_api, serve, PROG, settings.paste_flavor or "keystone")


if __name__ == "__main__":
    sys.exit(main())
