"""Asking Heat's policy: oslo.policy's ``Enforcer`` with Heat's rules registered, reading
the operator's ``[oslo_policy]`` options (``policy_file``, ``policy_dirs``,
``enforce_new_defaults``, ``enforce_scope``) from the same ``heat.conf`` files as the
service did. The policy file is re-read when it changes, as oslo.policy always does.

The target of every check is the caller's own project (``project_id``), as in Heat: the
API has already refused a path naming another project, and what lies in other projects is
kept out of reach by the engine's scoping, not by the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from oslo_config import cfg
from oslo_policy import policy

from ember.common import errors
from ember.common.config_files import load_conf
from ember.policy import rules

RESOURCE_TYPES = "resource_types:"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who is asking, as oslo.policy checks it: project-scoped, with the caller's roles."""

    project_id: str
    user_id: str | None
    roles: tuple[str, ...]
    is_admin_project: bool = True

    def values(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "user_id": self.user_id,
            "roles": list(self.roles),
            "is_admin_project": self.is_admin_project,
            "system_scope": None,
            "domain_id": None,
        }


class Enforcer:
    """Heat's rules over oslo.policy. ``authorize`` refuses with ``errors.Forbidden``
    (Heat's 403 fault); a rule nobody registered is an error of Ember's, not a refusal."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        # Heat's fallback for a rule named nowhere: deny.
        self.oslo = policy.Enforcer(conf, default_rule="!")
        self.oslo.suppress_deprecation_warnings = True
        self.oslo.register_defaults(list(rules.list_rules()))

    @classmethod
    def from_config_args(cls, config_args: Sequence[str]) -> Enforcer:
        return cls(load_conf(config_args, "heat"))

    def allows(self, rule: str, who: Credentials) -> bool:
        target = {"project_id": who.project_id}
        try:
            return bool(self.oslo.authorize(rule, target, who.values(), do_raise=False))
        except policy.InvalidScope:
            return False

    def authorize(self, rule: str, who: Credentials) -> None:
        if not self.allows(rule, who):
            raise errors.Forbidden(action=rule)

    def is_admin(self, who: Credentials) -> bool:
        """Heat's ``context_is_admin``: what makes a caller an admin to the engine."""
        return self.allows("context_is_admin", who)

    def allows_type(self, type_name: str, who: Credentials) -> bool:
        """Whether ``type_name`` may be used: its ``resource_types:`` rule and the one of
        its wildcard (``OS::Keystone::*``), where the policy names them; a type no rule
        names is allowed, as in Heat. A rule the operator's file adds for a type Heat
        registers none for counts too (Heat ignores those since its rules were
        registered, which leaves an operator's ban silently unapplied)."""
        prefix = "::".join(type_name.split("::")[:-1])
        target = {"project_id": who.project_id}
        self.oslo.load_rules()
        for name in (type_name, f"{prefix}::*" if prefix else "*"):
            rule = RESOURCE_TYPES + name
            if rule not in self.oslo.rules:
                continue
            try:
                if not self.oslo.enforce(rule, target, who.values(), do_raise=False):
                    return False
            except policy.InvalidScope:
                return False
        return True

    def authorize_types(self, type_names: Iterable[str], who: Credentials) -> None:
        for type_name in sorted(set(type_names)):
            if not self.allows_type(type_name, who):
                raise errors.Forbidden(action=type_name)


_ENFORCER: Enforcer | None = None


def get_policy_enforcer() -> policy.Enforcer:
    """The ``oslo.policy.enforcer`` entry point ``heat``, for ``oslopolicy-policy-generator``
    and ``oslopolicy-list-redundant``: the rules with the files the command line names."""
    global _ENFORCER  # noqa: PLW0603  (the tools call this once per process)
    if _ENFORCER is None:
        # The tools have parsed their command line (``--config-file``) into cfg.CONF.
        _ENFORCER = Enforcer(cfg.CONF)
    return _ENFORCER.oslo
