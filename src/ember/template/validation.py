"""Static checks of a stack definition, and Heat's ``POST /validate`` answer.

Everything that can be known before a resource exists is checked here: types (through the
environment's registry and the engine's catalog), properties, references, attributes,
template resources (recursively, within the nesting limit) and dependency cycles.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ember.common import errors
from ember.template import constraints as c
from ember.template.diagnostics import Boundary, Diagnostics, Path
from ember.template.environment import Environment
from ember.template.functions.base import (
    OMIT,
    Function,
    ResolveContext,
    ResultTooLarge,
    ValidationContext,
    amplifies,
    dependencies,
    resolve,
    validate,
)
from ember.template.parameters import HOT_TO_CFN_TYPE, StackIdentity
from ember.template.properties import check_static
from ember.template.registry import RegistryError, ResolvedType
from ember.template.stack_definition import (
    TOO_MANY_RESOURCES,
    AnyTypes,
    Limits,
    Members,
    StackDefinition,
    TypeCatalog,
    TypeInfo,
    build,
    no_members,
    template_interface,
    template_resource_info,
)
from ember.template.template import Template


@dataclass
class TreeCount:
    """Resources of the definitions made so far in one validation, over its whole tree of
    nested templates. Never more than the tree holds (each definition's own resources are
    in it at least once), so once past the limit the tree is too large, and no further
    nested template is defined: a template made of ten copies of itself would otherwise
    cost ten to the power of the nesting depth definitions."""

    limit: int
    seen: int = 0
    exceeded: bool = False

    def full(self) -> bool:
        if self.limit != -1 and self.seen > self.limit:
            self.exceeded = True
        return self.exceeded


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
    tree: TreeCount | None = None,
) -> StackDefinition:
    """Build a stack definition and check it; problems are in ``result.diags``.

    The whole tree (template resources' nested stacks, groups' members) is held to
    ``limits.max_resources`` before anything is made, as far as it can be known."""
    limits = limits or Limits()
    top = tree is None
    tree = tree or TreeCount(limits.max_resources)
    # More resources of its own than a stack may hold: refused before they are parsed.
    crowded = tree.limit != -1 and len(template.raw_resources()) > tree.limit
    defn = build(
        template,
        environment,
        identity=identity,
        require_parameters=require_parameters,
        custom_constraints=custom_constraints,
        limits=limits,
        with_resources=not crowded,
    )
    if crowded:
        tree.exceeded = True
    else:
        check_definition(defn, catalog or AnyTypes(), limits, depth, custom_constraints, tree)
    if top and (tree.exceeded or (tree.limit != -1 and defn.tree_size > tree.limit)):
        # Alone: the rest of such a tree was not all checked, and nothing else matters
        # until it is made smaller.
        defn.diags = Diagnostics()
        defn.diags.add((), TOO_MANY_RESOURCES, errors.RequestLimitExceeded)
    return defn


def known_value(
    snippet: Any, ctx: ResolveContext, diags: Diagnostics, *, every_call: bool = False
) -> Any:
    """A parsed snippet's value as far as it can be computed before any resource exists
    (what refers to resources is None; what fails is None, to be reported when it is
    computed for real), computed within ``ctx``'s budget. A value too large to compute is
    reported now: it would fail the same way later.

    Only calls that hold a function whose result may be far larger than its arguments, and
    that refer to no resource, are computed (the others are None; the budget bounds them
    when they are computed for real), unless ``every_call``: what a group's count is."""
    if isinstance(snippet, Function):
        if not every_call and (
            not amplifies(snippet) or next(dependencies(snippet), None) is not None
        ):
            return None
        try:
            return resolve(snippet, ctx)
        except ResultTooLarge as exc:
            diags.add(exc.path, exc.detail)
            return None
        except errors.EmberError:
            return None
    if isinstance(snippet, dict):
        items = ((k, known_value(v, ctx, diags, every_call=every_call)) for k, v in snippet.items())
        return {k: v for k, v in items if v is not OMIT}
    if isinstance(snippet, list):
        values = (known_value(v, ctx, diags, every_call=every_call) for v in snippet)
        return [v for v in values if v is not OMIT]
    return snippet


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
    tree: TreeCount | None = None,
) -> None:
    diags = defn.diags
    keys = defn.template.version.resource_keys()
    section = defn.template.section_key("resources")
    attributes: dict[str, frozenset[str] | None] = {}
    tree = tree or TreeCount(limits.max_resources)
    tree.seen += len(defn.resources)
    # One budget for every value this validation computes.
    rctx = defn.resolve_context()
    tree_size = 0
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
                tree=tree,
            )
        else:
            info = catalog.type_info(resolved.name)
            if info is None:
                diags.add(type_path, _unknown_type(resolved.name, catalog))
        # A template resource's attributes are not checked up front, as in Heat: an update
        # may drop an output still read until the same update is done, and one read that
        # the template does not have fails when it is read.
        attributes[name] = None if info is None or resolved.is_template else info.attributes
        if resolved.is_template and info is not None:
            _facade_refused(defn, rd.type, name, info, catalog, limits)
        makes_members = info is not None and info.members is not no_members
        properties = known_value(rd.properties, rctx, diags, every_call=makes_members)
        known_value(rd.metadata, rctx, diags)
        tree_size += 1
        if name in defn.nested:
            tree_size += defn.nested[name].tree_size
        elif makes_members and isinstance(properties, dict):
            assert info is not None
            env = defn.environment.for_nested(name)
            for members in info.members(properties):
                tree_size += _members_size(
                    members, env, defn, catalog, limits, depth + 1, custom_constraints, tree, path
                )
        if info is not None:
            where = (*path, keys["properties"])
            _check_properties(info, rd.properties, properties, where, diags)
        for dep in rd.depends_on:
            if dep not in defn.resources and dep not in defn.disabled:
                diags.add(
                    (*path, keys["depends_on"]),
                    f'The specified reference "{dep}" (in {name}) is incorrect.',
                    errors.InvalidTemplateReference,
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
    output_vctx = replace(vctx, outputs=True)
    for od in defn.outputs.values():
        validate(od.value, output_vctx)
        known_value(od.value, rctx, diags)
    defn.tree_size = tree_size

    for cycle in defn.graph().cycles():
        loop = " -> ".join([*cycle, cycle[0]])
        diags.add(
            (section,), f"Circular Dependency Found: {loop}", errors.CircularDependencyException
        )


def _check_properties(
    info: TypeInfo, written: Any, known: Any, where: Path, diags: Diagnostics
) -> None:
    """Properties against the type: what is written against its schema, what is known of
    them before anything exists against the type's own rules for them taken together."""
    check_static(info.properties, written, where, diags)
    if isinstance(known, Mapping):
        for problem in info.problems(known):
            diags.add(where, problem)


def _facade_refused(
    defn: StackDefinition,
    type_name: str,
    name: str,
    provider: TypeInfo,
    catalog: TypeCatalog,
    limits: Limits,
) -> bool:
    """Report a template resource whose template does not offer its facade's interface,
    in Heat's own words (clients compare them)."""
    mismatch = _facade_mismatch(defn, type_name, name, provider, catalog, limits)
    if mismatch is not None:
        defn.diags.add((), mismatch)
    return mismatch is not None


def _facade_mismatch(
    defn: StackDefinition,
    type_name: str,
    name: str,
    provider: TypeInfo,
    catalog: TypeCatalog,
    limits: Limits,
) -> str | None:
    """Where a template resource's template fails to offer the interface of the type it
    stands in for (Heat's facade check), or None."""
    resolved = defn.environment.registry.facade_of(type_name, name)
    if resolved is None:
        return None
    facade: TypeInfo | None
    if resolved.is_template:
        content = defn.template.files.get(resolved.template or "")
        if content is None:
            return None
        try:
            template = Template.load(
                content, defn.template.files, max_size=limits.max_template_size
            )
        except errors.EmberError:
            return None
        defaults = defn.environment.for_nested(name).parameter_defaults
        facade = template_interface(template, defaults)
    else:
        facade = catalog.type_info(resolved.name)
    if facade is None or facade.properties is None or provider.properties is None:
        return None
    for key, schema in facade.properties.items():
        offered = provider.properties.get(key)
        if schema.required and offered is None:
            return f"Required property {key} for facade {type_name} missing in provider"
        if offered is not None and _as_parameter_type(schema.type) != offered.type:
            return (
                f"Property {key} type mismatch between facade {type_name} ({schema.type}) "
                f"and provider ({offered.type})"
            )
    for key, schema in provider.properties.items():
        if schema.required and key not in facade.properties:
            return f"Provider requires property {key} unknown in facade {type_name}"
    for attribute in sorted(facade.attributes or ()):
        if provider.attributes is not None and attribute not in provider.attributes:
            return f"Attribute {attribute} for facade {type_name} missing in provider"
    return None


def _as_parameter_type(property_type: str) -> str:
    # A template's number parameter is offered as a number property, whatever integer
    # property the facade declares.
    return "number" if property_type == "integer" else property_type


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
    tree: TreeCount,
) -> TypeInfo | None:
    type_path = (*path, defn.template.version.resource_keys()["type"])
    if tree.full():
        return TypeInfo()
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
        defn.environment.for_template_resource(resolved.chain[0], name),
        identity=StackIdentity(region=defn.identity.region),
        catalog=catalog,
        require_parameters=False,
        custom_constraints=custom_constraints,
        limits=limits,
        depth=depth + 1,
        tree=tree,
    )
    defn.nested[name] = nested
    defn.diags.extend(nested.diags, prefix=(*path, Boundary(resolved.template)))
    info = template_resource_info(nested)
    if depth > 0:
        # Heat checks the properties of a template resource against its template's
        # parameters in the template given only; one further down is checked when its own
        # stack is made (heat-tempest-plugin validates such a tree as it is).
        return replace(info, properties=None)
    return info


