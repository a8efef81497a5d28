"""Resource property schemas: declared by resource plugins, checked statically against a
template and applied to resolved values at run time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ember.template import constraints as c
from ember.template.diagnostics import Diagnostics, Path, format_path
from ember.template.functions.base import Function
from ember.template.parameters import FALSE_STRINGS, TRUE_STRINGS

TYPES = ("string", "integer", "number", "boolean", "list", "map", "any")
_MISSING: Any = object()


class PropertyError(ValueError):
    """A property value is wrong; ``path`` says which one."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        self.detail = message
        super().__init__(f"Property error: {format_path(path)}: {message}")


@dataclass(frozen=True)
class PropertySchema:
    type: str
    description: str = ""
    default: Any = _MISSING
    required: bool = False
    update_allowed: bool = False
    immutable: bool = False
    constraints: tuple[c.Constraint, ...] = ()
    # For a map: the schema of each known key. For a list: the schema of every item.
    schema: Mapping[str, PropertySchema] | PropertySchema | None = None
    support_status: Mapping[str, Any] = field(default_factory=lambda: {"status": "SUPPORTED"})

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"Unknown property type {self.type}")

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    def to_api(self) -> dict[str, Any]:
        """The shape ``GET /resource_types/{type}`` shows."""
        out: dict[str, Any] = {
            "type": self.type,
            "description": self.description,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": self.immutable,
            "constraints": [
                {**con.to_dict(), **({"description": con.description} if con.description else {})}
                for con in self.constraints
            ],
        }
        if self.has_default:
            out["default"] = self.default
        if isinstance(self.schema, PropertySchema):
            out["schema"] = {"*": self.schema.to_api()}
        elif self.schema is not None:
            out["schema"] = {k: v.to_api() for k, v in self.schema.items()}
        return out


def _coerce(schema: PropertySchema, value: Any) -> Any:
    kind = schema.type
    if kind == "any":
        return value
    if kind == "string":
        # A boolean reads as Python spells it ("True"), as in Heat.
        if isinstance(value, (str, int, float)):
            return str(value)
        raise ValueError(f"Value must be a string, not {type(value).__name__}")
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError(f"Value '{value}' is not an integer")
        try:
            number = c.to_number(value)
        except c.ConstraintError:
            raise ValueError(f"Value '{value}' is not an integer") from None
        if isinstance(number, float) and not number.is_integer():
            raise ValueError(f"Value '{value}' is not an integer")
        return int(number)
    if kind == "number":
        try:
            return c.to_number(value)
        except c.ConstraintError as exc:
            raise ValueError(str(exc)) from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
        raise ValueError(f'"{value}" is not a valid boolean')
    if kind == "list":
        if not isinstance(value, list):
            raise ValueError(f'"{value}" is not a list')
        return value
    if not isinstance(value, dict):
        raise ValueError(f'"{value}" is not a map')
    return value


def _apply(
    schema: PropertySchema, value: Any, path: Path, custom: Mapping[str, c.CustomCheck] | None
) -> Any:
    try:
        value = _coerce(schema, value)
        for constraint in schema.constraints:
            constraint.check(value, custom)
    except ValueError as exc:
        raise PropertyError(path, str(exc)) from None
    if isinstance(schema.schema, PropertySchema) and isinstance(value, list):
        return [_apply(schema.schema, v, (*path, i), custom) for i, v in enumerate(value)]
    if isinstance(schema.schema, Mapping) and isinstance(value, dict):
        return apply_schema(schema.schema, value, path, custom)
    return value


def apply_schema(
    schemas: Mapping[str, PropertySchema],
    values: Mapping[str, Any] | None,
    path: Path = (),
    custom: Mapping[str, c.CustomCheck] | None = None,
) -> dict[str, Any]:
    """Resolved values with defaults filled in and types coerced; raise ``PropertyError``."""
    values = values or {}
    for key in values:
        if key not in schemas:
            raise PropertyError((*path, key), f"Unknown Property {key}")
    out: dict[str, Any] = {}
    for key, schema in schemas.items():
        value = values.get(key)
        if value is None:
            if schema.has_default:
                out[key] = schema.default
            elif schema.required:
                raise PropertyError((*path, key), f"Property {key} not assigned")
            else:
                out[key] = None
            continue
        out[key] = _apply(schema, value, (*path, key), custom)
    return out


def check_static(
    schemas: Mapping[str, PropertySchema] | None,
    values: Any,
    path: Path,
    diags: Diagnostics,
) -> None:
    """Check what can be known before resolution; values computed by functions are skipped."""
    if schemas is None or isinstance(values, Function):
        return
    if values is None:
        values = {}
    if not isinstance(values, dict):
        diags.add(path, "Properties must be a map")
        return
    for key in values:
        if key not in schemas:
            diags.add((*path, str(key)), f"Unknown Property {key}")
    for key, schema in schemas.items():
        value = values.get(key)
        where = (*path, key)
        if value is None:
            if schema.required and not schema.has_default and key not in values:
                diags.add(where, f"Property {key} not assigned")
            continue
        _check_value(schema, value, where, diags)


def _check_value(schema: PropertySchema, value: Any, path: Path, diags: Diagnostics) -> None:
    if isinstance(value, Function):
        return
    if _contains_function(value):
        # Only the container's type can be checked; its items come later.
        if schema.type == "list" and not isinstance(value, list):
            diags.add(path, f'"{value}" is not a list')
        elif schema.type == "map" and not isinstance(value, dict):
            diags.add(path, f'"{value}" is not a map')
        elif isinstance(schema.schema, Mapping) and isinstance(value, dict):
            check_static(schema.schema, value, path, diags)
        elif isinstance(schema.schema, PropertySchema) and isinstance(value, list):
            for i, item in enumerate(value):
                _check_value(schema.schema, item, (*path, i), diags)
        return
    try:
        _apply(schema, value, path, None)
    except PropertyError as exc:
        diags.add(exc.path, exc.detail)


def _contains_function(value: Any) -> bool:
    if isinstance(value, Function):
        return True
    if isinstance(value, dict):
        return any(_contains_function(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_function(v) for v in value)
    return False
