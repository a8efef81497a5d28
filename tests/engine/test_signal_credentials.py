"""Signal credentials: a resource whose type declares ``signal_credential`` gets a key
pair and a token of its own before its create runs, the same one on every later action,
stored encrypted, reaching that one resource only, and revoked when the resource is
deleted or replaced."""

from __future__ import annotations

import contextlib
import hashlib
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from ember.common import errors
from ember.db.models import Ec2Credential
from ember.db.session import session_scope
from ember.engine.plugins import ENTRY_POINT_GROUP, PluginRegistry
from ember.engine.resource import AttributeSchema, ResourceFailure, ResourcePlugin, UpdateReplace
from ember.rpc.api import SIGNAL_TOKEN_PREFIX
from ember.template import PropertySchema
from tests.engine.conftest import EngineEnv, start_env, stop_env
from tests.engine.helpers import hot, outputs


class Signalable(ResourcePlugin):
    """Shows the credential it was given; a change of ``generation`` replaces it."""

    type_name = "Test::Signalable"
    signal_supported = True
    signal_credential = True
    properties_schema = {"generation": PropertySchema("integer", default=0, update_allowed=True)}
    attributes_schema = {
        "access": AttributeSchema("Access key."),
        "token": AttributeSchema("Token."),
        "alarm_url": AttributeSchema("Pre-signed signal URL."),
        "wait_url": AttributeSchema("Pre-signed wait condition URL."),
        "heat_url": AttributeSchema("heat-api signal URL."),
    }
    seen: ClassVar[list[str]] = []

    async def create(self) -> None:
        assert self.ctx.signal_access is not None
        self.seen.append(self.ctx.signal_access.access_key)
        await super().create()

    async def update(self, changed: Mapping[str, Any]) -> None:
        if "generation" in changed:
            raise UpdateReplace()

    async def signal(self, details: Any) -> str | None:
        if isinstance(details, dict) and details.get("bad"):
            raise ResourceFailure("that is not a signal I take")
        return "taken"

    def attributes(self) -> dict[str, Any]:
        access = self.ctx.signal_access
        if access is None:
            return {}
        return {
            "access": access.access_key,
            "token": access.token,
            "alarm_url": access.cfn_signal_url,
            "wait_url": access.cfn_waitcondition_url,
            "heat_url": access.heat_url,
        }


def registry() -> PluginRegistry:
    sources: dict[str, Any] = {
        ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
    }
    sources[Signalable.type_name] = Signalable
    return PluginRegistry(sources)


@contextlib.asynccontextmanager
async def credentials_env(tmp_path: Path) -> AsyncIterator[EngineEnv]:
    Signalable.seen = []
    env = await start_env(
        f"sqlite:///{tmp_path / 'signal.sqlite'}",
        plugins=registry(),
        heat_waitcondition_server_url="http://cfn.example.com:8000/v1/waitcondition",
    )
    try:
        yield env
    finally:
        await stop_env(env)


def template(generation: int = 0) -> dict[str, Any]:
    resource = {"type": Signalable.type_name, "properties": {"generation": generation}}
    attrs = ("access", "token", "alarm_url", "wait_url", "heat_url")
    return hot(
        {"s": resource, "other": {"type": Signalable.type_name}},
        outputs={name: {"value": {"get_attr": ["s", name]}} for name in attrs},
    )


def stored(env: EngineEnv) -> list[Ec2Credential]:
    with session_scope(env.db.engine, readonly=True) as session:
        rows = list(session.execute(select(Ec2Credential)).scalars())
        session.expunge_all()
    return rows


async def test_a_resource_gets_a_credential_of_its_own_stored_encrypted(tmp_path: Path) -> None:
    async with credentials_env(tmp_path) as env:
        stack = await env.create("creds", template())
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        out = outputs(stack)
        rows = stored(env)
        assert len(rows) == 2, "one per resource"
        mine = next(r for r in rows if r.access == out["access"])
        assert mine.stack_id == stack["id"] and mine.project_id == env.ctx["project_id"]
        # Neither the secret nor the token is in the clear in the database.
        assert out["token"].startswith(SIGNAL_TOKEN_PREFIX)
        assert out["token"] not in (mine.token or "")
        assert mine.token_digest == hashlib.sha256(out["token"].encode()).hexdigest()
        url = urllib.parse.urlsplit(out["alarm_url"])
        assert url.netloc == "cfn.example.com:8000"
        arn = f"arn:openstack:heat::demo:stacks/creds/{stack['id']}/resources/s"
        assert urllib.parse.unquote(url.path) == f"/v1/signal/{arn}"
        assert "%3A" in url.path, "the ARN is quoted, its slashes kept"
        query = dict(urllib.parse.parse_qsl(url.query))
        assert query["AWSAccessKeyId"] == out["access"]
        assert query["SignatureVersion"] == "2" and query["Signature"]
        assert "Timestamp" not in query, "the URL does not expire"
        wait = urllib.parse.urlsplit(out["wait_url"])
        assert urllib.parse.unquote(wait.path) == f"/v1/waitcondition/{arn}"
        assert dict(urllib.parse.parse_qsl(wait.query))["Signature"] != query["Signature"]
        assert out["heat_url"].endswith(f"/demo/stacks/creds/{stack['id']}/resources/s/signal")
        # Not among the project's own key pairs.
        listed = await env.client.find_ec2_credential(out["access"])
        assert listed is not None and listed["resource_id"] == mine.resource_id


