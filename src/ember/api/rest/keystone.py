"""The ``keystone`` flavor of heat-api: keystonemiddleware's ``auth_token`` checks each token.

``auth_token`` is WSGI middleware, so it is driven here as a WSGI application for every
request: the ASGI request's headers become a WSGI environ, the middleware runs in a worker
thread (it validates against Keystone with blocking HTTP calls, or answers from its token
cache), and the identity headers it leaves in the environ (``X-Identity-Status``,
``X-Project-Id``, ``X-User-Id``, ``X-User-Name``, ``X-Roles``, ...) are handed back for
``ember.api.rest.context.keystone_context``. Headers of those names sent by the caller
are removed by the middleware first, so they cannot be forged.

The middleware reads its own options from ``heat.conf``'s ``[keystone_authtoken]``
section (``www_authenticate_uri``, ``auth_url``, ``auth_type``, ``username``, ...), as it
does for Heat; one instance serves the whole process, so its token cache is kept.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from oslo_config import cfg
from starlette.requests import Request

from ember.api.rest.faults import HTTPError
from ember.common.config_files import load_conf
from ember.common.settings import Settings

LOG = logging.getLogger(__name__)

FLAVORS = ("keystone", "noauth")
_SEEN = "ember.keystone.validated"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _passed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Stands where the application would: reached only by requests the middleware let
    through, with the environ it completed."""
    environ[_SEEN]["environ"] = environ
    start_response("204 No Content", [])
    return [b""]


class KeystoneAuth:
    """The ``keystone`` hook of ``HeatMiddleware``: the caller's validated identity headers,
    or None when the token is missing or not valid."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        from keystonemiddleware import auth_token  # noqa: PLC0415  (only this flavor needs it)

        self.protocol: WSGIApp = auth_token.AuthProtocol(_passed, {"oslo_config_config": conf})
        # The WWW-Authenticate value of keystonemiddleware's last 401, for our own 401s.
        self.challenge: str | None = None

    @classmethod
    def from_config_args(cls, config_args: Sequence[str]) -> KeystoneAuth:
        return cls(load_conf(config_args, "heat-api"))

    async def __call__(self, request: Request) -> Request | None:
        environ = _environ(request)
        try:
            status, passed = await asyncio.to_thread(self._run, environ)
        except Exception:
            LOG.exception("keystonemiddleware failed to check a token")
            raise HTTPError(
                500,
                "The server has either erred or is incapable of performing the requested "
                "operation.",
                "HTTPInternalServerError",
            ) from None
        if passed is not None:
            return Request({**request.scope, "headers": _headers(passed)})
        if status == 401:
            return None
        if status == 503:
            raise HTTPError(
                503,
                "The Keystone service is temporarily unavailable.",
                "HTTPServiceUnavailable",
            )
        raise HTTPError(status, "Authentication failed")

    def _run(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        seen: dict[str, Any] = {}
        environ[_SEEN] = seen
        statuses: list[int] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            statuses.append(int(status.split(" ", 1)[0]))
            for name, value in headers:
                if name.lower() == "www-authenticate":
                    self.challenge = value

        body = self.protocol(environ, start_response)
        try:
            for _chunk in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return (statuses[-1] if statuses else 500), seen.get("environ")


def _environ(request: Request) -> dict[str, Any]:
    scope = request.scope
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.get("method", "GET"),
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.get("path", "/"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _headers(environ: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        header = name.replace("_", "-").lower().encode("latin-1")
        headers.append((header, str(value).encode("latin-1")))
    return headers


def auth_for(settings: Settings, name: str) -> KeystoneAuth | None:
    """The authentication hook for ``[paste_deploy] flavor``: None for ``noauth``; a
    keystonemiddleware ``auth_token`` for ``keystone`` (or no flavor), as in Heat."""
    flavor = settings.paste_flavor or "keystone"
    if flavor == "noauth":
        return None
    if flavor != "keystone":
        raise SystemExit(
            f"{name}: [paste_deploy] flavor {flavor!r} is not supported; "
            f"use one of {', '.join(FLAVORS)}"
        )
    try:
        return KeystoneAuth.from_config_args(settings.config_args)
    except cfg.Error as exc:
        raise SystemExit(f"{name}: {exc}") from exc
