"""The RabbitMQ transport (aio-pika), for APIs and engines in separate processes.

- Work (``publish``/``consume``): one durable queue per topic shared by every engine;
  RabbitMQ hands messages out round-robin, at most ``prefetch`` unacknowledged per consumer.
  Messages are persistent and acknowledged by the worker after its outcome is committed.
- Calls (``call``/``serve``): a request queue per topic, replies to the caller's own
  exclusive queue matched by correlation id. A request is acknowledged when an engine takes
  it (at most once, as oslo.messaging does) and expires with the caller's timeout, so no
  engine runs a request its caller has given up on.
- Broadcasts (``broadcast``/``subscribe``): a fanout exchange; each subscriber has its own
  exclusive queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aio_pika
import orjson
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, AMQPError
from aiormq.exceptions import ChannelInvalidStateError

from ember.common import errors
from ember.rpc import errors as rpc_errors
from ember.rpc.transport import Delivery, Handler

LOG = logging.getLogger(__name__)
# Calls one engine process answers at once; more wait in its own buffer.
SERVE_CONCURRENCY = 64
DEFAULT_PREFETCH = 100
CONNECT_TIMEOUT = 5.0
# Longest pause between attempts to publish work while the broker is unreachable.
MAX_REPUBLISH_DELAY = 5.0


def broker_urls(transport_url: str) -> list[str]:
    """AMQP URLs for each host of an oslo.messaging ``rabbit://`` transport URL
    (``rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost``)."""
    parts = urlsplit(transport_url)
    if parts.scheme not in ("rabbit", "amqp", "kombu"):
        raise ValueError(f"unsupported transport_url scheme {parts.scheme!r}")
    vhost = unquote(parts.path[1:]) if parts.path else ""
    query = f"?{parts.query}" if parts.query else ""
    urls = []
    for netloc in parts.netloc.split(","):
        creds, _, hostport = netloc.rpartition("@")
        user, _, password = creds.partition(":") if creds else ("guest", "", "guest")
        host, _, port = hostport.partition(":")
        urls.append(
            f"amqp://{quote(unquote(user), safe='')}:{quote(unquote(password), safe='')}"
            f"@{host or 'localhost'}:{port or 5672}/{quote(vhost, safe='')}{query}"
        )
    return urls


def _dump(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class RabbitTransport:
    def __init__(
        self,
        transport_url: str,
        *,
        reconnect_delay: float = 1.0,
        failover_strategy: str = "round-robin",
    ) -> None:
        self._urls = broker_urls(transport_url)
        if failover_strategy == "shuffle":
            random.shuffle(self._urls)
        self._reconnect_delay = reconnect_delay
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._work_channel: AbstractChannel | None = None
        self._reply_queue: AbstractQueue | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._work_queues: set[str] = set()
        self._call_queues: set[str] = set()
        self._exchanges: dict[str, AbstractExchange] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # Connection --------------------------------------------------------------------------

    async def start(self) -> None:
        last: Exception | None = None
        for url in self._urls:
            try:
                self._connection = await aio_pika.connect_robust(
                    url,
                    reconnect_interval=self._reconnect_delay,
                    fail_fast="true",
                    timeout=CONNECT_TIMEOUT,
                )
                break
            except (OSError, aio_pika.exceptions.AMQPError) as exc:
                LOG.warning("message broker %s unreachable: %s", _safe(url), exc)
                last = exc
        else:
            raise ConnectionError(f"no message broker reachable: {last}")
        # Calls, replies and broadcasts are transient: no publisher confirms (a broker
        # round trip per message). Work messages are confirmed before the worker that
        # produced them acknowledges its own message.
        self._channel = await self._connection.channel(publisher_confirms=False)
        self._work_channel = await self._connection.channel(publisher_confirms=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(rpc_errors.RPCTimeout())
        self._pending.clear()
        self._channel = None
        self._exchanges.clear()
        self._work_channel = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    async def healthy(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._channel is not None
            and not self._channel.is_closed
            and self._work_channel is not None
            and not self._work_channel.is_closed
        )

    def _chan(self) -> AbstractChannel:
        if self._channel is None:
            raise rpc_errors.RPCTimeout()
        return self._channel

    async def _queue(self, channel: AbstractChannel, name: str, durable: bool) -> AbstractQueue:
        return await channel.declare_queue(name, durable=durable)

    # Work queue ---------------------------------------------------------------------------

    async def publish(self, topic: str, messages: list[dict[str, Any]]) -> None:
        """Publish, confirmed by the broker. While the broker cannot be reached the
        messages are sent again, until they are confirmed or the transport is closed:
        they name work already committed to the database, which nothing else would
        publish. A message sent twice (confirmed, but the confirmation lost) is harmless:
        a node is claimed once."""
        delay = self._reconnect_delay
        failures = 0
        while True:
            channel = self._work_channel
            if channel is None:
                raise rpc_errors.RPCTimeout()
            try:
                await self._publish_once(channel, topic, messages)
            except CONNECTION_EXCEPTIONS as exc:
                failures += 1
                log = LOG.warning if failures == 1 else LOG.debug
                log(
                    "publishing %d message(s) to %s failed (%s); sending them again once "
                    "the broker answers",
                    len(messages),
                    topic,
                    exc or type(exc).__name__,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_REPUBLISH_DELAY)
                continue
            if failures:
                LOG.info(
                    "published %d message(s) to %s after %d failed attempt(s)",
                    len(messages),
                    topic,
                    failures,
                )
            return

    async def _publish_once(
        self, channel: AbstractChannel, topic: str, messages: list[dict[str, Any]]
    ) -> None:
        if topic not in self._work_queues:
            await self._queue(channel, topic, durable=True)
            self._work_queues.add(topic)
        exchange = channel.default_exchange
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        _dump(message), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                    ),
                    routing_key=topic,
                )
                for message in messages
            )
        )

    async def consume(
        self, topic: str, prefetch: int = DEFAULT_PREFETCH
    ) -> AsyncIterator[Delivery]:
        if self._connection is None:
            raise rpc_errors.RPCTimeout()
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await self._queue(channel, topic, durable=True)
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

        async def on_message(message: AbstractIncomingMessage) -> None:
            inbox.put_nowait(message)

        tag = await queue.consume(on_message)
        try:
            while True:
                message = await inbox.get()
                yield Delivery(orjson.loads(message.body), _acker(message))
        finally:
            if not channel.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(queue.cancel(tag), 5)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(channel.close(), 5)

    # Calls ----------------------------------------------------------------------------------

    async def _replies(self) -> AbstractQueue:
        if self._reply_queue is None:
            queue = await self._chan().declare_queue(exclusive=True, auto_delete=True)
            await queue.consume(self._on_reply, no_ack=True)
            self._reply_queue = queue
        return self._reply_queue

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(orjson.loads(message.body))

    async def call(
        self,
        topic: str,
        method: str,
        kwargs: dict[str, Any],
        timeout: float,
        *,
        exclusive: bool = False,
    ) -> Any:
        correlation = uuid.uuid4().hex
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[correlation] = future
        try:
            async with asyncio.timeout(timeout):
                replies = await self._replies()
                channel = self._chan()
                if not exclusive and topic not in self._call_queues:
                    await self._queue(channel, topic, durable=False)
                    self._call_queues.add(topic)
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        _dump({"method": method, "kwargs": kwargs}),
                        correlation_id=correlation,
                        reply_to=replies.name,
                        expiration=timeout,
                    ),
                    routing_key=topic,
                )
                reply = await future
        except TimeoutError:
            raise rpc_errors.RPCTimeout() from None
        except (AMQPError, ChannelInvalidStateError, ConnectionError) as exc:
            raise rpc_errors.RPCTimeout() from exc
        finally:
            self._pending.pop(correlation, None)
        if "error" in reply:
            raise rpc_errors.deserialize(reply["error"])
        return reply.get("result")

    async def serve(self, topic: str, handler: Handler, *, exclusive: bool = False) -> None:
        if self._connection is None:
            raise rpc_errors.RPCTimeout()
        channel = await self._connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=SERVE_CONCURRENCY)
        # The broker deletes an exclusive queue with the connection that declared it.
        queue: AbstractQueue = await channel.declare_queue(
            topic, durable=False, exclusive=exclusive
        )
        limit = asyncio.Semaphore(SERVE_CONCURRENCY)

        async def answer(message: AbstractIncomingMessage) -> None:
            async with limit:
                request = orjson.loads(message.body)
                try:
                    body = _dump({"result": await handler(request["method"], request["kwargs"])})
                except Exception as exc:
                    if not isinstance(exc, errors.EmberError):
                        LOG.exception("engine call %s failed", request.get("method"))
                    body = _dump({"error": rpc_errors.serialize(exc)})
                if not message.reply_to:
                    return
                try:
                    await channel.default_exchange.publish(
                        aio_pika.Message(body, correlation_id=message.correlation_id),
                        routing_key=message.reply_to,
                    )
                except CONNECTION_EXCEPTIONS as exc:
                    # The caller's reply queue went with the connection: it has its
                    # answer from its own timeout (503) and may retry.
                    LOG.warning("the reply to %s was lost: %s", request.get("method"), exc)

        async def on_request(message: AbstractIncomingMessage) -> None:
            await message.ack()
            self._spawn(answer(message))

        await queue.consume(on_request)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Broadcasts ------------------------------------------------------------------------------

    async def broadcast(self, topic: str, message: dict[str, Any]) -> None:
        exchange = self._exchanges.get(topic)
        if exchange is None:
            # Declared once: events are broadcast after every transaction that writes some.
            exchange = await self._chan().declare_exchange(topic, aio_pika.ExchangeType.FANOUT)
            self._exchanges[topic] = exchange
        # Not mandatory: with nobody subscribed (no API follows events) the message is
        # simply dropped, not returned to be logged as unhandled.
        await exchange.publish(aio_pika.Message(_dump(message)), routing_key="", mandatory=False)

    async def subscribe(
        self, topic: str, handler: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        channel = self._chan()
        exchange = await channel.declare_exchange(topic, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange)

        async def on_message(message: AbstractIncomingMessage) -> None:
            try:
                await handler(orjson.loads(message.body))
            except Exception:
                LOG.exception("broadcast handler for %s failed", topic)

        await queue.consume(on_message, no_ack=True)


def _acker(message: AbstractIncomingMessage) -> Callable[[], Awaitable[None]]:
    async def ack() -> None:
        # After a reconnect the delivery tag is void; the broker delivers the message again
        # and the node's claim in the database makes the second delivery harmless.
        with contextlib.suppress(Exception):
            await message.ack()

    return ack


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"
