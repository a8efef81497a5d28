"""Heat's default policy over every REST route, on a real heat-all in the noauth flavor.

The matrix drives each route as four callers and expects what Heat's defaults answer:

- ``owner``: a member of project ``owner``, on its own stacks, configs and deployments;
- ``other``: a member of project ``other``, on its own path, naming the owner's things;
- ``admin``: an admin of ``owner`` (``X-Roles: admin``, as an operator's front end would
  send it);
- ``noauth``: a noauth caller that says nothing of its roles, on the owner's path: an
  ordinary member of the project, not Heat's everybody-is-admin.

Allowed requests are cheap ones: some are refused by the engine after the policy let
them through (cancelling an update that is not running), which is the answer Heat gives
them too. Requests that change a stack get a stack of their own from a pool made once.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ember.policy import rules
from tests.api.conftest import (
    HeatServer,
    free_port,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import need, wait_until

httpx = need("httpx")

OWNER, OTHER = "owner", "other"
CALLERS: dict[str, tuple[str, dict[str, str]]] = {
    "owner": (OWNER, {"X-Auth-Project": OWNER, "X-Auth-User": "olive", "X-Roles": "member"}),
    "other": (OTHER, {"X-Auth-Project": OTHER, "X-Auth-User": "otto", "X-Roles": "member"}),
    "admin": (OWNER, {"X-Auth-Project": OWNER, "X-Auth-User": "ada", "X-Roles": "admin"}),
    "noauth": (OWNER, {}),
}
TEMPLATE: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "resources": {"r": {"type": "OS::Heat::TestResource"}},
    "outputs": {"out": {"value": {"get_attr": ["r", "output"]}}},
}
NONE: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "resources": {"n": {"type": "OS::Heat::None"}},
}
# Stacks that requests of the matrix change: one per (route, caller) that may change it.
POOL_SIZE = 24


def start(workdir: Path, extra: str = "", sections: str = "") -> HeatServer:
    port = free_port()
    conf = write_heat_conf(
        workdir, port, default=f"enable_stack_abandon = true\n{extra}", sections=sections
    )
    return start_heat_all(workdir, conf, port)


def client(server: HeatServer, who: str) -> httpx.Client:
    project, headers = CALLERS[who]
    return httpx.Client(base_url=server.endpoint(project), headers=headers, timeout=30.0)


def wait_stack(http: httpx.Client, path: str, status: str = "CREATE_COMPLETE") -> None:
    wait_until(
        lambda: http.get(path).json()["stack"]["stack_status"],
        lambda s: s == status,
        what=f"{path} {status}",
    )


def create_stack(http: httpx.Client, name: str, template: dict[str, Any] = TEMPLATE) -> str:
    """The stack's path after ``/v1/<project>``, once it is CREATE_COMPLETE."""
    response = http.post("/stacks", json={"stack_name": name, "template": template})
    assert response.status_code == 201, response.text
    path = "/stacks/" + response.headers["location"].split("/stacks/", 1)[1]
    wait_stack(http, path)
    return path


