"""The ``Authenticator`` of every flavor but ``keystone``: the key pairs Ember stores
(``heat-manage ec2-credentials``), found through the engine and checked here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ember.api.cfn import faults
from ember.api.cfn.auth import Identity, SignedRequest
from ember.api.cfn.signing import verify
from ember.api.expiring_cache import ExpiringCache
from ember.common import crypt, errors
from ember.rpc import errors as rpc_errors
from ember.rpc.api import Ec2Credential, EngineAPI

LOG = logging.getLogger(__name__)

# Access keys remembered at once; the least recently used goes first.
MAX_ENTRIES = 1024
# An unknown access key is remembered this long at most: long enough that a client
# retrying a bad key (or a flood of made-up ones) asks the engine once a few seconds, short
# enough that a key pair just created works almost at once.
NOT_FOUND_SECONDS = 5.0

_UNKNOWN = "The security token included in the request is invalid."
_UNAVAILABLE = "The service is unavailable; try again later."


class StoredKeys:
    """Checks a request against the stored key pair of its access key.

    The record (its secret still encrypted) is kept ``cache_seconds`` per access key, so
    a busy client costs the engine one lookup per period; a deleted key pair therefore
    still signs for at most that long. The secret is decrypted only to check a
    signature and never kept decrypted."""

    def __init__(
        self,
        engine: EngineAPI,
        encryption_key: str,
        cache_seconds: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        signal_only: bool = False,
    ) -> None:
        # ``signal_only``: only the engine's signal credentials count (beside Keystone).
        self.signal_only = signal_only
        self.engine = engine
        self.encryption_key = encryption_key
        self.cache_seconds = max(0, cache_seconds)
        self._cache: ExpiringCache[Ec2Credential | None] = ExpiringCache(MAX_ENTRIES, clock)

    async def authenticate(self, signed: SignedRequest) -> Identity:
        record = await self._find(signed.access)
        if record is None or (self.signal_only and record.get("resource_id") is None):
            raise faults.InvalidClientTokenId(_UNKNOWN)
        try:
            secret = crypt.decrypt(record["secret"], self.encryption_key)
        except errors.DecryptionFailed:
            LOG.error(
                "The secret of access key %s cannot be decrypted: auth_encryption_key is "
                "not the key it was stored with, or the record is damaged",
                signed.access,
            )
            raise faults.InternalFailure(
                "The request could not be authenticated because of a server fault."
            ) from None
        verify(signed, secret)
        return Identity(
            project_id=record["project_id"],
            user_id=record["user_id"],
            username=record["user_name"],
            roles=tuple(record["roles"]),
            signal_resource_id=record.get("resource_id"),
            signal_stack_id=record.get("stack_id"),
        )

    async def aclose(self) -> None:
        """Nothing to release: the engine client belongs to the process."""

    async def _find(self, access: str) -> Ec2Credential | None:
        hit, cached = self._cache.get(access)
        if hit:
            return cached
        try:
            record = await self.engine.find_ec2_credential(access)
        except (errors.ServiceUnavailable, rpc_errors.RPCTimeout) as exc:
            LOG.warning("Cannot look access key %s up: %s", access, exc)
            raise faults.ServiceUnavailable(_UNAVAILABLE) from None
        seconds = self.cache_seconds if record is not None else NOT_FOUND_SECONDS
        self._cache.put(access, record, min(seconds, self.cache_seconds))
        return record
