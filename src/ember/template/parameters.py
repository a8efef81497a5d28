"""Template parameters: schemas, Heat's coercion rules, constraints and pseudo-parameters."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ember.common import errors
from ember.template import constraints as c
from ember.template.diagnostics import Diagnostics, Path

TYPES = ("string", "number", "comma_delimited_list", "json", "boolean")
CFN_TYPES = {
    "String": "string",
    "Number": "number",
    "CommaDelimitedList": "comma_delimited_list",
    "Json": "json",
    "Boolean": "boolean",
}
HOT_TO_CFN_TYPE = {v: k for k, v in CFN_TYPES.items()}
TRUE_STRINGS = frozenset({"1", "t", "true", "on", "y", "yes"})
FALSE_STRINGS = frozenset({"0", "f", "false", "off", "n", "no"})
HIDDEN_VALUE = "******"

HOT_PSEUDO = ("OS::stack_name", "OS::stack_id", "OS::project_id")
CFN_PSEUDO = ("AWS::StackName", "AWS::StackId", "AWS::Region")


def coerce(type_: str, value: Any) -> Any:
    """Convert a user or default value to the parameter type, or raise ``ValueError``."""
    if type_ == "string":
        # A boolean reads as Python spells it ("True"), as in Heat.
        if isinstance(value, (str, int, float)):
            return str(value)
        raise ValueError(f"Value must be a string, not {type(value).__name__}")
    if type_ == "number":
        try:
            return c.to_number(value)
        except c.ConstraintError as exc:
            raise ValueError(str(exc)) from None
    if type_ == "comma_delimited_list":
        if isinstance(value, list):
            return [v if isinstance(v, str) else json.dumps(v) for v in value]
        if isinstance(value, str):
            # Heat splits on commas only: spaces around items are kept.
            return [] if value == "" else value.split(",")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [str(value)]
        raise ValueError(f"Value must be a comma-delimited list string, not {type(value).__name__}")
    if type_ == "json":
        if isinstance(value, (dict, list)):
            return value
        if isinstance(value, str):
            if value.strip() == "":
                return {}
            try:
                parsed = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"Value must be valid JSON: {exc}") from None
            if isinstance(parsed, (dict, list)):
                return parsed
        raise ValueError("Value must be a JSON map or list")
    if type_ == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
        acceptable = ", ".join(sorted(TRUE_STRINGS | FALSE_STRINGS))
        raise ValueError(f'Unrecognized value "{value}", acceptable values are: {acceptable}')
    raise ValueError(f"Unknown parameter type {type_}")


def display(type_: str, value: Any) -> str:
    """How Heat shows a parameter value in a stack: always a string."""
    if value is None:
        return ""
    if type_ == "comma_delimited_list" and isinstance(value, list):
        return ",".join(str(v) for v in value)
    if type_ == "json":
        return json.dumps(value)
    if type_ == "boolean":
        return str(bool(value))
    return str(value)


_MISSING: Any = object()


@dataclass(frozen=True)
class ParameterSchema:
    name: str
    type: str
    label: str | None = None
    description: str = ""
    default: Any = _MISSING
    hidden: bool = False
    immutable: bool = False
    tags: tuple[str, ...] = ()
    constraints: tuple[c.Constraint, ...] = ()
    # CloudFormation keeps ConstraintDescription apart from constraints.
    constraint_description: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_default(self) -> bool:
        # Heat treats ``default: null`` as no default at all.
        return self.default is not _MISSING and self.default is not None

    def value(self, raw: Any, custom: Mapping[str, c.CustomCheck] | None = None) -> Any:
        """Coerce and check a value; raise ``ValueError`` naming the parameter."""
        try:
            value = coerce(self.type, raw)
            for constraint in self.constraints:
                constraint.check(value, custom)
        except ValueError as exc:
            raise ValueError(f"Parameter '{self.name}' is invalid: {exc}") from None
        return value


@dataclass(frozen=True)
class StackIdentity:
    """What the pseudo-parameters describe."""

    stack_name: str | None = None
    stack_id: str | None = None
    project_id: str | None = None
    region: str = "RegionOne"

    @property
    def arn(self) -> str | None:
        if self.stack_id is None:
            return None
        return (
            f"arn:openstack:heat::{self.project_id or ''}:stacks/{self.stack_name}/{self.stack_id}"
        )


def pseudo_values(kind: str, identity: StackIdentity) -> dict[str, Any]:
    if kind == "cfn":
        return {
            "AWS::StackName": identity.stack_name,
            "AWS::StackId": identity.arn,
            # Heat hard-wires ap-southeast-1; Ember reports the configured region.
            "AWS::Region": identity.region,
        }
    return {
        "OS::stack_name": identity.stack_name,
        "OS::stack_id": identity.stack_id,
        "OS::project_id": identity.project_id,
    }


class Parameters(Mapping[str, Any]):
    """Resolved parameter values (with pseudo-parameters) for one stack."""

    def __init__(
        self,
        schemas: Mapping[str, ParameterSchema],
        values: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        *,
        diags: Diagnostics,
        require_all: bool = True,
        custom_constraints: Mapping[str, c.CustomCheck] | None = None,
        defaults: Mapping[str, Any] | None = None,
        section: str = "parameters",
    ) -> None:
        self.schemas = schemas
        self.user_values = dict(values)
        self._values: dict[str, Any] = dict(pseudo)
        defaults = defaults or {}
        for name in values:
            if name not in schemas:
                diags.add(
                    (),
                    f"The Parameter ({name}) was not defined in template.",
                    errors.UnknownUserParameter,
                )
        for name, schema in schemas.items():
            path: Path = (section, name)
            if values.get(name) is not None:
                raw = values[name]
            elif defaults.get(name) is not None:
                raw = defaults[name]
            elif schema.has_default:
                raw = schema.default
            else:
                if require_all:
                    diags.add(
                        (), f"The Parameter ({name}) was not provided.", errors.UserParameterMissing
                    )
                self._values[name] = None
                continue
            try:
                self._values[name] = schema.value(raw, custom_constraints)
            except ValueError as exc:
                diags.add(path, str(exc))
                self._values[name] = None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def shown(self) -> dict[str, str]:
        """Every value as a string, hidden ones masked, as the stack API shows them."""
        out = {}
        for name, value in self._values.items():
            schema = self.schemas.get(name)
            if schema is None:
                out[name] = "" if value is None else str(value)
            elif schema.hidden:
                out[name] = HIDDEN_VALUE
            else:
                out[name] = display(schema.type, value)
        return out


def immutable_changes(
    schemas: Mapping[str, ParameterSchema], old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    """Refuse an update that changes an immutable parameter."""
    changed = sorted(
        name
        for name, schema in schemas.items()
        if schema.immutable and name in old and name in new and old[name] != new[name]
    )
    if changed:
        raise errors.ImmutableParameterModified(keys=", ".join(changed))
