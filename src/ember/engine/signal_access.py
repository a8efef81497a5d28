"""Signal credentials: a key pair and a bearer token of one resource's own, and the URLs
built on them.

Heat makes a Keystone stack-domain user per signalled resource, so without Keystone no
wait condition or scaling policy works. Ember keeps the credential itself, beside the
users' own key pairs: the APIs find it by access key (a signed request) or by token
digest (``X-Auth-Token``) and let its holder signal that one resource and read that
resource's metadata, nothing else. It is made once per resource row (a replacement gets a
new one) and deleted with the row, so deleting or replacing the resource revokes it.

The pre-signed URLs are Signature Version 2 without ``Timestamp`` (they do not expire,
like Heat's), signed over the unquoted path with the verb they are meant for: PUT for
``/waitcondition``, POST for ``/signal``.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import socket
import string
import urllib.parse
from dataclasses import dataclass

from keystoneclient.contrib.ec2.utils import Ec2Signer

from ember.common import crypt
from ember.common.settings import Listener, Settings
from ember.db.database import Database
from ember.db.models import Ec2Credential
from ember.db.unit import UnitOfWork
from ember.engine.resource import ResourceContext, SignalAccess
from ember.rpc.api import SIGNAL_TOKEN_PREFIX

# Tokens say what they are, so heat-api knows one of its own without asking Keystone.
TOKEN_PREFIX = SIGNAL_TOKEN_PREFIX
_ACCESS_ALPHABET = string.ascii_uppercase + string.digits
_WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def token_digest(token: str) -> str:
    """What a token is stored and looked up by (it is random enough for a bare hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def resource_arn(project_id: str, stack_name: str, stack_id: str, resource: str) -> str:
    return f"arn:openstack:heat::{project_id}:stacks/{stack_name}/{stack_id}/resources/{resource}"


@dataclass(frozen=True)
class _Plain:
    access: str
    secret: str
    token: str


@dataclass(frozen=True)
class _Stored:
    """A credential as stored: the secret and the token encrypted."""

    access: str
    secret: str
    token: str
    user_id: str
    project_id: str


class SignalCredentials:
    """Contract: ``access_for`` returns the same credential for a resource row however
    often it is asked (from any engine: made in a transaction, once), in the clear, for the
    plugin's attributes; the database holds the secret and the token encrypted only."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    async def access_for(self, ctx: ResourceContext) -> SignalAccess:
        key = self.settings.auth_encryption_key
        fresh = _Plain(
            _access_key(), secrets.token_urlsafe(30), TOKEN_PREFIX + secrets.token_urlsafe(32)
        )
        stored = await self.db.run(_get_or_make, ctx, fresh, key)
        plain = _Plain(
            stored.access, crypt.decrypt(stored.secret, key), crypt.decrypt(stored.token, key)
        )
        arn = resource_arn(ctx.project_id, ctx.stack_name, ctx.stack_id, ctx.name)
        waitcondition = self._waitcondition_base()
        signal = _signal_base(waitcondition)
        return SignalAccess(
            access_key=plain.access,
            secret_key=plain.secret,
            token=plain.token,
            heat_url=self._heat_signal_url(ctx),
            cfn_signal_url=presigned(signal, arn, "POST", plain.access, plain.secret),
            cfn_waitcondition_url=presigned(waitcondition, arn, "PUT", plain.access, plain.secret),
            metadata_url=self._metadata_base(),
            user_id=stored.user_id,
            project_id=stored.project_id,
        )

    def _waitcondition_base(self) -> str:
        configured = self.settings.heat_waitcondition_server_url
        if configured:
            return configured.rstrip("/")
        return _own_url(self.settings.heat_api_cfn) + "/v1/waitcondition"

    def _metadata_base(self) -> str:
        configured = self.settings.heat_metadata_server_url
        if configured:
            return configured.rstrip("/")
        return _own_url(self.settings.heat_api_cfn)

    def _heat_signal_url(self, ctx: ResourceContext) -> str:
        configured = self.settings.heat_watch_server_url
        base = configured.rstrip("/") if configured else _own_url(self.settings.heat_api) + "/v1"
        path = f"{ctx.project_id}/stacks/{ctx.stack_name}/{ctx.stack_id}/resources/{ctx.name}"
        return f"{base}/{urllib.parse.quote(path)}/signal"


def presigned(base: str, arn: str, verb: str, access: str, secret: str) -> str:
    """``base/<arn>`` signed with Signature Version 2 for ``verb``: the ARN percent-quoted
    with ``/`` kept, the signature over the unquoted path (as Heat's, and as heat-api-cfn
    checks it)."""
    split = urllib.parse.urlsplit(f"{base}/{urllib.parse.quote(arn)}")
    params = {
        "SignatureMethod": "HmacSHA256",
        "SignatureVersion": "2",
        "AWSAccessKeyId": access,
    }
    credentials = {
        "host": split.netloc,
        "verb": verb,
        "path": urllib.parse.unquote(split.path),
        "params": copy.deepcopy(params),
    }
    params["Signature"] = Ec2Signer(secret).generate(credentials)
    return urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(params)))


def _signal_base(waitcondition: str) -> str:
    """The signal URL's base: the wait-condition URL's last part swapped for ``signal``."""
    head, _, tail = waitcondition.rpartition("/")
    return f"{head}/signal" if tail == "waitcondition" else f"{waitcondition}/signal"


def _own_url(listener: Listener) -> str:
    scheme = "https" if listener.cert_file else "http"
    host = listener.bind_host
    if host in _WILDCARDS:
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{listener.bind_port}"


def _access_key() -> str:
    return "".join(secrets.choice(_ACCESS_ALPHABET) for _ in range(20))


def _get_or_make(uow: UnitOfWork, ctx: ResourceContext, fresh: _Plain, key: str) -> _Stored:
    row = uow.ec2_credentials.of_resource(ctx.resource_id) or _make(uow, ctx, fresh, key)
    return _Stored(row.access, row.secret, row.token or "", row.user_id, row.project_id)


def _make(uow: UnitOfWork, ctx: ResourceContext, fresh: _Plain, key: str) -> Ec2Credential:
    return uow.ec2_credentials.add_for_resource(
        access=fresh.access,
        secret=crypt.encrypt(fresh.secret, key),
        token=crypt.encrypt(fresh.token, key),
        token_digest=token_digest(fresh.token),
        project_id=ctx.project_id,
        stack_id=ctx.stack_id,
        resource_id=ctx.resource_id,
        user_name=ctx.name,
    )
