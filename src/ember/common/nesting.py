"""How deeply a document may nest: one limit for templates and environments however they
arrive (YAML or JSON text, or a JSON object inside a request body), below what the JSON
serialiser of the message broker can carry."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100


def nested_deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` (a scalar counts one level, each dict or list one more) nests more
    than ``limit`` levels; walked without recursion, so any depth is safe to ask about."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False
