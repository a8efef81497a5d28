"""The operator guide's scale-out, word for word, behind a real HAProxy (see
``tests.deploy.guide``): clients reach the APIs only through HAProxy on 127.0.0.1:8004 and
:8000, and the work is shared by four ``heat-engine`` processes on two "hosts".

Then the faults: a whole engine SIGKILLed mid-creates, an API of each kind SIGKILLed, the
broker cut, the database cut. Whatever happens, every stack completes, no resource is made
twice, nothing stays IN_PROGRESS, and every answer meanwhile is a success or Heat's 503.
On MariaDB and on PostgreSQL.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.cfn.conftest import WAIT, boto3_client, make_key_pair
from tests.api.conftest import Cli, free_port, legacy_client, session_client
from tests.api.helpers import need, wait_stack, wait_until
from tests.deploy.conftest import (
    ROOT,
    engine_pids,
    node_claims,
    wait_consumers,
    wait_health,
    wait_work_consumed,
)
from tests.deploy.guide import (
    ENGINE_WORKERS,
    ENGINES_PER_HOST,
    HOSTS,
    OPS_PROJECT,
    Guide,
    Proxy,
    guide_fixture,
)

httpx = need("httpx")
heatclient_exc = need("heatclient.exc")

STACKS = 20
CFN_STACKS = 5
SETTLE_TIMEOUT = 240.0
CLIENT_TIMEOUT = 30.0
SLOW = {"type": "OS::Heat::TestResource", "properties": {"action_wait_secs": {"create": 1}}}
# Ten nodes: a chain of three slow ones, two strings and a group of three beside them.
TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "first": SLOW,
        "second": {**SLOW, "depends_on": ["first"]},
        "third": {**SLOW, "depends_on": ["second"]},
        "name": {"type": "OS::Heat::RandomString"},
        "other": {"type": "OS::Heat::RandomString", "depends_on": ["first"]},
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "depends_on": ["first"],
            "properties": {"count": 3, "resource_def": {"type": "OS::Heat::RandomString"}},
        },
    },
    "outputs": {"name": {"value": {"get_attr": ["name", "value"]}}},
}
TOP_RESOURCES = sorted(TEMPLATE["resources"])
# Sources HAProxy's "balance source" hashes: several, so that each server gets some.
SOURCES = ("127.0.0.1", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8")


@pytest.fixture(scope="module", params=["mysql", "postgresql"])
def guide(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Guide]:
    yield from guide_fixture(request, tmp_path_factory.mktemp(f"scale-{request.param}"))


@pytest.fixture(scope="module")
def hc(guide: Guide) -> Any:
    return legacy_client(guide.endpoint("guide"))


@pytest.fixture(scope="module")
def admin_hc(guide: Guide) -> Any:
    return session_client(guide.endpoint("guide"), headers={"X-Roles": "admin"})


# Helpers -------------------------------------------------------------------------------------


def create_at_once(hc: Any, prefix: str, count: int = STACKS) -> list[str]:
    """``count`` stacks POSTed together by as many client threads; their ids."""
    ids: list[str | None] = [None] * count
    failures: list[BaseException] = []

    def create(i: int) -> None:
        try:
            ids[i] = hc.stacks.create(stack_name=f"{prefix}-{i}", template=TEMPLATE)["stack"]["id"]
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CLIENT_TIMEOUT * 2)
    assert not failures, failures
    return [i for i in ids if i is not None]


def stack_states(hc: Any, prefix: str) -> dict[str, str]:
    """The stacks of ``prefix`` and their states; none while the API answers 503 (it has
    not reached an engine again yet after a cut)."""
    try:
        listed = list(hc.stacks.list())
    except heatclient_exc.HTTPServiceUnavailable:
        return {}
    return {s.stack_name: s.stack_status for s in listed if s.stack_name.startswith(prefix + "-")}


def wait_complete(guide: Guide, hc: Any, prefix: str, count: int = STACKS) -> dict[str, str]:
    """Every stack of ``prefix`` CREATE_COMPLETE (none failed, none left IN_PROGRESS)."""

    def settled(states: dict[str, str]) -> bool:
        return len(states) == count and all(not s.endswith("IN_PROGRESS") for s in states.values())

    try:
        states: dict[str, str] = wait_until(
            lambda: stack_states(hc, prefix), settled, SETTLE_TIMEOUT
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{guide.logs()[-30000:]}") from None
    failed = {
        s.stack_name: s.stack_status_reason
        for s in hc.stacks.list()
        if s.stack_name in states and s.stack_status != "CREATE_COMPLETE"
    }
    assert not failed, failed
    return states


def check_resources_once(guide: Guide, hc: Any, prefix: str) -> None:
    """Each stack has each of its resources once, all complete; and in the database no
    stack holds two rows of one resource name (nothing was created twice)."""
    for stack in hc.stacks.list():
        if not stack.stack_name.startswith(prefix + "-"):
            continue
        resources = hc.resources.list(stack.id)
        assert sorted(r.resource_name for r in resources) == TOP_RESOURCES
        assert {r.resource_status for r in resources} == {"CREATE_COMPLETE"}
        outputs = hc.stacks.get(stack.id).to_dict()["outputs"]
        assert [len(o["output_value"]) for o in outputs] == [32]
    engine = sa.create_engine(guide.database_url)
    try:
        with engine.connect() as conn:
            twice = conn.execute(
                sa.text(
                    "SELECT stack_id, name, COUNT(*) FROM resource "
                    "GROUP BY stack_id, name HAVING COUNT(*) > 1"
                )
            ).all()
            unfinished = conn.execute(
                sa.text("SELECT name, status FROM resource WHERE status = 'IN_PROGRESS'")
            ).all()
    finally:
        engine.dispose()
    assert not twice, twice
    assert not unfinished, unfinished


def engines_doing_work(guide: Guide, stack_ids: list[str]) -> dict[str, int]:
    """Nodes finished by each ``heat-engine`` process (by ``host/name``)."""
    process_of = {
        engine_id: key
        for key, daemon in guide.running.items()
        if guide.lines[key].kind == "heat-engine"
        for engine_id in engine_pids(daemon)
    }
    done: collections.Counter[str] = collections.Counter()
    for stack_id in stack_ids:
        for (engine_id, _attempts), count in node_claims(guide.database_url, stack_id).items():
            done[process_of.get(engine_id, engine_id)] += count
    return dict(done)


def services(admin_hc: Any) -> list[dict[str, Any]]:
    return [s.to_dict() for s in admin_hc.services.list()]


def restore_engine(guide: Guide, key: str) -> None:
    guide.start(key)
    wait_consumers(len(HOSTS) * ENGINES_PER_HOST * ENGINE_WORKERS)


@dataclass
class Prober:
    """Sends requests through HAProxy from several source addresses, one after the other,
    and keeps (time, source, what, outcome) of each: "ok", or what went wrong."""

    guide: Guide
    answers: list[tuple[float, str, str, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def probe(self, source: str) -> list[tuple[float, str, str, str]]:
        transport = httpx.HTTPTransport(local_address=source)
        seen = []
        with httpx.Client(transport=transport, timeout=CLIENT_TIMEOUT) as client:
            for what, url, expect in (
                ("rest", f"{self.guide.endpoint('probe')}/stacks", 200),
                # Unsigned: the CFN API itself answers that a signature is missing.
                ("cfn", f"{self.guide.cfn_url}?Action=ListStacks", 403),
            ):
                try:
                    response = client.get(url)
                    outcome = "ok" if response.status_code == expect else str(response.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                seen.append((time.monotonic(), source, what, outcome))
        return seen

    def _loop(self) -> None:
        while not self._stop.is_set():
            for source in SOURCES:
                self.answers += self.probe(source)

    def __enter__(self) -> Prober:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(CLIENT_TIMEOUT * 2)


# The sample ----------------------------------------------------------------------------------


def test_rest_and_cfn_creates_through_haproxy_share_every_engine(
    guide: Guide, hc: Any, admin_hc: Any, tmp_path: Path
) -> None:
    """python-heatclient creates 20 stacks at once and boto3 5, all through HAProxy; all
    complete, and each of the four heat-engine processes did part of the work."""
    key = make_key_pair(guide.controller_conf, "guide", "operator", cwd=tmp_path)
    cf = boto3_client(guide.cfn_url, key)
    cfn_names = [f"cfn-{i}" for i in range(CFN_STACKS)]
    body = json.dumps(TEMPLATE)
    cfn_ids = [cf.create_stack(StackName=n, TemplateBody=body)["StackId"] for n in cfn_names]
    ids = create_at_once(hc, "sample")
    wait_complete(guide, hc, "sample")
    waiter = cf.get_waiter("stack_create_complete")
    for name in cfn_names:
        waiter.wait(StackName=name, WaiterConfig=WAIT)
    described = cf.describe_stacks()["Stacks"]
    statuses = {s["StackName"]: s["StackStatus"] for s in described}
    assert {n: statuses.get(n) for n in cfn_names} == dict.fromkeys(cfn_names, "CREATE_COMPLETE")
    check_resources_once(guide, hc, "sample")
    stack_ids = ids + [hc.stacks.get(n).id for n in cfn_names]
    assert len(cfn_ids) == CFN_STACKS
    done = engines_doing_work(guide, stack_ids)
    assert set(done) == set(guide.engines()), done
    # One stack's work is shared by engines on both hosts.
    wide = {"heat_template_version": "2016-10-14", "resources": {}}
    wide["resources"] = {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(64)}
    created = hc.stacks.create(stack_name="wide", template=wide)["stack"]["id"]
    wait_stack(hc, created, "CREATE_COMPLETE", SETTLE_TIMEOUT)
    sharing = engines_doing_work(guide, [created])
    assert {key.split("/")[0] for key in sharing} == set(HOSTS), sharing
    # The services list names each engine worker, by the host its copy of heat.conf says.
    listed = services(admin_hc)
    up = [s for s in listed if s["status"] == "up"]
    assert len(up) == len(HOSTS) * ENGINES_PER_HOST * ENGINE_WORKERS, listed
    hosts = collections.Counter(s["host"] for s in up)
    assert hosts == dict.fromkeys(HOSTS, ENGINES_PER_HOST * ENGINE_WORKERS)
    wait_work_consumed()


def test_engine_killed_mid_creates(guide: Guide, hc: Any, admin_hc: Any, tmp_path: Path) -> None:
    """One heat-engine (its supervisor and both workers) SIGKILLed while 20 stacks are
    created: the services list shows its workers down within engine_life_check_timeout, the
    others carry its work on, and every stack completes with each resource made once."""
    victim = f"{HOSTS[0]}/heat-engine-1"
    victim_ids = set(engine_pids(guide.running[victim]))
    ids = create_at_once(hc, "killed")

    def some_progress() -> bool:
        claims = collections.Counter[tuple[str, int]]()
        for stack_id in ids:
            claims += node_claims(guide.database_url, stack_id)
        return any(engine in victim_ids for engine, _ in claims)

    wait_until(some_progress, bool, SETTLE_TIMEOUT, "the victim to have run part of the work")
    guide.kill(victim)
    killed_at = time.monotonic()

    def victim_down(listed: list[dict[str, Any]]) -> bool:
        return {s["engine_id"] for s in listed if s["status"] == "down"} >= victim_ids

    wait_until(lambda: services(admin_hc), victim_down, 60.0, "the killed engine down")
    reported = time.monotonic() - killed_at
    print(f"killed engine reported down after {reported:.2f}s")
    # As an operator sees it.
    cli = Cli(guide.endpoint(OPS_PROJECT), tmp_path)
    rows = cli.json("orchestration", "service", "list")
    status = {s["Engine ID"]: s["Status"] for s in rows}
    assert {status[e] for e in victim_ids} == {"down"}, rows
    up = (len(HOSTS) * ENGINES_PER_HOST - 1) * ENGINE_WORKERS
    assert list(status.values()).count("up") == up, rows
    wait_complete(guide, hc, "killed")
    check_resources_once(guide, hc, "killed")
    wait_work_consumed()
    restore_engine(guide, victim)


def test_killed_apis_are_routed_around(guide: Guide) -> None:
    """One heat-api and one heat-api-cfn SIGKILLed: once HAProxy's check has seen them go,
    every request succeeds (and, thanks to ``retries``/``redispatch``, most meanwhile)."""
    rest, cfn = f"{HOSTS[0]}/heat-api-1", f"{HOSTS[0]}/heat-api-cfn-1"
    with Prober(guide) as prober:
        wait_until(lambda: len(prober.answers), lambda n: n >= len(SOURCES) * 2, 60.0)
        guide.kill(rest)
        guide.kill(cfn)
        killed_at = time.monotonic()
        guide.proxy.wait_state("rest_api_proxy/rest-server-1", "DOWN")
        guide.proxy.wait_state("cfn_api_proxy/cfn-server-1", "DOWN")
        down_at = time.monotonic()
        count = len(prober.answers)
        wait_until(lambda: len(prober.answers), lambda n: n >= count + len(SOURCES) * 4, 60.0)
    between = [a for a in prober.answers if killed_at <= a[0] < down_at]
    after = [a for a in prober.answers if a[0] >= down_at]
    failed_between = [a for a in between if a[3] != "ok"]
    print(
        f"HAProxy saw the APIs down after {down_at - killed_at:.2f}s; "
        f"{len(failed_between)} of {len(between)} requests failed meanwhile: {failed_between}"
    )
    assert after and all(a[3] == "ok" for a in after), [a for a in after if a[3] != "ok"]
    assert {a[1] for a in after} == set(SOURCES)
    guide.start(rest)
    guide.start(cfn)
    guide.proxy.wait_state("rest_api_proxy/rest-server-1", "UP")
    guide.proxy.wait_state("cfn_api_proxy/cfn-server-1", "UP")


def _bad_answers(guide: Guide, stop: threading.Event, seen: list[Any]) -> None:
    """Lists stacks through HAProxy until ``stop``: each answer must be 200 or Heat's 503
    fault body, and come within the RPC timeout (no hang)."""
    while not stop.is_set():
        begun = time.monotonic()
        try:
            response = httpx.get(f"{guide.endpoint('killed')}/stacks", timeout=CLIENT_TIMEOUT)
            status: Any = response.status_code
            body = response.json() if status == 503 else None
        except httpx.HTTPError as exc:
            status, body = type(exc).__name__, None
        took = time.monotonic() - begun
        ok = status == 200 or (
            status == 503 and body and body.get("code") == 503 and body.get("title")
        )
        seen.append((status, took, bool(ok)))
        stop.wait(0.2)


@pytest.mark.parametrize("server", ["broker", "database"])
def test_cut_while_stacks_are_in_flight(guide: Guide, hc: Any, server: str) -> None:
    """Every connection to RabbitMQ (or the database) reset, and new ones refused, for 10 s
    while 20 stacks are being created: they all complete once it is back, none lost, none
    twice; meanwhile the API answers 200 or Heat's 503, never hangs."""
    relay = guide.broker if server == "broker" else guide.database
    prefix = f"cut-{server}"
    ids = create_at_once(hc, prefix)
    assert len(ids) == STACKS
    seen: list[Any] = []
    stop = threading.Event()
    lister = threading.Thread(target=_bad_answers, args=(guide, stop, seen), daemon=True)
    lister.start()
    with relay.cut("reset"):
        time.sleep(10.0)  # the cut itself: how long the server is out of reach
    wait_complete(guide, hc, prefix)
    stop.set()
    lister.join(CLIENT_TIMEOUT * 2)
    assert seen and all(ok for _, _, ok in seen), [s for s in seen if not s[2]]
    assert max(took for _, took, _ in seen) < CLIENT_TIMEOUT
    check_resources_once(guide, hc, prefix)
    wait_work_consumed()


