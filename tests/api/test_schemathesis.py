"""Generated requests for every operation of heat-api's OpenAPI description, sent to a real
``heat-all``: no request may get a 5xx, and every response must match what the description
declares for its status.

The project is fixed (``demo``), and real ids (a stack, its resource, event, output and
snapshot, a software config and deployment) are mixed into the generated path parameters,
so that the generated bodies reach the real routes too and not only the 404 of a lookup.
Each operation runs as a subtest of its own, with valid and invalid inputs alike; inputs at
the edges that random generation reaches only now and then are sent as explicit cases.

Without schemathesis the module is skipped, and under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import HeatServer, free_port, start_heat_all, stop_heat_all
from tests.api.helpers import need

schemathesis = need("schemathesis")
hypothesis = need("hypothesis")
st = need("hypothesis.strategies")

PROJECT = "demo"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0
MAX_EXAMPLES = 30

TEMPLATE: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "parameters": {"greeting": {"type": "string", "default": "hello"}},
    "resources": {
        "nothing": {"type": "OS::Heat::None"},
        "val": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "greeting"}}},
    },
    "outputs": {"greeting_out": {"value": {"get_attr": ["val", "value"]}}},
}

# The path parameters that are filled together from the same real object.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("stack_name", "stack_id"),
    ("stack_identity",),
    ("resource_name",),
    ("event_id",),
    ("output_key",),
    ("snapshot_id",),
    ("config_id",),
    ("deployment_id",),
    ("server_id",),
    ("type_name",),
    ("template_version",),
)


@dataclass
class Service:
    server: HeatServer
    # Real values for path parameters, each a list of choices for its group.
    real: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)
    # Deleting or abandoning a stack gets a stack of its own, so the others keep theirs.
    doomed: tuple[str, str] = ("", "")

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def endpoint(self) -> str:
        return f"{self.url}/v1/{PROJECT}"

    def output(self) -> str:
        return self.server.output()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        return status, json.loads(raw) if raw.strip() else None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = self.call(method, path, body)
        assert status < 300, (method, path, status, payload, self.output()[-5000:])
        return payload

    def create_stack(self, name: str) -> str:
        created = self.ok("POST", "/stacks", {"stack_name": name, "template": TEMPLATE})
        stack_id: str = created["stack"]["id"]
        self.wait_stack(name, stack_id, "CREATE_COMPLETE")
        return stack_id

    def wait_stack(self, name: str, stack_id: str, wanted: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        status = ""
        while time.monotonic() < deadline:
            stack = self.ok("GET", f"/stacks/{name}/{stack_id}?resolve_outputs=false")["stack"]
            status = stack["stack_status"]
            if status.endswith(("_COMPLETE", "_FAILED")):
                break
            time.sleep(0.1)
        assert status == wanted, (name, status, self.output()[-5000:])


def start(workdir: Path) -> Service:
    port = free_port()
    conf = workdir / "heat.conf"
    conf.write_text(
        "[DEFAULT]\n"
        "num_engine_workers = 1\n"
        "[database]\n"
        f"connection = sqlite:///{workdir / 'ember.sqlite'}\n"
        "[heat_api]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {port}\n"
        "[heat_api_cfn]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {free_port()}\n",
        encoding="utf-8",
    )
    return Service(start_heat_all(workdir, conf, port))


def seed(service: Service) -> None:
    """Real objects for the generated requests to find."""
    name = "fuzzed"
    stack_id = service.create_stack(name)
    service.doomed = ("doomed", service.create_stack("doomed"))
    base = f"/stacks/{name}/{stack_id}"
    snapshot = service.ok("POST", f"{base}/snapshots", {"name": "snap"})
    service.wait_stack(name, stack_id, "SNAPSHOT_COMPLETE")
    events = service.ok("GET", f"{base}/resources/nothing/events")["events"]
    config = service.ok(
        "POST",
        "/software_configs",
        {"name": "cfg", "group": "script", "config": "#!/bin/sh\necho hi\n"},
    )["software_config"]
    deployment = service.ok(
        "POST",
        "/software_deployments",
        {"config_id": config["id"], "server_id": "server-1", "action": "CREATE"},
    )["software_deployment"]
    arn = f"arn:openstack:heat::{PROJECT}:stacks/{name}/{stack_id}"
    service.real = {
        ("stack_name", "stack_id"): [(name, stack_id)],
        ("stack_identity",): [(name,), (stack_id,), (arn,)],
        ("resource_name",): [("nothing",), ("val",)],
        ("event_id",): [(e["id"],) for e in events],
        ("output_key",): [("greeting_out",)],
        ("snapshot_id",): [(snapshot["id"],)],
        ("config_id",): [(config["id"],)],
        ("deployment_id",): [(deployment["id"],)],
        ("server_id",): [("server-1",)],
        ("type_name",): [("OS::Heat::None",), ("OS::Heat::TestResource",)],
        ("template_version",): [("heat_template_version.2016-10-14",)],
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = start(tmp_path_factory.mktemp("schemathesis"))
    try:
        seed(running)
        yield running
    finally:
        stop_heat_all(running.server)


def _destroys(method: str, path: str) -> bool:
    """Operations that would take the shared stack away from the operations after them."""
    return method == "DELETE" and path.endswith(("/{stack_id}", "/{stack_id}/abandon"))


def real_path_parameters(service: Service) -> Any:
    """Each group of path parameters keeps its generated value or takes a real one."""

    def flatmap_path_parameters(ctx: Any, params: dict[str, Any]) -> Any:
        params = {**params, "tenant_id": PROJECT}
        operation = ctx.operation
        groups = [g for g in GROUPS if all(k in params for k in g) and service.real.get(g)]

        def fill(choices: tuple[Any, ...]) -> dict[str, Any]:
            filled = dict(params)
            for group, choice in zip(groups, choices, strict=True):
                if choice is not None:
                    filled.update(zip(group, choice, strict=True))
            if (
                operation is not None
                and _destroys(operation.method.upper(), operation.path)
                and filled.get("stack_id") == service.real[GROUPS[0]][0][1]
            ):
                filled["stack_name"], filled["stack_id"] = service.doomed
            return filled

        options = [st.none() | st.sampled_from(service.real[g]) for g in groups]
        return st.tuples(*options).map(fill)

    return flatmap_path_parameters


def real_config_in_bodies(service: Service) -> Any:
    """A deployment's body names a real software config now and then."""

    def flatmap_body(ctx: Any, body: Any) -> Any:
        operation = ctx.operation
        real = service.real.get(("config_id",))
        if not (
            real
            and isinstance(body, dict)
            and operation is not None
            and operation.method.upper() == "POST"
            and operation.path.endswith("/software_deployments")
        ):
            return st.just(body)
        return st.sampled_from([body, {**body, "config_id": real[0][0]}])

    return flatmap_body


