"""Kill points: heat-all killed with SIGKILL at seeded points of a create, of an update that
replaces group members and nested template resources, of a rollback and of a delete, then
started again. Whatever the point, the operation ends by itself and the whole tree holds:

- nothing IN_PROGRESS, in any stack or resource;
- exactly one row and one physical id per logical resource, and no row left replaced;
- every replaced resource deleted, once;
- events that agree with the rows: each resource's last event is its state, and no
  resource completed one action twice in one operation.

A kill point is "after the n-th event of the operation, plus a few milliseconds", both drawn
from the seed, so the points land in every phase (group members, nested stacks, clean-up)
without timing the service.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ember.db import migration
from ember.db.models import Event, Resource, Stack
from tests.api.conftest import (
    HeatServer,
    free_port,
    legacy_client,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)

MEMBERS = 6
WAITS = {"create": 0.05, "update": 0.05, "delete": 0.05}
NESTED = {
    "heat_template_version": "2016-10-14",
    "parameters": {"gen": {"type": "string"}},
    "resources": {
        name: {
            "type": "OS::Heat::TestResource",
            "properties": {
                "value": {"get_param": "gen"},
                "update_replace": True,
                "action_wait_secs": WAITS,
            },
        }
        for name in ("inner_a", "inner_b")
    },
    "outputs": {"value": {"value": {"get_attr": ["inner_a", "output"]}}},
}


def template(gen: str, *, count: int = MEMBERS, fail: bool = False) -> dict[str, Any]:
    """A group whose members are replaced when ``gen`` changes, a random string and a nested
    template's resources replaced with it, and a plain resource; ``fail`` adds a resource
    that fails, to make an update roll back."""
    resources: dict[str, Any] = {
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "properties": {
                "count": count,
                "resource_def": {
                    "type": "OS::Heat::TestResource",
                    "properties": {
                        "value": f"{gen}-%index%",
                        "update_replace": True,
                        "action_wait_secs": WAITS,
                    },
                },
            },
        },
        "random": {
            "type": "OS::Heat::RandomString",
            "properties": {"length": 8 + len(gen)},
        },
        "nested": {"type": "nested.yaml", "properties": {"gen": gen}},
        "plain": {
            "type": "OS::Heat::TestResource",
            "depends_on": ["group"],
            "properties": {"value": "plain", "action_wait_secs": WAITS},
        },
    }
    if fail:
        resources["broken"] = {
            "type": "OS::Heat::TestResource",
            "depends_on": ["nested"],
            "properties": {"fail": True, "action_wait_secs": {"create": 0.3}},
        }
    return {"heat_template_version": "2016-10-14", "resources": resources}


FILES = {"nested.yaml": json.dumps(NESTED)}


@dataclass
class Service:
    """heat-all on one SQLite file, started and killed at will."""

    workdir: Path
    conf: Path
    port: int
    url: str
    server: HeatServer | None = None

    def start(self) -> Any:
        self.server = start_heat_all(self.workdir, self.conf, self.port)
        return legacy_client(self.server.endpoint("crash-points"))

    def kill(self) -> None:
        assert self.server is not None
        self.server.process.kill()
        self.server.process.wait(10)

    def stop(self) -> None:
        if self.server is not None:
            stop_heat_all(self.server)

    def log(self) -> str:
        """The stacks' states and the service's log, for a failure's message."""
        stacks = [
            f"{s.name} {s.action}_{s.status}: {s.status_reason}" for s in rows(self.url, Stack)
        ]
        failed = [
            f"{r.name} {r.action}_{r.status}: {r.status_reason}"
            for r in rows(self.url, Resource)
            if r.status == "FAILED"
        ]
        text = self.server.output()[-4000:] if self.server else ""
        return "\n".join([*stacks, *failed, text])


@pytest.fixture
def service(tmp_path: Path) -> Any:
    port = free_port()
    conf = write_heat_conf(tmp_path, port)
    url = f"sqlite:///{tmp_path / 'ember.sqlite'}"
    migration.db_sync(url)
    svc = Service(tmp_path, conf, port, url)
    yield svc
    svc.stop()


def rows(url: str, model: Any) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(model)).all())
    finally:
        engine.dispose()


def events_since(url: str, mark: int) -> list[Any]:
    return [e for e in rows(url, Event) if e.id > mark]


def last_event_id(url: str) -> int:
    return max((e.id for e in rows(url, Event)), default=0)


