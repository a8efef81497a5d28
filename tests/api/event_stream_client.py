"""Reading a stack's event stream as a browser's EventSource would, with httpx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

FINAL = "CREATE_COMPLETE"


def sse_fields(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Server-Sent Events from the lines of a stream (comments and retry lines skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value.removeprefix(" ")


def is_final(event: dict[str, Any], stack_name: str) -> bool:
    """The stack's own last event of a create."""
    return (
        event.get("resource_type") == "OS::Heat::Stack"
        and event["resource_name"] == stack_name
        and event["resource_status"] == FINAL
    )


async def read_stream(client: Any, url: str, stack_name: str) -> list[str]:
    """The ids of the events streamed from ``url`` until the stack's create completes."""
    ids: list[str] = []
    async with client.stream("GET", url) as response:
        assert response.status_code == 200, await response.aread()
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line:
                if not line.startswith(":"):
                    key, _, value = line.partition(":")
                    fields[key] = value.removeprefix(" ")
                continue
            if "data" in fields:
                event = json.loads(fields["data"])
                ids.append(event["id"])
                if is_final(event, stack_name):
                    return ids
            fields = {}
    return ids