@pytest.fixture(scope="module")
def api_schema(service: Service) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        }
    )
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json", config=config)
    schema.hook("flatmap_path_parameters")(real_path_parameters(service))
    schema.hook("flatmap_body")(real_config_in_bodies(service))
    return schema


def test_description_tells_heat_faults_and_real_statuses(api_schema: Any) -> None:
    spec = api_schema.raw_schema
    operations = [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    labels = {f"{m.upper()} {p}" for m, p, _ in operations}
    ids = [op["operationId"] for _, _, op in operations]

    assert len(operations) > 50
    assert len(ids) == len(set(ids))
    assert {
        "POST /v1/{tenant_id}/stacks",
        "GET /v1/{tenant_id}/stacks/{stack_name}/{stack_id}",
        "DELETE /v1/{tenant_id}/software_deployments/{deployment_id}",
    } <= labels
    fault = {"$ref": "#/components/schemas/HeatFault"}
    for method, path, op in operations:
        responses = op["responses"]
        assert "422" not in responses, (method, path)
        assert responses["4XX"]["content"]["application/json"]["schema"] == fault
        successes = [code for code in responses if code[0] in "23"]
        assert len(successes) == 1, (method, path, successes)
    stacks = spec["paths"]["/v1/{tenant_id}/stacks"]
    assert "201" in stacks["post"]["responses"]
    assert "302" in spec["paths"]["/v1/{tenant_id}/stacks/{stack_identity}"]["get"]["responses"]


CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
STACK = "/v1/{tenant_id}/stacks/{stack_name}/{stack_id}"
BIG = 2**31 - 1
# Inputs at the edges that random generation reaches only now and then, each of which once
# got a 5xx or hung the service: (method, path, query, body, the status wanted).
EDGES: list[tuple[str, str, dict[str, Any], Any, int]] = [
    ("GET", STACK + "/events", {"nested_depth": BIG}, None, 200),
    ("GET", STACK + "/resources/{resource_name}/events", {"nested_depth": BIG}, None, 200),
    ("GET", STACK + "/resources", {"nested_depth": BIG}, None, 200),
    ("GET", "/v1/{tenant_id}/stacks", {"limit": "99999999999999999999"}, None, 400),
    ("GET", "/v1/{tenant_id}/software_configs", {"limit": "99999999999999999999"}, None, 400),
    ("PATCH", STACK, {}, {"timeout_mins": 1.9e24}, 400),
    ("PATCH", STACK, {}, {"clear_parameters": True}, 400),
    ("PATCH", STACK, {}, {"clear_parameters": [[]]}, 400),
    ("PATCH", STACK, {}, {"environment": {"parameters": [1]}}, 400),
    ("PATCH", STACK, {}, {"environment": {"resource_registry": [[1]]}}, 400),
    ("PATCH", STACK, {}, {"environment": {"parameter_defaults": "x"}}, 400),
    ("PATCH", STACK + "/preview", {}, {"clear_parameters": True}, 400),
    ("PATCH", STACK + "/preview", {}, {"environment": {"parameters": [1]}}, 400),
    ("POST", "/v1/{tenant_id}/stacks/preview", {}, {"stack_name": "p", "timeout_mins": 1e300}, 400),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "status"), EDGES)
