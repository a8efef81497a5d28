"""``ember-agent``: applies one server's software deployments, on any host.

    ember-agent --server-id web1 --heat-url http://heat:8004/v1/<project>
                [--auth-token TOKEN | --user U] [--state-dir DIR] [--interval 30] [--once]

Polls heat-api's ``software_deployments/metadata/<server-id>``, runs each new ``script``
config (inputs as environment variables, outputs from ``$heat_outputs_path.<name>``) and
signals the result (``deploy_stdout``, ``deploy_stderr``, ``deploy_status_code`` and the
outputs) as the deployment's ``signal_transport`` asks. ``--auth-token`` is sent as
``X-Auth-Token``; against a noauth heat-api, ``--user`` names the caller and the project
is the one in ``--heat-url``. ``--once`` polls once and exits (0 when every new config was
reported); otherwise it polls every ``--interval`` seconds until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from ember.agent.configs import MetadataError
from ember.agent.poller import Agent, AgentSettings
from ember.agent.reporting import ReportError

PROG = "ember-agent"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-id", required=True, help="the server the deployments name")
    parser.add_argument("--heat-url", required=True, help="heat-api's URL with the project")
    parser.add_argument("--auth-token", help="sent as X-Auth-Token")
    parser.add_argument("--user", help="the user a noauth heat-api is told of (X-Auth-User)")
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/ember-agent"))
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--script-timeout", type=float, default=None)
    parser.add_argument("--once", action="store_true", help="poll once and exit")
    parser.add_argument("--debug", action="store_true")
    return parser.parse_args(argv)


def settings_of(args: argparse.Namespace) -> AgentSettings:
    headers = {"Accept": "application/json"}
    if args.auth_token:
        headers["X-Auth-Token"] = args.auth_token
    if args.user:
        headers["X-Auth-User"] = args.user
    return AgentSettings(
        server_id=args.server_id,
        heat_url=args.heat_url,
        headers=headers,
        state_dir=args.state_dir,
        interval=max(0.1, args.interval),
        script_timeout=args.script_timeout,
    )


async def _once(agent: Agent, settings: AgentSettings) -> int:
    async with httpx.AsyncClient(headers=settings.headers, timeout=60.0) as client:
        try:
            await agent.poll_once(client)
        except (httpx.HTTPError, ReportError, MetadataError) as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 1
    return 0


async def _forever(agent: Agent) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await agent.run(stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = settings_of(args)
    agent = Agent(settings)
    return asyncio.run(_once(agent, settings) if args.once else _forever(agent))


if __name__ == "__main__":
    sys.exit(main())
