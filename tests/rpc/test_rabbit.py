"""The RabbitMQ transport against a real broker (``127.0.0.1:5672``, guest/guest).

Every test works on topics of its own (``test.<uuid>``) and deletes their queues and
exchanges afterwards; every transport is closed by the fixture that made it. Without a
reachable broker the tests skip, or fail under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection

from ember.common import errors
from ember.rpc import errors as rpc_errors
from ember.rpc.rabbit import RabbitTransport, broker_urls
from ember.rpc.transport import Delivery
from tests import broker as ctl
from tests.api.helpers import require

HOST, PORT = "127.0.0.1", 5672
URL = f"rabbit://guest:guest@{HOST}:{PORT}/"
AMQP_URL = f"amqp://guest:guest@{HOST}:{PORT}/"
# Nothing listens on port 1: connecting is refused at once.
DEAD = "guest:guest@127.0.0.1:1"
# How long a test waits for the broker or a consumer to reach the state it expects.
WAIT = 30.0


@functools.cache
def broker_reachable() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=2.0):
            return True
    except OSError:
        return False


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float = WAIT,
    what: str = "condition",
    last: Callable[[], object] | None = None,
) -> None:
    """Wait until ``check`` is true; fail saying ``what`` was awaited (and ``last()``, what
    was seen last) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            seen = f"; last seen: {last()!r}" if last is not None else ""
            pytest.fail(f"timed out after {timeout}s waiting for {what}{seen}")
        await asyncio.sleep(0.02)


@dataclass
class Broker:
    """A plain aio-pika connection of the test's own, to look at and clean up the broker."""

    connection: AbstractConnection
    names: set[str] = field(default_factory=set)

    def topic(self) -> str:
        name = f"test.{uuid.uuid4().hex}"
        self.names.add(name)
        return name

    async def queue_state(self, name: str) -> tuple[int, int]:
        """(messages ready, consumers) of an existing queue, as the broker sees them."""
        channel = await self.connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
            result = queue.declaration_result
            return result.message_count, result.consumer_count
        finally:
            await channel.close()

    async def ready(self, name: str) -> int:
        return (await self.queue_state(name))[0]

    async def consumers(self, name: str) -> int:
        return (await self.queue_state(name))[1]

    async def counts(self, name: str) -> ctl.QueueCounts:
        """The queue as ``rabbitmqctl`` counts it, unacknowledged messages included."""
        return await asyncio.to_thread(ctl.queue, name)

    async def settled(
        self, name: str, held: Callable[[], int], prefetch: int | None = None
    ) -> ctl.QueueCounts:
        """Wait until the broker will hand out nothing more from queue ``name``: every
        message it handed out and that is not acknowledged is among the ``held()``
        deliveries the test's consumers hold (none is on its way), and it has no message
        ready, or (with ``prefetch``) its one consumer may take no more. What arrives after
        this would be a delivery the broker did not make."""
        seen = ctl.QueueCounts()

        async def quiet() -> bool:
            nonlocal seen
            seen = await self.counts(name)
            full = prefetch is not None and seen.unacknowledged >= prefetch
            return seen.unacknowledged <= held() and (seen.ready == 0 or full)

        await eventually(quiet, what=f"nothing more to hand out from {name}", last=lambda: seen)
        return seen

    async def subscribers_idle(self, exchange: str) -> None:
        """Wait until every queue bound to fanout ``exchange`` holds nothing: the broker has
        delivered each subscriber everything broadcast."""

        async def idle() -> bool:
            bound = await asyncio.to_thread(ctl.bound_queues, exchange)
            every = await asyncio.to_thread(ctl.queues)
            return bool(bound) and all(every.get(q, ctl.QueueCounts()).idle for q in bound)

        await eventually(idle, what=f"every subscriber queue of {exchange} empty")

    async def cleanup(self) -> None:
        for name in self.names:
            channel = await self.connection.channel()
            try:
                await channel.queue_delete(name)
                await channel.exchange_delete(name)
            finally:
                await channel.close()


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    require(broker_reachable(), f"RabbitMQ at {HOST}:{PORT}")
    connection = await aio_pika.connect(AMQP_URL)
    state = Broker(connection)
    try:
        yield state
    finally:
        try:
            await state.cleanup()
        finally:
            await connection.close()


@pytest.fixture
def topic(broker: Broker) -> str:
    return broker.topic()


