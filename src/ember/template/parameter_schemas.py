"""Reading the ``parameters`` and ``parameter_groups`` sections of HOT and CFN templates."""

from __future__ import annotations

from typing import Any

from ember.template import constraints as c
from ember.template.diagnostics import Diagnostics, Path
from ember.template.parameters import CFN_TYPES, TYPES, ParameterSchema
from ember.template.versions import TemplateVersion

_BOOL_TEXT = {"true": True, "false": False}


def _flag(value: Any, path: Path, diags: Diagnostics) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOL_TEXT:
        return _BOOL_TEXT[value.lower()]
    diags.add(path, f'"{value}" is not a valid boolean')
    return False


def _number(value: Any, path: Path, diags: Diagnostics) -> int | float | None:
    if value is None:
        return None
    try:
        return c.to_number(value)
    except c.ConstraintError:
        diags.add(path, f'"{value}" is not a number')
        return None


def _bounds(
    value: Any, path: Path, diags: Diagnostics
) -> tuple[int | float | None, int | float | None] | None:
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        diags.add(path, "Expected a map with min and/or max")
        return None
    low = _number(value.get("min"), (*path, "min"), diags)
    high = _number(value.get("max"), (*path, "max"), diags)
    return low, high


def _hot_constraint(
    item: Any, path: Path, ptype: str, version: TemplateVersion, diags: Diagnostics
) -> c.Constraint | None:
    if not isinstance(item, dict):
        diags.add(path, "Each constraint must be a map")
        return None
    description = item.get("description")
    kinds = [k for k in item if k != "description"]
    if len(kinds) != 1:
        diags.add(path, "Each constraint must have exactly one constraint type")
        return None
    kind = kinds[0]
    value = item[kind]
    where = (*path, kind)
    allowed = {"length", "range", "allowed_values", "allowed_pattern", "custom_constraint"}
    if version.modulo_constraint:
        allowed.add("modulo")
    if kind not in allowed:
        diags.add(where, f'Invalid constraint type "{kind}"')
        return None
    try:
        constraint = _build(kind, value, description, where, diags)
    except c.ConstraintError as exc:
        diags.add(where, str(exc))
        return None
    if constraint is not None and ptype not in constraint.applies_to:
        diags.add(where, f'The "{kind}" constraint is invalid for parameter type "{ptype}"')
        return None
    return constraint


def _build(
    kind: str, value: Any, description: Any, where: Path, diags: Diagnostics
) -> c.Constraint | None:
    desc = None if description is None else str(description)
    if kind in ("length", "range"):
        bounds = _bounds(value, where, diags)
        if bounds is None:
            return None
        cls = c.Length if kind == "length" else c.Range
        return cls(min=bounds[0], max=bounds[1], description=desc)
    if kind == "modulo":
        if not isinstance(value, dict) or set(value) != {"step", "offset"}:
            diags.add(where, "modulo needs exactly step and offset")
            return None
        step = _number(value["step"], (*where, "step"), diags)
        offset = _number(value["offset"], (*where, "offset"), diags)
        if step is None or offset is None:
            return None
        return c.Modulo(step=step, offset=offset, description=desc)
    if kind == "allowed_values":
        if not isinstance(value, list) or not value:
            diags.add(where, "allowed_values must be a non-empty list")
            return None
        return c.AllowedValues(values=tuple(value), description=desc)
    if not isinstance(value, str):
        diags.add(where, f"{kind} must be a string")
        return None
    if kind == "allowed_pattern":
        return c.AllowedPattern(pattern=value, description=desc)
    return c.CustomConstraint(name=value, description=desc)


def _check_default(
    schema: ParameterSchema, path: Path, diags: Diagnostics, key: str = "default"
) -> None:
    if schema.has_default and schema.default is not None:
        try:
            schema.value(schema.default, None)
        except ValueError as exc:
            diags.add((*path, key), str(exc))


def parse_hot(
    section: Any, version: TemplateVersion, diags: Diagnostics
) -> dict[str, ParameterSchema]:
    schemas: dict[str, ParameterSchema] = {}
    if section is None:
        return schemas
    if not isinstance(section, dict):
        diags.add(("parameters",), "The parameters section must be a map")
        return schemas
    keys = version.parameter_keys()
    for name, spec in section.items():
        path: Path = ("parameters", str(name))
        if not isinstance(spec, dict):
            diags.add(path, f"Parameter {name} must be a map")
            continue
        for key in spec:
            if key not in keys:
                diags.add(path, f"Invalid key '{key}' for parameter ({name})")
        ptype = spec.get("type")
        if ptype is None:
            diags.add(path, f"Missing parameter type for parameter: {name}")
            continue
        if ptype not in TYPES:
            diags.add((*path, "type"), f"Invalid type ({ptype})")
            continue
        raw_constraints = spec.get("constraints") or []
        if not isinstance(raw_constraints, list):
            diags.add((*path, "constraints"), "constraints must be a list")
            raw_constraints = []
        built = [
            _hot_constraint(item, (*path, "constraints", i), ptype, version, diags)
            for i, item in enumerate(raw_constraints)
        ]
        tags = spec.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            diags.add((*path, "tags"), "tags must be a list of strings")
            tags = []
        description = spec.get("description", "")
        schema = ParameterSchema(
            name=str(name),
            type=ptype,
            label=None if spec.get("label") is None else str(spec["label"]),
            description="" if description is None else str(description),
            hidden=_flag(spec.get("hidden", False), (*path, "hidden"), diags),
            immutable=_flag(spec.get("immutable", False), (*path, "immutable"), diags),
            tags=tuple(tags),
            constraints=tuple(x for x in built if x is not None),
            **({"default": spec["default"]} if "default" in spec else {}),
        )
        _check_default(schema, path, diags)
        schemas[schema.name] = schema
    return schemas


