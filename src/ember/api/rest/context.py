"""Who is calling: the request context built per ``[paste_deploy] flavor``.

``noauth`` (Heat's semantics): user from ``X-Auth-User`` (default ``admin``), project from
``X-Auth-Project`` or else the project in the path, role ``admin``. ``keystone``:
keystonemiddleware's ``auth_token`` validated the token and left the caller in headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request


@dataclass(frozen=True)
class RequestContext:
    project_id: str
    username: str
    user_id: str
    roles: tuple[str, ...] = field(default_factory=tuple)
    request_id: str = ""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def rpc(self, **extra: Any) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "username": self.username,
            "user_id": self.user_id,
            "is_admin": self.is_admin,
            **extra,
        }


def noauth_context(request: Request, path_project: str | None, request_id: str) -> RequestContext:
    user = request.headers.get("x-auth-user") or "admin"
    project = request.headers.get("x-auth-project") or path_project or "admin"
    return RequestContext(
        project_id=project, username=user, user_id=user, roles=("admin",), request_id=request_id
    )


def keystone_context(request: Request, request_id: str) -> RequestContext | None:
    """The caller keystonemiddleware confirmed, or None when the token was not valid."""
    headers = request.headers
    if headers.get("x-identity-status", "").lower() != "confirmed":
        return None
    roles = tuple(r.strip() for r in headers.get("x-roles", "").split(",") if r.strip())
    return RequestContext(
        project_id=headers.get("x-project-id") or headers.get("x-tenant-id") or "",
        username=headers.get("x-user-name") or headers.get("x-user") or "",
        user_id=headers.get("x-user-id") or "",
        roles=roles,
        request_id=request_id,
    )
