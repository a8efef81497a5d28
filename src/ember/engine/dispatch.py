"""Serving the declared engine API: a request names an operation of ``rpc.api``; it is
checked against the declaration (version, known operation, arguments) and handed to the
operation class of its domain. Nothing undeclared can be called."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ember.common import errors, log_tags
from ember.rpc import api
from ember.rpc import errors as rpc_errors

Handler = Callable[..., Awaitable[Any]]
# All a resource's signal credential may ask of the engine (of its own resource only,
# which the operations check).
SIGNAL_SCOPED = frozenset({"signal_resource", "resource_metadata", "show_resource"})


def compatible(version: str) -> bool:
    """Whether a caller of API ``version`` may be served: same major, not newer minor."""
    try:
        major, minor = (int(p) for p in version.split(".", 1))
        served_major, served_minor = (int(p) for p in api.API_VERSION.split(".", 1))
    except ValueError:
        return False
    return major == served_major and minor <= served_minor


def bind_handlers(domains: Mapping[str, object]) -> dict[str, Handler]:
    """Each declared operation bound to the method of the same name of its domain's
    object; refuses a missing method or one whose parameters differ from the
    declaration."""
    handlers: dict[str, Handler] = {}
    for name, op in api.OPERATIONS.items():
        owner = domains.get(op.domain)
        if owner is None:
            raise TypeError(f"no operations object for domain {op.domain!r} ({name})")
        handler = getattr(owner, name, None)
        if handler is None or not inspect.iscoroutinefunction(handler):
            raise TypeError(f"{type(owner).__name__} does not serve {name}")
        mismatch = signature_mismatch(op, handler)
        if mismatch:
            raise TypeError(f"{type(owner).__name__}.{name}: {mismatch}")
        handlers[name] = handler
    return handlers


def signature_mismatch(op: api.Operation, handler: Handler) -> str | None:
    """How a handler's parameters differ from the declaration (names, order, defaults)."""
    declared = [(p.name, p.kind, p.default) for p in op.signature.parameters.values()]
    actual = [(p.name, p.kind, p.default) for p in inspect.signature(handler).parameters.values()]
    if declared != actual:
        return f"parameters {actual} differ from the declared {declared}"
    return None


class Dispatcher:
    """The handler of the engine topic: ``(method, request) -> result``."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self.handlers = dict(handlers)

    async def __call__(self, method: str, request: dict[str, Any]) -> Any:
        operation = api.OPERATIONS.get(method)
        if operation is None or method not in self.handlers:
            raise rpc_errors.UnknownOperation(operation=method)
        if not isinstance(request, dict) or not isinstance(request.get("arguments"), dict):
            raise errors.InvalidRequest(f"Bad request for {method}: no arguments")
        version = str(request.get("version", ""))
        if not compatible(version):
            raise rpc_errors.IncompatibleVersion(version=version, served=api.API_VERSION)
        ctx = request["arguments"].get("ctx")
        scoped = isinstance(ctx, dict) and ctx.get("signal_resource_id") is not None
        if scoped and method not in SIGNAL_SCOPED:
            raise errors.Forbidden(action=method)
        with log_tags.tagged(**_tags(request["arguments"])):
            return await self.handlers[method](**operation.bind(request["arguments"]))


def _tags(arguments: Mapping[str, Any]) -> dict[str, str | None]:
    """What a call's log lines are about: who asked (its context) and the stack it names."""
    ctx = arguments.get("ctx")
    ctx = ctx if isinstance(ctx, dict) else {}
    identity = arguments.get("stack_identity")
    stack_id = identity.get("stack_id") if isinstance(identity, dict) else None
    tags = {
        "request_id": ctx.get("request_id"),
        "project_id": ctx.get("project_id"),
        "user_id": ctx.get("user_id"),
        "stack_id": stack_id,
    }
    return {key: value if isinstance(value, str) else None for key, value in tags.items()}