MakeTransport = Callable[..., Awaitable[RabbitTransport]]


@pytest.fixture
async def transports(broker: Broker) -> AsyncIterator[MakeTransport]:
    """Makes (and by default starts) transports; closes them all at the end."""
    made: list[RabbitTransport] = []

    async def make(url: str = URL, *, start: bool = True) -> RabbitTransport:
        transport = RabbitTransport(url, reconnect_delay=0.2)
        made.append(transport)
        if start:
            await transport.start()
        return transport

    yield make
    for transport in reversed(made):
        await transport.close()


class Consumer:
    """Drives ``transport.consume`` in a task and keeps what arrives, unacknowledged."""

    def __init__(self, transport: RabbitTransport, topic: str, prefetch: int) -> None:
        self.deliveries: list[Delivery] = []
        self._task = asyncio.ensure_future(self._run(transport.consume(topic, prefetch)))

    async def _run(self, stream: AsyncIterator[Delivery]) -> None:
        async for delivery in stream:
            self.deliveries.append(delivery)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [d.message for d in self.deliveries]

    async def wait_for(self, count: int, timeout: float = WAIT) -> None:
        async def enough() -> bool:
            if self._task.done():
                self._task.result()  # surface a crashed consumer
            return len(self.deliveries) >= count

        await eventually(enough, timeout, f"{count} deliveries")

    async def ack_all(self) -> None:
        for delivery in self.deliveries:
            await delivery.ack()

    async def stop(self, grace: float = 1.0) -> bool:
        """Cancel the consuming task; True if it finished within ``grace`` seconds. A task
        that did not is cancelled again, so nothing is left running either way."""
        self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return bool(done)


MakeConsumer = Callable[..., Awaitable[Consumer]]


@pytest.fixture
async def consumers(broker: Broker, transports: MakeTransport) -> AsyncIterator[MakeConsumer]:
    """Starts consumers and waits until the broker has registered them; stops them (before
    their transports close) at the end."""
    made: list[Consumer] = []

    async def make(transport: RabbitTransport, topic: str, prefetch: int = 100) -> Consumer:
        before = await broker.consumers(topic) if await _exists(broker, topic) else 0
        consumer = Consumer(transport, topic, prefetch)
        made.append(consumer)

        async def registered() -> bool:
            return await _exists(broker, topic) and await broker.consumers(topic) > before

        await eventually(registered, what=f"a consumer on {topic}")
        return consumer

    yield make
    for consumer in made:
        await consumer.stop()


async def _exists(broker: Broker, name: str) -> bool:
    channel = await broker.connection.channel()
    try:
        await channel.declare_queue(name, passive=True)
    except aio_pika.exceptions.ChannelClosed:
        return False
    with contextlib.suppress(Exception):
        await channel.close()
    return True


