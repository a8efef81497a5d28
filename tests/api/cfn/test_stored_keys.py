"""The stored-key authenticator: a key pair stored encrypted, found through the engine
API, and a botocore-signed request checked against it."""

from __future__ import annotations

from typing import Any

import pytest

from ember.api.cfn import faults
from ember.api.cfn.auth import Identity
from ember.api.cfn.stored_keys import MAX_ENTRIES, NOT_FOUND_SECONDS, StoredKeys
from ember.common import crypt, errors
from ember.rpc import errors as rpc_errors
from ember.rpc.api import Ec2Credential, EngineAPI
from tests.api.cfn.test_signing import ACCESS, DESCRIBE, SECRET, sigv2, sigv4_post

KEY = "k" * 32


class Engine(EngineAPI):
    """Answers find_ec2_credential from a dict, counting the lookups; or fails."""

    def __init__(self, records: dict[str, Ec2Credential], failure: Exception | None = None):
        self.records = records
        self.failure = failure
        self.asked: list[str] = []

    async def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        assert operation == "find_ec2_credential"
        self.asked.append(arguments["access"])
        if self.failure is not None:
            raise self.failure
        return self.records.get(arguments["access"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(secret: str = SECRET, access: str = ACCESS) -> Ec2Credential:
    return {
        "access": access,
        "secret": crypt.encrypt(secret, KEY),
        "project_id": "p-1",
        "user_id": "u-1",
        "user_name": "demo",
        "roles": ["member", "reader"],
    }


def keys(engine: Engine, cache_seconds: int = 30) -> tuple[StoredKeys, Clock]:
    clock = Clock()
    return StoredKeys(engine, KEY, cache_seconds, clock=clock), clock


async def test_signed_request_is_the_key_owner() -> None:
    engine = Engine({ACCESS: record()})
    authenticator, _ = keys(engine)
    for request in (sigv4_post(DESCRIBE), sigv2("GET", DESCRIBE)):
        identity = await authenticator.authenticate(request.signed())
        assert identity == Identity("p-1", "u-1", "demo", ("member", "reader"))


async def test_cache_honoured_then_expires() -> None:
    engine = Engine({ACCESS: record()})
    authenticator, clock = keys(engine, cache_seconds=30)
    signed = sigv4_post(DESCRIBE).signed()
    await authenticator.authenticate(signed)
    clock.now += 29
    await authenticator.authenticate(signed)
    assert engine.asked == [ACCESS]
    # Deleted: still honoured until the cached record expires, then refused.
    engine.records.clear()
    clock.now += 2
    with pytest.raises(faults.InvalidClientTokenId):
        await authenticator.authenticate(signed)
    assert engine.asked == [ACCESS, ACCESS]


async def test_no_cache_asks_every_time() -> None:
    engine = Engine({ACCESS: record()})
    authenticator, _ = keys(engine, cache_seconds=0)
    signed = sigv4_post(DESCRIBE).signed()
    await authenticator.authenticate(signed)
    await authenticator.authenticate(signed)
    assert engine.asked == [ACCESS, ACCESS]


async def test_unknown_key_refused_and_briefly_remembered() -> None:
    engine = Engine({})
    authenticator, clock = keys(engine)
    signed = sigv4_post(DESCRIBE).signed()
    with pytest.raises(faults.InvalidClientTokenId) as caught:
        await authenticator.authenticate(signed)
    assert caught.value.message == "The security token included in the request is invalid."
    assert caught.value.status == 403
    with pytest.raises(faults.InvalidClientTokenId):
        await authenticator.authenticate(signed)
    assert engine.asked == [ACCESS]
    # A key pair created meanwhile works once the short memory of "unknown" lapses.
    engine.records[ACCESS] = record()
    clock.now += NOT_FOUND_SECONDS + 0.1
    assert (await authenticator.authenticate(signed)).user_id == "u-1"


async def test_wrong_secret_refused() -> None:
    authenticator, _ = keys(Engine({ACCESS: record()}))
    with pytest.raises(faults.SignatureDoesNotMatch):
        await authenticator.authenticate(sigv4_post(DESCRIBE, secret="x" * 32).signed())


async def test_other_encryption_key_is_a_server_fault() -> None:
    stored = record()
    stored["secret"] = crypt.encrypt(SECRET, "another key")
    authenticator, _ = keys(Engine({ACCESS: stored}))
    with pytest.raises(faults.InternalFailure) as caught:
        await authenticator.authenticate(sigv4_post(DESCRIBE).signed())
    assert SECRET not in caught.value.message


@pytest.mark.parametrize(
    "failure",
    [errors.ServiceUnavailable(), errors.DatabaseUnavailable(), rpc_errors.RPCTimeout()],
)
async def test_engine_unavailable(failure: Exception) -> None:
    authenticator, _ = keys(Engine({}, failure=failure))
    with pytest.raises(faults.ServiceUnavailable) as caught:
        await authenticator.authenticate(sigv4_post(DESCRIBE).signed())
    assert caught.value.status == 503


async def test_cache_is_bounded() -> None:
    engine = Engine({})
    authenticator, _ = keys(engine)
    signed = sigv4_post(DESCRIBE).signed()
    for n in range(MAX_ENTRIES + 10):
        other = type(signed)(f"AK{n}", signed.signature, signed.version, signed.credentials)
        with pytest.raises(faults.InvalidClientTokenId):
            await authenticator.authenticate(other)
    assert len(authenticator._cache) == MAX_ENTRIES
    assert "AK0" not in authenticator._cache
    assert f"AK{MAX_ENTRIES + 9}" in authenticator._cache