def parse_cfn(
    section: Any, version: TemplateVersion, diags: Diagnostics
) -> dict[str, ParameterSchema]:
    schemas: dict[str, ParameterSchema] = {}
    if section is None:
        return schemas
    if not isinstance(section, dict):
        diags.add(("Parameters",), "The Parameters section must be a map")
        return schemas
    keys = version.parameter_keys()
    for name, spec in section.items():
        path: Path = ("Parameters", str(name))
        if not isinstance(spec, dict):
            diags.add(path, f"Parameter {name} must be a map")
            continue
        for key in spec:
            if key not in keys:
                diags.add(path, f"Invalid key '{key}' for parameter ({name})")
        raw_type = spec.get("Type")
        if raw_type is None:
            diags.add(path, f"Missing parameter type for parameter: {name}")
            continue
        ptype = CFN_TYPES.get(raw_type) if isinstance(raw_type, str) else None
        if ptype is None:
            diags.add((*path, "Type"), f"Invalid type ({raw_type})")
            continue
        desc = spec.get("ConstraintDescription")
        built: list[c.Constraint] = []
        try:
            if "MinLength" in spec or "MaxLength" in spec:
                built.append(
                    c.Length(
                        min=_number(spec.get("MinLength"), (*path, "MinLength"), diags),
                        max=_number(spec.get("MaxLength"), (*path, "MaxLength"), diags),
                        description=desc,
                    )
                )
            if "MinValue" in spec or "MaxValue" in spec:
                built.append(
                    c.Range(
                        min=_number(spec.get("MinValue"), (*path, "MinValue"), diags),
                        max=_number(spec.get("MaxValue"), (*path, "MaxValue"), diags),
                        description=desc,
                    )
                )
            if "AllowedValues" in spec:
                values = spec["AllowedValues"]
                if isinstance(values, list) and values:
                    built.append(c.AllowedValues(values=tuple(values), description=desc))
                else:
                    diags.add((*path, "AllowedValues"), "AllowedValues must be a non-empty list")
            if "AllowedPattern" in spec:
                built.append(
                    c.AllowedPattern(pattern=str(spec["AllowedPattern"]), description=desc)
                )
        except c.ConstraintError as exc:
            diags.add(path, str(exc))
        for constraint in built:
            if ptype not in constraint.applies_to:
                diags.add(
                    path, f"{type(constraint).__name__} is invalid for parameter type {raw_type}"
                )
        description = spec.get("Description", "")
        schema = ParameterSchema(
            name=str(name),
            type=ptype,
            label=None if spec.get("Label") is None else str(spec["Label"]),
            description="" if description is None else str(description),
            hidden=_flag(spec.get("NoEcho", False), (*path, "NoEcho"), diags),
            constraints=tuple(x for x in built if ptype in x.applies_to),
            constraint_description=None if desc is None else str(desc),
            **({"default": spec["Default"]} if "Default" in spec else {}),
        )
        _check_default(schema, path, diags, "Default")
        schemas[schema.name] = schema
    return schemas


def parse_groups(
    section: Any, schemas: dict[str, ParameterSchema], diags: Diagnostics
) -> list[dict[str, Any]]:
    """Check ``parameter_groups``: each parameter exists and is in one group at most."""
    if section is None:
        return []
    if not isinstance(section, list):
        diags.add(("parameter_groups",), "parameter_groups must be a list")
        return []
    seen: dict[str, Any] = {}
    for i, group in enumerate(section):
        path: Path = ("parameter_groups", i)
        if not isinstance(group, dict):
            diags.add(path, "Each parameter group must be a map")
            continue
        unknown = sorted(str(k) for k in group if k not in ("label", "description", "parameters"))
        if unknown:
            diags.add(path, f"Invalid key(s) in parameter group: {', '.join(unknown)}")
        label = group.get("label", i)
        params = group.get("parameters")
        if params is None:
            diags.add(path, "Parameters must be provided for each Parameter Group.")
            continue
        if not isinstance(params, list):
            diags.add(
                (*path, "parameters"),
                f"The parameters of parameter group {label} should be a list.",
            )
            continue
        for name in params:
            if not isinstance(name, str) or name not in schemas:
                diags.add(
                    (*path, "parameters"),
                    f"The grouped parameter {name} does not reference a valid parameter.",
                )
            elif name in seen:
                diags.add(
                    (*path, "parameters"),
                    f"The {name} parameter must be assigned to one parameter group only.",
                )
            else:
                seen[name] = label
    return list(section)
