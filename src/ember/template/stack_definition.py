"""A template applied to an environment and parameters: the stack's definition.

``build`` never raises for template problems. It records every problem in ``diags``
(each with its path) and goes on, so a caller sees them all; the engine and the API call
``diags.raise_if_errors()`` at their boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ember.common import errors
from ember.common.graph import Graph
from ember.template import loader
from ember.template.conditions import Conditions
from ember.template.constraints import CustomCheck
from ember.template.definitions import (
    DELETION_POLICIES,
    OutputDefinition,
    OutputValue,
    ResourceDefinition,
)
from ember.template.diagnostics import Diagnostics, Path
from ember.template.environment import Environment
from ember.template.functions.base import (
    OMIT,
    Function,
    FunctionError,
    ParseContext,
    ResolutionError,
    ResolveContext,
    ResourceResolver,
    amplifies,
    parse,
    resolve,
)
from ember.template.functions.budget import DEFAULT_MAX_CHARS, DEFAULT_MAX_ITEMS, Budget
from ember.template.functions.hot_refs import MEMBER_PREFIX
from ember.template.parameters import (
    CFN_PSEUDO,
    HOT_PSEUDO,
    Parameters,
    StackIdentity,
    pseudo_values,
)
from ember.template.properties import PropertySchema
from ember.template.registry import ResolvedType, is_template_name
from ember.template.template import Template

DEFAULT_MAX_NESTED_DEPTH = 5
TOO_MANY_RESOURCES = (
    "You have reached the maximum resources per stack, please contact your cloud administrator."
)
_PARAM_TO_PROPERTY = {
    "string": "string",
    "number": "number",
    "comma_delimited_list": "list",
    "json": "map",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Members:
    """Resources of one type that a resource makes in a nested stack of its own (a group's
    members, a chain's links): ``count`` of ``type``, each given ``properties``."""

    type: str | None  # None: not known before anything exists
    count: int
    properties: Mapping[str, Any] = field(default_factory=dict)
    # False: the members' definitions come from elsewhere (a launch configuration, a
    # deployment's servers), so neither their type nor their properties are checked here.
    defined_here: bool = True


def no_members(properties: Mapping[str, Any]) -> Sequence[Members]:
    return ()


def no_problems(properties: Mapping[str, Any]) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class TypeInfo:
    """What validation needs to know of a resource type."""

    attributes: frozenset[str] | None = None  # None: any attribute name is accepted
    properties: Mapping[str, PropertySchema] | None = None  # None: any properties
    # The members a resource of the type makes, from its properties as far as they are
    # known before anything exists (what is not known yet is None or missing).
    members: Callable[[Mapping[str, Any]], Sequence[Members]] = no_members
    # What the type refuses in its properties taken together (known ones only).
    problems: Callable[[Mapping[str, Any]], Sequence[str]] = no_problems


class TypeCatalog(Protocol):
    def type_info(self, type_name: str) -> TypeInfo | None:
        """The type's schema, or None when no such type exists."""

    def type_names(self) -> Iterable[str]:
        """Every known type, for "did you mean" hints."""


class AnyTypes:
    """A catalog that accepts every type: checks the template's own structure only."""

    def type_info(self, type_name: str) -> TypeInfo | None:
        return TypeInfo()

    def type_names(self) -> Iterable[str]:
        return ()


@dataclass(frozen=True)
class Limits:
    """What one stack may be and do (heat.conf's limits); -1 is no limit."""

    max_nested_depth: int = DEFAULT_MAX_NESTED_DEPTH
    max_template_size: int = loader.DEFAULT_MAX_SIZE
    # Resources of the whole tree: the stack's, its nested stacks' and groups' members.
    max_resources: int = -1
    # What the functions of one evaluation may make (see ``functions.budget``).
    max_result_items: int = DEFAULT_MAX_ITEMS
    max_result_chars: int = DEFAULT_MAX_CHARS
    yaql_limit_iterators: int = 200
    yaql_memory_quota: int = 10_000

    def budget(self) -> Budget:
        return Budget(self.max_result_items, self.max_result_chars)


class StackDefinition:
    def __init__(
        self,
        template: Template,
        environment: Environment,
        identity: StackIdentity,
        parameters: Parameters,
        diags: Diagnostics,
        limits: Limits | None = None,
    ) -> None:
        self.template = template
        self.limits = limits or Limits()
        self.environment = environment
        self.identity = identity
        self.parameters = parameters
        self.diags = diags
        self.parameter_groups: list[dict[str, Any]] = []
        self.conditions: dict[str, bool] = {}
        self.resources: dict[str, ResourceDefinition] = {}
        self.disabled: frozenset[str] = frozenset()
        self.outputs: dict[str, OutputDefinition] = {}
        self.resource_types: dict[str, ResolvedType] = {}
        self.nested: dict[str, StackDefinition] = {}
        # Resources of the whole tree this definition would make (its own, its template
        # resources' nested stacks', its groups' members), as far as known before anything
        # exists; set by validation.
        self.tree_size = 0
        # A nested stack's: what ``resource_facade`` reads of the resource that owns it.
        self.facade: Mapping[str, Any] | None = None

    @property
    def description(self) -> str:
        return self.template.description

    def resolve_context(
        self,
        resources: ResourceResolver | None = None,
        *,
        facade: Mapping[str, Any] | None = None,
        availability_zones: Sequence[str] = ("nova",),
    ) -> ResolveContext:
        ctx = ResolveContext(
            parameters=self.parameters,
            files=self.template.files,
            conditions=self.conditions,
            mappings=self.template.mappings(),
            facade=facade if facade is not None else self.facade,
            availability_zones=availability_zones,
            yaql_limit_iterators=self.limits.yaql_limit_iterators,
            yaql_memory_quota=self.limits.yaql_memory_quota,
            budget=self.limits.budget(),
        )
        if resources is not None:
            ctx.resources = resources
        return ctx

    def graph(self) -> Graph[str]:
        """Resources and what each requires (enabled resources only)."""
        graph: Graph[str] = Graph()
        for name, rd in self.resources.items():
            graph.add(name)
            for dep in rd.requires:
                if dep in self.resources:
                    graph.connect(name, dep)
        return graph

    def outputs_amplify(self, names: Iterable[str] | None = None) -> bool:
        """Whether computing these outputs (default all) may take a while."""
        chosen = self.outputs if names is None else {n: self.outputs[n] for n in names}
        return any(amplifies(od.value) for od in chosen.values())

    def shown_environment(self) -> dict[str, Any]:
        """The environment as Heat shows it: a template file written as a resource's type
        is in the registry as mapped to itself (Heat registers it so), and the registry
        always has its ``resources`` section."""
        env = self.environment.to_dict()
        registry = env["resource_registry"]
        for rd in self.resources.values():
            if is_template_name(rd.type) and rd.type not in registry:
                registry[rd.type] = rd.type
        registry.setdefault("resources", {})
        return env

    def resolve_outputs(
        self, ctx: ResolveContext, names: Iterable[str] | None = None
    ) -> list[OutputValue]:
        """Each output's value, or its own error: one bad output never hides the others."""
        out = []
        for name in names if names is not None else self.outputs:
            od = self.outputs[name]
            try:
                out.append(OutputValue(name, od.description, resolve(od.value, ctx)))
            except ResolutionError as exc:
                # Heat's words: the output already names where the problem is.
                out.append(OutputValue(name, od.description, None, exc.detail))
            except errors.EmberError as exc:
                out.append(OutputValue(name, od.description, None, exc.message))
        return out


def build(
    template: Template,
    environment: Environment | None = None,
    *,
    identity: StackIdentity | None = None,
    require_parameters: bool = True,
    custom_constraints: Mapping[str, CustomCheck] | None = None,
    limits: Limits | None = None,
    with_resources: bool = True,
) -> StackDefinition:
    """Apply an environment and parameters to a template, parsing every section (but
    resources and outputs when not ``with_resources``).

    Reference and type checks are ``validation.check_definition``'s job.
    """
    environment = environment or Environment()
    identity = identity or StackIdentity()
    diags = Diagnostics()
    template.check_sections(diags)
    schemas = template.parameter_schemas(diags)
    pseudo = pseudo_values(template.kind, identity)
    for name in schemas:
        if name in (*HOT_PSEUDO, *CFN_PSEUDO):
            diags.add(("parameters", name), f"The parameter name {name} is reserved.")
    parameters = Parameters(
        schemas,
        environment.parameters,
        pseudo,
        diags=diags,
        require_all=require_parameters,
        custom_constraints=custom_constraints,
        defaults=environment.parameter_defaults,
        section=template.section_key("parameters"),
    )
    defn = StackDefinition(template, environment, identity, parameters, diags, limits)
    defn.parameter_groups = template.parameter_groups(diags)

    conditions = Conditions(
        template.raw_conditions(),
        version=template.version,
        parameters=parameters,
        mappings=template.mappings(),
        section_key=template.section_key("conditions"),
        diags=diags,
        budget=defn.limits.budget(),
    )
    conditions.evaluate_all()
    defn.conditions = conditions.evaluated()

    pctx = ParseContext(
        functions=template.version.functions,
        diags=diags,
        parameter_names=frozenset(parameters),
        resource_names=frozenset(str(n) for n in template.raw_resources()),
        evaluate_condition=conditions.evaluate_argument,
    )
    if with_resources:
        _build_resources(defn, conditions, pctx)
        _build_outputs(defn, conditions, pctx)
    return defn


def _condition_enabled(raw: Any, conditions: Conditions, path: Path, diags: Diagnostics) -> bool:
    if raw is None:
        return True
    try:
        return conditions.evaluate(raw, path)
    except (FunctionError, KeyError) as exc:
        message = str(exc) if isinstance(exc, FunctionError) else f'Invalid condition name "{raw}"'
        diags.add(path, message)
        return True


def _present(parsed: Any) -> Any:
    """A whole section that a two-argument ``if`` removed is as if not written."""
    return None if parsed is OMIT else parsed


def _static_value(snippet: Any, defn: StackDefinition, path: Path) -> Any:
    """Resolve a snippet that may use parameters only (deletion_policy and the like)."""
    if not isinstance(snippet, Function):
        return snippet
    try:
        return resolve(snippet, defn.resolve_context())
    except ResolutionError as exc:
        defn.diags.add(exc.path, exc.detail)
        return None


def _build_resources(defn: StackDefinition, conditions: Conditions, pctx: ParseContext) -> None:
    template = defn.template
    section = template.section_key("resources")
    keys = template.version.resource_keys()
    known = set(keys.values())
    diags = defn.diags
    disabled = set()
    for raw_name, spec in template.raw_resources().items():
        name = str(raw_name)
        path: Path = (section, name)
        if not isinstance(raw_name, str) or "/" in name:
            diags.add(path, 'Resource names must be strings and may not contain "/"')
            continue
        if not isinstance(spec, dict):
            diags.add(path, f"Resource {name} must be a map")
            continue
        for key in spec:
            if key not in known:
                diags.add(path, f'"{key}" is not a valid keyword inside a resource definition')
        if "condition" in keys and not _condition_enabled(
            spec.get(keys["condition"]), conditions, (*path, keys["condition"]), diags
        ):
            disabled.add(name)
            continue
        rtype = spec.get(keys["type"])
        if not isinstance(rtype, str) or not rtype:
            diags.add((*path, keys["type"]), f"Resource {name} type must be a non-empty string")
            continue
        properties = _present(
            parse(spec.get(keys["properties"]), pctx, (*path, keys["properties"]))
        )
        if properties is not None and not isinstance(properties, (dict, Function)):
            diags.add((*path, keys["properties"]), "Properties must be a map")
        metadata = _present(parse(spec.get(keys["metadata"]), pctx, (*path, keys["metadata"])))
        if metadata is not None and not isinstance(metadata, (dict, Function)):
            diags.add((*path, keys["metadata"]), "Metadata must be a map")
        update_policy = _present(
            parse(spec.get(keys["update_policy"]), pctx, (*path, keys["update_policy"]))
        )
        if update_policy is not None and not isinstance(update_policy, (dict, Function)):
            diags.add((*path, keys["update_policy"]), "update_policy must be a map")
        depends = spec.get(keys["depends_on"]) or []
        if isinstance(depends, str):
            depends = [depends]
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            diags.add(
                (*path, keys["depends_on"]), "depends_on must be a resource name or a list of them"
            )
            depends = []
        policy = _deletion_policy(
            defn, spec.get(keys["deletion_policy"]), pctx, (*path, keys["deletion_policy"])
        )
        external_id = None
        if "external_id" in keys and spec.get(keys["external_id"]) is not None:
            external_id = parse(spec[keys["external_id"]], pctx, (*path, keys["external_id"]))
        description = spec.get(keys["description"], "")
        requires = ResourceDefinition.implicit_requirements(properties, metadata, update_policy)
        defn.resources[name] = ResourceDefinition(
            name=name,
            type=rtype,
            properties=properties,
            metadata=metadata,
            depends_on=tuple(depends),
            deletion_policy=policy,
            update_policy=update_policy,
            external_id=external_id,
            description="" if description is None else str(description),
            requires=frozenset(requires | set(depends)),
            amplifying=amplifies(properties),
        )
    defn.disabled = frozenset(disabled)


def _deletion_policy(defn: StackDefinition, raw: Any, pctx: ParseContext, path: Path) -> str:
    if raw is None:
        return "Delete"
    value = _static_value(parse(raw, pctx, path), defn, path)
    if value is None:
        return "Delete"
    text = str(value)
    if defn.template.version.lowercase_deletion_policy:
        text = text.capitalize()
    if text not in DELETION_POLICIES:
        defn.diags.add(
            path, f'Invalid deletion policy "{value}"; valid are {", ".join(DELETION_POLICIES)}'
        )
        return "Delete"
    return text


def _build_outputs(defn: StackDefinition, conditions: Conditions, pctx: ParseContext) -> None:
    template = defn.template
    section = template.section_key("outputs")
    keys = template.version.output_keys()
    known = set(keys.values())
    for raw_name, spec in template.raw_outputs().items():
        name = str(raw_name)
        path: Path = (section, name)
        if not isinstance(spec, dict):
            defn.diags.add(path, f"Output {name} must be a map")
            continue
        for key in spec:
            if key not in known:
                defn.diags.add(path, f'"{key}" is not a valid keyword inside an output definition')
        if keys["value"] not in spec:
            defn.diags.add(path, "Each output definition must contain a value key.")
            continue
        # An output whose condition is false is still listed, with no value.
        enabled = "condition" not in keys or _condition_enabled(
            spec.get(keys["condition"]), conditions, (*path, keys["condition"]), defn.diags
        )
        description = spec.get(keys["description"])
        defn.outputs[name] = OutputDefinition(
            name=name,
            value=_present(parse(spec[keys["value"]], pctx, (*path, keys["value"])))
            if enabled
            else None,
            description="No description given" if description is None else str(description),
        )


def template_interface(template: Template, parameter_defaults: Mapping[str, Any]) -> TypeInfo:
    """What a template offers as a resource type: its parameters as properties (required
    when they have no default), its outputs and Heat's stack attributes as attributes."""
    properties = {}
    for name, schema in template.parameter_schemas().items():
        has_default = schema.has_default or name in parameter_defaults
        properties[name] = PropertySchema(
            type=_PARAM_TO_PROPERTY[schema.type],
            description=schema.description,
            required=not has_default,
            update_allowed=True,
            immutable=schema.immutable,
        )
    attributes = frozenset(str(a) for a in template.raw_outputs()) | {
        "OS::stack_id",
        "OS::stack_name",
        "show",
    }
    return TypeInfo(attributes=attributes, properties=properties)


def template_resource_info(nested: StackDefinition) -> TypeInfo:
    """A template resource's properties are the nested template's parameters; its attributes
    are the nested outputs, and those of the nested resources (``resource.<name>...``)."""
    interface = template_interface(nested.template, nested.environment.parameter_defaults)
    assert interface.attributes is not None
    # Heat's ``resource.<name>`` (its reference) and ``resource.<name>.<attribute>``.
    members = {f"{MEMBER_PREFIX}{name}" for name in nested.resources}
    return TypeInfo(attributes=interface.attributes | members, properties=interface.properties)


__all__ = [
    "TOO_MANY_RESOURCES",
    "AnyTypes",
    "Limits",
    "Members",
    "StackDefinition",
    "TypeCatalog",
    "TypeInfo",
    "build",
    "template_interface",
    "template_resource_info",
]