def test_edge_inputs(
    api_schema: Any,
    service: Service,
    method: str,
    path: str,
    query: dict[str, Any],
    body: Any,
    status: int,
) -> None:
    operation = api_schema[path][method]
    name, stack_id = service.real[GROUPS[0]][0]
    params = {"tenant_id": PROJECT, "stack_name": name, "stack_id": stack_id}
    params["resource_name"] = "nothing"
    kwargs: dict[str, Any] = {"query": query}
    if body is not None:
        kwargs.update(body=body, media_type="application/json")
    case = operation.Case(
        path_parameters={k: v for k, v in params.items() if "{" + k + "}" in path}, **kwargs
    )

    response = case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT, allow_redirects=False)

    assert response.status_code == status, response.text


def test_generated_requests(api_schema: Any, service: Service, subtests: pytest.Subtests) -> None:
    """Every operation, valid and invalid inputs alike, each a subtest of its own: no 5xx, and
    every response as the description declares it."""
    failed = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in MODES))

        @hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def run(case: Any) -> None:
            case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT, allow_redirects=False)

        with subtests.test(msg=operation.label):
            logged = service.server.log.stat().st_size
            try:
                run()
            except BaseException as exc:
                failed.append(operation.label)
                with service.server.log.open("rb") as log:
                    log.seek(logged)
                    text = log.read().decode("utf-8", errors="replace")
                if text.strip():
                    exc.add_note(f"--- heat-all log meanwhile\n{text[-8000:]}")
                raise
    assert not failed, f"{len(failed)} operation(s) failed: {failed}"