def _members_size(
    members: Members,
    env: Environment,
    defn: StackDefinition,
    catalog: TypeCatalog,
    limits: Limits,
    depth: int,
    custom_constraints: Mapping[str, c.CustomCheck] | None,
    tree: TreeCount,
    path: Path,
) -> int:
    """Resources that ``members`` make, in a nested stack at ``depth`` whose environment is
    ``env``: each member, and what each member's own nested stack holds (a template
    resource's template is defined once, for the first member, as Heat validates it, and
    its problems reported under ``path``, the making resource's, as the first member's).
    A group of no members is not looked into (Heat's way to switch a feature off)."""
    if members.count <= 0:
        return 0
    each = 1
    try:
        resolved = env.registry.resolve(members.type, "0") if members.type else None
    except RegistryError:
        resolved = None
    if resolved is not None and resolved.is_template:
        content = defn.template.files.get(resolved.template or "")
        if content is not None and depth + 1 <= limits.max_nested_depth and not tree.full():
            try:
                template = Template.load(
                    content, defn.template.files, max_size=limits.max_template_size
                )
            except errors.EmberError:
                template = None
            if template is not None:
                nested = define(
                    template,
                    env.for_template_resource(members.type or "", "0"),
                    identity=StackIdentity(region=defn.identity.region),
                    catalog=catalog,
                    require_parameters=False,
                    custom_constraints=custom_constraints,
                    limits=limits,
                    depth=depth + 1,
                    tree=tree,
                )
                defn.diags.extend(
                    nested.diags,
                    prefix=(
                        *path,
                        Boundary("nested_stack"),
                        "resources",
                        "0",
                        Boundary(resolved.template or ""),
                    ),
                )
                each += nested.tree_size
    else:
        info = None if resolved is None else catalog.type_info(resolved.name)
        if info is None:
            if members.type and members.defined_here:
                defn.diags.add(
                    (*path, "resources", "0", "type"),
                    f"The Resource Type ({members.type}) could not be found.",
                )
        else:
            if members.defined_here:
                where = (*path, "resources", "0", "properties")
                _check_properties(
                    info, dict(members.properties), members.properties, where, defn.diags
                )
            inner = env.for_nested("0")
            for sub in info.members(members.properties):
                each += _members_size(
                    sub,
                    inner,
                    defn,
                    catalog,
                    limits,
                    depth + 1,
                    custom_constraints,
                    tree,
                    (*path, "resources", "0"),
                )
    return members.count * each


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
    env = defn.shown_environment()
    registry = env["resource_registry"]
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
