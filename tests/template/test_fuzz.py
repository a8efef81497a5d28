"""Property-based tests: whatever a client sends, the template library answers with a
definition (problems recorded as diagnostics) or an Ember error, never a crash.

Sources of input: templates generated from scratch (and, per function, small stacks built
around one call with arguments of nearly the right shape), mutations of the valid corpus
templates, random environments, random text fed to the loaders, and deeply nested
documents. Every definition is also resolved against a fake engine whose values have every
shape; resolving may fail only with an Ember error, and the request is never modified.

The runs are derandomized and use no example database, so CI sees the same examples every
time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ember.common.errors import EmberError
from ember.template import (
    VERSIONS,
    Environment,
    StackDefinition,
    StackIdentity,
    Template,
    define,
    merge_environment_files,
    parse_text,
    validate_response,
)
from ember.template.functions.base import OMIT, Function
from tests.template.conftest import CATALOG_TYPES, FakeCatalog
from tests.template.test_corpus import CORPUS, corpus_dirs, load_case

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# ---------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------

FUNCTION_NAMES = sorted(
    {name for v in VERSIONS for name in (*v.functions, *v.condition_functions)}
    | {"Fn::Sub", "Fn::ImportValue", "get_input", "str_replace_everything"}
)
RESOURCE_NAMES = ["web", "db", "app", "lb", "cache", "r1", "r2", "self"]
PARAMETER_NAMES = ["flavor", "count", "enabled", "names", "config", "p", "OS::stack_name"]
CONDITION_NAMES = ["is_prod", "has_cache", "c1", "c2"]
MAPPING_NAMES = ["RegionMap", "Sizes"]
FILE_NAMES = ["nested.yaml", "server.yaml", "script.sh", "data.json"]
ATTRIBUTE_NAMES = ["value", "output", "show", "refs", "resource.0", "name", "OS::stack_id"]
TYPE_NAMES = [
    *sorted(CATALOG_TYPES),
    "nested.yaml",
    "server.yaml",
    "missing.yaml",
    "http://example.com/remote.yaml",
    "My::Alias",
    "My::Nested",
    "OS::Nova::Server",
    "",
]
PROPERTY_NAMES = sorted(
    {name for info in CATALOG_TYPES.values() for name in (info.properties or {})}
    | {"name", "image", "flavor", "secret", "label", "unknown_prop"}
)
ARGUMENT_KEYS = [
    "template",
    "params",
    "for_each",
    "permutations",
    "expression",
    "data",
    "keys",
    "values",
    "scheme",
    "host",
    "port",
    "path",
    "query",
    "fragment",
    "username",
    "password",
]
YAQL_EXPRESSIONS = [
    "$.data",
    "$.data.len()",
    "$.data.select($ * 2)",
    "$.data.where($ > 1)",
    "$.data.keys()",
    "$.data[0]",
    "$.data.sum()",
    "dict($.data)",
    "$.data.join(',')",
    "range(10).select($ * $)",
    "range(100000).sum()",
    "1 / 0",
    "let(x => $.data) -> $x",
    "$.data.groupBy($.role)",
    "regex('(').matches('x')",
    "$.",
    "",
]
DIGESTS = ["sha256", "md5", "SHA512", "sha3_256", "blake2b", "shake_128", "crc32"]
VERSION_LABELS = [
    *[v.date for v in VERSIONS],
    "newton",
    "ocata",
    "pike",
    "queens",
    "rocky",
    "wallaby",
    "2012-12-13",
    "2016-13-01",
    "zed",
    "",
]

names = st.sampled_from
small_text = st.text(max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    small_text,
    names(RESOURCE_NAMES + PARAMETER_NAMES + CONDITION_NAMES + ATTRIBUTE_NAMES),
    names(["%index%", "<%x%>", "$NAME", "true", "1", "0", "-1", "", ",", "AWS::NoValue"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(small_text, names(ARGUMENT_KEYS)), children, max_size=4),
    ),
    max_leaves=12,
)


# Values that break naive code: infinities, NaN, huge integers, empty containers.
ODD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**64,
    -(2**70),
    1.5,
    float("inf"),
    float("-inf"),
    float("nan"),
    "",
    " ",
    "\x00",
    "ünïcödé",
    [],
    {},
    [None],
    {"": None},
    [[1, 2], {"a": [3]}],
]
DELIMITERS = names([",", ".", "-", "", " ", ":"])
TEXTS = names(["a,b,c", "web.example.com", "x", "sha256", "$NAME-%index%", "<%a%>", "0", ""])
INDEXES = st.one_of(st.integers(-2, 4), names(["0", "1", "x", "-1"]))
LISTS = st.lists(st.one_of(TEXTS, st.integers(-2, 3), st.none()), max_size=4)
MAPS = st.dictionaries(TEXTS, st.one_of(TEXTS, st.integers(-2, 3)), max_size=3)
CONDITIONS = st.one_of(names(CONDITION_NAMES), st.booleans())


def _slot(typical: st.SearchStrategy[Any], children: st.SearchStrategy[Any]) -> Any:
    """One argument: usually of the expected kind, else an odd value or a nested call."""
    return st.integers(0, 9).flatmap(
        lambda i: typical if i < 6 else names(ODD_VALUES) if i < 8 else children
    )


@st.composite
def _listed(draw: st.DrawFn, slots: list[Any], children: st.SearchStrategy[Any]) -> list[Any]:
    """A list of arguments, now and then one short or one too many."""
    values = [draw(_slot(slot, children)) for slot in slots]
    change = draw(st.integers(0, 9))
    if change == 0 and values:
        values.pop()
    elif change == 1:
        values.append(draw(children))
    return values


@st.composite
def _mapped(
    draw: st.DrawFn, slots: dict[str, Any], children: st.SearchStrategy[Any]
) -> dict[str, Any]:
    """A map of arguments, each key usually present, now and then an unknown one."""
    out = {
        key: draw(_slot(slot, children)) for key, slot in slots.items() if draw(st.integers(0, 9))
    }
    if not draw(st.integers(0, 9)):
        out[draw(names(ARGUMENT_KEYS))] = draw(children)
    return out


def _signatures(c: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    """For each function, arguments shaped roughly as it expects."""
    value = st.one_of(json_values, c)
    replace = _mapped(
        {
            "template": TEXTS,
            "params": st.dictionaries(names(["$NAME", "%index%", "a", ""]), value, max_size=3),
        },
        c,
    )
    attr = _listed([names(RESOURCE_NAMES), names(ATTRIBUTE_NAMES), INDEXES], c)
    return {
        "get_param": st.one_of(
            names(PARAMETER_NAMES), _listed([names(PARAMETER_NAMES), INDEXES, TEXTS], c)
        ),
        "get_resource": names(RESOURCE_NAMES),
        "Ref": st.one_of(names(RESOURCE_NAMES), names(PARAMETER_NAMES)),
        "get_attr": attr,
        "Fn::GetAtt": st.one_of(attr, st.builds("{}.{}".format, names(RESOURCE_NAMES), TEXTS)),
        "get_file": _slot(names(FILE_NAMES), c),
        "str_replace": replace,
        "str_replace_strict": replace,
        "str_replace_vstrict": replace,
        "Fn::Replace": _listed([MAPS, TEXTS], c),
        "list_join": _listed([DELIMITERS, LISTS, LISTS], c),
        "Fn::Join": _listed([DELIMITERS, LISTS], c),
        "str_split": _listed([DELIMITERS, TEXTS, INDEXES], c),
        "Fn::Split": _listed([DELIMITERS, TEXTS], c),
        "Fn::Select": _listed([INDEXES, st.one_of(LISTS, MAPS, TEXTS)], c),
        "Fn::Base64": _slot(TEXTS, c),
        "Fn::GetAZs": _slot(TEXTS, c),
        "Fn::MemberListToMap": _listed(
            [
                names(["Key", "Name"]),
                names(["Value"]),
                st.lists(names([".member.0.Key=a", ".member.0.Value=b", "member.1.Key=c", "x=y"])),
            ],
            c,
        ),
        "Fn::FindInMap": _listed([names(MAPPING_NAMES), TEXTS, TEXTS], c),
        "resource_facade": _slot(names(["metadata", "deletion_policy", "update_policy"]), c),
        "Fn::ResourceFacade": _slot(names(["Metadata", "DeletionPolicy", "UpdatePolicy"]), c),
        "repeat": _mapped(
            {
                "for_each": st.dictionaries(
                    names(["<%a%>", "<%b%>", ""]), _slot(st.one_of(LISTS, MAPS), c), max_size=3
                ),
                "template": value,
                "permutations": st.booleans(),
            },
            c,
        ),
        "digest": _listed([names(DIGESTS), TEXTS], c),
        "map_merge": _listed([MAPS, MAPS], c),
        "map_replace": _listed([MAPS, _mapped({"keys": MAPS, "values": MAPS}, c)], c),
        "yaql": _mapped(
            {
                "expression": st.one_of(names(YAQL_EXPRESSIONS), st.text(max_size=20)),
                "data": value,
            },
            c,
        ),
        "if": _listed([CONDITIONS, value, value], c),
        "Fn::If": _listed([CONDITIONS, value, value], c),
        "equals": _listed([value, value], c),
        "Fn::Equals": _listed([value, value], c),
        "not": _slot(CONDITIONS, c),
        "Fn::Not": _listed([CONDITIONS], c),
        "and": _listed([CONDITIONS, CONDITIONS, CONDITIONS], c),
        "or": _listed([CONDITIONS, CONDITIONS], c),
        "Fn::And": _listed([CONDITIONS, CONDITIONS], c),
        "Fn::Or": _listed([CONDITIONS, CONDITIONS, CONDITIONS], c),
        "Condition": _slot(names(CONDITION_NAMES), c),
        "filter": _listed([LISTS, LISTS], c),
        "make_url": _mapped(
            {
                "scheme": names(["http", "https", "ht:tp", ""]),
                "host": names(["example.com", "::1", "", "a b"]),
                "port": st.one_of(st.integers(-1, 70000), TEXTS),
                "path": TEXTS,
                "query": MAPS,
                "fragment": TEXTS,
                "username": TEXTS,
                "password": TEXTS,
            },
            c,
        ),
        "list_concat": _listed([LISTS, LISTS], c),
        "list_concat_unique": _listed([LISTS, LISTS, LISTS], c),
        "contains": _listed([value, st.one_of(LISTS, TEXTS, MAPS)], c),
    }


def _known_calls(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Calls with argument shapes close to what each function wants."""
    return st.one_of(
        [
            st.builds(lambda n, a: {n: a}, st.just(name), args)
            for name, args in _signatures(children).items()
        ]
    )


