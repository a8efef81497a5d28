"""``heat-api-cfn``: the CloudFormation Query API as its own process(es).

    heat-api-cfn --config-file /etc/heat/heat.conf

Listens on ``[heat_api_cfn] bind_host``/``bind_port`` (8000) with ``[heat_api_cfn] workers``
processes (https with ``cert_file``/``key_file``), reaches the engines over the message
broker, and checks each request's signature against the key pairs the engines store (or
Keystone's ``/v3/ec2tokens`` with ``[paste_deploy] flavor = keystone``). It keeps no
state, so any number of them can run behind a load balancer.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ember.api.cfn.app import CfnApp
from ember.api.cfn.authenticators import authenticator_for
from ember.api.cfn.render import unparsed
from ember.api.rest.server import server
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

PROG = "heat-api-cfn"
LOG = logging.getLogger(PROG)


async def serve(settings: Settings, sock: socket.socket) -> None:
    stop = stop_event()
    transport = transport_for(settings)
    if not await connect(transport, settings.kombu_reconnect_delay, stop, PROG):
        return
    engine = EngineClient(transport, settings.rpc_response_timeout)

    async def health() -> bool:
        return await transport.healthy() and await engine.healthy()

    app, api = cfn_server(settings, engine, health)
    await serve_until_stopped(api, sock, stop, PROG)
    await app.close()
    await transport.close()


def cfn_server(
    settings: Settings, engine: EngineClient, health: Callable[[], Awaitable[bool]]
) -> tuple[CfnApp, Any]:
    """The CloudFormation API's application and the server that serves it (its
    authenticator closed by ``CfnApp.close`` once the server has stopped)."""
    app = CfnApp(settings, engine, health, authenticator_for(settings, engine))
    api = server(
        app,
        settings.heat_api_cfn,
        settings.client_socket_timeout,
        trusted_proxies=settings.forwarded_allow_ips,
        max_header_line=settings.max_header_line,
        fault_answer=unparsed,
    )
    return app, api


def main(argv: Sequence[str] | None = None) -> int:
    settings = broker_settings(argv, PROG, "to reach the engines")
    keystone = (settings.paste_flavor or "keystone") == "keystone"
    auth = "keystone ec2tokens" if keystone else "stored key pairs"
    return run_api(settings, settings.heat_api_cfn, serve, PROG, auth)


if __name__ == "__main__":
    sys.exit(main())