async def test_the_same_credential_on_every_later_action(tmp_path: Path) -> None:
    async with credentials_env(tmp_path) as env:
        stack = await env.create("same", template())
        first = outputs(stack)
        await env.client.stack_action(env.ctx, "same", "check")
        checked = await env.wait(stack["id"], "CHECK")
        assert checked["stack_status"] == "CHECK_COMPLETE"
        assert outputs(checked)["access"] == first["access"]
        assert outputs(checked)["token"] == first["token"]
        assert len(stored(env)) == 2


async def test_replacing_or_deleting_the_resource_revokes_its_credential(tmp_path: Path) -> None:
    async with credentials_env(tmp_path) as env:
        stack = await env.create("revoked", template())
        old = outputs(stack)
        await env.client.update_stack(env.ctx, "revoked", template(generation=1))
        updated = await env.wait(stack["id"], "UPDATE")
        assert updated["stack_status"] == "UPDATE_COMPLETE", updated["stack_status_reason"]
        new = outputs(updated)
        assert new["access"] != old["access"], "the replacement has its own"
        accesses = {r.access for r in stored(env)}
        assert old["access"] not in accesses and new["access"] in accesses
        assert await env.client.find_ec2_credential(old["access"]) is None
        await env.client.delete_stack(env.ctx, "revoked")
        await env.wait(stack["id"], "DELETE")
        assert stored(env) == []
        digest = hashlib.sha256(new["token"].encode()).hexdigest()
        assert await env.client.find_signal_token(digest) is None


async def test_a_signal_credential_reaches_its_own_resource_only(tmp_path: Path) -> None:
    async with credentials_env(tmp_path) as env:
        stack = await env.create("scoped", template())
        rows = {r.access: r for r in stored(env)}
        mine = rows[outputs(stack)["access"]]
        scoped = {**env.ctx, "signal_resource_id": mine.resource_id, "is_admin": False}
        await env.client.signal_resource(scoped, "scoped", "s", {"ok": 1})
        assert (await env.client.resource_metadata(scoped, "scoped", "s")) == {}
        with pytest.raises(errors.EntityNotFound):
            await env.client.signal_resource(scoped, "scoped", "other", {"ok": 1})
        with pytest.raises(errors.EntityNotFound):
            await env.client.show_resource(scoped, "scoped", "other")
        with pytest.raises(errors.Forbidden):
            await env.client.list_stacks(scoped)
        with pytest.raises(errors.Forbidden):
            await env.client.show_stack(scoped, "scoped")
        with pytest.raises(errors.Forbidden):
            await env.client.delete_stack(scoped, "scoped")
        with pytest.raises(errors.Forbidden):
            await env.client.signal_resource(scoped, "scoped", "s", {"unset_hook": "pre-create"})


async def test_a_synchronous_signal_answers_once_handled(tmp_path: Path) -> None:
    async with credentials_env(tmp_path) as env:
        await env.create("sync", template())
        await env.client.signal_resource(env.ctx, "sync", "s", {"ok": 1}, sync_call=True)
        events = await env.client.list_events(env.ctx, "sync")
        handled = [
            e
            for e in events
            if e["resource_name"] == "s" and e["resource_status"].startswith("SIGNAL")
        ]
        assert [e["resource_status"] for e in handled] == ["SIGNAL_COMPLETE"], (
            "handled before the answer"
        )
        with pytest.raises(errors.InvalidRequest) as refused:
            await env.client.signal_resource(env.ctx, "sync", "s", {"bad": True}, sync_call=True)
        assert "that is not a signal I take" in str(refused.value)
