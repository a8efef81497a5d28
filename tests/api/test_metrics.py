"""``GET /metrics`` of heat-all during real work: the counters move by what was done."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import HeatServer
from tests.api.helpers import need, wait_until
from tests.api.metrics_scrape import label_values, moved, scrape

httpx = need("httpx")

COUNT = 7
TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "resources": {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(COUNT)},
}
STACKS_ROUTE = "/v1/{tenant_id}/stacks"


def _complete(endpoint: str, stack: str) -> Any:
    return wait_until(
        lambda: httpx.get(f"{endpoint}/stacks/{stack}", timeout=30.0, follow_redirects=True).json()[
            "stack"
        ],
        lambda s: s["stack_status"] == "CREATE_COMPLETE",
        60.0,
        f"{stack} complete",
    )


def test_a_create_moves_each_counter_by_what_it_did(heat_server: HeatServer) -> None:
    endpoint = heat_server.endpoint("metrics")
    before = scrape(heat_server.url)
    created = httpx.post(
        f"{endpoint}/stacks", json={"stack_name": "counted", "template": TEMPLATE}, timeout=30.0
    )
    assert created.status_code == 201, created.text
    _complete(endpoint, "counted")
    missing = httpx.get(f"{endpoint}/stacks/no-such-stack", timeout=30.0)
    assert missing.status_code == 404
    after = scrape(heat_server.url)

    assert label_values(after, "ember_api_requests_total", "route") >= {STACKS_ROUTE}
    requests = "ember_api_requests_total"
    assert moved(before, after, requests, route=STACKS_ROUTE, method="POST", status="201") == 1
    assert moved(before, after, requests, method="GET", status="404") >= 1
    # Every stack name is one route, not a series of its own.
    assert not any("counted" in r for r in label_values(after, requests, "route"))
    assert (
        moved(before, after, "ember_api_request_seconds_count", route=STACKS_ROUTE, method="POST")
        == 1
    )
    finished = "ember_nodes_finished_total"
    kind = {"resource_type": "OS::Heat::RandomString", "action": "CREATE"}
    assert moved(before, after, finished, outcome="complete", **kind) == COUNT
    assert moved(before, after, finished, outcome="failed", **kind) == 0
    assert moved(before, after, "ember_nodes_claimed_total", **kind) == COUNT
    assert moved(before, after, "ember_traversals_finished_total") >= 1
    assert (
        moved(before, after, "ember_rpc_call_seconds_count", operation="create_stack", outcome="ok")
        == 1
    )
    assert moved(before, after, "ember_db_transaction_seconds_count", kind="write") > 0
    assert moved(before, after, "ember_db_transaction_seconds_count", kind="read") > 0
