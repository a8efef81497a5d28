"""Heat's JSON fault body, with the status chosen by error class (walking the MRO)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ember.common import errors
from ember.rpc import errors as rpc_errors

TITLES = {
    300: "Multiple Choices",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you "
    "requested. Either you supplied the wrong credentials (e.g., bad password), or your "
    "browser does not understand how to supply the credentials required.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method specified is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The body of your request was too large for this server.",
    500: "The server has either erred or is incapable of performing the requested operation.",
    503: "The server is currently unavailable. Please try again at a later time.",
}


class Forbidden(errors.EmberError):
    msg_fmt = "You are not authorized to complete this action."


class HTTPError(errors.EmberError):
    """An HTTP-level refusal raised by a route (bad body, unknown filter, ...)."""

    def __init__(
        self,
        status: int,
        message: str,
        type_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers
        self.http_type = type_name or {
            400: "HTTPBadRequest",
            404: "HTTPNotFound",
            405: "HTTPMethodNotAllowed",
            413: "HTTPRequestEntityTooLarge",
        }.get(status, "HTTPError")


STATUS_BY_CLASS: tuple[tuple[type[BaseException], int], ...] = (
    (errors.EntityNotFound, 404),
    (errors.StackExists, 409),
    (errors.IdempotencyKeyInUse, 409),
    (errors.ServiceUnavailable, 503),
    (errors.ActionInProgress, 409),
    (Forbidden, 403),
    (errors.Forbidden, 403),
    (rpc_errors.RPCTimeout, 503),
    (errors.InvalidRequest, 400),
)


def status_for(exc: BaseException) -> int:
    if isinstance(exc, HTTPError):
        return exc.status
    for cls in type(exc).__mro__:
        for known, status in STATUS_BY_CLASS:
            if cls is known:
                return status
    return 500


def fault_body(status: int, type_name: str, message: str | None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_name, "traceback": None}
    if message is not None:
        error["message"] = message
    return {
        "code": status,
        "title": TITLES.get(status, "Error"),
        "explanation": EXPLANATIONS.get(status, ""),
        "error": error,
    }


def fault_response(exc: BaseException, headers: dict[str, str] | None = None) -> Response:
    status = status_for(exc)
    if isinstance(exc, HTTPError):
        type_name, message = exc.http_type, exc.message
        headers = {**(exc.headers or {}), **(headers or {})} or None
    elif isinstance(exc, errors.EmberError) and exc.safe:
        type_name, message = exc.type_name, exc.message
    else:
        # Unexpected errors: the type only, as Heat, never the text.
        type_name = exc.type_name if isinstance(exc, errors.EmberError) else type(exc).__name__
        message = None
    return Response(
        orjson.dumps(fault_body(status, type_name, message)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
