"""Heat's JSON fault body (``{"code", "title", "explanation", "error": {"type",
"message", "traceback"}}``) as typed exceptions."""

from __future__ import annotations

import json
from typing import Any


class HeatError(Exception):
    """An error answer of the API: its HTTP status, Heat's error type (the engine's error
    class name, e.g. ``StackValidationFailed``, or the HTTP one, ``HTTPNotFound``) and its
    message."""

    status: int = 0

    def __init__(self, status: int, error_type: str, message: str, title: str = "") -> None:
        super().__init__(f"{error_type}: {message}" if error_type else message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.title = title


class BadRequest(HeatError):
    """400: a bad template, parameter or request."""


class Forbidden(HeatError):
    """403: the policy refused."""


class NotFound(HeatError):
    """404: no such stack, resource, output or event."""


class Conflict(HeatError):
    """409: the stack exists already, or an action is in progress."""


class ConnectionFailed(HeatError):
    """The service could not be reached at all."""


BY_STATUS: dict[int, type[HeatError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def from_answer(status: int, body: bytes | str) -> HeatError:
    """The exception for an error answer: the fault body's type and message when the body
    is Heat's fault, else the body's text."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    error_type, message, title = "", text.strip(), ""
    try:
        doc: Any = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        title = str(doc.get("title") or "")
        error = doc.get("error")
        if isinstance(error, dict):
            error_type = str(error.get("type") or "")
            message = str(error.get("message") or doc.get("explanation") or "")
        elif doc.get("explanation"):
            message = str(doc["explanation"])
    cls = BY_STATUS.get(status, HeatError)
    return cls(status, error_type or title, message or title or f"HTTP {status}", title)