@dataclass
class World:
    """What the owner has, made once: a stack that only reads and harmless requests touch,
    its snapshot, event, config and deployment, and a pool of stacks to change."""

    server: HeatServer
    stack: str
    snapshot: str
    event: str
    config: str
    deployment: str
    pool: list[str]
    owner: httpx.Client
    taken: Iterator[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.stack.split("/")[2]

    @property
    def stack_id(self) -> str:
        return self.stack.split("/")[3]

    def fresh(self) -> str:
        with self.lock:
            return self.pool[next(self.taken)]

    def snapshot_of(self, stack: str) -> str:
        made = self.owner.post(f"{stack}/snapshots", json={"name": "cell"})
        assert made.status_code == 200, made.text
        snapshot_id: str = made.json()["id"]
        wait_until(
            lambda: self.owner.get(f"{stack}/snapshots/{snapshot_id}").json()["snapshot"]["status"],
            lambda s: s == "COMPLETE",
            what="the snapshot",
        )
        return snapshot_id

    def new_config(self) -> str:
        made = self.owner.post("/software_configs", json={"name": "cell", "config": "x"})
        assert made.status_code == 200, made.text
        return str(made.json()["software_config"]["id"])

    def new_deployment(self) -> str:
        made = self.owner.post(
            "/software_deployments",
            json={"config_id": self.config, "server_id": "owner-server"},
        )
        assert made.status_code == 200, made.text
        return str(made.json()["software_deployment"]["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = start(tmp_path_factory.mktemp("policy"))
    owner = client(server, "owner")
    try:
        pool_paths = []
        for i in range(POOL_SIZE):
            made = owner.post("/stacks", json={"stack_name": f"pool-{i}", "template": TEMPLATE})
            assert made.status_code == 201, made.text
            pool_paths.append("/stacks/" + made.headers["location"].split("/stacks/", 1)[1])
        stack = create_stack(owner, "shared")
        for path in pool_paths:
            wait_stack(owner, path)
        events = owner.get(f"{stack}/resources/r/events").json()["events"]
        config = owner.post("/software_configs", json={"name": "c", "config": "echo"}).json()
        config_id = config["software_config"]["id"]
        deployment = owner.post(
            "/software_deployments",
            json={"config_id": config_id, "server_id": "owner-server"},
        ).json()["software_deployment"]["id"]
        world = World(server, stack, "", events[0]["id"], config_id, deployment, pool_paths, owner)
        world.snapshot = world.snapshot_of(stack)
        yield world
    finally:
        owner.close()
        stop_heat_all(server)


# The matrix ---------------------------------------------------------------------------

Request = tuple[str, str, Any]
# How a row makes its request for a caller: (world, caller) -> (method, path, body).
Make = Callable[[World, str], Request]


@dataclass(frozen=True)
class Route:
    rule: str
    make: Make
    allowed: int
    # What the other project's member gets (None: the allowed answer, on its own project).
    other: int | None = 404
    # Who the default policy lets through.
    granted: frozenset[str] = frozenset({"owner", "other", "admin", "noauth"})


def on_stack(method: str, sub: str = "", body: Any = None, *, fresh: bool = False) -> Make:
    """A request on the owner's stack (a fresh one from the pool for callers whose request
    goes through and changes it)."""

    def make(world: World, who: str) -> Request:
        stack = world.fresh() if fresh and who != "other" else world.stack
        return method, stack + sub, body

    return make


def at(method: str, path: str, body: Any = None) -> Make:
    return lambda world, who: (method, path.format(w=world), body)


def with_snapshot(method: str, sub: str, *, fresh: bool) -> Make:
    """A request on a snapshot of the owner's made for this cell."""

    def make(world: World, who: str) -> Request:
        if who == "other":
            return method, f"{world.stack}/snapshots/{world.snapshot}{sub}", None
        stack = world.fresh() if fresh else world.stack
        return method, f"{stack}/snapshots/{world.snapshot_of(stack)}{sub}", None

    return make


def made_for_cell(method: str, prefix: str, new: Callable[[World], str], shared: str) -> Make:
    """DELETE of a config or deployment of the owner's made for this cell."""

    def make(world: World, who: str) -> Request:
        target = getattr(world, shared) if who == "other" else new(world)
        return method, f"{prefix}/{target}", None

    return make


def create(world: World, who: str) -> Request:
    return "POST", "/stacks", {"stack_name": f"created-by-{who}", "template": NONE}


def preview(world: World, who: str) -> Request:
    return "POST", "/stacks/preview", {"stack_name": "preview", "template": NONE}


def deployment(world: World, who: str) -> Request:
    return (
        "POST",
        "/software_deployments",
        {"config_id": world.config, "server_id": f"{who}-server"},
    )


ALL = frozenset(CALLERS)
NOBODY: frozenset[str] = frozenset()
ADMIN_ONLY = frozenset({"admin"})
UPDATE = {"template": TEMPLATE}
LOOKUP_SUBS = (
    "resources",
    "events",
    "template",
    "actions",
    "environment",
    "files",
    "outputs",
    "snapshots",
)

ROUTES: dict[str, Route] = {
    "list stacks": Route("stacks:index", at("GET", "/stacks"), 200, other=None),
    "list stacks of every project": Route(
        "stacks:global_index", at("GET", "/stacks?global_tenant=true"), 200, granted=NOBODY
    ),
    "list stacks in detail": Route("stacks:detail", at("GET", "/stacks/detail"), 200, other=None),
    "create stack": Route("stacks:create", create, 201, other=None),
    "preview stack": Route("stacks:preview", preview, 200, other=None),
    **{
        f"look up stack ({method})": Route(
            "stacks:lookup", at(method, "/stacks/{w.name}"), 302, other=404
        )
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    },
    "look up stack by id": Route("stacks:lookup", at("GET", "/stacks/{w.stack_id}"), 302),
    "look up stack by ARN": Route(
        "stacks:lookup",
        at("GET", "/stacks/arn:openstack:heat::owner:stacks/{w.name}/{w.stack_id}"),
        302,
    ),
    **{
        f"look up stack {sub} ({method})": Route(
            "stacks:lookup", at(method, "/stacks/{w.name}/" + sub), 302
        )
        for sub in LOOKUP_SUBS
        for method in ("GET", "POST")
    },
    "show stack": Route("stacks:show", on_stack("GET"), 200),
    "update stack": Route("stacks:update", on_stack("PUT", body=UPDATE, fresh=True), 202),
    "update stack (PATCH)": Route(
        "stacks:update_patch",
        on_stack("PATCH", body={"parameters": {}, "template": TEMPLATE}, fresh=True),
        202,
    ),
    "update stack (PATCH, no change)": Route(
        "stacks:update_no_change", on_stack("PATCH", body={}, fresh=True), 202
    ),
    "preview update": Route("stacks:preview_update", on_stack("PUT", "/preview", UPDATE), 200),
    "preview update (PATCH)": Route(
        "stacks:preview_update_patch", on_stack("PATCH", "/preview", {}), 200
    ),
    "delete stack": Route("stacks:delete", on_stack("DELETE", fresh=True), 204),
    "abandon stack": Route("stacks:abandon", on_stack("DELETE", "/abandon", fresh=True), 200),
    "export stack": Route("stacks:export", on_stack("GET", "/export"), 200),
    "stack template": Route("stacks:template", on_stack("GET", "/template"), 200),
    "stack environment": Route("stacks:environment", on_stack("GET", "/environment"), 200),
    "stack files": Route("stacks:files", on_stack("GET", "/files"), 200),
    "list outputs": Route("stacks:list_outputs", on_stack("GET", "/outputs"), 200),
    "show output": Route("stacks:show_output", on_stack("GET", "/outputs/out"), 200),
    "suspend": Route(
        "actions:suspend", on_stack("POST", "/actions", {"suspend": None}, fresh=True), 200
    ),
    "resume (not suspended)": Route(
        "actions:resume", on_stack("POST", "/actions", {"resume": None}), 400
    ),
    "check": Route("actions:check", on_stack("POST", "/actions", {"check": None}, fresh=True), 200),
    "cancel update (none running)": Route(
        "actions:cancel_update", on_stack("POST", "/actions", {"cancel_update": None}), 400
    ),
    "cancel without rollback (none running)": Route(
        "actions:cancel_without_rollback",
        on_stack("POST", "/actions", {"cancel_without_rollback": None}),
        400,
    ),
    "snapshot": Route("stacks:snapshot", on_stack("POST", "/snapshots", {"name": "m"}), 200),
    "list snapshots": Route("stacks:list_snapshots", on_stack("GET", "/snapshots"), 200),
    "show snapshot": Route(
        "stacks:show_snapshot", at("GET", "{w.stack}/snapshots/{w.snapshot}"), 200
    ),
    "delete snapshot": Route(
        "stacks:delete_snapshot", with_snapshot("DELETE", "", fresh=False), 204
    ),
    "restore snapshot": Route(
        "stacks:restore_snapshot", with_snapshot("POST", "/restore", fresh=True), 202
    ),
    "list resources": Route("resource:index", on_stack("GET", "/resources"), 200),
    "show resource": Route("resource:show", on_stack("GET", "/resources/r"), 200),
    "resource metadata": Route("resource:metadata", on_stack("GET", "/resources/r/metadata"), 200),
    "signal (not supported by the type)": Route(
        "resource:signal", on_stack("POST", "/resources/r/signal", {}), 400
    ),
    "mark healthy": Route(
        "resource:mark_unhealthy", on_stack("PATCH", "/resources/r", {"mark_unhealthy": False}), 200
    ),
    "list events": Route("events:index", on_stack("GET", "/events"), 200),
    "list resource events": Route("events:index", on_stack("GET", "/resources/r/events"), 200),
    "show event": Route("events:show", at("GET", "{w.stack}/resources/r/events/{w.event}"), 200),
    "validate": Route(
        "stacks:validate_template", at("POST", "/validate", {"template": NONE}), 200, other=None
    ),
    "list resource types": Route(
        "stacks:list_resource_types", at("GET", "/resource_types"), 200, other=None
    ),
    "resource type schema": Route(
        "stacks:resource_schema", at("GET", "/resource_types/OS::Heat::None"), 200, other=None
    ),
    "resource type template": Route(
        "stacks:generate_template",
        at("GET", "/resource_types/OS::Heat::None/template"),
        200,
        other=None,
    ),
    "template versions": Route(
        "stacks:list_template_versions", at("GET", "/template_versions"), 200, other=None
    ),
    "template functions": Route(
        "stacks:list_template_functions",
        at("GET", "/template_versions/heat_template_version.2016-10-14/functions"),
        200,
        other=None,
    ),
    "build info": Route("build_info:build_info", at("GET", "/build_info"), 200, other=None),
    "services": Route("service:index", at("GET", "/services"), 200, granted=ADMIN_ONLY),
    "list configs": Route(
        "software_configs:index", at("GET", "/software_configs"), 200, other=None
    ),
    "list configs of every project": Route(
        "software_configs:global_index",
        at("GET", "/software_configs?global_tenant=true"),
        200,
        granted=NOBODY,
    ),
    "create config": Route(
        "software_configs:create",
        at("POST", "/software_configs", {"name": "n", "config": "x"}),
        200,
        other=None,
    ),
    "show config": Route("software_configs:show", at("GET", "/software_configs/{w.config}"), 200),
    "delete config": Route(
        "software_configs:delete",
        made_for_cell("DELETE", "/software_configs", World.new_config, "config"),
        204,
    ),
    "list deployments": Route(
        "software_deployments:index", at("GET", "/software_deployments"), 200, other=None
    ),
    # The other project may not deploy the owner's config: it is not found there.
    "create deployment": Route("software_deployments:create", deployment, 200, other=400),
    "show deployment": Route(
        "software_deployments:show", at("GET", "/software_deployments/{w.deployment}"), 200
    ),
    "update deployment": Route(
        "software_deployments:update",
        at("PUT", "/software_deployments/{w.deployment}", {"status": "COMPLETE"}),
        200,
    ),
    "delete deployment": Route(
        "software_deployments:delete",
        made_for_cell("DELETE", "/software_deployments", World.new_deployment, "deployment"),
        204,
    ),
    "server metadata": Route(
        "software_deployments:metadata",
        at("GET", "/software_deployments/metadata/owner-server"),
        200,
        other=None,
    ),
}


def expected(route: Route, who: str) -> int:
    if who not in route.granted:
        return 403
    if who == "other" and route.other is not None:
        return route.other
    return route.allowed


@pytest.mark.parametrize("who", list(CALLERS))
@pytest.mark.parametrize("route", list(ROUTES))
def test_default_policy(world: World, route: str, who: str) -> None:
    row = ROUTES[route]
    method, path, body = row.make(world, who)
    with client(world.server, who) as http:
        response = http.request(method, path, json=body)

    assert response.status_code == expected(row, who), (method, path, response.text)
    if response.status_code == 403:
        error = response.json()["error"]
        assert response.json()["title"] == "Forbidden"
        assert error["type"] == "Forbidden"
        assert error["message"] == f"You are not authorized to use {row.rule}."


def _template(templates: list[str], path: str) -> str | None:
    """The route template ``path`` is served by: of those it matches, the one with the
    most fixed segments (``/stacks/{name}/resources`` is a look-up, not a stack)."""
    found = []
    for template in templates:
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            found.append((sum("{" not in part for part in template.split("/")), template))
    return max(found)[1] if found else None


def test_every_route_is_in_the_matrix(world: World) -> None:
    """Each method of each route the service serves (as its OpenAPI description lists
    them) is driven above, and each row asks one of Heat's rules."""
    schema = httpx.get(f"{world.server.url}/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    templates = list(schema["paths"])
    driven = set()
    for row in ROUTES.values():
        # The other project's request changes nothing of the owner's.
        method, path, _ = row.make(world, "other")
        driven.add((method, _template(templates, f"/v1/{{tenant_id}}{path.split('?')[0]}")))
    registered = {rule.name for rule in rules.list_rules()}

    assert served - driven == set()
    assert {row.rule for row in ROUTES.values()} <= registered


# The probe's findings, one by one ------------------------------------------------------


def test_global_tenant_lists_no_other_project_even_for_admins(world: World) -> None:
    with client(world.server, "other") as other:
        theirs = create_stack(other, "theirs", NONE).split("/")[3]
        for who in ("owner", "admin", "noauth"):
            with client(world.server, who) as http:
                refused = http.get("/stacks?global_tenant=true")
                listed = http.get("/stacks").json()["stacks"]
            assert refused.status_code == 403, (who, refused.text)
            assert refused.json()["error"]["type"] == "Forbidden"
            assert theirs not in {s["id"] for s in listed}
        refused = other.get("/software_configs?global_tenant=true")
        assert refused.status_code == 403
        assert world.config not in {
            c["id"] for c in other.get("/software_configs").json()["software_configs"]
        }


def test_another_project_neither_reads_nor_changes_configs_and_deployments(
    world: World,
) -> None:
    with client(world.server, "other") as other:
        answers = [
            other.get(f"/software_configs/{world.config}"),
            other.delete(f"/software_configs/{world.config}"),
            other.get(f"/software_deployments/{world.deployment}"),
            other.put(f"/software_deployments/{world.deployment}", json={"status": "FAILED"}),
            other.delete(f"/software_deployments/{world.deployment}"),
        ]
        listed = other.get("/software_deployments").json()["software_deployments"]

    assert [a.status_code for a in answers] == [404] * 5, [a.text for a in answers]
    assert world.deployment not in {d["id"] for d in listed}
    shown = world.owner.get(f"/software_deployments/{world.deployment}")
    assert shown.json()["software_deployment"]["status"] == "COMPLETE"
    assert world.owner.get(f"/software_configs/{world.config}").status_code == 200


def test_a_deployment_cannot_reach_another_projects_server(world: World) -> None:
    """Neither by naming the owner as stack user project nor by naming the owner's server
    (one it deploys to, or one of its resources): the owner's server metadata stays its
    own."""
    physical = world.owner.get(f"{world.stack}/resources/r").json()["resource"][
        "physical_resource_id"
    ]
    with client(world.server, "other") as other:
        config = other.post("/software_configs", json={"name": "zz-evil", "config": "rm"})
        config_id = config.json()["software_config"]["id"]
        attempts = [
            {"server_id": "fresh-server", "stack_user_project_id": OWNER},
            {"server_id": "owner-server"},
            {"server_id": physical},
        ]
        answers = [
            other.post("/software_deployments", json={"config_id": config_id, **fields})
            for fields in attempts
        ]
        own = other.post(
            "/software_deployments", json={"config_id": config_id, "server_id": "other-server"}
        )

    assert [a.status_code for a in answers] == [403] * 3, [a.text for a in answers]
    assert {a.json()["error"]["type"] for a in answers} == {"Forbidden"}
    assert own.status_code == 200, own.text
    for server in ("fresh-server", "owner-server", physical):
        metadata = world.owner.get(f"/software_deployments/metadata/{server}").json()
        assert "zz-evil" not in {c["name"] for c in metadata["metadata"]}


@pytest.mark.parametrize("global_tenant", ["", "&global_tenant=true"])
def test_another_projects_marker_answers_as_an_unknown_one(
    world: World, global_tenant: str
) -> None:
    with client(world.server, "other") as other:
        theirs = other.get(f"/stacks?marker={world.stack_id}{global_tenant}")
        unknown = other.get(f"/stacks?marker=00000000-0000-0000-0000-000000000000{global_tenant}")

    assert theirs.status_code == unknown.status_code == (403 if global_tenant else 404)
    assert theirs.json()["error"]["type"] == unknown.json()["error"]["type"]


# What an operator grants --------------------------------------------------------------


def test_an_operator_grants_global_listings_to_admins(operator_server: HeatServer) -> None:
    with (
        client(operator_server, "owner") as owner,
        client(operator_server, "admin") as admin,
        client(operator_server, "other") as other,
    ):
        mine = create_stack(owner, "granted-mine", NONE).split("/")[3]
        theirs = create_stack(other, "granted-theirs", NONE).split("/")[3]
        everything = admin.get("/stacks?global_tenant=true")
        refused = owner.get("/stacks?global_tenant=true")

    assert everything.status_code == 200, everything.text
    projects = {s["id"]: s["project"] for s in everything.json()["stacks"]}
    assert (projects[mine], projects[theirs]) == (OWNER, OTHER)
    assert refused.status_code == 403


def test_an_operators_resource_type_rule(operator_server: HeatServer) -> None:
    """``resource_types:OS::Heat::TestResource`` for admins only: a member may not create,
    preview or look at the type; an admin may."""
    body = {"stack_name": "typed", "template": TEMPLATE}
    with client(operator_server, "owner") as owner, client(operator_server, "admin") as admin:
        refused = [
            owner.post("/stacks", json=body),
            owner.post("/stacks/preview", json=body),
            owner.get("/resource_types/OS::Heat::TestResource"),
        ]
        listed = owner.get("/resource_types")
        assert listed.status_code == 200, listed.text
        member_types = listed.json()["resource_types"]
        admin_types = admin.get("/resource_types").json()["resource_types"]
        created = admin.post("/stacks", json=body)

    assert [r.status_code for r in refused] == [403] * 3, [r.text for r in refused]
    assert refused[0].json()["error"]["message"] == (
        "You are not authorized to use OS::Heat::TestResource."
    )
    assert "OS::Heat::TestResource" not in member_types
    assert "OS::Heat::TestResource" in admin_types
    assert created.status_code == 201, created.text


def test_enforce_new_defaults_off_lets_the_deprecated_defaults_through(
    world: World, operator_server: HeatServer
) -> None:
    """A caller with the reader role only: refused creation by Heat's new defaults, let
    through by the deprecated "not a stack user" where the operator says so."""
    headers = {"X-Auth-Project": "readers", "X-Roles": "reader"}
    body = {"stack_name": "by-a-reader", "template": NONE}
    new_defaults = httpx.post(
        f"{world.server.endpoint('readers')}/stacks", json=body, headers=headers
    )
    old_defaults = httpx.post(
        f"{operator_server.endpoint('readers')}/stacks", json=body, headers=headers
    )
    stack_user = httpx.post(
        f"{operator_server.endpoint('readers')}/stacks",
        json={**body, "stack_name": "by-a-stack-user"},
        headers={**headers, "X-Roles": "heat_stack_user"},
    )

    assert new_defaults.status_code == 403, new_defaults.text
    assert old_defaults.status_code == 201, old_defaults.text
    assert stack_user.status_code == 403, stack_user.text


def test_the_policy_generators_know_heats_rules(tmp_path: Path) -> None:
    """``oslopolicy-sample-generator --namespace heat`` lists Heat's rules with their
    defaults, and ``oslopolicy-policy-generator`` merges an operator's file into them."""
    bin_dir = Path(sys.executable).parent
    sample = subprocess.run(
        [str(bin_dir / "oslopolicy-sample-generator"), "--namespace", "heat"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (tmp_path / "policy.yaml").write_text('"stacks:create": "role:creator"\n', encoding="utf-8")
    (tmp_path / "heat.conf").write_text(
        f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n", encoding="utf-8"
    )
    effective = subprocess.run(
        [
            str(bin_dir / "oslopolicy-policy-generator"),
            "--namespace",
            "heat",
            "--config-file",
            str(tmp_path / "heat.conf"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert '#"stacks:global_index": "rule:deny_everybody"' in sample
    assert '#"software_deployments:metadata": "(role:reader and project_id:%(project_id)s)' in (
        sample
    )
    assert '#"resource_types:OS::Nova::Flavor": "rule:project_admin"' in sample
    assert sample.count('\n#"') == 100
    assert '"stacks:create": "role:creator"' in effective
    assert '"stacks:index": "role:reader and project_id:%(project_id)s"' in effective
