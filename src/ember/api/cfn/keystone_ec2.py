"""The ``Authenticator`` of the ``keystone`` flavor: Keystone's ``/v3/ec2tokens`` checks
the signature against the EC2 credentials it holds, as Heat's ``ec2authtoken`` filter
has it do.

Keystone (since its EC2 tokens were limited to services) wants the caller of
``ec2tokens`` to be a service or an admin, so the request carries a token of the
service user: the keystoneauth options of ``[ec2authtoken]`` when ``auth_type`` is set
there, else those of ``[keystone_authtoken]`` (the user heat-api already validates tokens
as). Keystone's refusals become AWS's codes by Keystone's message, as Heat maps them,
except its 401 for a key that exists: Keystone words a wrong signature, a disabled user
and an expired request alike there, and Heat's ``AccessDenied`` would tell a client with
a wrong secret nothing, so it is ``SignatureDoesNotMatch``. A 403 (the service user may
not call ``ec2tokens``) is the deployment's fault, logged, and ``AccessDenied``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from ember.api.cfn import faults
from ember.api.cfn.auth import Identity, SignedRequest
from ember.common.config_files import load_conf
from ember.common.settings import Settings

LOG = logging.getLogger(__name__)

TIMEOUT = 10.0
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
_UNAVAILABLE = "The identity service is unavailable; try again later."
# Keystone's messages, and the AWS error each means.
_BY_MESSAGE: dict[str, tuple[type[faults.AwsError], str]] = {
    "EC2 access key not found.": (
        faults.InvalidClientTokenId,
        "The security token included in the request is invalid.",
    ),
    "Invalid EC2 signature.": (faults.SignatureDoesNotMatch, _MISMATCH),
    "EC2 signature not supplied.": (faults.SignatureDoesNotMatch, _MISMATCH),
    "Credential is expired": (faults.RequestExpired, "Request has expired"),
}


def ec2tokens_url(auth_uri: str) -> str:
    """Keystone's ``/v3/ec2tokens`` from an identity URI with or without its version."""
    base = auth_uri.rstrip("/")
    if base.endswith("/ec2tokens"):
        return base
    for version in ("/v3", "/v2.0"):
        if base.endswith(version):
            base = base[: -len(version)]
    return f"{base}/v3/ec2tokens"


class KeystoneSession:
    """A service user's token from a keystoneauth session: renewed by keystoneauth when
    it nears expiry, fetched in a worker thread because keystoneauth blocks."""

    def __init__(self, session: ks_session.Session) -> None:
        self.session = session
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._lock:
            token = await asyncio.to_thread(self.session.get_token)
        if not token:
            raise faults.ServiceUnavailable(_UNAVAILABLE)
        return str(token)


class KeystoneEc2:
    """Asks Keystone who signed a request.

    One ``httpx.AsyncClient`` serves the process; ``aclose`` ends it. ``service_token``
    gives the token sent as ``X-Auth-Token`` (None: none is sent, for a Keystone that
    lets anyone call ``ec2tokens``)."""

    def __init__(
        self,
        auth_uri: str,
        service_token: KeystoneSession | None = None,
        *,
        timeout: float = TIMEOUT,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = ec2tokens_url(auth_uri)
        self.service_token = service_token
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))

    @classmethod
    def from_settings(cls, settings: Settings) -> KeystoneEc2:
        """``[ec2authtoken] auth_uri``, else ``[keystone_authtoken] www_authenticate_uri``;
        the service user as the module docstring says."""
        conf = load_conf(settings.config_args, "heat-api-cfn")
        conf.register_opts(
            [cfg.StrOpt("www_authenticate_uri", deprecated_name="auth_uri")],
            group="keystone_authtoken",
        )
        auth_uri = settings.ec2_auth_uri or conf.keystone_authtoken.www_authenticate_uri
        if not auth_uri:
            raise ValueError(
                "The keystone flavor of heat-api-cfn needs [ec2authtoken] auth_uri or "
                "[keystone_authtoken] www_authenticate_uri"
            )
        return cls(auth_uri, _service_session(conf))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def authenticate(self, signed: SignedRequest) -> Identity:
        return _identity(await self._post(signed), signed.access)

    async def _post(self, signed: SignedRequest) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            if self.service_token is not None:
                headers["X-Auth-Token"] = await self.service_token()
            return await self.client.post(
                self.url, json={"credentials": signed.credentials}, headers=headers
            )
        except (httpx.HTTPError, ks_exceptions.ClientException) as exc:
            LOG.warning("Cannot check a signature with Keystone at %s: %s", self.url, exc)
            raise faults.ServiceUnavailable(_UNAVAILABLE) from None


def _service_session(conf: cfg.ConfigOpts) -> KeystoneSession | None:
    for group in ("ec2authtoken", "keystone_authtoken"):
        ks_loading.register_auth_conf_options(conf, group)
        if conf[group].auth_type:
            auth = ks_loading.load_auth_from_conf_options(conf, group)
            return KeystoneSession(ks_session.Session(auth=auth))
    return None


def _message(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else None


def _identity(response: httpx.Response, access: str) -> Identity:
    if response.status_code >= 500:
        LOG.warning("Keystone answered ec2tokens with %s", response.status_code)
        raise faults.ServiceUnavailable(_UNAVAILABLE)
    if response.status_code != 200:
        message = _message(response)
        known = _BY_MESSAGE.get(message or "")
        if known is not None:
            raise known[0](known[1])
        if response.status_code == 401:
            # Keystone hides why (a wrong signature, a disabled user or project) behind
            # one message; its access key was found, so the signature did not prove it.
            LOG.info("Keystone refused the signature of a request by %s", access)
            raise faults.SignatureDoesNotMatch(_MISMATCH)
        LOG.warning("Keystone refused ec2tokens (%s): %s", response.status_code, message)
        raise faults.AccessDenied("The identity service refused the request's credentials.")
    try:
        token: dict[str, Any] = response.json()["token"]
        return Identity(
            project_id=str(token["project"]["id"]),
            user_id=str(token["user"]["id"]),
            username=str(token["user"]["name"]),
            roles=tuple(str(role["name"]) for role in token.get("roles", [])),
        )
    except (ValueError, KeyError, TypeError):
        LOG.warning("Keystone's ec2tokens answer is not a project-scoped token")
        raise faults.AccessDenied(
            "The identity service did not grant a project-scoped token."
        ) from None
