"""heat-api's ``keystone`` flavor against a real Keystone: keystonemiddleware's ``auth_token``
validates each token, the caller's project comes from the token, and the project in the
path must be the caller's own unless the caller is an admin (Heat's rules)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ember.api.rest.faults import HTTPError
from ember.api.rest.keystone import auth_for
from ember.cmd.config import load_settings
from ember.common.settings import Settings
from tests.api.conftest import HeatServer, free_port
from tests.api.helpers import NONE_DICT, REQUEST_ID, need, wait_until
from tests.api.keystone_service import (
    Keystone,
    require_keystone,
    start_heat,
    start_keystone,
    stop,
)

FAULT_KEYS = {"code", "title", "explanation", "error"}


@pytest.fixture(scope="module")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keystone]:
    service = start_keystone(tmp_path_factory.mktemp("keystone"))
    try:
        yield service
    finally:
        stop(service.process, "keystone", service.log)


@pytest.fixture(scope="module")
def heat_server(
    keystone: Keystone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeatServer]:
    """heat-all with ``[paste_deploy] flavor = keystone`` (replaces the noauth server here)."""
    server = start_heat(tmp_path_factory.mktemp("heat-keystone"), keystone)
    try:
        yield server
    finally:
        stop(server.process, "heat-all", server.log)


@pytest.fixture(scope="module")
def http(heat_server: HeatServer) -> Iterator[Any]:
    httpx = need("httpx")
    with httpx.Client(base_url=heat_server.url, timeout=30.0) as client:
        yield client


def heatclient(session: Any, endpoint: str | None = None) -> Any:
    client = need("heatclient.client")
    return client.Client("1", session=session, endpoint_override=endpoint)


@pytest.fixture(scope="module")
def demo_stack(keystone: Keystone, heat_server: HeatServer) -> Any:
    """A stack created by the non-admin ``demo`` user through heatclient, which finds
    heat-api in the token's service catalog."""
    hc = heatclient(keystone.session("demo"))
    created = hc.stacks.create(stack_name="ks-demo", template=NONE_DICT)
    stack_id = created["stack"]["id"]
    return wait_until(
        lambda: hc.stacks.get(stack_id, resolve_outputs=False),
        lambda s: s.stack_status == "CREATE_COMPLETE",
    )