class Proxy:
    """A TCP relay to the broker that can be cut (every connection dropped, new ones
    refused) and restored on the same port: a broker outage without touching the broker."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, PORT)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()


@pytest.fixture
async def proxy(broker: Broker) -> AsyncIterator[Proxy]:
    relay = Proxy()
    await relay.start()
    yield relay
    await relay.cut()


# broker_urls ---------------------------------------------------------------------------------


def test_broker_urls_single_host() -> None:
    assert broker_urls("rabbit://heat:secret@mq.example:5673/") == [
        "amqp://heat:secret@mq.example:5673/"
    ]


def test_broker_urls_several_hosts_each_with_credentials() -> None:
    urls = broker_urls("rabbit://ember:pw1@mq1:5672,other:pw2@mq2:5673,ember:pw3@mq3/heat")
    assert urls == [
        "amqp://ember:pw1@mq1:5672/heat",
        "amqp://other:pw2@mq2:5673/heat",
        "amqp://ember:pw3@mq3:5672/heat",
    ]


@pytest.mark.parametrize(
    ("path", "vhost"),
    [
        ("", "/"),  # no path: the default vhost
        ("/", "/"),
        ("/%2F", "/%2F"),  # "/" spelled out
        ("/heat", "/heat"),
        ("/my%20vhost", "/my%20vhost"),
        ("/a%2Fb", "/a%2Fb"),  # a slash inside the name stays encoded
    ],
)
def test_broker_urls_vhost(path: str, vhost: str) -> None:
    assert broker_urls(f"rabbit://u:p@mq:5672{path}") == [f"amqp://u:p@mq:5672{vhost}"]


def test_broker_urls_without_credentials_default_to_guest() -> None:
    assert broker_urls("rabbit://mq1,mq2:5673/") == [
        "amqp://guest:guest@mq1:5672/",
        "amqp://guest:guest@mq2:5673/",
    ]
    assert broker_urls("rabbit://") == ["amqp://guest:guest@localhost:5672/"]


def test_broker_urls_keep_percent_encoded_credentials() -> None:
    (url,) = broker_urls("rabbit://us%40er:p%3Ass%2Fw%25rd@mq:5672/")
    assert url == "amqp://us%40er:p%3Ass%2Fw%25rd@mq:5672/"


@pytest.mark.parametrize("scheme", ["http", "redis", "amqps", ""])
def test_broker_urls_reject_other_schemes(scheme: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        broker_urls(f"{scheme}://guest:guest@mq:5672/")


# Connection ----------------------------------------------------------------------------------


async def test_healthy_follows_start_and_close(transports: MakeTransport) -> None:
    transport = await transports(start=False)
    assert await transport.healthy() is False
    await transport.start()
    assert await transport.healthy() is True
    await transport.close()
    assert await transport.healthy() is False


async def test_start_without_a_broker_raises_connection_error_quickly(
    transports: MakeTransport,
) -> None:
    transport = await transports(f"rabbit://{DEAD}/", start=False)
    started = time.monotonic()
    with pytest.raises(ConnectionError, match="no message broker reachable"):
        await transport.start()
    assert time.monotonic() - started < 5.0
    assert await transport.healthy() is False


@pytest.mark.parametrize(
    "url",
    [
        f"rabbit://guest:wrong-password@{HOST}:{PORT}/",
        f"rabbit://guest:guest@{HOST}:{PORT}/no-such-vhost-{uuid.uuid4().hex}",
    ],
    ids=["bad-password", "unknown-vhost"],
)
async def test_start_refused_by_the_broker_raises_connection_error(
    transports: MakeTransport, url: str
) -> None:
    transport = await transports(url, start=False)
    with pytest.raises(ConnectionError):
        await transport.start()
    assert await transport.healthy() is False


@pytest.mark.parametrize(
    "url",
    [f"rabbit://guest:guest@{HOST}:{PORT}", f"rabbit://guest:guest@{HOST}:{PORT}/%2F"],
    ids=["no-path", "slash-spelled-out"],
)
async def test_start_on_the_default_vhost(transports: MakeTransport, url: str) -> None:
    transport = await transports(url)
    assert await transport.healthy() is True


async def test_start_fails_over_to_the_next_host(
    broker: Broker, transports: MakeTransport, topic: str
) -> None:
    transport = await transports(f"rabbit://{DEAD},guest:guest@{HOST}:{PORT}/")
    assert await transport.healthy() is True
    await transport.publish(topic, [{"via": "second host"}])
    assert await broker.ready(topic) == 1


async def test_start_fails_over_past_a_host_that_never_answers(
    transports: MakeTransport,
) -> None:
    """A broker that accepts TCP connections but never speaks AMQP (hung, or a black-holing
    load balancer) must not keep ``start`` from trying the next host."""
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(Exception):
            await reader.read()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = await transports(
        f"rabbit://guest:guest@127.0.0.1:{port},guest:guest@{HOST}:{PORT}/", start=False
    )
    starting = asyncio.ensure_future(transport.start())
    try:
        done, _ = await asyncio.wait({starting}, timeout=10.0)
    finally:
        # Hang up on the client, so a hung start() moves on and nothing is left behind.
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
        await asyncio.wait_for(starting, 10.0)
    assert starting in done, "start() still waiting on the silent host after 10 s"
    assert await transport.healthy() is True


# Work queue ----------------------------------------------------------------------------------


async def test_published_messages_arrive_intact(
    transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    messages = [
        {"stack": "ünïcödé ☃ 雪", "n": 1, "nested": {"list": [1, 2.5, None, True], "e": ""}},
        {"emoji": "🔥", "n": 2},
        {},
    ]
    producer = await transports()
    await producer.publish(topic, messages)
    consumer = await consumers(await transports(), topic)
    await consumer.wait_for(3)
    assert consumer.messages == messages
    await consumer.ack_all()


async def test_published_messages_are_persistent_on_a_durable_queue(
    broker: Broker, transports: MakeTransport, topic: str
) -> None:
    await (await transports()).publish(topic, [{"n": 1}])
    channel = await broker.connection.channel()
    try:
        # Declaring it durable succeeds only if the transport declared it durable too.
        queue = await channel.declare_queue(topic, durable=True)
        message = await queue.get(no_ack=True, timeout=5)
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.body == b'{"n":1}'
    finally:
        await channel.close()


async def test_two_consumers_share_a_topic_round_robin(
    broker: Broker, transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    first = await consumers(await transports(), topic)
    second = await consumers(await transports(), topic)
    await (await transports()).publish(topic, [{"n": n} for n in range(20)])
    await eventually(
        _async(lambda: len(first.deliveries) + len(second.deliveries) >= 20), what="20 messages"
    )
    await broker.settled(topic, lambda: len(first.deliveries) + len(second.deliveries))
    got = [m["n"] for m in first.messages + second.messages]
    assert sorted(got) == list(range(20)), "every message exactly once"
    assert first.deliveries, "the first consumer got none"
    assert second.deliveries, "the second consumer got none"
    await first.ack_all()
    await second.ack_all()


async def test_unacknowledged_message_goes_to_another_consumer_when_its_transport_closes(
    broker: Broker, transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    await (await transports()).publish(topic, [{"node": "ä-1"}])
    doomed_transport = await transports()
    doomed = await consumers(doomed_transport, topic)
    await doomed.wait_for(1)
    survivor = await consumers(await transports(), topic)
    await broker.settled(topic, lambda: len(doomed.deliveries) + len(survivor.deliveries))
    assert survivor.deliveries == [], "the message is held by the first consumer"

    await doomed_transport.close()  # crash before committing: no ack
    await survivor.wait_for(1)
    assert survivor.messages == [{"node": "ä-1"}]
    await survivor.ack_all()
    assert await broker.ready(topic) == 0


async def test_acknowledged_messages_are_not_delivered_again(
    broker: Broker, transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    await (await transports()).publish(topic, [{"n": n} for n in range(3)])
    first_transport = await transports()
    first = await consumers(first_transport, topic)
    await first.wait_for(3)
    await first.ack_all()
    assert await first.stop() is True
    await first_transport.close()
    second = await consumers(await transports(), topic)
    await broker.settled(topic, lambda: len(second.deliveries))
    assert second.deliveries == []
    assert await broker.ready(topic) == 0


async def test_abandoning_the_consume_iterator_returns_unacknowledged_messages(
    broker: Broker, transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    await (await transports()).publish(topic, [{"n": n} for n in range(3)])
    transport = await transports()
    consumer = await consumers(transport, topic)
    await consumer.wait_for(3)
    await consumer.deliveries[0].ack()
    await consumer.stop()  # the worker stops consuming; its transport stays open

    async def returned() -> bool:
        return await broker.queue_state(topic) == (2, 0)

    await eventually(returned, what="two messages back on the queue, no consumer")
    assert await transport.healthy() is True


async def test_prefetch_caps_unacknowledged_deliveries(
    broker: Broker, transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    await (await transports()).publish(topic, [{"n": n} for n in range(5)])
    consumer = await consumers(await transports(), topic, prefetch=2)
    await consumer.wait_for(2)
    await broker.settled(topic, lambda: len(consumer.deliveries), prefetch=2)
    assert consumer.messages == [{"n": 0}, {"n": 1}]
    assert await broker.ready(topic) == 3

    await consumer.deliveries[0].ack()
    await consumer.wait_for(3)
    await broker.settled(topic, lambda: len(consumer.deliveries) - 1, prefetch=2)
    assert consumer.messages == [{"n": 0}, {"n": 1}, {"n": 2}]

    await consumer.deliveries[1].ack()
    await consumer.deliveries[2].ack()
    await consumer.wait_for(5)
    assert [m["n"] for m in consumer.messages] == [0, 1, 2, 3, 4]
    await consumer.deliveries[3].ack()
    await consumer.deliveries[4].ack()


# Calls ---------------------------------------------------------------------------------------


async def test_call_round_trip(transports: MakeTransport, topic: str) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        seen.append((method, kwargs))
        return {"method": method, "echo": kwargs, "list": [1, "zwei", {"drei": 3.0}]}

    await (await transports()).serve(topic, handler)
    client = await transports()
    kwargs = {"stack_name": "ünïcode-☃", "params": {"a": [1, None]}, "flag": False}
    result = await client.call(topic, "show_stack", kwargs, timeout=5)
    assert result == {"method": "show_stack", "echo": kwargs, "list": [1, "zwei", {"drei": 3.0}]}
    assert seen == [("show_stack", kwargs)]


async def test_exclusive_topic_goes_with_its_server(
    broker: Broker, transports: MakeTransport, topic: str
) -> None:
    """An engine's own topic: answered while its server runs; once the server's connection
    has gone, so has the queue, and a call times out instead of waiting in a queue nobody
    reads (and leaves no queue behind)."""

    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        return method

    server = await transports()
    await server.serve(topic, handler, exclusive=True)
    client = await transports()
    assert await client.call(topic, "ping", {}, timeout=5, exclusive=True) == "ping"
    await server.close()
    await eventually(lambda: _gone(broker, topic), what="the exclusive queue to go")
    with pytest.raises(rpc_errors.RPCTimeout):
        await client.call(topic, "ping", {}, timeout=0.5, exclusive=True)
    assert not await _exists(broker, topic)


async def _gone(broker: Broker, topic: str) -> bool:
    return not await _exists(broker, topic)


async def test_call_returns_none_and_scalars(transports: MakeTransport, topic: str) -> None:
    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        return kwargs["value"]

    await (await transports()).serve(topic, handler)
    client = await transports()
    for value in (None, 0, "", "x", [], 1.5):
        assert await client.call(topic, "m", {"value": value}, timeout=5) == value


@pytest.mark.parametrize(
    "error",
    [
        errors.EntityNotFound(entity="Stack", name="ünïcode"),
        errors.ActionInProgress(stack_name="s1", action="CREATE"),
        errors.StackValidationFailed("Property error: resources.a.properties.b"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_call_raises_the_handlers_ember_error(
    transports: MakeTransport, topic: str, error: errors.EmberError
) -> None:
    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        raise error

    await (await transports()).serve(topic, handler)
    client = await transports()
    with pytest.raises(errors.EmberError) as caught:
        await client.call(topic, "m", {}, timeout=5)
    assert type(caught.value) is type(error)
    assert caught.value.message == error.message
    assert str(caught.value) == str(error)


async def test_call_raises_remote_error_for_other_exceptions(
    transports: MakeTransport, topic: str
) -> None:
    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        raise RuntimeError("engine exploded: ☃")

    await (await transports()).serve(topic, handler)
    client = await transports()
    with pytest.raises(rpc_errors.RemoteError) as caught:
        await client.call(topic, "m", {}, timeout=5)
    assert type(caught.value) is rpc_errors.RemoteError
    assert caught.value.message == "engine exploded: ☃"
    assert caught.value.remote_type == "RuntimeError"  # type: ignore[attr-defined]


async def test_call_without_a_server_times_out_and_the_request_expires(
    broker: Broker, transports: MakeTransport, topic: str
) -> None:
    client = await transports()
    started = time.monotonic()
    with pytest.raises(rpc_errors.RPCTimeout):
        await client.call(topic, "too_late", {}, timeout=0.5)
    assert 0.45 <= time.monotonic() - started < 3.0

    # An engine coming up after the caller gave up does not run the stale request.
    seen: list[str] = []

    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        seen.append(method)
        return method

    # The request expires the call's timeout after it was published (a little after the
    # call began): the broker drops it, within seconds of the caller giving up.
    await eventually(
        lambda: _equals(broker.ready(topic), 0), 3.0, "the unanswered request to expire"
    )
    await (await transports()).serve(topic, handler)
    assert await client.call(topic, "fresh", {}, timeout=5) == "fresh"
    # Every request the broker still held has been taken by the server.
    await broker.settled(topic, lambda: 0)
    assert seen == ["fresh"]


async def test_concurrent_calls_get_their_own_replies(
    transports: MakeTransport, topic: str
) -> None:
    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        await asyncio.sleep(kwargs["delay"])  # later calls answer first
        return {"n": kwargs["n"], "method": method}

    await (await transports()).serve(topic, handler)
    client = await transports()
    count = 30
    results = await asyncio.gather(
        *(
            client.call(topic, f"m{n}", {"n": n, "delay": (count - n) * 0.01}, timeout=10)
            for n in range(count)
        )
    )
    assert results == [{"n": n, "method": f"m{n}"} for n in range(count)]


async def test_a_late_reply_does_not_answer_another_call(
    transports: MakeTransport, topic: str
) -> None:
    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        await asyncio.sleep(kwargs["delay"])
        return kwargs["n"]

    await (await transports()).serve(topic, handler)
    client = await transports()
    with pytest.raises(rpc_errors.RPCTimeout):
        await client.call(topic, "m", {"n": 1, "delay": 0.8}, timeout=0.3)
    # The reply to the first call arrives (~0.5 s from now) while this one is waiting.
    assert await client.call(topic, "m", {"n": 2, "delay": 1.0}, timeout=5) == 2


async def test_two_servers_both_answer(transports: MakeTransport, topic: str) -> None:
    def server(name: str) -> Callable[[str, dict[str, Any]], Awaitable[Any]]:
        async def handler(method: str, kwargs: dict[str, Any]) -> Any:
            return name

        return handler

    await (await transports()).serve(topic, server("one"))
    await (await transports()).serve(topic, server("two"))
    client = await transports()
    answers = [await client.call(topic, "who", {}, timeout=5) for _ in range(10)]
    assert set(answers) == {"one", "two"}
    answers = await asyncio.gather(*(client.call(topic, "who", {}, timeout=5) for _ in range(10)))
    assert set(answers) == {"one", "two"}


async def test_call_raises_remote_error_when_the_result_is_not_json(
    transports: MakeTransport, topic: str
) -> None:
    """A handler result that cannot be sent must come back as an error at once, not leave
    the caller waiting for its whole timeout."""

    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        return {"when": {1, 2}}  # a set: not JSON

    await (await transports()).serve(topic, handler)
    client = await transports()
    started = time.monotonic()
    with pytest.raises(rpc_errors.RemoteError):
        await client.call(topic, "m", {}, timeout=3)
    assert time.monotonic() - started < 2.0


async def test_call_pending_when_the_transport_closes_raises_an_ember_error(
    transports: MakeTransport, topic: str
) -> None:
    """Closing the transport under a waiting caller must not leak a CancelledError into a
    task nobody cancelled (the API would see its request task as cancelled)."""

    handling = asyncio.Event()

    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        handling.set()
        await asyncio.sleep(5)

    await (await transports()).serve(topic, handler)
    client = await transports()
    waiting = asyncio.ensure_future(client.call(topic, "slow", {}, timeout=10))
    await asyncio.wait_for(handling.wait(), WAIT)  # the caller now waits for the reply
    await client.close()
    outcome: BaseException | None = None
    try:
        await asyncio.wait_for(waiting, 5)
    except BaseException as exc:
        outcome = exc
    assert not waiting.cancelled(), "the caller got CancelledError"
    assert isinstance(outcome, errors.EmberError), repr(outcome)


# Closing and outages ------------------------------------------------------------------------


async def test_a_consumer_stops_promptly_after_its_transport_closed(
    transports: MakeTransport, consumers: MakeConsumer, topic: str
) -> None:
    """The worker may be cancelled after the transport has gone (shutdown in the other
    order, or a crash path): the consume iterator's cleanup must not wait forever."""
    await (await transports()).publish(topic, [{"n": 1}])
    transport = await transports()
    consumer = await consumers(transport, topic)
    await consumer.wait_for(1)
    await transport.close()
    assert await consumer.stop(grace=2.0) is True, "consume() cleanup hangs after close()"


