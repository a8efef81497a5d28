"""Who is calling, and which projects' things they may touch: the one rule every engine
operation applies.

- An ordinary caller sees their own project.
- An admin also sees every project when they ask for it (``global_tenant``) and is not
  held to per-project quotas.
- The engine itself (acting for a nested stack, say) sees every project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ember.common import errors


@dataclass(frozen=True, slots=True)
class Caller:
    project_id: str
    username: str | None = None
    user_id: str | None = None
    is_admin: bool = False
    # The engine acting on its own behalf.
    system: bool = False

    @classmethod
    def from_ctx(cls, ctx: Mapping[str, Any]) -> Caller:
        project = ctx.get("project_id")
        if not isinstance(project, str) or not project:
            raise errors.InvalidRequest("The request names no project")
        username = ctx.get("username")
        user_id = ctx.get("user_id")
        return cls(
            project_id=project,
            username=username if isinstance(username, str) else None,
            user_id=user_id if isinstance(user_id, str) else None,
            is_admin=ctx.get("is_admin") is True,
        )

    @classmethod
    def engine(cls, project_id: str) -> Caller:
        """The engine, acting within ``project_id`` for something it runs."""
        return cls(project_id=project_id, username=None, is_admin=True, system=True)

    def scope(self, *, every_project: bool = False) -> str | None:
        """The project reads are limited to, or None for all projects (the engine, or an
        admin who asks for every project)."""
        if self.system or (every_project and self.is_admin):
            return None
        return self.project_id

    def reads_any(self) -> str | None:
        """The project a look-up by id is limited to: an admin may read anything by id."""
        return None if self.system or self.is_admin else self.project_id

    @property
    def unlimited(self) -> bool:
        """Whether per-project quotas do not apply."""
        return self.is_admin or self.system