def assert_fault(response: Any, status: int, title: str, error_type: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == FAULT_KEYS, body
    assert (body["code"], body["title"], body["error"]["type"]) == (status, title, error_type)
    assert body["explanation"]
    assert body["error"]["message"]
    assert re.match(REQUEST_ID, response.headers["x-openstack-request-id"])


def test_heatclient_on_a_password_session_creates_and_lists_a_stack(
    keystone: Keystone, demo_stack: Any
) -> None:
    hc = heatclient(keystone.session("demo"))
    demo = keystone.project_id("demo")

    listed = {s.stack_name: s for s in hc.stacks.list()}

    assert set(listed) == {"ks-demo"}
    assert listed["ks-demo"].id == demo_stack.id
    assert demo_stack.stack_owner == "demo"
    assert demo_stack.stack_user_project_id == demo
    (link,) = (link["href"] for link in demo_stack.links if link["rel"] == "self")
    assert f"/v1/{demo}/stacks/ks-demo/{demo_stack.id}" in link


def test_the_stack_belongs_to_the_tokens_project(keystone: Keystone, demo_stack: Any) -> None:
    admin = heatclient(keystone.session("admin"))

    everyone = {s.stack_name: s for s in admin.stacks.list(global_tenant=True)}
    own = {s.stack_name for s in admin.stacks.list()}

    assert everyone["ks-demo"].project == keystone.project_id("demo")
    assert "ks-demo" not in own


@pytest.mark.parametrize("token", ["not-a-token", "gAAAAABnot-a-fernet-token-either"])
def test_a_bad_token_is_refused_with_heats_fault(keystone: Keystone, http: Any, token: str) -> None:
    demo = keystone.project_id("demo")

    response = http.get(f"/v1/{demo}/stacks", headers={"X-Auth-Token": token})

    assert_fault(response, 401, "Unauthorized", "HTTPUnauthorized")


def test_heatclient_with_a_bad_token_gets_unauthorized(
    keystone: Keystone, heat_server: HeatServer
) -> None:
    exc = need("heatclient.exc")
    token_endpoint = need("keystoneauth1.token_endpoint")
    session = need("keystoneauth1.session")
    endpoint = heat_server.endpoint(keystone.project_id("demo"))
    sess = session.Session(auth=token_endpoint.Token(endpoint, "not-a-token"))

    with pytest.raises(exc.HTTPUnauthorized):
        list(heatclient(sess, endpoint).stacks.list())


def test_no_token_is_401(keystone: Keystone, http: Any) -> None:
    demo = keystone.project_id("demo")

    listed = http.get(f"/v1/{demo}/stacks")
    created = http.post(f"/v1/{demo}/stacks", json={"stack_name": "x", "template": NONE_DICT})

    assert_fault(listed, 401, "Unauthorized", "HTTPUnauthorized")
    assert_fault(created, 401, "Unauthorized", "HTTPUnauthorized")
    # Where to get a token, as keystonemiddleware says it (www_authenticate_uri).
    assert listed.headers["www-authenticate"] == f'Keystone uri="{keystone.url}"'


def test_forged_identity_headers_without_a_token_are_401(keystone: Keystone, http: Any) -> None:
    demo = keystone.project_id("demo")
    forged = {
        "X-Identity-Status": "Confirmed",
        "X-Project-Id": demo,
        "X-User-Id": "someone",
        "X-Roles": "admin",
    }

    response = http.get(f"/v1/{demo}/stacks", headers=forged)

    assert_fault(response, 401, "Unauthorized", "HTTPUnauthorized")


def test_forged_identity_headers_do_not_change_a_valid_tokens_caller(
    keystone: Keystone, http: Any, demo_stack: Any
) -> None:
    admin_project = keystone.project_id("admin")
    headers = {
        "X-Auth-Token": keystone.token("demo"),
        "X-Project-Id": admin_project,
        "X-Roles": "admin",
    }

    own = http.get(f"/v1/{keystone.project_id('demo')}/stacks", headers=headers)
    other = http.get(f"/v1/{admin_project}/stacks", headers=headers)

    assert own.status_code == 200, own.text
    assert [s["stack_name"] for s in own.json()["stacks"]] == ["ks-demo"]
    assert "project" not in own.json()["stacks"][0]
    assert_fault(other, 403, "Forbidden", "Forbidden")


def test_a_non_admin_token_with_another_projects_path_is_403(
    keystone: Keystone, heat_server: HeatServer, http: Any
) -> None:
    exc = need("heatclient.exc")
    admin_project = keystone.project_id("admin")
    token = keystone.token("demo")

    listed = http.get(f"/v1/{admin_project}/stacks", headers={"X-Auth-Token": token})
    created = http.post(
        f"/v1/{admin_project}/stacks",
        headers={"X-Auth-Token": token},
        json={"stack_name": "intruder", "template": NONE_DICT},
    )
    hc = heatclient(keystone.session("demo"), heat_server.endpoint(admin_project))

    assert_fault(listed, 403, "Forbidden", "Forbidden")
    assert_fault(created, 403, "Forbidden", "Forbidden")
    with pytest.raises(exc.HTTPForbidden):
        list(hc.stacks.list())


def test_an_admin_token_with_another_projects_path_is_served_as_its_own_project(
    keystone: Keystone, http: Any, demo_stack: Any
) -> None:
    demo = keystone.project_id("demo")
    admin_project = keystone.project_id("admin")
    headers = {"X-Auth-Token": keystone.token("admin")}

    created = http.post(
        f"/v1/{demo}/stacks",
        headers=headers,
        json={"stack_name": "ks-admin", "template": NONE_DICT},
    )
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    wait_until(
        lambda: http.get(location, headers=headers).json()["stack"]["stack_status"],
        lambda status: status == "CREATE_COMPLETE",
    )
    through_demo_path = http.get(f"/v1/{demo}/stacks", headers=headers).json()["stacks"]
    as_demo = heatclient(keystone.session("demo")).stacks.list()

    assert f"/v1/{admin_project}/stacks/ks-admin/" in location
    assert {s["stack_name"] for s in through_demo_path} == {"ks-admin"}
    assert {s["project"] for s in through_demo_path} == {admin_project}
    assert "ks-admin" not in {s.stack_name for s in as_demo}


def test_versions_and_healthcheck_need_no_token(http: Any) -> None:
    assert http.get("/").status_code == 300
    assert http.get("/healthcheck").status_code == 200


def test_the_middleware_reads_the_same_configuration_files(tmp_path: Path) -> None:
    conf = tmp_path / "heat.conf"
    conf.write_text("[paste_deploy]\nflavor = keystone\n", encoding="utf-8")
    extra = tmp_path / "heat.conf.d"
    extra.mkdir()

    settings = load_settings(
        ["--config-file", str(conf), "--config-dir", str(extra), "--debug"],
        search_default_files=False,
    )

    assert settings.paste_flavor == "keystone"
    assert settings.config_args == ("--config-file", str(conf), "--config-dir", str(extra))


@pytest.mark.parametrize("flavor", ["standalone", "custombackend"])
def test_a_flavor_ember_does_not_serve_is_refused(flavor: str) -> None:
    with pytest.raises(SystemExit, match=f"flavor '{flavor}' is not supported"):
        auth_for(Settings(paste_flavor=flavor), "heat-all")


def test_noauth_needs_no_middleware() -> None:
    assert auth_for(Settings(paste_flavor="noauth"), "heat-all") is None


async def test_keystone_out_of_reach_is_503(tmp_path: Path) -> None:
    """keystonemiddleware itself, in this process: with Keystone unreachable a token cannot
    be checked, and the caller is told the service is unavailable."""
    require_keystone()
    starlette = need("starlette.requests")
    port = free_port()  # nothing listens there
    conf = tmp_path / "heat.conf"
    conf.write_text(
        "[keystone_authtoken]\n"
        f"www_authenticate_uri = http://127.0.0.1:{port}/v3\n"
        f"auth_url = http://127.0.0.1:{port}/v3\n"
        "auth_type = password\n"
        "username = heat\n"
        "password = secret\n"
        "project_name = service\n"
        "user_domain_name = Default\n"
        "project_domain_name = Default\n"
        "http_request_max_retries = 0\n",
        encoding="utf-8",
    )
    settings = load_settings(["--config-file", str(conf)], search_default_files=False)
    auth = auth_for(settings, "heat-all")
    assert auth is not None
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/p/stacks",
        "query_string": b"",
        "headers": [(b"x-auth-token", b"some-token")],
    }

    with pytest.raises(HTTPError) as refused:
        await auth(starlette.Request(scope))

    assert refused.value.status == 503
