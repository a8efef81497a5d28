"""Limits applied to every way a request can carry something large or deep: templates and
environments given as JSON objects as well as text, files, header values and the
identities they name, and where ``X-Forwarded-*`` headers are believed from. Each refusal
is a 400 with Heat's fault body, never a 500.

Most run against a ``heat-all`` with small limits (``strict``), so that limits are reached
with small requests; the defaults are checked on the session's ``heat_server``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import (
    HeatServer,
    free_port,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import NONE_DICT, need
from tests.api.raw_http import get

httpx = need("httpx")

MAX_TEMPLATE_SIZE = 4096
MAX_HEADER_LINE = 1024
# An address no test connects from: nobody is a trusted proxy of the strict server.
PROXY = "192.0.2.1"
DEPTH = 100  # how deeply a template may nest, as text or as an object


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeatServer]:
    workdir = tmp_path_factory.mktemp("strict")
    port = free_port()
    conf = write_heat_conf(
        workdir,
        port,
        default=f"max_template_size = {MAX_TEMPLATE_SIZE}\n",
        heat_api=f"max_header_line = {MAX_HEADER_LINE}\nforwarded_allow_ips = {PROXY}\n",
    )
    server = start_heat_all(workdir, conf, port)
    try:
        yield server
    finally:
        stop_heat_all(server)


@pytest.fixture(scope="module")
def limited(strict: HeatServer) -> Iterator[Any]:
    with httpx.Client(base_url=strict.endpoint("limits"), timeout=30.0) as client:
        yield client


def fault(response: Any, type_name: str, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "title", "explanation", "error"}, body
    assert (body["code"], body["error"]["type"]) == (status, type_name), body
    return str(body["error"]["message"])


def nested(depth: int) -> Any:
    """A value ``depth`` levels deep: lists in lists around a string."""
    value: Any = "bottom"
    for _ in range(depth - 1):
        value = [value]
    return value


def template_nested(depth: int) -> dict[str, Any]:
    """A template ``depth`` levels deep as a document (its output's value four levels in)."""
    return {
        "heat_template_version": "2016-10-14",
        "outputs": {"deep": {"value": nested(depth - 3)}},
    }


# Nesting ------------------------------------------------------------------------------------


def test_deep_json_object_template_is_400_as_yaml_text_is(http: Any) -> None:
    deep = template_nested(500)
    as_object = http.post("/stacks", json={"stack_name": "deep", "template": deep})
    as_text = http.post("/validate", json={"template": json.dumps(deep)})

    assert "nested more than 100 levels deep" in fault(as_object, "HTTPBadRequest")
    assert "nested more than 100 levels deep" in fault(as_text, "HTTPBadRequest")


@pytest.mark.parametrize("member", ["environment", "parameters", "files", "adopt_stack_data"])
def test_deep_members_of_a_body_are_400(http: Any, member: str) -> None:
    body = {"stack_name": "deep-member", "template": NONE_DICT, member: {"x": nested(300)}}

    assert repr(member) in fault(http.post("/stacks", json=body), "HTTPBadRequest")


def test_a_template_nested_just_to_the_limit_is_taken_as_object_and_as_text(http: Any) -> None:
    deepest = template_nested(DEPTH)
    as_object = http.post("/validate", json={"template": deepest})
    as_text = http.post("/validate", json={"template": json.dumps(deepest)})
    too_deep = http.post("/validate", json={"template": template_nested(DEPTH + 1)})

    assert as_object.status_code == 200, as_object.text
    assert as_text.status_code == 200, as_text.text
    assert "nested more than 100 levels deep" in fault(too_deep, "HTTPBadRequest")


# max_template_size --------------------------------------------------------------------------


def sized(size: int) -> dict[str, Any]:
    """A template whose JSON text is ``size`` bytes."""
    template = {"heat_template_version": "2016-10-14", "description": ""}
    overhead = len(httpx.Request("POST", "/", json=template).content)
    template["description"] = "d" * (size - overhead)
    return template


def test_max_template_size_applies_to_a_template_object(limited: Any) -> None:
    just = limited.post("/validate", json={"template": sized(MAX_TEMPLATE_SIZE)})
    over = limited.post("/stacks", json={"stack_name": "big", "template": sized(5000)})

    assert just.status_code == 200, just.text
    message = fault(over, "RequestLimitExceeded")
    assert message.startswith("Request limit exceeded: Template size (")
    assert f"exceeds maximum allowed size ({MAX_TEMPLATE_SIZE} bytes)" in message


@pytest.mark.parametrize("route", ["/stacks", "/validate", "/stacks/preview"])
def test_max_template_size_applies_to_environments_and_files(limited: Any, route: str) -> None:
    base = {"stack_name": "sizes", "template": NONE_DICT}
    big = "x" * (MAX_TEMPLATE_SIZE + 1)
    as_object = limited.post(route, json={**base, "environment": {"parameters": {"p": big}}})
    as_text = limited.post(route, json={**base, "environment": f"parameters: {{p: {big}}}"})
    a_file = limited.post(route, json={**base, "files": {"script.sh": big}})
    adopted = limited.post(
        route, json={**base, "adopt_stack_data": {"template": {"description": big}}}
    )

    assert "Environment size (" in fault(as_object, "RequestLimitExceeded")
    assert "Environment size (" in fault(as_text, "RequestLimitExceeded")
    assert f"File script.sh size ({len(big)} bytes)" in fault(a_file, "RequestLimitExceeded")
    assert "Template size (" in fault(adopted, "RequestLimitExceeded")


def test_max_template_size_applies_to_updates(limited: Any) -> None:
    created = limited.post("/stacks", json={"stack_name": "grows", "template": NONE_DICT})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    for method in ("PUT", "PATCH"):
        update = limited.request(method, location, json={"template": sized(5000)})
        assert "Template size (" in fault(update, "RequestLimitExceeded")


# Headers and identities ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["X-Auth-Project", "X-Auth-Token", "X-Auth-User", "X-Project-Id", "User-Agent"]
)
def test_a_header_line_over_max_header_line_is_400(strict: HeatServer, header: str) -> None:
    response = get(strict.port, "/v1/limits/stacks", f"{header}: {'h' * MAX_HEADER_LINE}")

    assert response.status == 400, response
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "HTTPBadRequest"
    assert error["message"].startswith(f"Header line too long: {header} (")