def _any_call(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A call of any function name with any argument shape."""
    shapes = st.one_of(
        children,
        st.lists(children, max_size=4),
        st.dictionaries(names(ARGUMENT_KEYS), children, max_size=4),
    )
    return st.builds(lambda name, args: {name: args}, names(FUNCTION_NAMES), shapes)


snippets = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(small_text, names(PROPERTY_NAMES)), children, max_size=4),
        _known_calls(children),
        _any_call(children),
    ),
    max_leaves=16,
)


# ---------------------------------------------------------------------------------------
# Whole templates and environments
# ---------------------------------------------------------------------------------------


def _maybe(strategy: st.SearchStrategy[Any], odds: int = 8) -> st.SearchStrategy[Any]:
    """A value that is usually well formed and once in ``odds`` times anything at all."""
    return st.integers(0, odds - 1).flatmap(lambda i: json_values if i == 0 else strategy)


hot_constraints = st.lists(
    _maybe(
        st.one_of(
            st.fixed_dictionaries(
                {"length": st.dictionaries(names(["min", "max"]), _maybe(st.integers(-2, 20)))}
            ),
            st.fixed_dictionaries(
                {"range": st.dictionaries(names(["min", "max"]), _maybe(st.integers(-5, 50)))}
            ),
            st.fixed_dictionaries(
                {
                    "modulo": st.fixed_dictionaries(
                        {"step": _maybe(st.integers(-3, 4)), "offset": _maybe(st.integers(-3, 4))}
                    )
                }
            ),
            st.fixed_dictionaries({"allowed_values": _maybe(st.lists(scalars, max_size=4))}),
            st.fixed_dictionaries(
                {"allowed_pattern": _maybe(names(["[a-z]+", "(", "\\d{2,}", ".*", "a{99999}"]))}
            ),
            st.fixed_dictionaries({"custom_constraint": _maybe(names(["nova.flavor", "x"]))}),
        ).flatmap(
            lambda c: st.fixed_dictionaries(
                {k: st.just(v) for k, v in c.items()},
                optional={"description": st.one_of(small_text, json_values)},
            )
        )
    ),
    max_size=3,
)
hot_parameter = st.fixed_dictionaries(
    {
        "type": _maybe(
            names(["string", "number", "comma_delimited_list", "json", "boolean", "integer"])
        )
    },
    optional={
        "default": json_values,
        "constraints": _maybe(hot_constraints),
        "hidden": _maybe(st.booleans()),
        "immutable": _maybe(st.booleans()),
        "tags": _maybe(st.lists(small_text, max_size=2)),
        "label": json_values,
        "description": json_values,
        "Type": json_values,
    },
)
cfn_parameter = st.fixed_dictionaries(
    {
        "Type": _maybe(
            names(["String", "Number", "CommaDelimitedList", "Json", "Boolean", "List<String>"])
        )
    },
    optional={
        "Default": json_values,
        "AllowedValues": _maybe(st.lists(scalars, max_size=4)),
        "AllowedPattern": _maybe(names(["[a-z]+", "(", ".*"])),
        "MinLength": _maybe(st.integers(-1, 10)),
        "MaxLength": _maybe(st.integers(-1, 10)),
        "MinValue": _maybe(st.integers(-10, 10)),
        "MaxValue": _maybe(st.integers(-10, 10)),
        "NoEcho": _maybe(names(["true", "false"])),
        "ConstraintDescription": json_values,
        "Description": json_values,
        "type": json_values,
    },
)


def _sometimes_extra_key(value: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.integers(0, 9).flatmap(
        lambda i: (
            st.just(value)
            if i
            else st.builds(lambda k, v: {**value, k: v}, small_text, json_values)
        )
    )


def _resource(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    hot = kind == "hot"
    key = (
        (lambda k: k)
        if hot
        else {
            "type": "Type",
            "properties": "Properties",
            "metadata": "Metadata",
            "depends_on": "DependsOn",
            "deletion_policy": "DeletionPolicy",
            "update_policy": "UpdatePolicy",
            "condition": "Condition",
            "description": "Description",
            "external_id": "external_id",
        }.get
    )
    return st.fixed_dictionaries(
        {key("type"): _maybe(names(TYPE_NAMES))},
        optional={
            key("properties"): _maybe(st.dictionaries(names(PROPERTY_NAMES), snippets, max_size=5)),
            key("metadata"): snippets,
            key("depends_on"): _maybe(
                st.one_of(names(RESOURCE_NAMES), st.lists(names(RESOURCE_NAMES), max_size=3))
            ),
            key("deletion_policy"): _maybe(
                st.one_of(names(["Delete", "retain", "Snapshot", "Destroy"]), snippets)
            ),
            key("update_policy"): snippets,
            key("condition"): _maybe(st.one_of(names(CONDITION_NAMES), snippets)),
            key("description"): json_values,
            key("external_id"): snippets,
        },
    ).flatmap(_sometimes_extra_key)


def _output(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    value, description, condition = (
        ("value", "description", "condition")
        if kind == "hot"
        else ("Value", "Description", "Condition")
    )
    return st.fixed_dictionaries(
        {value: snippets},
        optional={
            description: json_values,
            condition: _maybe(st.one_of(names(CONDITION_NAMES), snippets)),
        },
    ).flatmap(_sometimes_extra_key)


@st.composite
def templates(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["hot", "hot", "cfn", "heat"]))
    doc: dict[str, Any] = {}
    version_key = {
        "hot": "heat_template_version",
        "cfn": "AWSTemplateFormatVersion",
        "heat": "HeatTemplateFormatVersion",
    }[kind]
    labels = {
        "hot": [label for v in VERSIONS if v.kind == "hot" for label in (v.date, *v.aliases)],
        "cfn": ["2010-09-09"],
        "heat": ["2012-12-12"],
    }[kind]
    version = draw(_maybe(st.one_of(names(labels), names(labels), names(VERSION_LABELS))))
    if draw(st.integers(0, 19)):
        doc[version_key] = version
    if not draw(st.integers(0, 29)):
        doc[draw(names(["heat_template_version", "AWSTemplateFormatVersion"]))] = version
    kind = "hot" if kind == "hot" else "cfn"
    sections = (
        {
            "description": "description",
            "parameters": "parameters",
            "resources": "resources",
            "outputs": "outputs",
            "conditions": "conditions",
        }
        if kind == "hot"
        else {
            "description": "Description",
            "parameters": "Parameters",
            "resources": "Resources",
            "outputs": "Outputs",
            "conditions": "Conditions",
        }
    )
    if draw(st.booleans()):
        doc[sections["description"]] = draw(_maybe(small_text))
    if draw(st.booleans()):
        param = hot_parameter if kind == "hot" else cfn_parameter
        doc[sections["parameters"]] = draw(
            _maybe(st.dictionaries(names(PARAMETER_NAMES), param, max_size=4))
        )
    if kind == "hot" and not draw(st.integers(0, 4)):
        doc["parameter_groups"] = draw(
            _maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "label": json_values,
                            "parameters": _maybe(st.lists(names(PARAMETER_NAMES), max_size=3)),
                        },
                    ),
                    max_size=3,
                )
            )
        )
    if kind == "cfn" and draw(st.booleans()):
        doc["Mappings"] = draw(
            _maybe(
                st.dictionaries(
                    names(MAPPING_NAMES),
                    st.dictionaries(
                        small_text, st.dictionaries(small_text, json_values, max_size=2)
                    ),
                    max_size=2,
                )
            )
        )
    if draw(st.integers(0, 3)) and (kind == "hot" or version_key != "HeatTemplateFormatVersion"):
        doc[sections["conditions"]] = draw(
            _maybe(st.dictionaries(names(CONDITION_NAMES), snippets, max_size=4))
        )
    if draw(st.integers(0, 5)):
        doc[sections["resources"]] = draw(
            _maybe(
                st.dictionaries(
                    st.integers(0, 19).flatmap(
                        lambda i: (
                            names(RESOURCE_NAMES)
                            if i
                            else st.one_of(names(["a/b", ""]), st.integers(0, 3), st.none())
                        )
                    ),
                    _maybe(_resource(kind), odds=20),
                    max_size=6,
                )
            )
        )
    if draw(st.booleans()):
        doc[sections["outputs"]] = draw(
            _maybe(st.dictionaries(names(["out", "o2", "url"]), _output(kind), max_size=3))
        )
    if not draw(st.integers(0, 9)):
        doc[draw(small_text)] = draw(json_values)
    return doc


def _dump(doc: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(doc)
    return yaml.safe_dump(doc, sort_keys=False)


per_resource_overrides = st.dictionaries(
    names([*RESOURCE_NAMES, "*", "w*"]),
    _maybe(
        st.fixed_dictionaries(
            {},
            optional={
                "hooks": _maybe(
                    st.one_of(
                        names(["pre-create", "post-delete", "pre_update"]),
                        st.lists(names(["pre-create", "pre-update", "post-create"])),
                    )
                ),
                "restricted_actions": _maybe(names(["update", "replace", "delete"])),
                "OS::Heat::None": names(TYPE_NAMES),
            },
        )
    ),
    max_size=2,
)
registries = st.dictionaries(
    st.one_of(
        names(["My::Alias", "My::Nested", "My::*", "OS::Heat::*", "base_url"]),
        names(TYPE_NAMES),
    ),
    st.one_of(st.none(), names(TYPE_NAMES), names(["OS::Heat::*", "x*y"])),
    max_size=4,
).flatmap(
    lambda reg: st.fixed_dictionaries(
        {k: st.just(v) for k, v in reg.items()},
        optional={"resources": _maybe(per_resource_overrides)},
    )
)
environment_docs = st.fixed_dictionaries(
    {},
    optional={
        "parameters": _maybe(st.dictionaries(names(PARAMETER_NAMES), json_values, max_size=3)),
        "parameter_defaults": _maybe(
            st.dictionaries(names(PARAMETER_NAMES), json_values, max_size=3)
        ),
        "resource_registry": _maybe(registries),
        "event_sinks": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.just("zaqar-queue"), "target": small_text},
                    optional={"ttl": json_values},
                ),
                max_size=2,
            )
        ),
        "encrypted_param_names": _maybe(st.lists(names(PARAMETER_NAMES), max_size=2)),
        "parameter_merge_strategies": _maybe(
            st.dictionaries(
                names([*PARAMETER_NAMES, "default"]),
                names(["overwrite", "merge", "deep_merge", "append"]),
                max_size=3,
            )
        ),
    },
).flatmap(_sometimes_extra_key)
environments = st.integers(0, 9).flatmap(
    lambda i: json_values if i == 0 else st.none() if i == 1 else environment_docs
)


# ---------------------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------------------


class RecordingResources:
    """A fake engine that answers with values of every shape."""

    def __init__(self, values: list[Any]) -> None:
        self.values = values or [None]
        self.calls = 0

    def _next(self) -> Any:
        self.calls += 1
        return copy.deepcopy(self.values[self.calls % len(self.values)])

    def reference(self, name: str) -> Any:
        return self._next()

    def attribute(self, name: str, attribute: str) -> Any:
        return self._next()

    def all_attributes(self, name: str) -> dict[str, Any]:
        value = self._next()
        return value if isinstance(value, dict) else {"value": value}


# What the engine would plug in for ``custom_constraint``: well-behaved checkers.
CUSTOM_CONSTRAINTS: dict[str, Callable[[Any], str | None]] = {
    "nova.flavor": lambda v: None if v in ("m1.small", "m1.large") else "no such flavor",
    "x": lambda v: None,
}


def _attempt(step: Callable[[], Any]) -> Any:
    """Run a step that may refuse the input only with an Ember error."""
    try:
        return step()
    except EmberError as exc:
        assert isinstance(exc.message, str) and exc.message
        return None


def check_definition(defn: StackDefinition, resolved_values: list[Any]) -> None:
    for diag in defn.diags:
        assert isinstance(diag.message, str) and diag.message, diag
    assert isinstance(defn.description, str)
    resources = RecordingResources(resolved_values)
    ctx = defn.resolve_context(resources, facade={"metadata": {"a": 1}})
    for rd in defn.resources.values():
        _attempt(lambda rd=rd: rd.resolved_properties(ctx))
        _attempt(lambda rd=rd: rd.resolved_metadata(ctx))
        _attempt(lambda rd=rd: rd.resolved_update_policy(ctx))
        rd.to_snippet()
    for value in defn.resolve_outputs(ctx):
        assert value.value is not OMIT and not isinstance(value.value, Function)
        assert value.error is None or value.error
        value.to_api()
    defn.graph().cycles()
    _attempt(lambda: validate_response(defn, show_nested=True))
    for nested in defn.nested.values():
        check_definition(nested, resolved_values)


@dataclass
class Request:
    """What a create request carries, plus the values the fake engine answers with."""

    source: Any
    files: dict[str, str] = field(default_factory=dict)
    environment: Any = None
    parameters: dict[str, Any] | None = None
    require_parameters: bool = True
    values: list[Any] = field(default_factory=lambda: [None])


def run_stack(request: Request) -> StackDefinition | None:
    """The whole path of a create request; an EmberError is an acceptable answer."""
    before = repr(request)
    try:
        return _run_stack(request)
    finally:
        assert repr(request) == before, "the request was modified"


def _run_stack(request: Request) -> StackDefinition | None:
    try:
        template = Template.load(request.source, request.files)
        env = request.environment
        if not isinstance(env, Environment):
            env = Environment.parse(env)
        if request.parameters:
            env = env.with_parameters(request.parameters)
        defn = define(
            template,
            env,
            identity=StackIdentity(stack_name="fuzz", stack_id="f00", project_id="p"),
            catalog=FakeCatalog(),
            require_parameters=request.require_parameters,
            custom_constraints=CUSTOM_CONSTRAINTS,
        )
    except EmberError as exc:
        assert isinstance(exc.message, str) and exc.message
        return None
    assert isinstance(defn, StackDefinition)
    check_definition(defn, request.values)
    _attempt(defn.diags.raise_if_errors)
    return defn


resolved_values = st.lists(json_values, min_size=1, max_size=4)


@st.composite
def generated_requests(draw: st.DrawFn) -> Request:
    as_json = draw(st.booleans())
    nested = draw(st.dictionaries(names(FILE_NAMES), templates(), max_size=2))
    files = {name: _dump(tmpl, as_json) for name, tmpl in nested.items()}
    files.setdefault("script.sh", "#!/bin/sh\necho $NAME\n")
    doc = draw(templates())
    return Request(
        source=_dump(doc, as_json) if draw(st.booleans()) else doc,
        files=files,
        environment=draw(environments),
        parameters=draw(
            st.one_of(st.none(), st.dictionaries(names(PARAMETER_NAMES), json_values, max_size=3))
        ),
        require_parameters=draw(st.booleans()),
        values=draw(resolved_values),
    )


@FUZZ
@given(request=generated_requests())
def test_generated_templates(request: Request) -> None:
    run_stack(request)


SIGNATURES = _signatures(snippets)


@st.composite
def function_requests(draw: st.DrawFn, function: str) -> Request:
    """A small well-formed stack whose every value is one call of ``function``."""
    version = draw(st.sampled_from(VERSIONS))
    hot = version.kind == "hot"
    call = {function: draw(SIGNATURES[function])}
    param_types = (
        ["string", "number", "comma_delimited_list", "json", "boolean"]
        if hot
        else ["String", "Number", "CommaDelimitedList", "Json", "Boolean"]
    )
    type_key, default_key = ("type", "default") if hot else ("Type", "Default")
    parameters = {
        name: {type_key: draw(names(param_types)), default_key: draw(_slot(json_values, TEXTS))}
        for name in PARAMETER_NAMES[:-1]
    }
    resources = {
        name: {
            ("type" if hot else "Type"): draw(names(sorted(CATALOG_TYPES))),
            ("properties" if hot else "Properties"): {
                draw(names(PROPERTY_NAMES)): call,
            },
        }
        for name in RESOURCE_NAMES[:3]
    }
    sections = version.sections()
    doc: dict[str, Any] = {
        version.key: version.date,
        sections["parameters"]: parameters,
        sections["resources"]: resources,
        sections["outputs"]: {"out": {("value" if hot else "Value"): call}},
    }
    if "conditions" in sections:
        doc[sections["conditions"]] = {
            "is_prod": draw(CONDITIONS),
            "has_cache": call,
            "c1": {"not" if hot else "Fn::Not": "is_prod" if hot else ["is_prod"]},
        }
    if "mappings" in sections:
        doc[sections["mappings"]] = {"RegionMap": {"x": {"a": draw(json_values)}}}
    return Request(
        source=doc,
        files={"script.sh": "echo $NAME", "data.json": "[1, 2]"},
        require_parameters=draw(st.booleans()),
        values=draw(st.lists(_slot(json_values, names(ODD_VALUES)), min_size=1, max_size=4)),
    )


@pytest.mark.parametrize("function", sorted(SIGNATURES))
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_function_calls(function: str, data: st.DataObject) -> None:
    run_stack(data.draw(function_requests(function), label="request"))


@FUZZ
@given(
    docs=st.lists(environments, min_size=1, max_size=3),
    param_types=st.dictionaries(
        names(PARAMETER_NAMES),
        names(["string", "number", "comma_delimited_list", "json", "boolean", "other"]),
    ),
    as_json=st.booleans(),
)
def test_merged_environment_files(
    docs: list[Any], param_types: dict[str, str], as_json: bool
) -> None:
    files = {f"env{i}.yaml": _dump(doc, as_json) for i, doc in enumerate(docs)}
    env = _attempt(lambda: merge_environment_files(sorted(files), files, param_types=param_types))
    assert env is None or isinstance(env, Environment)


# ---------------------------------------------------------------------------------------
# Mutations of the valid corpus
# ---------------------------------------------------------------------------------------

VALID_CASES = [load_case(d) for d in corpus_dirs()]
VALID_CASES = [c for c in VALID_CASES if c.valid]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a document, the root excluded."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _retype(value: Any) -> Any:
    """The same content in another shape."""
    if isinstance(value, dict):
        return list(value.items()) if value else []
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return [value]
    return {}


MUTATIONS = ("delete", "duplicate", "retype", "replace", "inject", "wrap", "rename")


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(MUTATIONS))
        if op == "delete":
            del parent[last]
        elif op == "duplicate":
            if isinstance(parent, dict):
                parent[f"{last}_copy"] = copy.deepcopy(parent[last])
            else:
                parent.insert(last, copy.deepcopy(parent[last]))
        elif op == "retype":
            parent[last] = _retype(parent[last])
        elif op == "replace":
            parent[last] = copy.deepcopy(draw(json_values))
        elif op == "inject":
            parent[last] = copy.deepcopy(draw(snippets))
        elif op == "wrap":
            name = draw(names(FUNCTION_NAMES))
            parent[last] = {
                name: copy.deepcopy(draw(st.sampled_from([parent[last], [parent[last]]])))
            }
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(names([*PROPERTY_NAMES, *RESOURCE_NAMES, "resource", "Outputs"]))] = (
                parent.pop(last)
            )
    return doc


@st.composite
def corpus_mutants(draw: st.DrawFn) -> tuple[Any, dict[str, str], list[str]]:
    case = draw(st.sampled_from(VALID_CASES))
    doc = draw(mutated(case.template))
    files = dict(case.files)
    if files and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(files)))
        try:
            nested = parse_text(files[name])
        except EmberError:
            nested = None
        if isinstance(nested, (dict, list)):
            files[name] = _dump(draw(mutated(nested)), draw(st.booleans()))
        else:
            files[name] = draw(st.text(max_size=40))
    return doc, files, case.environment_files


@FUZZ
@given(mutant=corpus_mutants(), values=resolved_values, require_parameters=st.booleans())
def test_mutated_corpus(
    mutant: tuple[Any, dict[str, str], list[str]], values: list[Any], require_parameters: bool
) -> None:
    doc, files, env_files = mutant
    env = _attempt(lambda: merge_environment_files(env_files, files))
    if env is None and env_files:
        return
    run_stack(Request(doc, files, env, None, require_parameters, values))


def test_corpus_cases_resolve_under_the_fuzz_harness() -> None:
    """The harness itself accepts every valid corpus stack without diagnostics."""
    for case in VALID_CASES:
        env = merge_environment_files(case.environment_files, case.files)
        if case.parameters:
            env = env.with_parameters(case.parameters)
        defn = run_stack(Request(case.template, case.files, env, values=["x"]))
        assert defn is not None and not defn.diags, case.name
    assert len(VALID_CASES) >= 20
    assert CORPUS.is_dir()


# ---------------------------------------------------------------------------------------
# Random text for the loaders
# ---------------------------------------------------------------------------------------

YAML_TOKENS = [
    "heat_template_version: 2016-10-14\n",
    "resources:\n",
    "  r:\n",
    "    type: OS::Heat::None\n",
    "- ",
    ": ",
    "? ",
    "&a ",
    "*a ",
    "*b ",
    "&b [*a, *a, *a]\n",
    "!!binary aGVsbG8=\n",
    "!!python/object:os.system ",
    "!!set {a, b}\n",
    "!!float .nan\n",
    "!!int 0x1F\n",
    "{",
    "}",
    "[",
    "]",
    "\t",
    "  ",
    "\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "'",
    '"',
    "\\",
    "#",
    "2016-10-14",
    "~",
    "<<: *a\n",
    "\x00",
    "\ufeff",
    "\ud800",
]

texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(YAML_TOKENS), max_size=30).map("".join),
    st.integers(0, 400).map(lambda n: "[" * n + "]" * n),
    st.integers(0, 400).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(0, 150).map(lambda n: "".join(f"{'  ' * i}k{i}:\n" for i in range(n)) + "  x"),
)


@FUZZ
@given(text=st.one_of(texts, st.binary(max_size=200)), as_env=st.booleans())
def test_loaders_take_any_text(text: str | bytes, as_env: bool) -> None:
    _attempt(lambda: parse_text(text))
    if as_env:
        _attempt(lambda: Environment.parse(text))
        _attempt(lambda: merge_environment_files(["env.yaml"], {"env.yaml": text}))  # type: ignore[dict-item]
    else:
        run_stack(Request(text, require_parameters=False))


def _nest(depth: int, shape: str) -> Any:
    """``depth`` levels of containers (a call is three: map, list, list)."""
    value: Any = "x"
    for _ in range(depth if shape != "call" else depth // 3):
        if shape == "list":
            value = [value]
        elif shape == "map":
            value = {"k": value}
        else:
            value = {"list_join": [",", [value]]}
    return value


@pytest.mark.parametrize("depth", [1, 99, 100, 101, 450])
@pytest.mark.parametrize("shape", ["list", "map", "call"])
@pytest.mark.parametrize("where", ["properties", "outputs", "conditions", "environment"])
@pytest.mark.parametrize("as_text", [False, True])
def test_deeply_nested_documents(depth: int, shape: str, where: str, as_text: bool) -> None:
    """Nesting is refused past the loader's limit whether text or an already parsed body."""
    value = _nest(depth, shape)
    doc: dict[str, Any] = {"heat_template_version": "2021-04-16"}
    environment: Any = None
    if where == "properties":
        doc["resources"] = {"r": {"type": "OS::Heat::Value", "properties": {"value": value}}}
    elif where == "outputs":
        doc["outputs"] = {"o": {"value": value}}
    elif where == "conditions":
        doc["conditions"] = {"c": {"not": {"equals": [value, "x"]}}}
    else:
        environment = {
            "parameter_defaults": {"p": value},
            "resource_registry": {"resources": value},
        }
    source = json.dumps(doc) if as_text else doc
    if as_text and environment is not None:
        environment = json.dumps(environment)
    run_stack(Request(source, environment=environment, require_parameters=False))
