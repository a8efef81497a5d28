"""Errors cross the RPC boundary by name: known Ember errors are rebuilt as themselves,
anything else arrives as ``RemoteError``."""

from __future__ import annotations

from typing import Any

from ember.common import errors


class RemoteError(errors.EmberError):
    msg_fmt = "Remote error: %(message)s"


class RPCTimeout(errors.EmberError):
    msg_fmt = "Timed out waiting for a reply from the engine."


def _registry() -> dict[str, type[errors.EmberError]]:
    found: dict[str, type[errors.EmberError]] = {}
    stack: list[type[errors.EmberError]] = [errors.EmberError]
    while stack:
        cls = stack.pop()
        found[cls.__name__] = cls
        stack.extend(cls.__subclasses__())
    return found


def serialize(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, errors.EmberError):
        return {"type": type(exc).__name__, "message": exc.message, "safe": True}
    return {"type": type(exc).__name__, "message": str(exc), "safe": False}


def deserialize(data: dict[str, Any]) -> errors.EmberError:
    cls = _registry().get(str(data.get("type"))) if data.get("safe") else None
    message = str(data.get("message", ""))
    if cls is None:
        exc: errors.EmberError = RemoteError(message=message)
        exc.remote_type = str(data.get("type"))  # type: ignore[attr-defined]
        exc.safe = False  # type: ignore[attr-defined]
        return exc
    exc = cls.__new__(cls)
    errors.EmberError.__init__(exc, message)
    return exc
