"""A small typed client of Ember's Heat-compatible REST API (``/v1/<project>/stacks``),
the one the ``ember`` CLI stands on.

    session = Session.noauth("http://127.0.0.1:8004/v1/demo")
    client = Client(session)
    client.create_stack("hello", template_text)
"""

from ember.client.errors import (
    BadRequest,
    Conflict,
    ConnectionFailed,
    Forbidden,
    HeatError,
    NotFound,
)
from ember.client.session import Session, from_environment
from ember.client.stacks import Client, Event, Resource, Stack

__all__ = [
    "BadRequest",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Event",
    "Forbidden",
    "HeatError",
    "NotFound",
    "Resource",
    "Session",
    "Stack",
    "from_environment",
]
