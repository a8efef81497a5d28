"""Two projects on one service cannot see or touch each other's stacks, whichever client
they use and however they name the stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import OPENSTACK, Cli, HeatServer, require, session_client
from tests.api.helpers import NONE_DICT, need, wait_until

httpx = need("httpx")
exc = need("heatclient.exc")


def client_for(server: HeatServer, path_project: str, header_project: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.endpoint(path_project),
        headers={"X-Auth-Project": header_project},
        timeout=30.0,
    )


@pytest.fixture(scope="module")
def p1(heat_server: HeatServer) -> Iterator[httpx.Client]:
    with client_for(heat_server, "p1", "p1") as client:
        yield client


@pytest.fixture(scope="module")
def p2(heat_server: HeatServer) -> Iterator[httpx.Client]:
    with client_for(heat_server, "p2", "p2") as client:
        yield client


def create(client: httpx.Client, name: str) -> str:
    response = client.post("/stacks", json={"stack_name": name, "template": NONE_DICT})
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    wait_until(
        lambda: client.get(location).json()["stack"]["stack_status"],
        lambda s: s == "CREATE_COMPLETE",
    )
    return location


@pytest.fixture(scope="module")
def stacks(p1: httpx.Client, p2: httpx.Client) -> dict[str, str]:
    """Canonical paths (after ``/v1/<project>``) of each project's stacks."""
    made = {
        "p1-only": create(p1, "p1-only"),
        "p1-same": create(p1, "same-name"),
        "p2-only": create(p2, "p2-only"),
        "p2-same": create(p2, "same-name"),
    }
    return {key: "/stacks/" + url.split("/stacks/", 1)[1] for key, url in made.items()}


def test_each_project_lists_only_its_own_stacks(
    p1: httpx.Client, p2: httpx.Client, stacks: dict[str, str]
) -> None:
    listed_1 = {s["stack_name"]: s["id"] for s in p1.get("/stacks").json()["stacks"]}
    listed_2 = {s["stack_name"]: s["id"] for s in p2.get("/stacks").json()["stacks"]}

    assert set(listed_1) == {"p1-only", "same-name"}
    assert set(listed_2) == {"p2-only", "same-name"}
    assert listed_1["same-name"] != listed_2["same-name"]
    assert stacks["p1-same"].endswith(listed_1["same-name"])


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
def test_another_projects_stack_is_404_by_name_and_by_id(
    p2: httpx.Client, stacks: dict[str, str], method: str
) -> None:
    stack_id = stacks["p1-only"].rsplit("/", 1)[1]
    body = {"template": NONE_DICT} if method in ("PUT", "PATCH") else None

    by_name = p2.request(method, "/stacks/p1-only", json=body)
    by_id = p2.request(method, f"/stacks/{stack_id}", json=body)
    canonical = p2.request(method, stacks["p1-only"], json=body)

    for response in (by_name, by_id, canonical):
        assert response.status_code == 404, (method, response.status_code, response.text)
        assert response.json()["error"]["type"] == "EntityNotFound"


@pytest.mark.parametrize(
    ("method", "sub", "body"),
    [
        ("GET", "/resources", None),
        ("GET", "/events", None),
        ("GET", "/outputs", None),
        ("GET", "/template", None),
        ("GET", "/snapshots", None),
        ("POST", "/actions", {"suspend": None}),
        ("POST", "/snapshots", {"name": "stolen"}),
        ("GET", "/resources/nothing", None),
        ("POST", "/resources/nothing/signal", {}),
        ("DELETE", "/abandon", None),
    ],
)
def test_another_projects_stack_parts_are_404(
    p2: httpx.Client, stacks: dict[str, str], method: str, sub: str, body: Any
) -> None:
    response = p2.request(method, stacks["p1-only"] + sub, json=body)

    assert response.status_code == 404, response.text


def test_same_name_resolves_within_the_callers_project(
    p1: httpx.Client, p2: httpx.Client, stacks: dict[str, str]
) -> None:
    from_1 = p1.get("/stacks/same-name")
    from_2 = p2.get("/stacks/same-name")

    assert from_1.headers["location"].endswith(f"/v1/p1{stacks['p1-same']}")
    assert from_2.headers["location"].endswith(f"/v1/p2{stacks['p2-same']}")


def test_a_path_project_other_than_the_callers_reaches_nothing_of_it(
    heat_server: HeatServer, p1: httpx.Client, stacks: dict[str, str]
) -> None:
    """A p1 caller using p2's path is refused (403) or, as Heat's noauth admin, treated as
    p1: either way it neither sees nor deletes p2's stacks."""
    with client_for(heat_server, "p2", "p1") as crossed:
        listed = crossed.get("/stacks")
        shown = crossed.get(stacks["p2-only"])
        deleted = crossed.delete(stacks["p2-only"])
        by_name = crossed.get("/stacks/p2-only")

    assert listed.status_code in (200, 403)
    if listed.status_code == 200:
        names = {s["stack_name"] for s in listed.json()["stacks"]}
        assert "p2-only" not in names
    for response in (shown, deleted, by_name):
        assert response.status_code in (403, 404), response.text
    survivor = httpx.get(
        f"{heat_server.endpoint('p2')}{stacks['p2-only']}", headers={"X-Auth-Project": "p2"}
    )
    assert survivor.json()["stack"]["stack_status"] == "CREATE_COMPLETE"
    assert p1.get(stacks["p1-only"]).status_code == 200


def test_heatclient_session_in_another_project(heat_server: HeatServer, stacks: Any) -> None:
    endpoint = heat_server.endpoint("p2")
    other = session_client(endpoint, headers={"X-Auth-Project": "p2"})

    names = {s.stack_name for s in other.stacks.list()}
    with pytest.raises(exc.HTTPNotFound):
        other.stacks.get("p1-only")
    with pytest.raises(exc.HTTPNotFound):
        other.stacks.delete(stacks["p1-only"].rsplit("/", 1)[1])

    assert names == {"p2-only", "same-name"}


def test_cli_in_another_project(heat_server: HeatServer, stacks: Any, tmp_path: Path) -> None:
    require(OPENSTACK.is_file(), f"the openstack CLI ({OPENSTACK})")
    cli = Cli(heat_server.endpoint("p2"), tmp_path)

    listed = cli.json("stack", "list")
    shown = cli("stack", "show", "p1-only", check=False)

    assert {s["Stack Name"] for s in listed} == {"p2-only", "same-name"}
    assert shown.returncode == 1
    assert "Stack not found: p1-only" in shown.stderr