@pytest.mark.parametrize("operation", ["call", "publish", "broadcast"])
async def test_a_closed_transport_fails_promptly(
    transports: MakeTransport, topic: str, operation: str
) -> None:
    transport = await transports()
    await transport.close()
    work: Awaitable[Any] = {
        "call": lambda: transport.call(topic, "m", {}, timeout=0.5),
        "publish": lambda: transport.publish(topic, [{"n": 1}]),
        "broadcast": lambda: transport.broadcast(topic, {"n": 1}),
    }[operation]()
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=3.0)
    if not done:
        task.cancel()
    with contextlib.suppress(BaseException):
        await task
    assert task in done, f"{operation}() on a closed transport still waiting after 3 s"
    assert task.exception() is not None
    if operation == "call":
        assert isinstance(task.exception(), rpc_errors.RPCTimeout), repr(task.exception())


async def test_transport_recovers_after_a_broker_outage(
    broker: Broker,
    transports: MakeTransport,
    consumers: MakeConsumer,
    proxy: Proxy,
    topic: str,
) -> None:
    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        return "pong"

    await (await transports()).serve(topic, handler)
    work = broker.topic()
    client = await transports(f"rabbit://guest:guest@127.0.0.1:{proxy.port}/")
    consumer = await consumers(client, work)
    assert await client.call(topic, "ping", {}, timeout=5) == "pong"

    await proxy.cut()
    await eventually(lambda: _not(client.healthy()), what="healthy() False during the outage")
    await proxy.start()
    await eventually(client.healthy, what="healthy() True after the outage")

    async def answered() -> bool:
        with contextlib.suppress(Exception):
            return bool(await client.call(topic, "ping", {}, timeout=1) == "pong")
        return False

    await eventually(answered, what="a call answered after the outage")
    await (await transports()).publish(work, [{"after": "outage"}])
    await consumer.wait_for(1)
    assert consumer.messages == [{"after": "outage"}]
    await consumer.ack_all()


