"""Errors on the wire. An error crosses as data: the name of its nearest class in
``REGISTRY`` (which the receiver rebuilds), the type name clients are shown, its message
and the keyword arguments it was made with. Anything not derived from a registered class
arrives as ``RemoteError``, whose text is not shown to users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.common import errors


class RemoteError(errors.EmberError):
    """An unexpected error in another process: its type is known, its text is not shown."""

    msg_fmt = "Remote error: %(message)s"
    safe = False

    @property
    def remote_type(self) -> str:
        """The error's type in the process that raised it."""
        return self.shown_type


class RPCTimeout(errors.EmberError):
    msg_fmt = "Timed out waiting for a reply from the engine."


class UnknownOperation(errors.InvalidRequest):
    msg_fmt = "Unknown engine operation %(operation)s"


class IncompatibleVersion(errors.InvalidRequest):
    msg_fmt = "Engine API version %(version)s is not served (this engine serves %(served)s)"


# Every class an error may be rebuilt as, by name. Subclasses cross as the nearest one.
REGISTRY: Mapping[str, type[errors.EmberError]] = {
    cls.__name__: cls
    for cls in (
        errors.EmberError,
        errors.InvalidRequest,
        errors.RequestLimitExceeded,
        errors.InvalidTemplateVersion,
        errors.InvalidTemplateSection,
        errors.InvalidEnvironment,
        errors.UserParameterMissing,
        errors.UnknownUserParameter,
        errors.ImmutableParameterModified,
        errors.InvalidTemplateReference,
        errors.InvalidSchemaError,
        errors.InvalidTemplateAttribute,
        errors.CircularDependencyException,
        errors.InvalidRestrictedAction,
        errors.ResourceActionNotSupported,
        errors.NotSupported,
        errors.InsufficientCapabilities,
        errors.StackValidationFailed,
        errors.StackExists,
        errors.IdempotencyKeyInUse,
        errors.ServiceUnavailable,
        errors.DatabaseUnavailable,
        errors.ActionInProgress,
        errors.EntityNotFound,
        errors.Forbidden,
        errors.DecryptionFailed,
        RemoteError,
        RPCTimeout,
        UnknownOperation,
        IncompatibleVersion,
    )
}


def _registered(exc: errors.EmberError) -> type[errors.EmberError]:
    for cls in type(exc).__mro__:
        found = REGISTRY.get(cls.__name__)
        if found is cls:
            return found
    return errors.EmberError


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def serialize(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, errors.EmberError):
        return {
            "type": _registered(exc).__name__,
            "shown_type": exc.type_name,
            "message": exc.message,
            "kwargs": {k: v for k, v in exc.kwargs.items() if _plain(v)},
            "safe": exc.safe,
        }
    name = type(exc).__name__
    return {"type": name, "shown_type": name, "message": str(exc), "safe": False}


def deserialize(data: Mapping[str, Any]) -> errors.EmberError:
    message = str(data.get("message", ""))
    shown = str(data.get("shown_type") or data.get("type") or "EmberError")
    cls = REGISTRY.get(str(data.get("type")))
    if cls is None or not data.get("safe"):
        remote = RemoteError(message=message)
        remote.shown_type = shown
        return remote
    exc = cls.__new__(cls)
    errors.EmberError.__init__(exc, message, **dict(data.get("kwargs") or {}))
    exc.shown_type = shown
    return exc
