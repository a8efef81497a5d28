"""Network faults between the split deployment and its servers: heat-api and heat-engine
reach RabbitMQ and the database through relays this test controls (``tests.relay``), which
reset, refuse or black-hole their connections for a few seconds while stacks are created.

Whatever happens, every answer of the API meanwhile is a success or Heat's fault body with
503; once the cut ends the work carries on by itself, every stack reaches CREATE_COMPLETE,
and a create retried with the same idempotency key makes no second stack.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.engine import make_url

from tests.api.conftest import free_port
from tests.api.helpers import need, wait_until
from tests.backends import ScratchDatabase, wipe
from tests.deploy.conftest import (
    TRANSPORT_URL,
    Launcher,
    heat_conf,
    reset_broker,
    start_api,
    start_engine,
    wait_work_consumed,
    work_queue,
)
from tests.relay import Mode, Relay

httpx = need("httpx")

ENGINE_WORKERS = 2
# The API gives up on an engine that does not answer within this (a black-holed broker).
RPC_TIMEOUT = 8
# A database call gives up sooner than that, so a cut database is answered 503 by the engine.
DATABASE_TIMEOUTS = {"connect_timeout": 3, "statement_timeout": 5}
# A fan-out (three resources wait for ``first``) and a nested stack (the group waits for
# its members): finishing a node publishes others, and each takes a second, so a cut lands
# while nodes run, finish and make others ready.
SLOW = {"type": "OS::Heat::TestResource", "properties": {"action_wait_secs": {"create": 1}}}
TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "first": SLOW,
        **{f"then{i}": {**SLOW, "depends_on": ["first"]} for i in range(3)},
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "depends_on": ["first"],
            "properties": {"count": 3, "resource_def": SLOW},
        },
    },
}
CLIENT_TIMEOUT = 30.0
SETTLE_TIMEOUT = 90.0


def _through(url: str, relay: Relay) -> str:
    """``url`` with its host and port replaced by the relay's."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    netloc[-1] = f"127.0.0.1:{relay.port}"
    return urlunsplit(parts._replace(netloc="@".join(netloc)))


@dataclass
class Faulty:
    """The deployment behind its relays."""

    backend: str
    database_url: str
    broker: Relay
    database: Relay
    api_url: str
    launcher: Launcher

    @property
    def daemons(self) -> list[Any]:
        return self.launcher.daemons

    def endpoint(self, project: str) -> str:
        return f"{self.api_url}/v1/{project}"


@pytest.fixture(scope="module", params=["mysql"])
def faulty(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Faulty]:
    backend = str(request.param)
    scratch: ScratchDatabase = request.getfixturevalue(f"{backend}_scratch")
    reset_broker()
    wipe(scratch.url)
    server = make_url(scratch.url)
    broker_relay = Relay("127.0.0.1", urlsplit(TRANSPORT_URL).port or 5672).start()
    database_relay = Relay("127.0.0.1", int(server.port or 0)).start()
    launcher = Launcher(tmp_path_factory.mktemp(f"faults-{backend}"))
    try:
        database_url = server.set(host="127.0.0.1", port=database_relay.port).render_as_string(
            hide_password=False
        )
        port = free_port()
        sections = heat_conf(
            database_url=database_url,
            port=port,
            engine_workers=ENGINE_WORKERS,
            api_workers=1,
        )
        sections["DEFAULT"]["transport_url"] = _through(TRANSPORT_URL, broker_relay)
        sections["DEFAULT"]["rpc_response_timeout"] = RPC_TIMEOUT
        sections["database"].update(DATABASE_TIMEOUTS)
        conf = launcher.conf("heat.conf", sections)
        launcher.manage(conf, "db_sync")
        start_engine(launcher, conf, ENGINE_WORKERS)
        api = start_api(launcher, conf, port, 1)
        yield Faulty(backend, scratch.url, broker_relay, database_relay, api.url, launcher)
    finally:
        try:
            launcher.stop_all()
        finally:
            broker_relay.stop()
            database_relay.stop()


# A client that keeps creating -------------------------------------------------------------


@dataclass
class Answer:
    status: int | None
    body: Any
    key: str
    name: str


