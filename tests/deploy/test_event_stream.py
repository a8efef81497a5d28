"""The event stream on the split deployment: heat-engine broadcasts what it commits over
RabbitMQ, each heat-api worker passes it on, and 100 followers of one stack each get every
event once (each resource's in order), with one engine call apiece (their first) and no
database query after it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.api.conftest import free_port
from tests.api.event_stream_client import read_stream
from tests.api.helpers import need
from tests.api.metrics_scrape import moved, scrape
from tests.deploy.conftest import Launcher, heat_conf, reset_broker, start_api, start_engine

httpx = need("httpx")

FOLLOWERS = 100
SLOW = {"type": "OS::Heat::TestResource", "properties": {"action_wait_secs": {"create": 0.5}}}
TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "first": SLOW,
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "depends_on": ["first"],
            "properties": {"count": 3, "resource_def": SLOW},
        },
        "last": {**SLOW, "depends_on": ["group"]},
    },
}


def _resource_of(event: dict[str, Any]) -> tuple[str, str]:
    stack = next(link["href"] for link in event["links"] if link["rel"] == "stack")
    return stack, event["resource_name"]


def _by_resource(
    ids: list[str], of_resource: dict[str, tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for event_id in ids:
        grouped.setdefault(of_resource[event_id], []).append(event_id)
    return grouped


async def _follow_all(url: str, name: str) -> list[list[str]]:
    limits = httpx.Limits(max_connections=FOLLOWERS + 10)
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:
        return list(
            await asyncio.gather(*(read_stream(client, url, name) for _ in range(FOLLOWERS)))
        )


def test_a_hundred_followers_on_the_split_deployment(launcher: Launcher, tmp_path: Path) -> None:
    reset_broker()
    port = free_port()
    sections = heat_conf(
        database_url=f"sqlite:///{tmp_path / 'ember.sqlite'}",
        port=port,
        engine_workers=2,
        api_workers=2,
    )
    conf = launcher.conf("heat.conf", sections)
    launcher.manage(conf, "db_sync")
    start_engine(launcher, conf, 2)
    api = start_api(launcher, conf, port, 2)
    endpoint = f"{api.url}/v1/followed"

    created = httpx.post(
        f"{endpoint}/stacks", json={"stack_name": "crowd", "template": TEMPLATE}, timeout=30.0
    )
    assert created.status_code == 201, created.text
    stack_id = created.json()["stack"]["id"]
    before = scrape(api.url)
    streams = asyncio.run(_follow_all(f"{endpoint}/stacks/crowd/{stack_id}/events/stream", "crowd"))
    after = scrape(api.url)

    listed = httpx.get(
        f"{endpoint}/stacks/crowd/{stack_id}/events",
        params={"nested_depth": 5, "sort_dir": "asc"},
        timeout=30.0,
    ).json()["events"]
    every = [e["id"] for e in listed]
    assert len(every) >= 12
    of_resource = {e["id"]: _resource_of(e) for e in listed}
    for ids in streams:
        # Every event once. Two engines commit concurrently, so the stream is in the order
        # their broadcasts arrive; each resource's own events come in the order listed.
        assert sorted(ids) == sorted(every)
        assert _by_resource(ids, of_resource) == _by_resource(every, of_resource)
    # One engine call per follower (reading what came before it followed), however many
    # events came after: the engines pushed those.
    calls = "ember_rpc_call_seconds_count"
    assert moved(before, after, calls, operation="list_events") == FOLLOWERS
    assert moved(before, after, calls) <= FOLLOWERS + 2  # and hardly anything else
