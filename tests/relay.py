"""A TCP relay in front of a server (the message broker, a database server) that a test
controls, to cut the network between Ember's processes and that server without touching it.

Modes:

- ``pass``: bytes flow both ways;
- ``reset``: every open connection is reset (RST on both sides) and new ones are refused
  (nothing listens on the port), as when the server's host restarts or a firewall rejects;
- ``blackhole``: connections stay open and new ones are accepted, but nothing is forwarded
  either way, as in a partition that drops packets silently. What was sent meanwhile is
  held (as TCP would retransmit it) and flows once the cut ends.

The relay runs an asyncio loop on a thread of its own, so synchronous tests (which start
services as processes) and asynchronous ones use it alike. ``cut()`` is a context manager
that always restores ``pass``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["pass", "reset", "blackhole"]
CHUNK = 65536
CONNECT_TIMEOUT = 5.0


@dataclass(eq=False)
class _Link:
    """One client connection and its connection to the server."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def reset(self) -> None:
        for writer in (self.client, self.server):
            if writer is not None:
                _abort(writer)
        for task in self.tasks:
            task.cancel()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN: the peer sees "connection reset"."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class Relay:
    """Listens on ``127.0.0.1:port`` (a free port unless given) and forwards to
    ``host:upstream_port``. Contract: after ``restore()`` (or the end of ``cut()``) new
    connections are forwarded again on the same port."""

    def __init__(self, host: str, upstream_port: int, port: int = 0) -> None:
        self.host = host
        self.upstream_port = upstream_port
        self.port = port
        self.mode: Mode = "pass"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing: asyncio.Event | None = None

    # Control (from any thread) -------------------------------------------------------------

    def start(self) -> Relay:
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        """Reset every connection and stop listening; the relay cannot be used again."""
        self._call(self._set("reset"))
        self._call(self._cancel_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def set_mode(self, mode: Mode) -> None:
        self._call(self._set(mode))

    def restore(self) -> None:
        self.set_mode("pass")

    @contextlib.contextmanager
    def cut(self, mode: Mode) -> Iterator[Relay]:
        """The relay in ``mode`` for the block, ``pass`` again after it whatever happens."""
        self.set_mode(mode)
        try:
            yield self
        finally:
            self.restore()

    @property
    def connections(self) -> int:
        """Client connections open through the relay now."""
        return len(self._links)

    def _call(self, work: object) -> None:
        assert asyncio.iscoroutine(work)
        asyncio.run_coroutine_threadsafe(work, self._loop).result(30)

    # The loop's side ---------------------------------------------------------------------

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()

    async def _cancel_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set(self, mode: Mode) -> None:
        assert self._flowing is not None
        self.mode = mode
        if mode == "reset":
            if self._server is not None:
                self._server.close()
                self._server = None
            for link in list(self._links):
                link.reset()
            self._links.clear()
        elif self._server is None:
            await self._listen()
        if mode == "blackhole":
            self._flowing.clear()
        else:
            self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        if self.mode == "reset":
            _abort(writer)
            return
        link = _Link(writer)
        self._links.add(link)
        try:
            await self._flowing.wait()  # a black hole answers no SYN: connect later
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.upstream_port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError):
                _abort(writer)
                return
            link.server = up_writer
            pipes = {
                asyncio.ensure_future(self._pipe(reader, up_writer)),
                asyncio.ensure_future(self._pipe(up_reader, writer)),
            }
            link.tasks = pipes
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._links.discard(link)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        with contextlib.suppress(Exception):
            while True:
                await self._flowing.wait()
                data = await source.read(CHUNK)
                if not data:
                    break
                await self._flowing.wait()  # read during a cut: held until it ends
                sink.write(data)
                await sink.drain()
        with contextlib.suppress(Exception):
            sink.close()
