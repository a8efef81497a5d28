"""Amplification sent to a running heat-all: templates of a few hundred bytes that ask for
millions of resources or gigabytes of values. Each is refused by validate, preview, create
and update alike (400, Heat's fault body, naming where), or bounded where it can only be
known later (a stack show answers at once with the output's error), and ``/healthcheck``
keeps answering within a second throughout."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.api.conftest import HeatServer, free_port, start_heat_all, stop_heat_all, write_heat_conf
from tests.api.helpers import need, wait_until

httpx = need("httpx")

VERSION = "2017-09-01"
# The liveness bound the service must keep while it is being abused.
HEALTH_BOUND = 1.0
TOO_MANY = "Request limit exceeded: You have reached the maximum resources per stack"
TOO_LARGE = "The value is too large"


def hot(resources: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    return {"heat_template_version": VERSION, "resources": resources or {}, **sections}


def group(count: Any, member_type: str = "OS::Heat::None") -> dict[str, Any]:
    return {
        "type": "OS::Heat::ResourceGroup",
        "properties": {"count": count, "resource_def": {"type": member_type}},
    }


def numbers(n: int) -> dict[str, Any]:
    return {"type": "comma_delimited_list", "default": ",".join(str(i) for i in range(n))}


def output(value: Any, **parameters: Any) -> dict[str, Any]:
    return hot(parameters=parameters, outputs={"x": {"value": value}})


def repeat_of(source: Any) -> dict[str, Any]:
    return {
        "repeat": {
            "for_each": {"<%a%>": source, "<%b%>": source},
            "template": "<%a%>-<%b%>",
        }
    }


NESTED = {"m.yaml": yaml.safe_dump(hot({f"r{i}": {"type": "OS::Heat::None"} for i in range(50)}))}
LOOP = {"loop.yaml": yaml.safe_dump(hot({f"r{i}": {"type": "loop.yaml"} for i in range(10)}))}

# name: (template, files, error type, where the message starts)
REFUSED: dict[str, tuple[dict[str, Any], dict[str, str], str, str]] = {
    "group count": (hot({"g": group(10_000_000)}), {}, "RequestLimitExceeded", TOO_MANY),
    "group count from a parameter": (
        hot(
            {"g": group({"get_param": "n"})},
            parameters={"n": {"type": "number", "default": 200_000}},
        ),
        {},
        "RequestLimitExceeded",
        TOO_MANY,
    ),
    "10,000 resources": (
        hot({f"r{i}": {"type": "OS::Heat::None"} for i in range(10_000)}),
        {},
        "RequestLimitExceeded",
        TOO_MANY,
    ),
    "nested template fan-out": (
        hot({"g": group(100, "m.yaml")}),
        NESTED,
        "RequestLimitExceeded",
        TOO_MANY,
    ),
    "a template of ten copies of itself": (
        hot({"t": {"type": "loop.yaml"}}),
        LOOP,
        "RequestLimitExceeded",
        TOO_MANY,
    ),
    "repeat": (
        output(repeat_of({"get_param": "a"}), a=numbers(3000)),
        {},
        "StackValidationFailed",
        f"outputs.x.value.repeat: {TOO_LARGE}",
    ),
    "str_split": (
        output(
            {"str_split": [",", {"get_param": "s"}]}, s={"type": "string", "default": "," * 300_000}
        ),
        {},
        "StackValidationFailed",
        f"outputs.x.value.str_split: {TOO_LARGE}",
    ),
    "list_join": (
        output(
            {"list_join": [{"get_param": "s"}, {"get_param": "a"}]},
            s={"type": "string", "default": "y" * 5000},
            a=numbers(3000),
        ),
        {},
        "StackValidationFailed",
        f"outputs.x.value.list_join: {TOO_LARGE}",
    ),
    "str_replace": (
        output(
            {"str_replace": {"template": "%x%" * 3000, "params": {"%x%": {"get_param": "s"}}}},
            s={"type": "string", "default": "y" * 5000},
        ),
        {},
        "StackValidationFailed",
        f"outputs.x.value.str_replace: {TOO_LARGE}",
    ),
    "yaql work": (
        output({"yaql": {"expression": "range(0, 100000000).len()", "data": {}}}),
        {},
        "StackValidationFailed",
        "outputs.x.value.yaql: The expression would take more than",
    ),
    "yaql size": (
        output({"yaql": {"expression": "range(0, 1000000000).sum()", "data": {}}}),
        {},
        "StackValidationFailed",
        "outputs.x.value.yaql: The expression would pass the limit of 200 elements",
    ),
}


class Health:
    """Polls ``/healthcheck`` from a thread of its own and keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.slowest = 0.0
        self.answers = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self._stop.is_set():
                begun = time.monotonic()
                try:
                    status = client.get(f"{self.url}/healthcheck").status_code
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                self.slowest = max(self.slowest, time.monotonic() - begun)
                self.answers += 1
                if status != 200:
                    self.failures.append(f"status {status}")
                self._stop.wait(0.05)

    def __enter__(self) -> Health:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeatServer]:
    """A heat-all of its own, so that only this abuse is measured."""
    workdir = tmp_path_factory.mktemp("abuse")
    port = free_port()
    started = start_heat_all(workdir, write_heat_conf(workdir, port), port)
    try:
        yield started
    finally:
        stop_heat_all(started)


