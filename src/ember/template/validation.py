"""Static checks of a stack definition, and Heat's ``POST /validate`` answer.

Everything that can be known before a resource exists is checked here: types (through the
environment's registry and the engine's catalog), properties, references, attributes,
template resources (recursively, within the nesting limit) and dependency cycles.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.template import constraints as c
from ember.template.diagnostics import Path
from ember.template.environment import Environment
from ember.template.functions.base import OMIT, ValidationContext, resolve, validate
from ember.template.parameters import HOT_TO_CFN_TYPE, StackIdentity
from ember.template.properties import check_static
from ember.template.registry import RegistryError, ResolvedType
from ember.template.stack_definition import (
    AnyTypes,
    Limits,
    StackDefinition,
    TypeCatalog,
    TypeInfo,
    build,
    template_resource_info,
)
from ember.template.template import Template


def define(
    template: Template,
    environment: Environment | None = None,
    *,
    identity: StackIdentity | None = None,
    catalog: TypeCatalog | None = None,
    require_parameters: bool = True,
    custom_constraints: Mapping[str, c.CustomCheck] | None = None,
    limits: Limits | None = None,
    depth: int = 0,
) -> StackDefinition:
    """Build a stack definition and check it; problems are in ``result.diags``."""
    defn = build(
        template,
        environment,
        identity=identity,
        require_parameters=require_parameters,
        custom_constraints=custom_constraints,
    )
    check_definition(defn, catalog or AnyTypes(), limits or Limits(), depth, custom_constraints)
    return defn


def _unknown_type(type_name: str, catalog: TypeCatalog) -> str:
    message = f"The Resource Type ({type_name}) could not be found."
    close = difflib.get_close_matches(type_name, list(catalog.type_names()), n=1)
    if close:
        message += f' Did you mean "{close[0]}"?'
    return message


def check_definition(
    defn: StackDefinition,
    catalog: TypeCatalog,
    limits: Limits,
    depth: int = 0,
    custom_constraints: Mapping[str, c.CustomCheck] | None = None,
) -> None:
    diags = defn.diags
    keys = defn.template.version.resource_keys()
    section = defn.template.section_key("resources")
    attributes: dict[str, frozenset[str] | None] = {}
    for name, rd in defn.resources.items():
        path: Path = (section, name)
        type_path = (*path, keys["type"])
        try:
            resolved = defn.environment.registry.resolve(rd.type, name)
        except RegistryError as exc:
            diags.add(type_path, str(exc))
            attributes[name] = None
            continue
        defn.resource_types[name] = resolved
        if resolved.is_template:
            info = _template_resource(
                defn,
                name,
                resolved=resolved,
                catalog=catalog,
                limits=limits,
                depth=depth,
                path=path,
                custom_constraints=custom_constraints,
            )
        else:
            info = catalog.type_info(resolved.name)
            if info is None:
                diags.add(type_path, _unknown_type(resolved.name, catalog))
        attributes[name] = None if info is None else info.attributes
        if info is not None:
            check_static(info.properties, rd.properties, (*path, keys["properties"]), diags)
        for dep in rd.depends_on:
            if dep not in defn.resources and dep not in defn.disabled:
                diags.add(
                    (*path, keys["depends_on"]),
                    f'The specified reference "{dep}" (in {name}) is incorrect.',
                )

    vctx = ValidationContext(
        resources=defn.resources,
        parameters=frozenset(defn.parameters),
        files=defn.template.files,
        mappings=defn.template.mappings(),
        attributes_of=attributes.get,
        diags=diags,
        conditions=frozenset(defn.conditions),
    )
    for rd in defn.resources.values():
        for snippet in (rd.properties, rd.metadata, rd.update_policy, rd.external_id):
            validate(snippet, vctx)
    for od in defn.outputs.values():
        validate(od.value, vctx)

    for cycle in defn.graph().cycles():
        loop = " -> ".join([*cycle, cycle[0]])
        diags.add(
            (section,), f"Circular Dependency Found: {loop}", errors.CircularDependencyException
        )


def _template_resource(
    defn: StackDefinition,
    name: str,
    *,
    resolved: ResolvedType,
    catalog: TypeCatalog,
    limits: Limits,
    depth: int,
    path: Path,
    custom_constraints: Mapping[str, c.CustomCheck] | None,
) -> TypeInfo | None:
    type_path = (*path, defn.template.version.resource_keys()["type"])
    if depth + 1 > limits.max_nested_depth:
        defn.diags.add(type_path, f"Recursion depth exceeds {limits.max_nested_depth}.")
        return TypeInfo()
    assert resolved.template is not None
    content = defn.template.files.get(resolved.template)
    if content is None:
        defn.diags.add(
            type_path,
            f'Could not fetch remote template "{resolved.template}": '
            "it is not in the request's files.",
        )
        return None
    try:
        nested_template = Template.load(
            content, defn.template.files, max_size=limits.max_template_size
        )
    except errors.EmberError as exc:
        defn.diags.add(type_path, f'Error in template "{resolved.template}": {exc.message}')
        return TypeInfo()
    nested = define(
        nested_template,
        defn.environment.for_nested(name),
        identity=StackIdentity(region=defn.identity.region),
        catalog=catalog,
        require_parameters=False,
        custom_constraints=custom_constraints,
        limits=limits,
        depth=depth + 1,
    )
    defn.nested[name] = nested
    defn.diags.extend(nested.diags, prefix=path)
    return template_resource_info(nested)


def _parameter_view(defn: StackDefinition, name: str) -> dict[str, Any]:
    schema = defn.parameters.schemas[name]
    view: dict[str, Any] = {
        "Type": HOT_TO_CFN_TYPE[schema.type],
        "Description": schema.description,
        "Label": schema.label or name,
        "NoEcho": "true" if schema.hidden else "false",
    }
    # Heat shows a parameter_defaults value in place of the template's default.
    env_default = defn.environment.parameter_defaults.get(name)
    if env_default is not None:
        view["Default"] = env_default
    elif schema.has_default:
        view["Default"] = schema.default
    if defn.parameters.user_values.get(name) is not None:
        view["Value"] = defn.parameters.user_values[name]
    if schema.tags:
        view["Tags"] = list(schema.tags)
    descriptions = []
    for con in schema.constraints:
        if isinstance(con, c.Length):
            if con.min is not None:
                view["MinLength"] = con.min
            if con.max is not None:
                view["MaxLength"] = con.max
        elif isinstance(con, c.Range):
            if con.min is not None:
                view["MinValue"] = con.min
            if con.max is not None:
                view["MaxValue"] = con.max
        elif isinstance(con, c.Modulo):
            view["Step"], view["Offset"] = con.step, con.offset
        elif isinstance(con, c.AllowedValues):
            view["AllowedValues"] = list(con.values)
        elif isinstance(con, c.AllowedPattern):
            view["AllowedPattern"] = con.pattern
        elif isinstance(con, c.CustomConstraint):
            view["CustomConstraint"] = con.name
        if con.description:
            descriptions.append(con.description)
    if schema.constraint_description:
        view["ConstraintDescription"] = schema.constraint_description
    elif descriptions:
        view["ConstraintDescription"] = " ".join(descriptions)
    return view


def validate_response(defn: StackDefinition, *, show_nested: bool = False) -> dict[str, Any]:
    """Heat's ``POST /validate`` body (CloudFormation-style keys even for HOT)."""
    env = defn.environment.to_dict()
    registry = env["resource_registry"]
    registry.setdefault("resources", {})
    result: dict[str, Any] = {
        "Description": defn.description,
        "Parameters": {name: _parameter_view(defn, name) for name in defn.parameters.schemas},
        "Environment": {
            "parameters": env["parameters"],
            "parameter_defaults": env["parameter_defaults"],
            "resource_registry": registry,
            "event_sinks": env["event_sinks"],
        },
    }
    if defn.parameter_groups:
        result["ParameterGroups"] = defn.parameter_groups
    if show_nested and defn.nested:
        result["NestedParameters"] = {
            name: _nested_view(defn, name, nested) for name, nested in defn.nested.items()
        }
    return result


def _nested_view(defn: StackDefinition, name: str, nested: StackDefinition) -> dict[str, Any]:
    """A template resource's entry: no Environment, and what the parent passes in its
    properties shown as each nested parameter's ``Value``."""
    view = validate_response(nested, show_nested=True)
    del view["Environment"]
    properties = defn.resources[name].properties
    ctx = defn.resolve_context()
    for pname, pview in view["Parameters"].items():
        if not isinstance(properties, dict) or pname not in properties:
            continue
        try:
            value = resolve(properties[pname], ctx)
        except errors.EmberError:
            continue
        if value is not None and value is not OMIT:
            pview["Value"] = value
    view["Type"] = defn.resources[name].type
    return view
