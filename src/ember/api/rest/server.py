"""Serving heat-api with uvicorn inside an existing event loop.

A request uvicorn cannot parse (a garbled request line, a bad ``Content-Length``, a header
line longer than ``max_header_line``) never reaches the application; it is still answered
with Heat's JSON fault body, by uvicorn's own HTTP/1.1 protocol with that one answer
replaced.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ember.api.rest.faults import fault_body
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
# Seconds a TLS connection closed at shutdown has to finish closing before it is cut.
TLS_CLOSE_GRACE = 1.0
# Header fields a request may carry, as many as Apache httpd takes by default.
MAX_HEADER_FIELDS = 100


# A refusal's body and content type, for a request the server could not parse.
FaultAnswer = Callable[[str], tuple[bytes, bytes]]


def heat_fault(message: str) -> tuple[bytes, bytes]:
    """Heat's JSON fault body (heat-api)."""
    return orjson.dumps(fault_body(400, "HTTPBadRequest", message)), b"application/json"


class _HeaderRefused(Exception):
    """Raised from the parser's header callback; the parser reports it as a parse error."""


class FaultingHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing over-long or too many header lines and
    answering every request it cannot parse with the API's own fault body (Heat's JSON for
    heat-api, an AWS ErrorResponse for heat-api-cfn), not plain text."""

    max_header_line = 16384
    fault_answer: FaultAnswer = staticmethod(heat_fault)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Why the header callback refused the request, for the answer.
        self._refusal: str | None = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refusal = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADER_FIELDS:
            self._refusal = f"Too many header fields (at most {MAX_HEADER_FIELDS})."
            raise _HeaderRefused(self._refusal)
        line = len(name) + len(value) + 2
        if line > self.max_header_line:
            shown = name.decode("latin-1")[:64]
            self._refusal = (
                f"Header line too long: {shown} ({line} bytes, at most {self.max_header_line})."
            )
            raise _HeaderRefused(self._refusal)
        super().on_header(name, value)

    def shutdown(self) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        super().shutdown()
        if idle and self.transport.get_extra_info("ssl_object") is not None:
            # Closing TLS waits for the client's close_notify, which an idle kept-alive
            # client never sends: the server would stop only after the TLS shutdown
            # timeout (30 s). The response is written; the connection is cut after a grace.
            asyncio.get_running_loop().call_later(TLS_CLOSE_GRACE, self._abort_if_open)

    def _abort_if_open(self) -> None:
        if self in self.server_state.connections:
            self.transport.abort()

    def send_400_response(self, msg: str) -> None:
        message = self._refusal or msg
        body, content_type = self.fault_answer(message)
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            lines.append(name + b": " + value + b"\r\n")
        lines += [
            b"content-type: " + content_type + b"\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"x-openstack-request-id: req-" + str(uuid.uuid4()).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(lines))
        self.transport.close()


def _protocol(max_header_line: int, fault_answer: FaultAnswer) -> type[FaultingHttpProtocol]:
    if max_header_line == FaultingHttpProtocol.max_header_line and fault_answer is heat_fault:
        return FaultingHttpProtocol
    return type(
        "FaultingHttpProtocol",
        (FaultingHttpProtocol,),
        {"max_header_line": max_header_line, "fault_answer": staticmethod(fault_answer)},
    )


def server(
    app: ASGIApp,
    listener: Listener,
    idle_timeout: int = 900,
    *,
    trusted_proxies: Sequence[str] = ("127.0.0.1", "::1"),
    max_header_line: int = FaultingHttpProtocol.max_header_line,
    fault_answer: FaultAnswer = heat_fault,
) -> uvicorn.Server:
    """``idle_timeout``: how long a kept-alive connection may idle (Heat's
    ``client_socket_timeout``). Far longer than clients poll, so a poll never races the
    server closing the connection it reuses. ``trusted_proxies``: the addresses whose
    ``X-Forwarded-For``/``-Proto`` are believed."""
    config = uvicorn.Config(
        app,
        host=listener.bind_host,
        port=listener.bind_port,
        http=_protocol(max_header_line, fault_answer),
        timeout_keep_alive=idle_timeout or FOREVER_S,
        log_level="warning",
        log_config=None,  # uvicorn's records go to the process's own (oslo.log's) handlers
        proxy_headers=True,
        forwarded_allow_ips=list(trusted_proxies),
        access_log=False,
        lifespan="off",
        ssl_certfile=listener.cert_file,
        ssl_keyfile=listener.key_file,
    )
    srv = uvicorn.Server(config)
    srv.install_signal_handlers = lambda: None  # type: ignore[attr-defined]  # the caller owns signals
    return srv
