"""The event stream of a stack (``GET .../events/stream``, Server-Sent Events) on heat-all:
every event once, in order, nested stacks' too, and nothing missed across a reconnect."""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.api.conftest import HeatServer
from tests.api.event_stream_client import FINAL, is_final, sse_fields
from tests.api.helpers import need, wait_until

httpx = need("httpx")

SLOW = {"type": "OS::Heat::TestResource", "properties": {"action_wait_secs": {"create": 0.3}}}
TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "first": SLOW,
        "second": {**SLOW, "depends_on": ["first"]},
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "depends_on": ["first"],
            "properties": {"count": 2, "resource_def": SLOW},
        },
    },
}


class Follower:
    """Reads a stack's stream on a thread of its own until the stack's own final event (or
    ``stop_after`` events), keeping every event."""

    def __init__(
        self, url: str, last_event_id: str | None = None, stop_after: int | None = None
    ) -> None:
        self.url = url
        self.headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.stop_after = stop_after
        self.events: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=60.0) as response:
                assert response.status_code == 200, response.read()
                assert response.headers["content-type"].startswith("text/event-stream")
                self.connected.set()
                for fields in sse_fields(response.iter_lines()):
                    event = json.loads(fields["data"])
                    assert fields["id"] == event["id"]
                    self.events.append(event)
                    self.ids.append(fields["id"])
                    if self.stop_after is not None and len(self.events) >= self.stop_after:
                        return
                    if is_final(event, "streamed"):
                        return
        except BaseException as exc:  # seen by the test
            self.error = exc
            self.connected.set()

    def join(self) -> None:
        self.thread.join(90.0)
        assert not self.thread.is_alive(), "the stream did not end"
        assert self.error is None, self.error


def _link(event: dict[str, Any], rel: str) -> str:
    return str(next(link["href"] for link in event["links"] if link["rel"] == rel))


def _listed(endpoint: str, stack: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{endpoint}/stacks/{stack}/events",
        params={"nested_depth": 5, "sort_dir": "asc"},
        timeout=30.0,
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def test_a_followed_create_streams_every_event_once_in_order(heat_server: HeatServer) -> None:
    endpoint = heat_server.endpoint("streams")
    created = httpx.post(
        f"{endpoint}/stacks", json={"stack_name": "streamed", "template": TEMPLATE}, timeout=30.0
    )
    assert created.status_code == 201, created.text
    stack_id = created.json()["stack"]["id"]
    url = f"{endpoint}/stacks/streamed/{stack_id}/events/stream"
    whole = Follower(url)
    # A second follower reads a few events, leaves, and comes back with its last id.
    early = Follower(url, stop_after=3)
    early.join()
    whole.join()
    again = Follower(url, last_event_id=early.ids[-1])
    again.join()

    listed = _listed(endpoint, "streamed")
    assert whole.ids == [e["id"] for e in listed]  # all of them, once, in the stored order
    assert early.ids + again.ids == whole.ids  # nothing missed or repeated across a reconnect
    # Each resource's IN_PROGRESS comes before its COMPLETE; the group's members (in the
    # nested stack) are there, named by their own stack.
    seen: dict[tuple[str, str], list[str]] = {}
    for event in whole.events:
        key = (_link(event, "stack"), event["resource_name"])
        seen.setdefault(key, []).append(event["resource_status"])
    for statuses in seen.values():
        assert statuses.index("CREATE_IN_PROGRESS") < statuses.index("CREATE_COMPLETE")
    nested = [e for e in whole.events if stack_id not in _link(e, "stack")]
    assert {e["resource_name"] for e in nested} >= {"0", "1"}
    assert {_link(e, "root_stack").rsplit("/", 1)[1] for e in nested} == {stack_id}
    assert whole.events[-1]["resource_status"] == FINAL


def test_another_projects_stack_cannot_be_followed(heat_server: HeatServer) -> None:
    endpoint = heat_server.endpoint("streams-owner")
    created = httpx.post(
        f"{endpoint}/stacks", json={"stack_name": "private", "template": TEMPLATE}, timeout=30.0
    )
    assert created.status_code == 201
    stack_id = created.json()["stack"]["id"]
    other = heat_server.endpoint("streams-other")
    response = httpx.get(f"{other}/stacks/private/{stack_id}/events/stream", timeout=30.0)
    assert response.status_code == 404, response.text
    wait_until(
        lambda: httpx.get(f"{endpoint}/stacks/private/{stack_id}", timeout=30.0).json()["stack"][
            "stack_status"
        ],
        lambda s: s == FINAL,
        60.0,
    )
