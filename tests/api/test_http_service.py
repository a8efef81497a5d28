"""Service-level HTTP behaviour the clients hide: version negotiation, request ids, health
checks, OPTIONS/405, Heat's fault body, and request limits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import HeatServer
from tests.api.helpers import NONE_DICT, REQUEST_ID, UUID, need, wait_until

httpx = need("httpx")

EXPLAIN_400 = (
    "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect."
)


def fault(response: httpx.Response, status: int, type_name: str) -> dict[str, Any]:
    """Check Heat's JSON fault body; return its ``error`` member."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status
    assert body["error"]["type"] == type_name, body
    assert body["error"]["traceback"] is None
    assert set(body) == {"code", "title", "explanation", "error"}
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def root(heat_server: HeatServer) -> Iterator[httpx.Client]:
    """A client on the server root (no version or project in its base URL)."""
    with httpx.Client(base_url=heat_server.url, timeout=30.0) as client:
        yield client


def versions_body(heat_server: HeatServer) -> dict[str, Any]:
    return {
        "versions": [
            {
                "id": "v1.0",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{heat_server.url}/v1/"}],
            }
        ]
    }


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
@pytest.mark.parametrize("path", ["/", "/versions", "/v2/x", "/v3/demo/stacks"])
def test_version_document_for_any_method(
    root: httpx.Client, heat_server: HeatServer, method: str, path: str
) -> None:
    response = root.request(method, path)

    assert response.status_code == 300
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == versions_body(heat_server)


def test_healthcheck_needs_no_auth(root: httpx.Client) -> None:
    response = root.get("/healthcheck", headers={"X-Auth-Token": ""})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "OK"


def test_every_response_carries_a_request_id(
    root: httpx.Client, http: httpx.Client, heat_server: HeatServer
) -> None:
    created = http.post("/stacks", json={"stack_name": "reqid", "template": NONE_DICT})
    responses = [
        root.get("/"),
        root.get("/healthcheck"),
        http.get("/stacks"),
        created,
        http.get("/stacks/reqid"),
        http.get("/stacks/no-such-stack"),
        http.delete("/stacks"),
        http.request("OPTIONS", "/stacks"),
        http.post("/stacks", content=b"{bad json", headers={"Content-Type": "application/json"}),
        root.get("/not-versioned/stacks"),
    ]

    ids = [r.headers.get("x-openstack-request-id", "") for r in responses]
    assert [r.status_code for r in responses] == [300, 200, 200, 201, 302, 404, 405, 204, 400, 404]
    assert all(re.match(REQUEST_ID, i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_unversioned_path_needs_the_versioned_accept_header(
    root: httpx.Client, http: httpx.Client, project: str
) -> None:
    plain = root.get(f"/{project}/stacks")
    negotiated = root.get(
        f"/{project}/stacks", headers={"Accept": "application/vnd.openstack.orchestration-v1.0"}
    )

    assert plain.status_code == 404
    assert negotiated.status_code == 200
    assert negotiated.json() == http.get("/stacks").json()


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/stacks", "GET,POST"),
        ("/stacks/some-name/3b0bbf4a-6e84-4b2b-9a7b-3a5e3c8b8f10", "GET,PUT,PATCH,DELETE"),
        ("/stacks/some-name/3b0bbf4a-6e84-4b2b-9a7b-3a5e3c8b8f10/actions", "POST"),
        ("/validate", "POST"),
        ("/template_versions", "GET"),
    ],
)
def test_options_answers_204_with_allow(http: httpx.Client, path: str, allowed: str) -> None:
    response = http.request("OPTIONS", path)

    assert response.status_code == 204
    assert response.headers["allow"] == allowed
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/stacks", "GET,POST"),
        ("PUT", "/stacks", "GET,POST"),
        ("POST", "/stacks/some-name/3b0bbf4a-6e84-4b2b-9a7b-3a5e3c8b8f10", "GET,PUT,PATCH,DELETE"),
        ("GET", "/validate", "POST"),
        ("DELETE", "/resource_types", "GET"),
    ],
)
def test_unimplemented_method_is_405_with_allow(
    http: httpx.Client, method: str, path: str, allowed: str
) -> None:
    response = http.request(method, path)

    fault(response, 405, "HTTPMethodNotAllowed")
    assert response.headers["allow"] == allowed
    assert response.json()["title"] == "Method Not Allowed"