# The guide's own files -----------------------------------------------------------------------

# The guide's sample apis-proxy.conf ("Setting Up HAProxy"), with only its addresses changed.
GUIDE_PROXY = """ global
    daemon
    maxconn 4000

defaults
    log  global
    maxconn  8000
    option  redispatch
    retries  3
    timeout  http-request 10s
    timeout  queue 1m
    timeout  connect 10s
    timeout  client 1m
    timeout  server 1m
    timeout  check 10s

listen rest_api_proxy
    bind {a}:8004
    balance  source
    option  tcpka
    option  httpchk
    server rest-server-1 {b}:8004
    server rest-server-2 {c}:8004

listen cfn_api_proxy
    bind {a}:8000
    balance  source
    option  tcpka
    option  httpchk
    server cfn-server-1 {b}:8000
    server cfn-server-2 {c}:8000
"""
GUIDE_A = "127.0.0.9"


def test_the_guides_own_apis_proxy_conf_works(guide: Guide, tmp_path: Path) -> None:
    """HAProxy started as the guide says, with the guide's file: heatclient and boto3 work
    through it unchanged."""
    conf = tmp_path / "apis-proxy.conf"
    conf.write_text(GUIDE_PROXY.format(a=GUIDE_A, b=HOSTS[0], c=HOSTS[1]), encoding="utf-8")
    proxy = Proxy.start(conf)
    try:
        hc = legacy_client(f"http://{GUIDE_A}:8004/v1/guide-file")
        created = hc.stacks.create(stack_name="through-the-guide", template=TEMPLATE)
        stack = wait_stack(hc, created["stack"]["id"], "CREATE_COMPLETE", SETTLE_TIMEOUT)
        assert len(stack.to_dict()["outputs"][0]["output_value"]) == 32
        key = make_key_pair(guide.controller_conf, "guide-file", "operator", cwd=tmp_path)
        cf = boto3_client(f"http://{GUIDE_A}:8000/v1/", key)
        names = [s["StackName"] for s in cf.list_stacks()["StackSummaries"]]
        assert names == ["through-the-guide"]
    finally:
        proxy.stop()


