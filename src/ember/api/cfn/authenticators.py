"""The authenticator a deployment's flavor calls for: Keystone's ``/v3/ec2tokens`` with
``[paste_deploy] flavor = keystone``, else the key pairs Ember stores (heat-all's embedded
default, and ``noauth`` deployments, whose CloudFormation callers still sign).

Either way a resource's signal credential, which only Ember knows, is checked by Ember:
with Keystone, an access key is first looked for among them."""

from __future__ import annotations

from ember.api.cfn import faults
from ember.api.cfn.auth import Authenticator, Identity, SignedRequest
from ember.api.cfn.keystone_ec2 import KeystoneEc2
from ember.api.cfn.stored_keys import StoredKeys
from ember.common.settings import Settings
from ember.rpc.api import EngineAPI


class SignalKeysThenKeystone:
    """Keystone's ec2tokens for every key pair but the engine's signal credentials."""

    def __init__(self, signal_keys: StoredKeys, keystone: Authenticator) -> None:
        self.signal_keys = signal_keys
        self.keystone = keystone

    async def authenticate(self, signed: SignedRequest) -> Identity:
        try:
            return await self.signal_keys.authenticate(signed)
        except faults.InvalidClientTokenId:
            return await self.keystone.authenticate(signed)

    async def aclose(self) -> None:
        await self.signal_keys.aclose()
        await self.keystone.aclose()


def authenticator_for(settings: Settings, engine: EngineAPI) -> Authenticator:
    cache = settings.ec2_credential_cache_time
    if (settings.paste_flavor or "keystone") == "keystone":
        stored = StoredKeys(engine, settings.auth_encryption_key, cache, signal_only=True)
        return SignalKeysThenKeystone(stored, KeystoneEc2.from_settings(settings))
    return StoredKeys(engine, settings.auth_encryption_key, cache)
