"""The key pair heat-api-cfn asks an engine for: the stored record, its secret still
encrypted, on every backend, through the client as the API calls it."""

from __future__ import annotations

import pytest

from ember.common import crypt, errors
from ember.db.unit import UnitOfWork
from tests.engine.conftest import EngineEnv

KEY = "the key every process is given!!"


def _store(uow: UnitOfWork, access: str, secret: str, roles: list[str]) -> None:
    uow.ec2_credentials.add(
        access=access,
        secret=secret,
        project_id="demo",
        user_id="u-1",
        user_name="alice",
        roles=roles,
    )


async def test_find_ec2_credential_returns_the_stored_record(env_any: EngineEnv) -> None:
    env = env_any
    encrypted = crypt.encrypt("s3cr3t", KEY)
    await env.db.run(_store, "a" * 32, encrypted, ["member", "heat_stack_owner"])
    await env.db.run(_store, "b" * 32, crypt.encrypt("other", KEY), ["reader"])

    found = await env.client.find_ec2_credential("a" * 32)

    assert found == {
        "access": "a" * 32,
        "secret": encrypted,
        "project_id": "demo",
        "user_id": "u-1",
        "user_name": "alice",
        "roles": ["member", "heat_stack_owner"],
        "resource_id": None,
        "stack_id": None,
    }
    assert crypt.decrypt(found["secret"], KEY) == "s3cr3t"
    assert await env.client.find_ec2_credential("c" * 32) is None
    assert await env.client.find_ec2_credential("") is None


async def test_the_access_key_must_be_a_string(env: EngineEnv) -> None:
    with pytest.raises(errors.InvalidRequest, match="access"):
        await env.client.call("find_ec2_credential", {"access": 42})