def _pgrep(name: str) -> set[int]:
    """What ``pkill NAME`` would signal (``pgrep`` matches as it does)."""
    done = subprocess.run(["pgrep", name], capture_output=True, text=True, check=False)
    return {int(p) for p in done.stdout.split()}


def test_start_and_stop_scripts_of_a_host(guide: Guide, tmp_path: Path) -> None:
    """A fourth host's ``start.sh`` starts its processes (each titled as Heat's, so that
    ``pkill heat-api`` finds the REST API and the CFN API, ``pkill heat-api-cfn`` only the
    CFN API); they serve; ``stop.sh`` stops them all."""
    host = "127.0.0.4"
    api_port, cfn_port = free_port(), free_port()
    argv = [sys.executable, str(ROOT / "bin" / "heat-manage")]
    argv += ["--config-file", str(guide.controller_conf), "scale-out", "--output", str(tmp_path)]
    argv += ["--host", f"{host}:apis=1,cfn-apis=1,engines=1", "--controller", "127.0.0.1"]
    argv += ["--api-port", str(api_port), "--cfn-port", str(cfn_port), "--engine-workers", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    scripts = tmp_path / host
    consumers = len(HOSTS) * ENGINES_PER_HOST * ENGINE_WORKERS
    started = subprocess.run(
        [str(scripts / "start.sh")], capture_output=True, text=True, timeout=60, check=False
    )
    assert started.returncode == 0, started.stderr
    pids = {p.stem: int(p.read_text()) for p in (scripts / "run").glob("*.pid")}
    try:
        assert sorted(pids) == ["heat-api-1", "heat-api-cfn-1", "heat-engine-1"]
        wait_health(f"http://{host}:{api_port}", 200)
        wait_health(f"http://{host}:{cfn_port}", 200)
        wait_consumers(consumers + 1)
        assert {pids["heat-api-1"], pids["heat-api-cfn-1"]} <= _pgrep("heat-api")
        assert pids["heat-api-cfn-1"] in _pgrep("heat-api-cfn")
        assert pids["heat-api-1"] not in _pgrep("heat-api-cfn")
        assert pids["heat-engine-1"] in _pgrep("heat-engine")
        listed = httpx.get(f"http://{host}:{api_port}/v1/scripts/stacks", timeout=CLIENT_TIMEOUT)
        assert (listed.status_code, listed.json()) == (200, {"stacks": []})
    finally:
        stopped = subprocess.run(
            [str(scripts / "stop.sh")], capture_output=True, text=True, timeout=60, check=False
        )
        wait_until(
            lambda: [p for p in pids.values() if Path(f"/proc/{p}").exists()],
            lambda alive: not alive,
            60.0,
            "the host's processes to stop",
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not list((scripts / "run").glob("*.pid"))
    wait_consumers(consumers)