def test_unknown_stack_is_a_404_fault(http: httpx.Client) -> None:
    response = http.get("/stacks/no-such-stack")

    error = fault(response, 404, "EntityNotFound")
    assert error["message"] == "The Stack (no-such-stack) could not be found."
    body = response.json()
    assert body["title"] == "Not Found"
    assert body["explanation"] == "The resource could not be found."


def test_duplicate_stack_name_is_a_409_fault(http: httpx.Client) -> None:
    first = http.post("/stacks", json={"stack_name": "twice", "template": NONE_DICT})
    second = http.post("/stacks", json={"stack_name": "twice", "template": NONE_DICT})

    assert first.status_code == 201
    error = fault(second, 409, "StackExists")
    assert error["message"] == "The Stack (twice) already exists."
    assert second.json()["title"] == "Conflict"
    assert second.json()["explanation"] == (
        "There was a conflict when trying to complete your request."
    )


def test_snapshot_while_in_progress_is_a_409_action_in_progress(http: httpx.Client) -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {  # the create runs until it is cancelled, however slow the machine
            "slow": {"type": "OS::Heat::TestResource", "properties": {"wait_secs": -1}},
        },
    }
    created = http.post("/stacks", json={"stack_name": "busy", "template": template})
    location = created.headers["location"]

    response = http.post(f"{location}/snapshots", json={"name": "s"})
    http.post(f"{location}/actions", json={"cancel_without_rollback": None})
    wait_until(
        lambda: http.get(location).json()["stack"]["stack_status"],
        lambda status: status != "CREATE_IN_PROGRESS",
        what="the cancelled create to end",
    )

    error = fault(response, 409, "ActionInProgress")
    assert error["message"] == "Stack busy already has an action (CREATE) in progress."


def test_malformed_json_body_is_a_400_fault(http: httpx.Client) -> None:
    response = http.post(
        "/stacks", content=b'{"stack_name": ', headers={"Content-Type": "application/json"}
    )

    error = fault(response, 400, "HTTPBadRequest")
    assert error["message"].startswith("The server could not comply with the request")
    assert response.json()["explanation"] == EXPLAIN_400


def test_non_json_body_is_refused(http: httpx.Client) -> None:
    response = http.post("/validate", content=b"not json", headers={"Content-Type": "text/plain"})

    fault(response, 400, "HTTPBadRequest")


@pytest.mark.parametrize(
    ("path", "bad"),
    [("/stacks?foo=1", "foo"), ("/stacks?status=CREATE_COMPLETE&colour=red", "colour")],
)
def test_unknown_stack_filter_is_a_400_fault(http: httpx.Client, path: str, bad: str) -> None:
    error = fault(http.get(path), 400, "HTTPBadRequest")

    assert error["message"] == f"Invalid filter parameters ['{bad}']"


def test_unknown_resource_filter_is_a_400_fault(http: httpx.Client) -> None:
    location = http.post("/stacks", json={"stack_name": "filtered", "template": NONE_DICT}).headers[
        "location"
    ]

    error = fault(http.get(f"{location}/resources?colour=red"), 400, "HTTPBadRequest")

    assert error["message"] == "Invalid filter parameters ['colour']"


def test_bad_template_is_a_400_fault_naming_the_place(http: httpx.Client) -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {"r": {"type": "OS::No::Such"}},
    }
    response = http.post("/stacks", json={"stack_name": "badtype", "template": template})

    error = fault(response, 400, "StackValidationFailed")
    assert "OS::No::Such" in error["message"]


def test_missing_stack_name_is_a_400_fault(http: httpx.Client) -> None:
    error = fault(http.post("/stacks", json={"template": NONE_DICT}), 400, "HTTPBadRequest")

    assert error["message"] == "No stack name specified"


