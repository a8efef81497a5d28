"""heat-api's side of a resource's signal credential: an ``X-Auth-Token`` of Ember's own
kind (``ember-signal.``), which Keystone never saw, is looked up through the engine by its
SHA-256 and answers for the one resource it was made for.

What its holder may do here: signal that resource and read its metadata; every other
request is refused before it reaches a route (and the policy knows its role,
``heat_stack_user``, as Heat's). The engine
checks the resource itself again (``Caller.may_reach``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from ember.api.expiring_cache import ExpiringCache
from ember.api.rest import context as ctxmod
from ember.rpc.api import SIGNAL_TOKEN_PREFIX, Ec2Credential, EngineAPI

# The resource routes a signal token may take: (method, path under /v1/<tenant>/stacks).
_RESOURCE = r"/v1/[^/]+/stacks/[^/]+/[^/]+/resources/[^/]+"
ALLOWED = (
    ("POST", re.compile(rf"^{_RESOURCE}/signal/?$")),
    ("GET", re.compile(rf"^{_RESOURCE}/metadata/?$")),
)
MAX_ENTRIES = 1024
# A token is remembered this long: its resource's deletion is seen by the engine at once
# (the row is gone), so this only spares the engine a lookup per signal.
CACHE_SECONDS = 5.0


def is_signal_token(token: str | None) -> bool:
    return bool(token) and str(token).startswith(SIGNAL_TOKEN_PREFIX)


def allowed(method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern in ALLOWED)


class SignalTokens:
    """Finds the signal credential of a token (``None`` for an unknown one)."""

    def __init__(self, engine: EngineAPI, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._cache: ExpiringCache[Ec2Credential | None] = ExpiringCache(MAX_ENTRIES, clock)

    async def context(self, token: str, request_id: str) -> ctxmod.RequestContext | None:
        record = await self._find(hashlib.sha256(token.encode()).hexdigest())
        if record is None or record.get("resource_id") is None:
            return None
        return ctxmod.RequestContext(
            project_id=record["project_id"],
            username=record["user_name"],
            user_id=record["user_id"],
            roles=tuple(record["roles"]),
            request_id=request_id,
            signal_resource_id=record["resource_id"],
        )

    async def _find(self, digest: str) -> Ec2Credential | None:
        hit, cached = self._cache.get(digest)
        if hit:
            return cached
        record = await self.engine.find_signal_token(digest)
        self._cache.put(digest, record, CACHE_SECONDS)
        return record
