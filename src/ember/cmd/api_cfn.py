"""``heat-api-cfn``: the CloudFormation Query API as its own process(es).

    heat-api-cfn --config-file /etc/heat/heat.conf

Listens on ``[heat_api_cfn] bind_host``/``bind_port`` (8000) with ``[heat_api_cfn] workers``
processes (https with ``cert_file``/``key_file``), reaches the engines over the message
broker, and checks each request's signature against the key pairs the engines store (or
Keystone's ``/v3/ec2tokens`` with ``[paste_deploy] flavor = keystone``). It keeps no
state, so any number of them can run behind a load balancer.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Sequence

from ember.api.cfn.app import CfnApp
from ember.api.cfn.authenticators import authenticator_for
from ember.api.cfn.render import unparsed
from ember.api.rest.server import server
from ember.cmd.processes import broker_settings, connect, listen, run_loop, run_workers, stop_event
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

    app = CfnApp(settings, engine, health, authenticator_for(settings, engine))
    api = server(
        app,
        settings.heat_api_cfn,
        settings.client_socket_timeout,
        trusted_proxies=settings.forwarded_allow_ips,
        max_header_line=settings.max_header_line,
        fault_answer=unparsed,
    )
    serving = asyncio.create_task(api.serve(sockets=[sock]))
    print(f"{PROG} ready", flush=True)
    await stop.wait()
    api.should_exit = True
    await serving
    await app.close()
    await transport.close()


def main(argv: Sequence[str] | None = None) -> int:
    settings = broker_settings(argv, PROG, "to reach the engines")
    sock = listen(settings.heat_api_cfn)
    LOG.info(
        "%s listening on %s:%d (%s), %d worker(s)",
        PROG,
        settings.heat_api_cfn.bind_host,
        settings.heat_api_cfn.bind_port,
        "keystone ec2tokens"
        if (settings.paste_flavor or "keystone") == "keystone"
        else "stored key pairs",
        settings.heat_api_cfn.workers,
    )
    return run_workers(settings.heat_api_cfn.workers, lambda: _worker(settings, sock), PROG)


def _worker(settings: Settings, sock: socket.socket) -> int:
    run_loop(serve(settings, sock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
