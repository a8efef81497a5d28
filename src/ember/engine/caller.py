"""Who is calling, and which projects' things they may touch: the one rule every engine
operation applies.

- An ordinary caller sees their own project, and changes only what is in it.
- An admin (Heat's ``context_is_admin``, which the API asked of the policy) also reads any
  software config or deployment by id, sees every project when they ask for it
  (``global_tenant``, which the API lets through only where the policy grants
  ``stacks:global_index`` / ``software_configs:global_index``), and is not held to the
  software and snapshot quotas; ``max_stacks_per_tenant`` holds for admins too.
- The engine itself (acting for a nested stack, say) sees every project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ember.common import errors
from ember.db.stacks import names_an_id
from ember.policy.enforcer import Credentials, Enforcer


@dataclass(frozen=True, slots=True)
class Caller:
    project_id: str
    username: str | None = None
    user_id: str | None = None
    is_admin: bool = False
    roles: tuple[str, ...] = ()
    is_admin_project: bool = True
    # The engine acting on its own behalf.
    system: bool = False
    # A resource's signal credential: the one resource (row id) it may signal and read.
    signal_resource_id: int | None = None

    @classmethod
    def from_ctx(cls, ctx: Mapping[str, Any]) -> Caller:
        project = ctx.get("project_id")
        if not isinstance(project, str) or not project:
            raise errors.InvalidRequest("The request names no project")
        username = ctx.get("username")
        user_id = ctx.get("user_id")
        roles = ctx.get("roles")
        return cls(
            project_id=project,
            username=username if isinstance(username, str) else None,
            user_id=user_id if isinstance(user_id, str) else None,
            is_admin=ctx.get("is_admin") is True,
            roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
            is_admin_project=ctx.get("is_admin_project") is not False,
            signal_resource_id=_resource_id(ctx.get("signal_resource_id")),
        )

    def may_reach(self, resource_id: int) -> bool:
        """Whether this caller may act on the resource row ``resource_id``: everyone may,
        except a signal credential, which reaches its own resource only."""
        return self.signal_resource_id is None or self.signal_resource_id == resource_id

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

    def stack_scope(self, identity: str, stack_id: str | None = None) -> str | None:
        """The project a stack look-up is limited to: as in Heat, an admin finds any
        project's stack by its id (``name/id``, an id or an ARN), by name only its own."""
        if self.is_admin and names_an_id(identity, stack_id):
            return None
        return self.scope()

    def reads_any(self) -> str | None:
        """The project a look-up by id is limited to: an admin may read anything by id."""
        return None if self.system or self.is_admin else self.project_id

    @property
    def unlimited(self) -> bool:
        """Whether the software and snapshot quotas do not apply (as in Heat)."""
        return self.is_admin or self.system

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.project_id, self.user_id, self.roles, self.is_admin_project)

    def check_types(self, policy: Enforcer, type_names: Iterable[str]) -> None:
        """Refuse a template using a type the policy keeps from this caller
        (``resource_types:<type>``, as Heat checks the types of the stack it is given). The
        engine's own nested stacks were checked with the template that made them."""
        if not self.system:
            policy.authorize_types(type_names, self.credentials)

    @property
    def counts_stacks(self) -> bool:
        """Whether ``max_stacks_per_tenant`` applies: to every caller, admins included (it
        counts the project's stacks); not to the engine making a nested stack."""
        return not self.system


def _resource_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidRequest("The request's signal scope is not a resource")
    return value
