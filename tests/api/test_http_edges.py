"""Requests at the edges of HTTP, sent byte for byte: ones the server cannot parse, HEAD, and
paths that end in a slash once decoded. Every answer with a body is Heat's JSON fault body,
whether the application or the HTTP layer below it gives it; none is a redirect."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import HeatServer
from tests.api.helpers import NONE_DICT, REQUEST_ID, need, wait_until
from tests.api.raw_http import RawResponse, exchange, get

need("httpx")
PROJECT = "http-edges"  # the project of the module's ``http`` client


def fault(response: RawResponse, status: int, type_name: str) -> dict[str, Any]:
    """Heat's fault body, with the status, the type and the headers that go with it."""
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json", response.headers
    assert int(response.headers["content-length"]) == len(response.body), response
    body = response.json()
    assert set(body) == {"code", "title", "explanation", "error"}, body
    assert body["code"] == status
    assert body["error"]["type"] == type_name, body
    assert body["error"]["traceback"] is None
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v1/p/stacks HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /v1/p/stacks HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET /v1/p/st\x00cks HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/p/stacks HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /v1/p/stacks HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
    ],
    ids=[
        "garbled-request-line",
        "bad-content-length",
        "two-content-lengths",
        "nul-in-path",
        "bad-version",
        "space-in-header-name",
    ],
)
def test_unparsable_request_gets_a_json_fault(
    heat_server: HeatServer, request_bytes: bytes
) -> None:
    response = exchange(heat_server.port, request_bytes)

    error = fault(response, 400, "HTTPBadRequest")
    assert error["message"] == "Invalid HTTP request received."
    assert response.headers["connection"] == "close"
    assert re.match(REQUEST_ID, response.headers["x-openstack-request-id"])


def test_head_answers_as_get_without_the_body(heat_server: HeatServer, http: Any) -> None:
    created = http.post("/stacks", json={"stack_name": "headed", "template": NONE_DICT})
    assert created.status_code == 201, created.text
    # The list shows the stack's state: once it is settled, GET and HEAD describe the same.
    stack = f"/stacks/headed/{created.json()['stack']['id']}"
    wait_until(
        lambda: http.get(stack).json()["stack"]["stack_status"],
        lambda status: status == "CREATE_COMPLETE",
    )
    target = f"/v1/{PROJECT}/stacks"
    got = get(heat_server.port, target)
    assert got.status == 200, got

    head = get(heat_server.port, target, method="HEAD")

    assert head.status == 200, head
    assert head.body == b""
    assert head.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == str(len(got.body))
    assert re.match(REQUEST_ID, head.headers["x-openstack-request-id"])


def test_head_where_there_is_no_get_is_405_with_the_fault_headers(
    heat_server: HeatServer,
) -> None:
    head = get(heat_server.port, f"/v1/{PROJECT}/validate", method="HEAD")
    got = get(heat_server.port, f"/v1/{PROJECT}/validate")

    assert head.status == 405, head
    assert head.body == b""
    assert head.headers["allow"] == "POST"
    assert head.headers["content-type"] == "application/json"
    fault(got, 405, "HTTPMethodNotAllowed")
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize(
    "target",
    [
        "/v1/{project}/stacks/",
        "/v1/{project}/stacks/a/b/resources/r/metadata/",
        "/v1/{project}/stacks/a/b/resources/r/metadata/..%2F",
        "/v1/{project}/stacks/a/b/resources/r/metadata/%2E%2E%2F",
        "/v1/{project}/stacks/a%2F",
        "/v1/{project}/build_info/",
    ],
)
def test_paths_ending_in_a_slash_are_not_found_never_redirected(
    heat_server: HeatServer, target: str
) -> None:
    response = get(heat_server.port, target.format(project=PROJECT))

    assert "location" not in response.headers, response
    fault(response, 404, "HTTPNotFound")
