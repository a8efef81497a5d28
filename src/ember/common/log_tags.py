"""What a log line is about: the request, project, user, stack and traversal being served.

Kept in a context variable, so that each asyncio task (one per request, one per node being
run) tags its own lines and nothing leaks between them; the services' logging set-up
turns the tags into the fields of each record. Only the standard library here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

# The tags a record may carry, in the order logs show them.
FIELDS = ("request_id", "project_id", "user_id", "stack_id", "traversal_id")

_TAGS: ContextVar[Mapping[str, str]] = ContextVar("ember_log_tags", default=MappingProxyType({}))


def _merged(tags: Mapping[str, str | None]) -> dict[str, str]:
    unknown = set(tags) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log tags: {', '.join(sorted(unknown))}")
    return {**_TAGS.get(), **{key: value for key, value in tags.items() if value}}


def tag(**tags: str | None) -> None:
    """Add ``tags`` (those not None or empty) to the current task's from now on."""
    _TAGS.set(_merged(tags))


@contextmanager
def tagged(**tags: str | None) -> Iterator[None]:
    """``tags`` added for the block; the task's tags as they were afterwards (including
    any ``tag`` inside the block)."""
    token = _TAGS.set(_merged(tags))
    try:
        yield
    finally:
        _TAGS.reset(token)


def current() -> Mapping[str, str]:
    """The tags of the running task."""
    return _TAGS.get()
