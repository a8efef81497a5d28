"""``GET .../stacks/{name}/{id}/events/stream``: a stack's events (its nested stacks' too)
pushed as Server-Sent Events as the engines commit them. An extension: Heat's clients never
ask for it.

The engines broadcast the events of each committed transaction (``EVENTS_TOPIC``); each API
process subscribes once and hands every event to the followers of its stack and root stack,
so a follower costs no database query after its first: on connecting, the events it has not
seen are read once (all of them, or those after its ``Last-Event-ID``), and whatever was
pushed meanwhile is passed on without repeating any. Pushed events come in the order the
engines' broadcasts arrive: each resource's in order, but two engines committing at once may
land in either order, unlike the time order of a listing. A follower too slow to keep up is
ended; it reconnects with its last event id and misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import StreamingResponse

from ember.api.rest import util
from ember.api.rest.resources import STACK, event_links
from ember.rpc.api import EVENTS_TOPIC
from ember.rpc.transport import Transport

router = APIRouter()
KEEPALIVE_SECONDS = 15.0
BACKLOG = 10_000  # pushed events a follower may fall behind by before it is ended
Event = dict[str, Any]


class EventHub:
    """One subscription per API process to the engines' broadcasts, fanned out to the
    followers of each stack."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._followers: dict[str, set[asyncio.Queue[Event | None]]] = defaultdict(set)
        self._subscribing = asyncio.Lock()
        self._subscribed = False

    async def follow(self, stack_id: str) -> asyncio.Queue[Event | None]:
        """A queue that gets every event of the stack and of the stacks under it (for a
        root stack) from now on; ``None`` in it means the follower fell behind."""
        async with self._subscribing:
            if not self._subscribed:
                await self.transport.subscribe(EVENTS_TOPIC, self._on_events)
                self._subscribed = True
        queue: asyncio.Queue[Event | None] = asyncio.Queue(BACKLOG)
        self._followers[stack_id].add(queue)
        return queue

    def leave(self, stack_id: str, queue: asyncio.Queue[Event | None]) -> None:
        queues = self._followers.get(stack_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._followers[stack_id]

    async def _on_events(self, message: dict[str, Any]) -> None:
        for event in message.get("events") or ():
            targets = {event.get("stack_id"), event.get("root_stack_id")}
            for stack_id in targets:
                for queue in list(self._followers.get(str(stack_id), ())):
                    try:
                        queue.put_nowait(event)
                    except asyncio.QueueFull:
                        self.leave(str(stack_id), queue)
                        with contextlib.suppress(asyncio.QueueEmpty):
                            queue.get_nowait()  # room for the end mark
                        queue.put_nowait(None)


def _sse(request: Request, event: Event) -> bytes:
    shown = event_links(request, dict(event))
    return b"id: %s\nevent: event\ndata: %s\n\n" % (
        str(shown["id"]).encode(),
        orjson.dumps(shown),
    )


@router.get(STACK + "/events/stream", include_in_schema=False)
async def stream_events(
    tenant_id: str, stack_name: str, stack_id: str, request: Request
) -> StreamingResponse:
    util.authorize(request, "events:index")
    hub: EventHub = request.app.state.event_hub
    last = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    depth = int(request.app.state.settings.max_nested_stack_depth)
    queue = await hub.follow(stack_id)
    try:
        # After following: whatever is committed from here on is in the queue too.
        seen_before = await util.engine(request).list_events(
            util.rpc_ctx(request),
            stack_name,
            stack_id=stack_id,
            marker=last or None,
            sort_dir="asc",
            nested_depth=depth,
            with_detail=True,
        )
    except BaseException:
        hub.leave(stack_id, queue)
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            sent = set()
            yield b"retry: 1000\n\n"
            for event in seen_before:
                sent.add(event["id"])
                yield _sse(request, event)
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                if event is None:
                    return  # fell behind: the client reconnects with its last event id
                if event["id"] in sent:
                    continue
                sent.add(event["id"])
                yield _sse(request, event)
        finally:
            hub.leave(stack_id, queue)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
