"""A node parked longer than RabbitMQ lets a consumer hold a delivery still completes: a
parked node holds no message, so the broker has nothing to time out."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ember.rpc.rabbit import broker_urls
from tests import broker
from tests.api.conftest import free_port, legacy_client
from tests.api.helpers import need, wait_stack
from tests.backends import ScratchDatabase, wipe
from tests.deploy.conftest import (
    TRANSPORT_URL,
    Deployment,
    Launcher,
    heat_conf,
    reset_broker,
    start_api,
    start_engine,
    work_queue,
)
from tests.deploy.test_parking import HOOKED, WAIT, clear, hooked_stack, paused

RABBIT_SETTINGS = {"consumer_timeout": 3000, "channel_tick_interval": 1000}


def _ctl_eval(expression: str) -> str:
    done = subprocess.run(
        [broker.RABBITMQCTL, "eval", expression],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextlib.contextmanager
def broker_env(settings: dict[str, int]) -> Iterator[None]:
    """Set RabbitMQ application settings with the broker's own command; restore them."""
    before = {k: _ctl_eval(f"application:get_env(rabbit, {k}).") for k in settings}
    try:
        for key, value in settings.items():
            _ctl_eval(f"application:set_env(rabbit, {key}, {value}).")
        yield
    finally:
        for key, was in before.items():
            found = re.fullmatch(r"\{ok,(.+)\}", was)
            if found:
                _ctl_eval(f"application:set_env(rabbit, {key}, {found.group(1)}).")
            else:
                _ctl_eval(f"application:unset_env(rabbit, {key}).")


async def _timed_out_consumer() -> str:
    """Hold one message unacknowledged until the broker closes the channel for it: what
    the consumer timeout does to a delivery held too long."""
    aio_pika = need("aio_pika")
    connection = await aio_pika.connect(broker_urls(TRANSPORT_URL)[0], timeout=5)
    closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    async with connection:
        channel = await connection.channel()
        channel.close_callbacks.add(
            lambda _ch, exc=None: closed.done() or closed.set_result(str(exc))
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await channel.default_exchange.publish(aio_pika.Message(b"hold"), routing_key=queue.name)

        async def hold(message: object) -> None:
            """Take the delivery and never acknowledge it."""

        await queue.consume(hold)
        return await asyncio.wait_for(closed, WAIT)


@pytest.fixture
def short_timeout_deployment(
    mysql_scratch: ScratchDatabase, tmp_path: Path
) -> Iterator[Deployment]:
    """heat-engine and heat-api started while the broker closes a channel that holds a
    delivery for more than 3 s (and checks every second)."""
    broker.queues()  # skips, or fails under CI, without rabbitmqctl
    with broker_env(RABBIT_SETTINGS):
        reset_broker()
        wipe(mysql_scratch.url)
        launcher = Launcher(tmp_path)
        sections = heat_conf(database_url=mysql_scratch.url, port=free_port(), engine_workers=1)
        conf = launcher.conf("heat.conf", sections)
        try:
            launcher.manage(conf, "db_sync")
            engine = start_engine(launcher, conf, 1)
            api = start_api(launcher, conf, int(str(sections["heat_api"]["bind_port"])), 1)
            yield Deployment("mysql", mysql_scratch.url, sections, launcher, engine, api)
        finally:
            launcher.stop_all()


def test_a_node_parked_past_the_consumer_timeout_completes(
    short_timeout_deployment: Deployment,
) -> None:
    deployment = short_timeout_deployment
    hc = legacy_client(deployment.endpoint("deploy-parking-timeout"))
    stack_id = hc.stacks.create(stack_name="patient", template=hooked_stack(3), environment=HOOKED)[
        "stack"
    ]["id"]
    waiting = paused(hc, stack_id, 3)
    # A delivery held as long as this one waits is closed by the broker...
    reason = asyncio.run(_timed_out_consumer())
    assert "timed out" in reason.lower() or "precondition" in reason.lower(), reason
    # ...but the parked nodes hold none, and the engine's consumer is still there.
    assert work_queue().consumers == 1
    clear(hc, waiting, lambda r: stack_id)
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    assert work_queue().consumers == 1
    assert "PRECONDITION_FAILED" not in deployment.logs()