@pytest.fixture(scope="module")
def http(server: HeatServer) -> Iterator[Any]:
    with httpx.Client(base_url=server.endpoint("abuse"), timeout=60.0) as client:
        yield client


@pytest.fixture(scope="module")
def health(server: HeatServer, plain_stack: str) -> Iterator[Health]:
    # Watched from once the service has done one ordinary thing (made ``plain_stack``).
    with Health(server.url) as watching:
        yield watching
    assert watching.answers > 0
    assert watching.failures == []
    assert watching.slowest < HEALTH_BOUND, f"/healthcheck took {watching.slowest:.2f}s"


def fault(response: Any, kind: str, starts: str) -> None:
    assert response.status_code == 400, response.text[:2000]
    error = response.json()["error"]
    assert error["type"] == kind, error
    assert error["message"].startswith(starts), error["message"][:2000]


@pytest.fixture(scope="module")
def plain_stack(http: Any) -> str:
    created = http.post(
        "/stacks", json={"stack_name": "plain", "template": hot({"n": {"type": "OS::Heat::None"}})}
    )
    assert created.status_code == 201, created.text
    location: str = created.headers["location"]
    wait_until(
        lambda: http.get(location, params={"resolve_outputs": "false"}).json()["stack"],
        lambda s: s["stack_status"] == "CREATE_COMPLETE",
        what="the plain stack",
    )
    return location


@pytest.mark.parametrize("case", list(REFUSED))
def test_every_door_refuses_it(http: Any, health: Health, plain_stack: str, case: str) -> None:
    template, files, kind, starts = REFUSED[case]
    body = {"template": template, "files": files}
    # Heat's validate answers a validation failure as a plain bad request.
    shown = "HTTPBadRequest" if kind == "StackValidationFailed" else kind
    fault(http.post("/validate", json=body), shown, starts)
    fault(http.post("/stacks/preview", json={"stack_name": "p", **body}), kind, starts)
    fault(http.post("/stacks", json={"stack_name": "abused", **body}), kind, starts)
    fault(http.put(plain_stack, json=body), kind, starts)
    assert http.get("/stacks/abused").status_code == 404


def test_a_stored_stack_amplifying_resource_values_shows_at_once(http: Any, health: Health) -> None:
    # What the outputs make depends on a resource, so only the show can know: it answers
    # with the output's error instead of nine million strings.
    template = hot(
        {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "a"}}}},
        parameters={"a": numbers(3000)},
        outputs={
            "x": {"value": repeat_of({"get_attr": ["v", "value"]})},
            "fine": {"value": {"list_join": [",", ["a", "b"]]}},
        },
    )
    created = http.post("/stacks", json={"stack_name": "later", "template": template})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    wait_until(
        lambda: http.get(location, params={"resolve_outputs": "false"}).json()["stack"],
        lambda s: s["stack_status"] == "CREATE_COMPLETE",
        what="the stack",
    )
    shown = http.get(location)
    assert shown.status_code == 200
    assert len(shown.content) < 200_000
    outputs = {o["output_key"]: o for o in shown.json()["stack"]["outputs"]}
    assert outputs["fine"]["output_value"] == "a,b"
    assert outputs["x"]["output_value"] is None
    assert outputs["x"]["output_error"].startswith(TOO_LARGE)
    one = http.get(f"{location}/outputs/x")
    assert one.status_code == 200
    assert one.json()["output"]["output_error"].startswith(TOO_LARGE)