@dataclass
class Creator:
    """Creates stacks one after the other, each with an idempotency key of its own, and
    keeps every answer."""

    endpoint: str
    prefix: str
    answers: list[Answer] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)  # (name, key) of each try
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def create(self, name: str, key: str) -> Answer:
        try:
            response = httpx.post(
                f"{self.endpoint}/stacks",
                json={"stack_name": name, "template": TEMPLATE},
                headers={"X-Idempotency-Key": key},
                timeout=CLIENT_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            return Answer(None, repr(exc), key, name)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Answer(response.status_code, body, key, name)

    def _loop(self) -> None:
        count = 0
        while not self._stop.is_set():
            name = f"{self.prefix}-{count}"
            key = uuid.uuid4().hex
            self.names.append((name, key))
            self.answers.append(self.create(name, key))
            count += 1
            self._stop.wait(0.3)

    def __enter__(self) -> Creator:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(CLIENT_TIMEOUT + 5)


def _is_unavailable(answer: Answer) -> bool:
    body = answer.body
    return (
        answer.status == 503
        and isinstance(body, dict)
        and body.get("code") == 503
        and body.get("title") == "Service Unavailable"
        and isinstance(body.get("error"), dict)
        and "type" in body["error"]
    )


def _bad(answers: list[Answer]) -> list[Answer]:
    """Answers that are neither a success nor Heat's 503 fault body."""
    return [a for a in answers if not (a.status == 201 or _is_unavailable(a))]


def _stacks(endpoint: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{endpoint}/stacks", timeout=CLIENT_TIMEOUT)
    assert response.status_code == 200, response.text
    return list(response.json()["stacks"])


def _settled(stacks: list[dict[str, Any]]) -> bool:
    return all(s["stack_status"] == "CREATE_COMPLETE" for s in stacks)


def _successes(creator: Creator) -> int:
    return sum(a.status == 201 for a in creator.answers)


def _cut_during_creates(faulty: Faulty, relay: Relay, mode: Mode, seconds: float) -> None:
    target = "broker" if relay is faulty.broker else "database"
    endpoint = faulty.endpoint(f"faults-{target}-{mode}")
    with Creator(endpoint, mode) as creator:
        wait_until(lambda: _successes(creator), lambda n: n >= 2, 30.0, "two stacks created")
        with relay.cut(mode):
            time.sleep(seconds)  # the cut itself: how long the network is down
        after = _successes(creator)
        wait_until(lambda: _successes(creator), lambda n: n >= after + 2, 60.0, "creates again")
    assert not _bad(creator.answers), _bad(creator.answers)
    # The cut was felt: some creates meanwhile were answered 503.
    assert any(_is_unavailable(a) for a in creator.answers), creator.answers
    # The work carries on by itself: every stack stored reaches CREATE_COMPLETE.
    try:
        wait_until(lambda: _stacks(endpoint), _settled, SETTLE_TIMEOUT)
    except AssertionError:
        states = collections.Counter(s["stack_status"] for s in _stacks(endpoint))
        raise AssertionError(
            f"not every stack CREATE_COMPLETE: {dict(states)}; work queue {work_queue()}"
        ) from None
    # A create answered 503 (or not at all) may have been stored: retried with the same
    # key, it answers with the first stack, or creates it now.
    retried = {}
    for answer in creator.answers:
        if answer.status != 201:
            again = creator.create(answer.name, answer.key)
            assert again.status in (200, 201), again
            retried[answer.name] = again.body["stack"]["id"]
    stacks = wait_until(lambda: _stacks(endpoint), _settled, SETTLE_TIMEOUT)
    # One stack for each create, whichever way it was answered: no duplicates.
    names = [name for name, _ in creator.names]
    assert sorted(s["stack_name"] for s in stacks) == sorted(names)
    ids = {s["stack_name"]: s["id"] for s in stacks}
    assert {name: ids[name] for name in retried} == retried
    wait_work_consumed()


@pytest.mark.parametrize("mode,seconds", [("reset", 8.0), ("blackhole", 15.0)])
def test_broker_cut_during_creates(faulty: Faulty, mode: Mode, seconds: float) -> None:
    _cut_during_creates(faulty, faulty.broker, mode, seconds)


@pytest.mark.parametrize("mode,seconds", [("reset", 8.0), ("blackhole", 10.0)])
def test_database_cut_during_creates(faulty: Faulty, mode: Mode, seconds: float) -> None:
    _cut_during_creates(faulty, faulty.database, mode, seconds)