def big_body(size: int) -> bytes:
    padding = "x" * size
    return json.dumps(
        {"stack_name": "big", "template": {"heat_template_version": "2016-10-14"}, "pad": padding}
    ).encode()


def test_body_over_max_json_body_size_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/stacks", content=big_body(1_100_000), headers={"Content-Type": "application/json"}
    )

    error = fault(response, 400, "RequestLimitExceeded")
    assert "exceeds maximum allowed size (1048576 bytes)" in error["message"]


def test_chunked_body_over_max_json_body_size_is_refused(http: httpx.Client) -> None:
    body = big_body(1_100_000)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = http.post("/stacks", content=chunks(), headers={"Content-Type": "application/json"})

    error = fault(response, 400, "RequestLimitExceeded")
    assert "1048576 bytes" in error["message"]
    assert http.get("/stacks/big").status_code == 404


def test_template_over_max_template_size_is_refused(http: httpx.Client) -> None:
    template = "heat_template_version: 2016-10-14\ndescription: " + "x" * 600_000 + "\n"
    response = http.post("/stacks", json={"stack_name": "bigtemplate", "template": template})

    error = fault(response, 400, "RequestLimitExceeded")
    assert "524288 bytes" in error["message"]


def test_body_just_under_the_limit_is_accepted(http: httpx.Client) -> None:
    template = dict(NONE_DICT, description="x" * 200_000)
    response = http.post("/stacks", json={"stack_name": "largeish", "template": template})

    assert response.status_code == 201
    shown = wait_until(
        lambda: http.get(response.headers["location"]).json()["stack"],
        lambda s: s["stack_status"] != "CREATE_IN_PROGRESS",
    )
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert re.fullmatch(UUID, shown["id"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"tags": 5}, "Invalid tags, not a list: 5"),
        ({"tags": ["ok", 1]}, "Invalid tags, not a list"),
        ({"tags": "x" * 81}, "is longer than 80 characters"),
        ({"timeout_mins": -5}, "Invalid timeout value -5"),
        ({"timeout_mins": "soon"}, "timeout_mins"),
        ({"disable_rollback": "maybe"}, "disable_rollback"),
        ({"parameters": ["not", "a", "map"]}, "parameters"),
        ({"template": 123}, "template"),
        ({"template": "heat_template_version: 2016-10-14\nresources: [\n"}, "template"),
        ({"template": {"heat_template_version": "2099-01-01"}}, "template version is invalid"),
        ({"environment": {"bogus_section": {}}}, "environment"),
        ({"adopt_stack_data": "{not json"}, "adopt"),
    ],
)
def test_bad_create_bodies_are_400_not_500(
    http: httpx.Client, extra: dict[str, Any], message: str
) -> None:
    body = {"stack_name": "refused", "template": NONE_DICT, **extra}

    response = http.post("/stacks", json=body)

    assert response.status_code == 400, response.text
    assert message.lower() in response.json()["error"]["message"].lower()
    assert http.get("/stacks/refused").status_code == 404


def test_zero_timeout_means_none(http: httpx.Client) -> None:
    response = http.post(
        "/stacks", json={"stack_name": "untimed", "template": NONE_DICT, "timeout_mins": 0}
    )

    shown = wait_until(
        lambda: http.get(response.headers["location"]).json()["stack"],
        lambda s: s["stack_status"] != "CREATE_IN_PROGRESS",
    )
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["timeout_mins"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("sort_dir=sideways", "Unknown sort direction, must be 'desc' or 'asc'"),
        ("show_deleted=maybe", 'Unrecognized value "maybe" for "show_deleted"'),
    ],
)
def test_bad_list_queries_are_400(http: httpx.Client, query: str, message: str) -> None:
    response = http.get(f"/stacks?{query}")

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_build_info(http: httpx.Client) -> None:
    response = http.get("/build_info")

    assert response.status_code == 200
    assert response.json() == {"api": {"revision": "unknown"}, "engine": {"revision": "unknown"}}
