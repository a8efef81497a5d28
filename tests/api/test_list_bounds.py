"""List queries take at most ``MAX_FILTER_VALUES`` values per filter (repeated parameters,
or the comma-separated tags of ``tags``/``tags_any``/``not_tags``/``not_tags_any``); more is
a 400 with Heat's fault body, where an unbounded query ran into a database's own limits
(SQLite's expression depth) and answered 500. Every filter at the bound at once is still
served, on each of the three databases, through a ``heat-all`` on each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ember.api.rest.schemas import LIST_FILTERS
from ember.db import migration
from tests.api.conftest import (
    HeatServer,
    free_port,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import NONE_DICT, need, wait_stack
from tests.backends import BACKENDS, ScratchDatabase, wipe

httpx = need("httpx")

MAX_FILTER_VALUES = 100  # as documented for list queries

TAGS = [f"tag-{i:03d}" for i in range(MAX_FILTER_VALUES)]
TAG_FILTERS = ("tags", "tags_any", "not_tags", "not_tags_any")
# Values each filter may be given that make sense for it; others take made-up strings.
VALUES = {
    "status": ["COMPLETE", "CREATE_COMPLETE", "IN_PROGRESS"],
    "stack_status": ["CREATE_COMPLETE", "CREATE_IN_PROGRESS"],
    "action": ["CREATE", "UPDATE"],
    "disable_rollback": ["true", "false"],
    "timeout_mins": ["1", "60"],
}


@pytest.fixture(scope="module", params=BACKENDS)
def lister(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeatServer]:
    """heat-all on SQLite, MariaDB or PostgreSQL."""
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"bounds-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'ember.sqlite'}"
    else:
        scratch: ScratchDatabase = request.getfixturevalue(f"{backend}_scratch")
        url = scratch.url
        wipe(url)
        migration.db_sync(url)
    port = free_port()
    conf = write_heat_conf(workdir, port, default="", connection=url)
    server = start_heat_all(workdir, conf, port)
    try:
        yield server
    finally:
        stop_heat_all(server)


@pytest.fixture(scope="module")
def listed(lister: HeatServer) -> Iterator[Any]:
    """A client whose project holds one stack carrying every tag of ``TAGS``."""
    with httpx.Client(base_url=lister.endpoint("bounds"), timeout=60.0) as client:
        created = client.post(
            "/stacks", json={"stack_name": "tagged", "template": NONE_DICT, "tags": TAGS}
        )
        assert created.status_code == 201, created.text
        hc = need("heatclient.client").Client("1", endpoint=lister.endpoint("bounds"), token="x")
        wait_stack(hc, "tagged", "CREATE_COMPLETE")
        yield client


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["stack_name"] for s in response.json()["stacks"]]


def query(pairs: list[tuple[str, str]]) -> str:
    """A query string as clients write it: commas left as they are."""
    return "&".join(f"{k}={v}" for k, v in pairs)


def test_each_tag_filter_takes_the_bound(listed: Any) -> None:
    joined = ",".join(TAGS)
    assert names(listed.get(f"/stacks?tags={joined}")) == ["tagged"]
    assert names(listed.get(f"/stacks?tags_any={joined}")) == ["tagged"]
    assert names(listed.get(f"/stacks?not_tags={joined}")) == []
    assert names(listed.get(f"/stacks?not_tags_any={joined}")) == []


def test_every_filter_at_the_bound_at_once_is_served(listed: Any) -> None:
    pairs = [(name, ",".join(TAGS)) for name in TAG_FILTERS]
    for name in LIST_FILTERS:
        choices = VALUES.get(name, [f"{name}-{i}" for i in range(MAX_FILTER_VALUES)])
        pairs += [(name, choices[i % len(choices)]) for i in range(MAX_FILTER_VALUES)]

    response = listed.get(f"/stacks?{query(pairs)}&with_count=true")

    assert response.status_code == 200, response.text
    assert response.json() == {"stacks": [], "count": 0}


@pytest.mark.parametrize("name", TAG_FILTERS)
@pytest.mark.parametrize("count", [MAX_FILTER_VALUES + 1, 10_000])
def test_more_tags_than_the_bound_is_400(listed: Any, name: str, count: int) -> None:
    tags = ",".join(str(i) for i in range(count))

    response = listed.get(f"/stacks?{name}={tags}")

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "HTTPBadRequest"
    assert error["message"] == (
        f"Too many values for {name!r}: {count} given, at most {MAX_FILTER_VALUES}."
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/stacks", "name"),
        ("/stacks", "status"),
        ("/stacks/tagged/resources", "type"),
        ("/stacks/tagged/events", "resource_status"),
    ],
)
def test_a_filter_repeated_beyond_the_bound_is_400(listed: Any, path: str, name: str) -> None:
    count = MAX_FILTER_VALUES + 1
    pairs = [(name, f"v{i}") for i in range(count)]

    response = listed.get(f"{path}?{query(pairs)}", follow_redirects=True)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"] == (
        f"Too many values for {name!r}: {count} given, at most {MAX_FILTER_VALUES}."
    )


def test_timeout_filter_compares_integers(listed: Any) -> None:
    assert names(listed.get("/stacks?timeout_mins=60&timeout_mins=1")) == []
    refused = listed.get("/stacks?timeout_mins=soon")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"] == "timeout_mins needs to be an integer"
