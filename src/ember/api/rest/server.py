"""Serving heat-api with uvicorn inside an existing event loop."""

from __future__ import annotations

import ipaddress
import logging

import uvicorn
from starlette.types import ASGIApp

from ember.common.settings import Listener

LOG = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_noauth(flavor: str | None, listener: Listener, allow_remote: bool, name: str) -> None:
    """``noauth`` trusts every caller: only on loopback unless the operator insists."""
    if flavor == "noauth" and not is_loopback(listener.bind_host) and not allow_remote:
        raise SystemExit(
            f"{name}: refusing to serve the noauth flavor on {listener.bind_host}; bind to "
            "127.0.0.1, use the keystone flavor, or set [DEFAULT] allow_noauth_remote = true"
        )


# uvicorn has no "forever": a day stands for Heat's 0.
FOREVER_S = 86_400


def server(app: ASGIApp, listener: Listener, idle_timeout: int = 900) -> uvicorn.Server:
    """``idle_timeout``: how long a kept-alive connection may idle (Heat's
    ``client_socket_timeout``). Far longer than clients poll, so a poll never races the
    server closing the connection it reuses."""
    config = uvicorn.Config(
        app,
        host=listener.bind_host,
        port=listener.bind_port,
        timeout_keep_alive=idle_timeout or FOREVER_S,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="*",
        access_log=False,
        lifespan="off",
    )
    srv = uvicorn.Server(config)
    srv.install_signal_handlers = lambda: None  # type: ignore[attr-defined]  # the caller owns signals
    return srv
