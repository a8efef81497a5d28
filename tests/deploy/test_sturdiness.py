"""Killed workers: the supervisors start new ones, and the work of a killed engine is carried
on by the others once its heartbeats stop (three missed beats of two seconds)."""

from __future__ import annotations

import collections
import os
import signal
from typing import Any

import pytest

from tests.api.conftest import free_port
from tests.api.helpers import NONE_DICT as NOTHING
from tests.api.helpers import need, wait_stack, wait_until
from tests.deploy.conftest import (
    API_WORKERS,
    ENGINE_WORKERS,
    Daemon,
    Deployment,
    Launcher,
    Pid,
    changed,
    engine_pids,
    module_command,
    node_claims,
    publish_work,
    resource_engine,
    wait_consumers,
    wait_health,
    wait_work_consumed,
    work_messages,
)

httpx = need("httpx")

MEMBERS = 200
# Each member takes three seconds to create, so the kill lands while they run.
SLOW_GROUP = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "properties": {
                "count": MEMBERS,
                "resource_def": {
                    "type": "OS::Heat::TestResource",
                    "properties": {"value": "v%index%", "action_wait_secs": {"create": 3}},
                },
            },
        }
    },
    "outputs": {"values": {"value": {"get_attr": ["group", "output"]}}},
}
# Replacing a dead worker waits QUICK_DEATH (5 s) when it died young; then it starts.
REPLACE_TIMEOUT = 20.0


def replaced(daemon: Daemon, killed: Pid, count: int) -> list[Pid]:
    """Wait until ``daemon`` runs ``count`` workers again, none of them ``killed``."""

    def done(workers: list[Pid]) -> bool:
        return len(workers) == count and killed not in workers

    try:
        return wait_until(
            daemon.children, done, REPLACE_TIMEOUT, f"{count} {daemon.name} workers, {killed} gone"
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{daemon.describe()}") from None


def engines_reported(hc: Any, deployment: Deployment, down: int = 0) -> list[Any]:
    """Wait until every engine worker consumes work and the services list reports
    ``ENGINE_WORKERS`` of them up and at least ``down`` down (a killed worker is down once it
    has missed its heartbeats; a new one is up once it has registered); those services."""

    def counted(services: list[Any]) -> bool:
        ups = sum(s.status == "up" for s in services)
        downs = sum(s.status == "down" for s in services)
        return ups == ENGINE_WORKERS and downs >= down

    try:
        wait_consumers(ENGINE_WORKERS)
        return list(
            wait_until(
                hc.services.list,
                counted,
                REPLACE_TIMEOUT,
                f"{ENGINE_WORKERS} engine services up and at least {down} down",
            )
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{deployment.logs()}") from None


def test_duplicate_work_message_runs_once(deployment: Deployment, hc: Any) -> None:
    """RabbitMQ delivers at least once (again after a reconnect, say): a node whose message
    arrives twice, while it runs, still runs once."""
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "slow": {
                "type": "OS::Heat::TestResource",
                "properties": {"action_wait_secs": {"create": 2}},
            }
        },
    }
    stack_id = hc.stacks.create(stack_name="twice", template=template)["stack"]["id"]
    wait_until(
        lambda: hc.resources.get(stack_id, "slow").resource_status,
        lambda status: status == "CREATE_IN_PROGRESS",
    )
    [message] = work_messages(deployment.database_url, stack_id)
    # One copy for each engine: the broker hands them out round-robin.
    publish_work([message] * ENGINE_WORKERS)

    wait_stack(hc, stack_id, "CREATE_COMPLETE")
    # Both copies handed out and acknowledged: a second run of the node, had one started,
    # would hold its message unacknowledged until its outcome (and event) was committed.
    wait_work_consumed()
    events = [(e.resource_name, e.resource_status) for e in hc.events.list(stack_id)]
    assert events.count(("slow", "CREATE_COMPLETE")) == 1, events
    assert events.count(("twice", "CREATE_COMPLETE")) == 1, events
    claims = node_claims(deployment.database_url, stack_id)
    assert {attempts for _engine, attempts in claims} == {1}, claims


