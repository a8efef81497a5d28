"""Who is calling: the request context built per ``[paste_deploy] flavor``.

``noauth``: user from ``X-Auth-User`` (default ``admin``, Heat's name for it), project from
``X-Auth-Project`` or else the project in the path, and roles from ``X-Roles`` (a comma
list, as keystonemiddleware leaves it) or else ``member`` and ``reader``: an ordinary
member of the project, not Heat's everybody-is-admin. Roles imply as Keystone's default
roles do (``admin`` ⊃ ``member`` ⊃ ``reader``). ``keystone``: keystonemiddleware's
``auth_token`` validated the token and left the caller in headers (Keystone has expanded
implied roles already).

Whether the caller is an admin is not read from its roles here: it is Heat's
``context_is_admin`` rule, asked of the policy once the context is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from starlette.requests import Request

from ember.policy.enforcer import Credentials, Enforcer

NOAUTH_ROLES = ("member", "reader")
# Keystone's default role implications.
IMPLIED = {"admin": ("member", "reader"), "member": ("reader",)}


@dataclass(frozen=True)
class RequestContext:
    project_id: str
    username: str
    user_id: str
    roles: tuple[str, ...] = field(default_factory=tuple)
    request_id: str = ""
    is_admin_project: bool = True
    # Heat's ``context_is_admin``, from the policy (``with_policy``).
    is_admin: bool = False
    # Set for a resource's signal credential: the one resource (row id) it may reach.
    signal_resource_id: int | None = None

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.project_id, self.user_id, self.roles, self.is_admin_project)

    @property
    def signal_scoped(self) -> bool:
        return self.signal_resource_id is not None

    def with_policy(self, enforcer: Enforcer) -> RequestContext:
        # A signal credential is never an admin, whatever the policy says of its roles.
        admin = not self.signal_scoped and enforcer.is_admin(self.credentials)
        return replace(self, is_admin=admin)

    def rpc(self, **extra: Any) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "username": self.username,
            "user_id": self.user_id,
            "is_admin": self.is_admin,
            "roles": list(self.roles),
            "is_admin_project": self.is_admin_project,
            **({"signal_resource_id": self.signal_resource_id} if self.signal_scoped else {}),
            **extra,
        }


def _roles(header: str) -> tuple[str, ...]:
    return tuple(r.strip() for r in header.split(",") if r.strip())


def with_implied(roles: tuple[str, ...]) -> tuple[str, ...]:
    out = list(roles)
    for role in roles:
        out.extend(r for r in IMPLIED.get(role.lower(), ()) if r not in out)
    return tuple(out)


def noauth_context(request: Request, path_project: str | None, request_id: str) -> RequestContext:
    user = request.headers.get("x-auth-user") or "admin"
    project = request.headers.get("x-auth-project") or path_project or "admin"
    roles = _roles(request.headers.get("x-roles", "")) or NOAUTH_ROLES
    return RequestContext(
        project_id=project,
        username=user,
        user_id=user,
        roles=with_implied(roles),
        request_id=request_id,
    )


def keystone_context(request: Request, request_id: str) -> RequestContext | None:
    """The caller keystonemiddleware confirmed, or None when the token was not valid."""
    headers = request.headers
    if headers.get("x-identity-status", "").lower() != "confirmed":
        return None
    return RequestContext(
        project_id=headers.get("x-project-id") or headers.get("x-tenant-id") or "",
        username=headers.get("x-user-name") or headers.get("x-user") or "",
        user_id=headers.get("x-user-id") or "",
        roles=_roles(headers.get("x-roles", "")),
        request_id=request_id,
        # keystonemiddleware says False only for a project other than Keystone's admin one.
        is_admin_project=headers.get("x-is-admin-project", "true").lower() != "false",
    )