async def test_work_published_during_a_broker_outage_arrives_after_it(
    broker: Broker, transports: MakeTransport, consumers: MakeConsumer, proxy: Proxy
) -> None:
    """Work messages name nodes already committed to the database; a publish that meets
    an outage waits for the broker instead of failing and losing them."""
    work = broker.topic()
    consumer = await consumers(await transports(), work)
    client = await transports(f"rabbit://guest:guest@127.0.0.1:{proxy.port}/")
    await client.publish(work, [{"before": "outage"}])
    await proxy.cut()
    await eventually(lambda: _not(client.healthy()), what="healthy() False during the outage")
    publishing = asyncio.ensure_future(client.publish(work, [{"during": "outage"}]))
    done, _ = await asyncio.wait({publishing}, timeout=1.0)
    assert not done, publishing.exception() if done else None
    await proxy.start()
    await asyncio.wait_for(publishing, WAIT)
    await consumer.wait_for(2)
    assert consumer.messages == [{"before": "outage"}, {"during": "outage"}]
    await consumer.ack_all()


async def test_call_during_a_broker_outage_raises_rpc_timeout(
    transports: MakeTransport, proxy: Proxy, topic: str
) -> None:
    """The API maps RPCTimeout to 503; a raw aiormq error would surface as a 500."""

    async def handler(method: str, kwargs: dict[str, Any]) -> Any:
        return "pong"

    await (await transports()).serve(topic, handler)
    client = await transports(f"rabbit://guest:guest@127.0.0.1:{proxy.port}/")
    assert await client.call(topic, "ping", {}, timeout=5) == "pong"
    await proxy.cut()
    await eventually(lambda: _not(client.healthy()), what="healthy() False during the outage")
    started = time.monotonic()
    with pytest.raises(rpc_errors.RPCTimeout):
        await asyncio.wait_for(client.call(topic, "ping", {}, timeout=1.0), 5.0)
    assert time.monotonic() - started < 3.0


