"""``ember.client`` against a real heat-all: stack calls, typed records, Heat's faults as
typed errors, and the three ways of making a session (noauth, keystoneauth, OS_* and
clouds.yaml through openstack.config)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ember.client import (
    BadRequest,
    Client,
    Conflict,
    ConnectionFailed,
    HeatError,
    NotFound,
    Session,
    from_environment,
)
from ember.client.errors import from_answer
from tests.api.conftest import HeatServer, free_port
from tests.api.helpers import need, wait_until
from tests.cli.templates import LEAF, QUICK


def _finished(client: Client, stack: str) -> str:
    found = wait_until(
        lambda: client.show_stack(stack, resolve_outputs=False),
        lambda s: not s.in_progress,
        timeout=60,
        what=f"{stack} to finish",
    )
    return str(found.status)


def test_create_show_outputs_list_template(client: Client) -> None:
    identity = client.create_stack("quick", QUICK, parameters={"word": "bonjour"})
    name, _, sid = identity.partition("/")
    assert name == "quick" and len(sid) == 36
    assert _finished(client, identity) == "CREATE_COMPLETE"
    shown = client.show_stack("quick")
    assert (shown.id, shown.name, shown.action) == (sid, "quick", "CREATE")
    assert client.show_stack(identity).status == "CREATE_COMPLETE"
    assert shown.parameters["word"] == "bonjour"
    outputs = {o["output_key"]: o["output_value"] for o in client.outputs(sid)}
    assert outputs == {"said": "bonjour"}
    assert "quick" in [s.name for s in client.list_stacks()]
    assert set(client.template("quick")["resources"]) == {"slow", "rand"}
    resources = {r.name: r for r in client.resources("quick")}
    assert resources["slow"].type == "OS::Heat::TestResource"
    assert resources["slow"].status == "CREATE_COMPLETE"
    assert resources["slow"].stack_id == sid


def test_events_with_marker_and_limit(client: Client) -> None:
    client.create_stack("evented", QUICK)
    assert _finished(client, "evented") == "CREATE_COMPLETE"
    events = client.events("evented", sort_dir="asc")
    assert events[0].is_stack_event and events[0].status == "CREATE_IN_PROGRESS"
    assert events[-1].is_stack_event and events[-1].status == "CREATE_COMPLETE"
    after = client.events("evented", sort_dir="asc", marker=events[1].id)
    assert [e.id for e in after] == [e.id for e in events[2:]]
    assert [e.id for e in client.events("evented", sort_dir="asc", limit=2)] == [
        e.id for e in events[:2]
    ]


def test_nested_depth_reaches_nested_stacks(client: Client) -> None:
    template = "heat_template_version: 2016-10-14\nresources:\n  child:\n    type: leaf.yaml\n"
    client.create_stack("parent", template, files={"leaf.yaml": LEAF})
    assert _finished(client, "parent") == "CREATE_FAILED"
    top = client.resources("parent")
    assert [r.name for r in top] == ["child"]
    nested_id = top[0].nested_stack_id
    assert nested_id
    deep = {r.name: r for r in client.resources("parent", nested_depth=2)}
    assert deep["bad"].stack_id == nested_id
    assert deep["bad"].parent_resource == "child"
    assert deep["bad"].status == "CREATE_FAILED"
    names = {e.resource_name for e in client.events("parent", nested_depth=2)}
    assert {"child", "fine", "bad"} <= names


def test_update_preview_cancel_delete(client: Client) -> None:
    client.create_stack("changing", QUICK)
    assert _finished(client, "changing") == "CREATE_COMPLETE"
    client.update_stack("changing", existing=True, parameters={"word": "again"})
    assert _finished(client, "changing") == "UPDATE_COMPLETE"
    assert client.outputs("changing")[0]["output_value"] == "again"
    preview = client.preview_stack("seen", QUICK)
    assert {r["resource_name"] for r in preview["resources"]} == {"slow", "rand"}
    with pytest.raises(NotFound):
        client.show_stack("seen")
    slow = QUICK.replace("{create: 1}", "{create: 30}")
    client.create_stack("stopped", slow)
    assert client.show_stack("stopped").action == "CREATE"  # of CREATE_IN_PROGRESS
    with pytest.raises(BadRequest, match="not supported"):
        client.cancel_update("stopped")  # Heat's cancel_update is for updates only
    client.cancel_update("stopped", rollback=False)
    assert _finished(client, "stopped") == "CREATE_FAILED"
    assert "cancelled" in client.show_stack("stopped").reason
    client.delete_stack("changing")
    wait_until(
        lambda: [s.name for s in client.list_stacks()],
        lambda names: "changing" not in names,
        what="changing to go",
    )


def test_faults_are_typed(client: Client) -> None:
    with pytest.raises(BadRequest) as bad:
        client.create_stack("broken", "heat_template_version: 2016-10-14\nresources: 3\n")
    assert bad.value.status == 400
    assert bad.value.error_type
    assert bad.value.message
    with pytest.raises(NotFound) as missing:
        client.show_stack("no-such-stack")
    assert (missing.value.status, missing.value.error_type) == (404, "EntityNotFound")
    assert "no-such-stack" in missing.value.message
    client.create_stack("twice", QUICK)
    with pytest.raises(Conflict) as again:
        client.create_stack("twice", QUICK)
    assert again.value.status == 409
    assert again.value.error_type == "StackExists"


def test_noauth_headers_name_the_user(heat_server: HeatServer, project: str) -> None:
    session = Session.noauth(heat_server.endpoint(project), user="alice", project=project)
    assert session.headers == {"X-Auth-User": "alice", "X-Auth-Project": project}
    with Client(session) as alice:
        alice.create_stack("alices", QUICK)
        assert alice.show_stack("alices", resolve_outputs=False).raw["stack_owner"] == "alice"


def test_keystoneauth_session(heat_server: HeatServer, project: str) -> None:
    ks_session = need("keystoneauth1.session")
    noauth = need("keystoneauth1.noauth")
    endpoint = heat_server.endpoint(project)
    ks = ks_session.Session(auth=noauth.NoAuth(endpoint=endpoint))
    session = Session.from_keystoneauth(ks)
    assert session.endpoint == endpoint
    assert session.auth_headers is not None
    assert session.auth_headers() == {"X-Auth-Token": "notused"}
    with Client(session) as through_ks:
        assert isinstance(through_ks.list_stacks(), list)


def test_environment_and_clouds_yaml(
    heat_server: HeatServer, project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("openstack.config")
    for name in [n for n in os.environ if n.startswith("OS_")]:
        monkeypatch.delenv(name)
    endpoint = heat_server.endpoint(project)
    monkeypatch.setenv("OS_AUTH_TYPE", "none")
    monkeypatch.setenv("OS_ENDPOINT", endpoint)
    assert from_environment().endpoint == endpoint
    monkeypatch.delenv("OS_AUTH_TYPE")
    monkeypatch.delenv("OS_ENDPOINT")
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        f"clouds:\n  local:\n    auth_type: none\n    auth:\n      endpoint: {endpoint}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    session = from_environment("local")
    assert session.endpoint == endpoint
    with Client(session) as from_clouds:
        started = time.monotonic()
        assert isinstance(from_clouds.list_stacks(), list)
        assert time.monotonic() - started < 30


def test_answers_that_are_not_faults_and_no_service() -> None:
    proxy = from_answer(502, b"<html>Bad Gateway</html>")
    assert type(proxy) is HeatError
    assert (proxy.status, proxy.error_type, proxy.message) == (502, "", "<html>Bad Gateway</html>")
    nowhere = Client(Session.noauth(f"http://127.0.0.1:{free_port()}/v1/nobody"))
    with nowhere, pytest.raises(ConnectionFailed) as failed:
        nowhere.list_stacks()
    assert failed.value.status == 0
    assert "127.0.0.1" in failed.value.message
