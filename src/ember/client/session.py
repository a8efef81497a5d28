"""Where the API is and how to authenticate to it.

Two kinds of sessions: ``noauth`` (an endpoint URL such as
``http://127.0.0.1:8004/v1/demo``, with optional ``X-Auth-User``/``X-Auth-Project``
headers), and a keystoneauth1 session, from which each request takes a token (renewed by
keystoneauth when it expires) and the orchestration endpoint. ``from_environment`` reads
``OS_*`` variables and ``clouds.yaml`` through openstacksdk's ``openstack.config``, as the
``openstack`` CLI does; ``OS_AUTH_TYPE=none`` with ``OS_ENDPOINT`` means noauth.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

HeaderSource = Callable[[], Mapping[str, str]]


@dataclass
class Session:
    """An endpoint ending in ``/v1/<project>``, fixed headers, and (with keystoneauth)
    a source of authentication headers asked before each request."""

    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    auth_headers: HeaderSource | None = None
    verify: bool | str = True
    timeout: float = 60.0

    @classmethod
    def noauth(
        cls,
        endpoint: str,
        *,
        user: str | None = None,
        project: str | None = None,
        roles: list[str] | None = None,
        **kwargs: Any,
    ) -> Session:
        headers = {}
        if user:
            headers["X-Auth-User"] = user
        if project:
            headers["X-Auth-Project"] = project
        if roles:
            headers["X-Roles"] = ",".join(roles)
        return cls(endpoint.rstrip("/"), headers, **kwargs)

    @classmethod
    def from_keystoneauth(
        cls,
        ks_session: Any,
        *,
        endpoint_override: str | None = None,
        interface: str | None = "public",
        region_name: str | None = None,
        **kwargs: Any,
    ) -> Session:
        """A session on a ``keystoneauth1.session.Session``: the token comes from it at
        every request, the endpoint from its catalog (``orchestration``) unless given."""
        endpoint = endpoint_override or ks_session.get_endpoint(
            service_type="orchestration", interface=interface, region_name=region_name
        )
        if not endpoint:
            raise ValueError("no orchestration endpoint in the service catalog")

        def auth_headers() -> Mapping[str, str]:
            return ks_session.get_auth_headers() or {}

        verify = ks_session.verify if ks_session.verify is not None else True
        kwargs.setdefault("verify", verify)
        return cls(str(endpoint).rstrip("/"), {}, auth_headers, **kwargs)

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.endpoint + "/",
            headers={"Accept": "application/json", **self.headers},
            auth=_HeaderAuth(self.auth_headers) if self.auth_headers else None,
            verify=self.verify,
            timeout=self.timeout,
            follow_redirects=True,
        )


class _HeaderAuth(httpx.Auth):
    def __init__(self, source: HeaderSource) -> None:
        self.source = source

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers.update(self.source())
        yield request


def from_environment(cloud: str | None = None) -> Session:
    """A session from ``OS_*`` variables and ``clouds.yaml`` (``cloud`` or ``OS_CLOUD``
    names the entry), read by ``openstack.config`` as the ``openstack`` CLI reads them."""
    from openstack import config as os_config  # noqa: PLC0415 - slow import, CLI only

    with warnings.catch_warnings():
        # openstacksdk warns about its own deprecated internals on every load.
        warnings.simplefilter("ignore")
        one = os_config.OpenStackConfig().get_one(cloud=cloud)
    conf = one.config
    override = (
        conf.get("orchestration_endpoint_override")
        or conf.get("heat_endpoint_override")
        or conf.get("endpoint")
    )
    verify: bool | str = bool(one.verify)
    if one.cacert and verify:
        verify = one.cacert
    if conf.get("auth_type") in ("none", "noauth"):
        auth = conf.get("auth") or {}
        endpoint = override or auth.get("endpoint")
        if not endpoint:
            raise ValueError("OS_AUTH_TYPE=none needs OS_ENDPOINT (the /v1/<project> URL)")
        return Session.noauth(
            endpoint,
            user=auth.get("username") or os.environ.get("OS_USERNAME"),
            project=auth.get("project_name") or os.environ.get("OS_PROJECT_NAME"),
            verify=verify,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ks_session = one.get_session()
    return Session.from_keystoneauth(
        ks_session,
        endpoint_override=override,
        interface=str(one.get_interface() or "public"),
        region_name=one.get_region_name() or None,
        verify=verify,
    )