# Broadcasts ----------------------------------------------------------------------------------


async def test_broadcast_reaches_every_subscriber(
    broker: Broker, transports: MakeTransport, topic: str
) -> None:
    received: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}

    for name in received:

        async def handler(message: dict[str, Any], into: str = name) -> None:
            received[into].append(message)

        await (await transports()).subscribe(topic, handler)

    sender = await transports()
    await sender.broadcast(topic, {"cancel": "traversal-ä"})
    await eventually(_async(lambda: all(received.values())), what="both subscribers")
    await broker.subscribers_idle(topic)
    assert received == {"a": [{"cancel": "traversal-ä"}], "b": [{"cancel": "traversal-ä"}]}


async def test_a_failing_subscriber_keeps_receiving(transports: MakeTransport, topic: str) -> None:
    received: list[dict[str, Any]] = []

    async def handler(message: dict[str, Any]) -> None:
        received.append(message)
        if message["n"] == 1:
            raise RuntimeError("handler bug")

    await (await transports()).subscribe(topic, handler)
    sender = await transports()
    await sender.broadcast(topic, {"n": 1})
    await sender.broadcast(topic, {"n": 2})
    await eventually(_async(lambda: len(received) >= 2), what="two broadcasts")
    assert received == [{"n": 1}, {"n": 2}]


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def wrapped() -> bool:
        return check()

    return wrapped


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


async def _equals(value: Awaitable[Any], expected: Any) -> bool:
    return bool(await value == expected)
