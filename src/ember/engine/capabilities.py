"""CloudFormation capabilities: what a template needs its caller to acknowledge.

A CloudFormation create or update names the capabilities it accepts; a template that makes
IAM identities needs ``CAPABILITY_IAM`` (``CAPABILITY_NAMED_IAM`` when it names them), and
one with a ``Transform`` needs ``CAPABILITY_AUTO_EXPAND``. Heat's REST API has no such
acknowledgement, so only requests that carry one are checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ember.common import errors

IAM = "CAPABILITY_IAM"
NAMED_IAM = "CAPABILITY_NAMED_IAM"
AUTO_EXPAND = "CAPABILITY_AUTO_EXPAND"
KNOWN = (IAM, NAMED_IAM, AUTO_EXPAND)

# Resource types that make IAM identities or grant access, and the property that names one.
IAM_TYPES: Mapping[str, str | None] = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
    "OS::Heat::AccessPolicy": None,
}


def check_known(capabilities: Iterable[Any]) -> list[str]:
    """The acknowledged capabilities, each one CloudFormation knows."""
    out = []
    for value in capabilities:
        if value not in KNOWN:
            raise errors.InvalidRequest(
                f"Invalid capability {value!r}: must be one of {', '.join(KNOWN)}."
            )
        out.append(str(value))
    return out


def required(doc: Mapping[str, Any]) -> list[str]:
    """The capabilities a template document needs, in CloudFormation's order."""
    needs: set[str] = set()
    if doc.get("Transform") is not None:
        needs.add(AUTO_EXPAND)
    resources = doc.get("Resources") or doc.get("resources") or {}
    if isinstance(resources, Mapping):
        for definition in resources.values():
            if not isinstance(definition, Mapping):
                continue
            kind = definition.get("Type", definition.get("type"))
            if not isinstance(kind, str) or kind not in IAM_TYPES:
                continue
            needs.add(IAM)
            name_property = IAM_TYPES[kind]
            props = definition.get("Properties", definition.get("properties")) or {}
            if name_property and isinstance(props, Mapping) and name_property in props:
                needs.add(NAMED_IAM)
    return [c for c in KNOWN if c in needs]


def check(doc: Mapping[str, Any], acknowledged: Iterable[str]) -> None:
    """Refuse a template that needs a capability not acknowledged (``CAPABILITY_IAM`` is
    implied by ``CAPABILITY_NAMED_IAM``, as in CloudFormation)."""
    given = set(acknowledged)
    if NAMED_IAM in given:
        given.add(IAM)
    missing = [c for c in required(doc) if c not in given]
    if missing:
        raise errors.InsufficientCapabilities(capabilities=", ".join(missing))