def wait(what: str, check: Callable[[], Any], svc: Service, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if svc.server is not None and svc.server.process.poll() is not None:
            raise AssertionError(f"heat-all exited while waiting for {what}:\n{svc.log()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{svc.log()}")


def kill_at(svc: Service, rng: random.Random, stack_id: str, mark: int, events: int) -> None:
    """SIGKILL heat-all after the operation has recorded a seeded number of its events (at
    most ``events``), plus a seeded few milliseconds; or once the stack has settled, when
    what was left of the operation had fewer events than that."""
    nth = rng.randint(1, events)

    def reached() -> bool:
        [stack] = [s for s in rows(svc.url, Stack) if s.id == stack_id]
        return len(events_since(svc.url, mark)) >= nth or stack.status != "IN_PROGRESS"

    wait(f"{nth} events", reached, svc)
    time.sleep(rng.uniform(0.0, 0.15))
    svc.kill()


def settled(svc: Service, stack_id: str, expected: str) -> str:
    """Wait for the stack to reach ``expected``; the state it is in at the deadline."""

    def state() -> str:
        [stack] = [s for s in rows(svc.url, Stack) if s.id == stack_id]
        return f"{stack.action}_{stack.status}"

    deadline = time.monotonic() + 120.0
    while (found := state()) != expected and time.monotonic() < deadline:
        if svc.server is not None and svc.server.process.poll() is not None:
            break
        time.sleep(0.05)
    return found


def check_tree(url: str, mark: int, expect_rows: int | None, *, once: bool = True) -> None:
    """The invariants of the module docstring over every stack of the tree."""
    stacks = [s for s in rows(url, Stack) if s.deleted_at is None]
    busy = [(s.name, s.action, s.status) for s in stacks if s.status == "IN_PROGRESS"]
    assert not busy, f"stacks left in progress: {busy}"
    live = {s.id for s in stacks}
    resources = rows(url, Resource)
    stray = [(r.name, r.stack_id) for r in resources if r.stack_id not in live]
    assert not stray, f"resources of deleted stacks: {stray}"
    stuck = [(r.name, r.action, r.status) for r in resources if r.status == "IN_PROGRESS"]
    assert not stuck, f"resources left in progress: {stuck}"
    replaced = [(r.name, r.action, r.status) for r in resources if r.replaced_by is not None]
    assert not replaced, f"replaced resources not deleted: {replaced}"
    names = Counter((r.stack_id, r.name) for r in resources)
    twice = {key: n for key, n in names.items() if n > 1}
    assert not twice, f"logical resources with more than one row: {twice}"
    physical = [r.physical_resource_id for r in resources if r.physical_resource_id]
    assert len(physical) == len(set(physical)), Counter(physical).most_common(3)
    if expect_rows is not None:
        assert len(resources) == expect_rows, [(r.stack_id, r.name) for r in resources]

    events = events_since(url, mark)
    by_physical: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.id):
        if event.physical_resource_id and event.resource_name != _stack_name(stacks, event):
            by_physical[(event.stack_id, event.physical_resource_id)].append(event)
    for resource in resources:
        history = by_physical.get((resource.stack_id, resource.physical_resource_id or ""))
        if history:
            last = history[-1]
            assert (last.resource_action, last.resource_status) == (
                resource.action,
                resource.status,
            ), (resource.name, [(e.resource_action, e.resource_status) for e in history])
    completed = Counter(
        (key, e.resource_action)
        for key, history in by_physical.items()
        for e in history
        if e.resource_status == "COMPLETE"
    )
    again = {key: n for key, n in completed.items() if n > 1}
    # A rollback updates in place back again: twice is right there.
    assert not (once and again), "an action completed twice for one resource: " + repr(
        {
            key: [(e.resource_action, e.resource_status, e.resource_status_reason) for e in h]
            for key, h in by_physical.items()
            if any(k == key for k, _ in again)
        }
    )
    for (_stack, physical_id), history in by_physical.items():
        actions = [e.resource_action for e in history]
        if physical_id not in {r.physical_resource_id for r in resources}:
            # Gone from the rows: it was deleted, and its last word says so.
            assert history[-1].resource_action == "DELETE", (physical_id, actions)
            assert history[-1].resource_status == "COMPLETE", (physical_id, actions)


def _stack_name(stacks: list[Any], event: Any) -> str:
    return next((s.name for s in stacks if s.id == event.stack_id), "")


# Rows of the whole tree when the stack is complete: group, random, nested, plain (4) +
# members + the nested template's two (+ "broken" when it exists).
TREE = 4 + MEMBERS + 2


@pytest.mark.parametrize("seed", range(4))
def test_kill_points(service: Service, seed: int) -> None:
    """Five kill points per seed, one in each operation and a second one during recovery of
    the update: 20 in all."""
    rng = random.Random(seed)
    hc = service.start()

    # Create.
    mark = last_event_id(service.url)
    stack_id = hc.stacks.create(stack_name="points", template=template("a"), files=FILES)["stack"][
        "id"
    ]
    kill_at(service, rng, stack_id, mark, TREE + 4)
    hc = service.start()
    assert settled(service, stack_id, "CREATE_COMPLETE") == "CREATE_COMPLETE", service.log()
    check_tree(service.url, mark, TREE)

    # Update replacing odd members, the random string and the nested template's resources;
    # killed twice, the second time while the first kill's work is being carried on.
    mark = last_event_id(service.url)
    hc.stacks.update(
        stack_id, template=template("bb", count=MEMBERS + 2), files=FILES, existing=False
    )
    kill_at(service, rng, stack_id, mark, 12)
    hc = service.start()
    kill_at(service, rng, stack_id, last_event_id(service.url), 6)
    hc = service.start()
    assert settled(service, stack_id, "UPDATE_COMPLETE") == "UPDATE_COMPLETE", service.log()
    check_tree(service.url, mark, TREE + 2)

    # An update that fails and rolls back; killed during it.
    mark = last_event_id(service.url)
    hc.stacks.update(
        stack_id,
        template=template("ccc", count=MEMBERS - 1, fail=True),
        files=FILES,
        disable_rollback=False,
    )
    kill_at(service, rng, stack_id, mark, 14)
    hc = service.start()
    assert settled(service, stack_id, "ROLLBACK_COMPLETE") == "ROLLBACK_COMPLETE", service.log()
    check_tree(service.url, mark, TREE + 2, once=False)

    # Delete.
    mark = last_event_id(service.url)
    hc.stacks.delete(stack_id)
    kill_at(service, rng, stack_id, mark, TREE)
    service.start()
    assert settled(service, stack_id, "DELETE_COMPLETE") == "DELETE_COMPLETE", service.log()
    check_tree(service.url, mark, 0)
