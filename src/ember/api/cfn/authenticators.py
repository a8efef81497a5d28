"""The authenticator a deployment's flavor calls for: Keystone's ``/v3/ec2tokens`` with
``[paste_deploy] flavor = keystone``, else the key pairs Ember stores (heat-all's embedded
default, and ``noauth`` deployments, whose CloudFormation callers still sign)."""

from __future__ import annotations

from ember.api.cfn.auth import Authenticator
from ember.api.cfn.keystone_ec2 import KeystoneEc2
from ember.api.cfn.stored_keys import StoredKeys
from ember.common.settings import Settings
from ember.rpc.api import EngineAPI


def authenticator_for(settings: Settings, engine: EngineAPI) -> Authenticator:
    if (settings.paste_flavor or "keystone") == "keystone":
        return KeystoneEc2.from_settings(settings)
    return StoredKeys(engine, settings.auth_encryption_key, settings.ec2_credential_cache_time)
