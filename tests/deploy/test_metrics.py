"""``GET /metrics`` of heat-api and heat-api-cfn running several workers: whichever worker
answers the scrape, it counts every worker's requests (prometheus_client's multiprocess
mode, in a directory the supervisor makes and removes)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.conftest import free_port, legacy_client
from tests.api.helpers import need, wait_stack, wait_until
from tests.api.metrics_scrape import moved, scrape, total
from tests.deploy.conftest import (
    Daemon,
    Launcher,
    changed,
    heat_conf,
    module_command,
    reset_broker,
    start_api,
    start_engine,
    wait_health,
)

httpx = need("httpx")

WORKERS = 2
REQUESTS = 24
STACKS, RESOURCES = 4, 5


def strings(count: int) -> dict[str, object]:
    return {
        "heat_template_version": "2016-10-14",
        "resources": {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(count)},
    }


def _metrics_dir(daemon: Daemon) -> Path:
    """The directory a supervisor's workers keep their metrics in, as it logged it."""
    found = re.search(r"workers keep their metrics in (\S+)", daemon.output())
    assert found, f"no metrics directory logged\n{daemon.describe()}"
    return Path(found.group(1))


def _fresh_connections(url: str, count: int) -> list[int]:
    """``count`` requests, each on a connection of its own (so each worker gets some)."""
    return [httpx.get(url, timeout=30.0).status_code for _ in range(count)]


def test_every_workers_requests_are_counted(launcher: Launcher, tmp_path: Path) -> None:
    reset_broker()
    port, cfn_port = free_port(), free_port()
    sections = heat_conf(
        database_url=f"sqlite:///{tmp_path / 'ember.sqlite'}",
        port=port,
        engine_workers=1,
        api_workers=WORKERS,
    )
    sections = changed(
        sections, heat_api_cfn={"bind_host": "127.0.0.1", "bind_port": cfn_port, "workers": 2}
    )
    conf = launcher.conf("heat.conf", sections)
    launcher.manage(conf, "db_sync")
    start_engine(launcher, conf, 1)
    api = start_api(launcher, conf, port, WORKERS)
    cfn = launcher.start("heat-api-cfn", module_command("ember.cmd.api_cfn", conf), cfn_port)
    cfn.wait_ready(WORKERS)
    wait_health(cfn.url, 200)

    before = scrape(api.url)
    codes = _fresh_connections(f"{api.url}/v1/metrics/stacks", REQUESTS)
    assert set(codes) == {200}
    after = scrape(api.url)
    route = {"service": "heat-api", "route": "/v1/{tenant_id}/stacks", "method": "GET"}
    assert moved(before, after, "ember_api_requests_total", status="200", **route) == REQUESTS
    assert moved(before, after, "ember_api_request_seconds_count", **route) == REQUESTS
    assert moved(before, after, "ember_rpc_call_seconds_count", outcome="ok") >= REQUESTS
    # Both workers answered some of them, and each kept its own file.
    directory = _metrics_dir(api)
    workers = {p.pid for p in api.children()}
    recorded = {int(f.stem.rsplit("_", 1)[1]) for f in directory.glob("counter_*.db")}
    assert workers <= recorded, (workers, recorded)

    before = scrape(cfn.url)
    codes = _fresh_connections(f"{cfn.url}/v1/?Action=ListStacks", REQUESTS)
    assert set(codes) == {403}  # unsigned: the API itself answers
    after = scrape(cfn.url)
    cfn_route = {"service": "heat-api-cfn", "route": "/v1/", "method": "GET", "status": "403"}
    assert moved(before, after, "ember_api_requests_total", **cfn_route) == REQUESTS

    api.stop()
    assert not directory.exists(), "the supervisor leaves its metrics directory behind"


def test_heat_engine_serves_every_workers_metrics(launcher: Launcher, tmp_path: Path) -> None:
    """heat-engine has no API port: ``[heat_engine] metrics_bind_port`` is where its
    supervisor serves what all its workers count."""
    reset_broker()
    port, metrics_port = free_port(), free_port()
    sections = heat_conf(
        database_url=f"sqlite:///{tmp_path / 'ember.sqlite'}",
        port=port,
        engine_workers=WORKERS,
        api_workers=1,
    )
    sections = changed(sections, heat_engine={"metrics_bind_port": metrics_port})
    conf = launcher.conf("heat.conf", sections)
    launcher.manage(conf, "db_sync")
    engine = start_engine(launcher, conf, WORKERS)
    api = start_api(launcher, conf, port, 1)
    engine_url = f"http://127.0.0.1:{metrics_port}"
    before = scrape(engine_url)

    hc = legacy_client(f"{api.url}/v1/metrics-engine")
    names = [f"strings-{i}" for i in range(STACKS)]
    for name in names:
        hc.stacks.create(stack_name=name, template=strings(RESOURCES))
    for name in names:
        wait_stack(hc, name, "CREATE_COMPLETE", timeout=120)

    after = scrape(engine_url)
    made = {"resource_type": "OS::Heat::RandomString", "action": "CREATE"}
    assert moved(before, after, "ember_nodes_claimed_total", **made) == STACKS * RESOURCES
    assert (
        moved(before, after, "ember_nodes_finished_total", outcome="complete", **made)
        == STACKS * RESOURCES
    )
    assert moved(before, after, "ember_traversals_finished_total") == STACKS
    assert moved(before, after, "ember_traversal_seconds_count", action="CREATE") == STACKS
    assert moved(before, after, "ember_traversal_seconds_sum", action="CREATE") > 0
    # Counted by each heartbeat: the first comes an interval after the engine starts.
    wait_until(
        lambda: total(scrape(engine_url), "ember_engines_alive"),
        lambda alive: alive >= WORKERS,
        60.0,
        "the engines counted alive",
    )
    assert total(after, "ember_db_transaction_seconds_count") > total(
        before, "ember_db_transaction_seconds_count"
    )
    directory = _metrics_dir(engine)
    engine.stop()
    assert not directory.exists(), "the supervisor leaves its metrics directory behind"