def test_a_200_kb_project_header_is_400_by_default(heat_server: HeatServer) -> None:
    response = get(heat_server.port, "/v1/limits/stacks", f"X-Auth-Project: {'p' * 200_000}")

    assert response.status == 400, response
    assert response.json()["error"]["message"].startswith("Header line too long: X-Auth-Project")


def test_too_many_header_fields_is_400(strict: HeatServer) -> None:
    headers = [f"X-Filler-{i}: {i}" for i in range(100)]

    response = get(strict.port, "/v1/limits/stacks", *headers)

    assert response.status == 400, response
    assert response.json()["error"]["message"] == "Too many header fields (at most 100)."


@pytest.mark.parametrize(
    ("headers", "path_project", "message"),
    [
        ({"X-Auth-Project": "p" * 65}, "limits", "The project id (65 characters)"),
        ({}, "q" * 65, "The project id (65 characters)"),
        ({"X-Auth-User": "u" * 65}, "limits", "The user id (65 characters)"),
    ],
    ids=["project-header", "project-in-path", "user-header"],
)
def test_identities_wider_than_their_columns_are_400(
    heat_server: HeatServer, headers: dict[str, str], path_project: str, message: str
) -> None:
    response = httpx.get(f"{heat_server.endpoint(path_project)}/stacks", headers=headers)

    assert message in fault(response, "HTTPBadRequest")


def test_identities_at_their_width_are_served(heat_server: HeatServer) -> None:
    headers = {"X-Auth-Project": "p" * 64, "X-Auth-User": "u" * 64}

    # The project of the path is the caller's own: a member reaches only that one.
    response = httpx.get(f"{heat_server.endpoint('p' * 64)}/stacks", headers=headers)

    assert (response.status_code, response.json()) == (200, {"stacks": []})


# X-Forwarded-* ------------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def created_location(base: str) -> str:
    body = {"stack_name": "forwarded", "template": NONE_DICT}
    response = httpx.post(f"{base}/stacks", json=body, headers=FORWARDED, timeout=30.0)
    assert response.status_code == 201, response.text
    return response.headers["location"]


def test_forwarded_headers_are_believed_from_loopback_by_default(heat_server: HeatServer) -> None:
    location = created_location(heat_server.endpoint("forwarded"))

    assert location.startswith(f"https://127.0.0.1:{heat_server.port}/v1/forwarded/"), location


def test_forwarded_headers_from_others_than_the_trusted_proxies_are_ignored(
    strict: HeatServer,
) -> None:
    location = created_location(strict.endpoint("forwarded"))

    assert location.startswith(f"http://127.0.0.1:{strict.port}/v1/forwarded/"), location