@pytest.mark.parametrize(
    "victim",
    ["member-worker", "group-worker"],
)
def test_killed_engine_worker_loses_no_work(
    deployment: Deployment, hc: Any, admin_hc: Any, victim: str
) -> None:
    """SIGKILL a worker while it creates members of a group: ``member-worker`` runs only
    members, ``group-worker`` also runs the group resource waiting on its nested stack."""
    engine = deployment.engine
    workers = engine.children()
    assert len(workers) == ENGINE_WORKERS, deployment.logs()
    # A worker started in place of one killed by an earlier test takes work only once it
    # consumes the work queue and beats.
    engines_reported(admin_hc, deployment)
    name = f"sturdy-{victim}"
    created = hc.stacks.create(stack_name=name, template=SLOW_GROUP)
    stack_id = created["stack"]["id"]

    def running() -> int:
        members = hc.resources.list(stack_id, nested_depth=1)
        return sum(r.resource_status == "CREATE_IN_PROGRESS" for r in members)

    wait_until(running, lambda count: count >= MEMBERS * 3 // 4, 30.0)
    group_engine = resource_engine(deployment.database_url, stack_id, "group")
    pids = engine_pids(engine)
    assert group_engine in pids, (group_engine, pids)
    chosen = [w for w in workers if (pids[group_engine] == w.pid) == (victim == "group-worker")]
    assert len(chosen) == 1, (workers, pids, group_engine)
    killed = chosen[0]
    os.kill(killed.pid, signal.SIGKILL)

    stack = wait_stack(hc, stack_id, "CREATE_COMPLETE", 90.0)
    values = {o["output_key"]: o["output_value"] for o in stack.outputs}["values"]
    assert values == [f"v{i}" for i in range(MEMBERS)]
    # The supervisor started a new worker; the killed one is reported down.
    fresh = replaced(engine, killed, ENGINE_WORKERS)
    assert f"heat-engine worker {killed.pid} was killed by signal 9" in engine.output()
    services = engines_reported(admin_hc, deployment, down=1)
    assert sum(s.status == "up" for s in services) == ENGINE_WORKERS, [
        s.to_dict() for s in services
    ]
    assert sum(s.status == "down" for s in services) >= 1
    assert len(fresh) == ENGINE_WORKERS
    # The killed worker had claimed members; another engine ran them again.
    claims = node_claims(deployment.database_url, stack_id)
    rerun = sum(n for (_engine, attempts), n in claims.items() if attempts > 1)
    assert rerun > 0, claims

    resources = hc.resources.list(stack_id, nested_depth=1)
    assert len(resources) == MEMBERS + 1
    physical = [r.physical_resource_id for r in resources if r.resource_name != "group"]
    assert len(set(physical)) == MEMBERS
    events = hc.events.list(stack_id, nested_depth=1)
    assert not [e for e in events if e.resource_status.endswith("FAILED")], [
        (e.resource_name, e.resource_status, e.resource_status_reason)
        for e in events
        if e.resource_status.endswith("FAILED")
    ]
    statuses = collections.Counter(r.resource_status for r in resources)
    assert statuses == {"CREATE_COMPLETE": MEMBERS + 1}
    nested = hc.stacks.get(physical_of(resources, "group"), resolve_outputs=False)
    assert nested.stack_status == "CREATE_COMPLETE", nested.stack_status_reason
    completions = collections.Counter(
        e.resource_name for e in events if e.resource_status == "CREATE_COMPLETE"
    )
    members = {name: n for name, n in completions.items() if name.isdigit()}
    assert members == {str(i): 1 for i in range(MEMBERS)}, "created once each"


def physical_of(resources: list[Any], name: str) -> str:
    return str(next(r.physical_resource_id for r in resources if r.resource_name == name))


def test_killed_api_worker_is_replaced(deployment: Deployment, hc: Any) -> None:
    api = deployment.api
    workers = api.children()
    assert len(workers) == API_WORKERS, deployment.logs()
    victim = workers[-1]
    os.kill(victim.pid, signal.SIGKILL)
    wait_until(victim.alive, lambda alive: not alive, 10.0)

    # The other worker answers meanwhile, and so does the new one with it.
    answered = []

    def answer_then_count() -> int:
        answered.append(httpx.get(f"{api.url}/healthcheck", timeout=10.0).status_code)
        return len(api.children())

    wait_until(
        answer_then_count,
        lambda count: count == API_WORKERS,
        REPLACE_TIMEOUT,
        f"{API_WORKERS} heat-api workers again",
    )
    fresh = replaced(api, victim, API_WORKERS)
    # The new worker says it is ready once it has reached the broker and serves.
    api.wait_ready(API_WORKERS + 1)
    assert set(answered) == {200}, answered
    assert f"heat-api worker {victim.pid} was killed by signal 9" in api.output()
    assert api.output().count("heat-api ready") == API_WORKERS + 1

    created = hc.stacks.create(stack_name="after-kill", template=NOTHING)
    assert wait_stack(hc, "after-kill", "CREATE_COMPLETE").id == created["stack"]["id"]
    statuses = [httpx.get(f"{api.url}/healthcheck", timeout=10.0).status_code for _ in range(10)]
    assert statuses == [200] * 10
    assert workers[0] in fresh, "the surviving worker was left alone"


def test_sigterm_stops_api_and_all_its_workers(deployment: Deployment, launcher: Launcher) -> None:
    port = free_port()
    conf = launcher.conf(
        "api.conf", changed(deployment.sections, heat_api={"bind_port": port, "workers": 3})
    )
    api = launcher.start("heat-api", module_command("ember.cmd.api", conf), port)
    api.wait_ready(3)
    wait_health(api.url, 200)
    workers = api.children()
    assert len(workers) == 3, api.describe()

    api.stop()  # SIGTERM: exits 0 within the time limit, leaving no worker behind

    assert not [w for w in workers if w.alive()]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api.url}/healthcheck", timeout=5.0)
    # The deployment's own API was not disturbed.
    assert httpx.get(f"{deployment.api.url}/healthcheck", timeout=10.0).status_code == 200
