"""Environments: sections, parameters versus parameter_defaults, merging environment files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ember.common import errors
from ember.template import Environment, merge_environment_files
from ember.template.environment import SECTIONS
from tests.template.conftest import make_definition

FULL_ENV = """
parameters:
  flavor: m1.small
parameter_defaults:
  image: cirros
resource_registry:
  My::Server: OS::Heat::None
  resources:
    web:
      hooks: pre-create
event_sinks:
  - type: zaqar-queue
    target: myqueue
    ttl: 3600
encrypted_param_names:
  - flavor
parameter_merge_strategies:
  default: overwrite
"""


def test_every_section_is_read() -> None:
    env = Environment.parse(FULL_ENV)
    assert env.parameters == {"flavor": "m1.small"}
    assert env.parameter_defaults == {"image": "cirros"}
    assert env.registry.resolve("My::Server").name == "OS::Heat::None"
    assert env.registry.hooks("web") == {"pre-create"}
    assert env.event_sinks == ({"type": "zaqar-queue", "target": "myqueue", "ttl": 3600},)
    assert env.encrypted_param_names == ("flavor",)


def test_to_dict() -> None:
    env = Environment.parse(FULL_ENV)
    assert env.to_dict() == {
        "parameters": {"flavor": "m1.small"},
        "parameter_defaults": {"image": "cirros"},
        "resource_registry": {
            "My::Server": "OS::Heat::None",
            "resources": {"web": {"hooks": "pre-create"}},
        },
        "event_sinks": [{"type": "zaqar-queue", "target": "myqueue", "ttl": 3600}],
        "encrypted_param_names": ["flavor"],
    }


@pytest.mark.parametrize(
    "source",
    [None, "", {}, "{}", "---\n", "# only a comment\n", b"parameters: {}\n", json.dumps({})],
)
def test_empty_environments(source: Any) -> None:
    env = Environment.parse(source)
    assert env.parameters == {}
    assert env.parameter_defaults == {}
    assert env.registry.mappings == {}
    assert env.event_sinks == ()


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ({"paramters": {"a": 1}}, 'environment has wrong section "paramters"'),
        ({"resources": {}}, 'environment has wrong section "resources"'),
        ({"Parameters": {}}, 'environment has wrong section "Parameters"'),
        ("outputs: {}\n", 'environment has wrong section "outputs"'),
        *[({section: None}, f'environment has empty section "{section}"') for section in SECTIONS],
        ("parameters:\n", 'environment has empty section "parameters"'),
        ({"parameters": ["a"]}, "parameters must be a map"),
        ({"parameter_defaults": "a=1"}, "parameter_defaults must be a map"),
        ({"resource_registry": ["x"]}, "resource_registry must be a map"),
        ({"event_sinks": {"type": "zaqar-queue"}}, "event_sinks must be a list"),
        ({"event_sinks": [{"type": "zaqar-queue"}]}, "event_sinks must be a list of maps"),
        ({"event_sinks": ["q"]}, "event_sinks must be a list of maps"),
        ({"encrypted_param_names": "a"}, "encrypted_param_names must be a list"),
        ("- a\n- b\n", "not a JSON object or YAML mapping"),
        ("just text\n", "not a JSON object or YAML mapping"),
    ],
)
def test_invalid_environments(source: Any, fragment: str) -> None:
    with pytest.raises(errors.InvalidEnvironment) as info:
        Environment.parse(source)
    assert fragment in info.value.message
    assert info.value.message.startswith("The environment is invalid: ")


def test_every_problem_is_listed() -> None:
    with pytest.raises(errors.InvalidEnvironment) as info:
        Environment.parse({"bogus": 1, "parameters": None, "encrypted_param_names": 3})
    message = info.value.message
    assert 'wrong section "bogus"' in message
    assert 'empty section "parameters"' in message
    assert "encrypted_param_names must be a list" in message


@pytest.mark.parametrize(
    "source",
    ["parameters: [\n", "parameters: {a: 1\n", '{"parameters": {]}', "a: b: c\n"],
)
def test_unparsable_environments(source: str) -> None:
    with pytest.raises(errors.InvalidRequest, match="Error parsing environment"):
        Environment.parse(source)


def test_environment_size_limit() -> None:
    with pytest.raises(errors.RequestLimitExceeded):
        Environment.parse("parameters: {a: " + "x" * 100 + "}", max_size=50)


# ---------------------------------------------------------------------------
# parameters versus parameter_defaults


def test_with_parameters_overrides_environment_values() -> None:
    env = Environment.parse({"parameters": {"a": "env", "b": "env"}})
    merged = env.with_parameters({"b": "body", "c": "body"})
    assert merged.parameters == {"a": "env", "b": "body", "c": "body"}
    assert env.parameters == {"a": "env", "b": "env"}  # environments are immutable


def test_for_nested_keeps_defaults_and_drops_values() -> None:
    env = Environment.parse(
        {
            "parameters": {"a": "value"},
            "parameter_defaults": {"a": "default", "b": "default"},
            "event_sinks": [{"type": "zaqar-queue", "target": "q"}],
            "encrypted_param_names": ["a"],
        }
    )
    nested = env.for_nested("res")
    assert nested.parameters == {}
    assert nested.parameter_defaults == {"a": "default", "b": "default"}
    assert nested.event_sinks == env.event_sinks
    assert nested.encrypted_param_names == ()


NESTED = """
heat_template_version: 2016-10-14
parameters:
  shared:
    type: string
    default: nested-template-default
  only_nested:
    type: string
    default: nested-only-default
outputs:
  shared:
    value: {get_param: shared}
"""

ROOT = {
    "heat_template_version": "2016-10-14",
    "parameters": {"shared": {"type": "string", "default": "root-template-default"}},
    "resources": {"inner": {"type": "nested.yaml"}},
}


@pytest.mark.parametrize(
    ("environment", "root_shared", "nested_shared", "nested_only"),
    [
        ({}, "root-template-default", "nested-template-default", "nested-only-default"),
        (
            {"parameters": {"shared": "root-value"}},
            "root-value",
            "nested-template-default",
            "nested-only-default",
        ),
        (
            {"parameter_defaults": {"shared": "env-default", "only_nested": "n"}},
            "env-default",
            "env-default",
            "n",
        ),
        (
            {
                "parameters": {"shared": "root-value"},
                "parameter_defaults": {"shared": "env-default"},
            },
            "root-value",
            "env-default",
            "nested-only-default",
        ),
    ],
)
def test_parameter_defaults_reach_nested_templates(
    environment: dict, root_shared: str, nested_shared: str, nested_only: str
) -> None:
    defn = make_definition(ROOT, files={"nested.yaml": NESTED}, environment=environment)
    assert not defn.diags, defn.diags.messages()
    assert defn.parameters["shared"] == root_shared
    nested = defn.nested["inner"]
    assert nested.parameters["shared"] == nested_shared
    assert nested.parameters["only_nested"] == nested_only


REQUIRED_NESTED = """
heat_template_version: 2016-10-14
parameters:
  needed:
    type: string
"""


def test_parameter_defaults_make_nested_properties_optional() -> None:
    root = {
        "heat_template_version": "2016-10-14",
        "resources": {"inner": {"type": "nested.yaml"}},
    }
    without = make_definition(root, files={"nested.yaml": REQUIRED_NESTED})
    assert without.diags.messages() == [
        "resources.inner.properties.needed: Property needed not assigned"
    ]
    with_default = make_definition(
        root,
        files={"nested.yaml": REQUIRED_NESTED},
        environment={"parameter_defaults": {"needed": "d"}},
    )
    assert not with_default.diags, with_default.diags.messages()


def test_environment_values_do_not_reach_nested_templates() -> None:
    root = {
        "heat_template_version": "2016-10-14",
        "parameters": {"only_nested": {"type": "string"}},
        "resources": {"inner": {"type": "nested.yaml"}},
    }
    defn = make_definition(
        root, files={"nested.yaml": NESTED}, environment={"parameters": {"only_nested": "root"}}
    )
    assert not defn.diags, defn.diags.messages()
    assert defn.parameters["only_nested"] == "root"
    assert defn.nested["inner"].parameters["only_nested"] == "nested-only-default"


# ---------------------------------------------------------------------------
# event_sinks and encrypted_param_names


@pytest.mark.parametrize(
    "sinks",
    [
        [],
        [{"type": "zaqar-queue", "target": "q"}],
        [
            {"type": "zaqar-queue", "target": "q1", "ttl": 60},
            {"type": "zaqar-queue", "target": "q2"},
        ],
    ],
)
def test_event_sinks(sinks: list) -> None:
    env = Environment.parse({"event_sinks": sinks})
    assert list(env.event_sinks) == sinks
    assert env.to_dict()["event_sinks"] == sinks


@pytest.mark.parametrize(("names", "expected"), [([], ()), (["a", "b"], ("a", "b")), ([1], ("1",))])
def test_encrypted_param_names(names: list, expected: tuple) -> None:
    assert Environment.parse({"encrypted_param_names": names}).encrypted_param_names == expected


# ---------------------------------------------------------------------------
# merge_environment_files


def env_files(*docs: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    names = [f"env{i}.yaml" for i in range(len(docs))]
    return names, {name: json.dumps(doc) for name, doc in zip(names, docs, strict=True)}


def merged(*docs: dict[str, Any], types: dict[str, str] | None = None) -> Environment:
    names, files = env_files(*docs)
    return merge_environment_files(names, files, param_types=types)


def test_files_are_merged_in_order() -> None:
    env = merged(
        {
            "parameters": {"a": "1", "b": "1"},
            "parameter_defaults": {"d": "1"},
            "resource_registry": {"X::A": "OS::Heat::None", "X::B": "OS::Heat::None"},
            "event_sinks": [{"type": "zaqar-queue", "target": "q1"}],
        },
        {
            "parameters": {"b": "2", "c": "2"},
            "resource_registry": {"X::B": "OS::Heat::Value"},
            "event_sinks": [{"type": "zaqar-queue", "target": "q2"}],
        },
        {"parameter_defaults": {"d": "3"}, "encrypted_param_names": ["a"]},
    )
    assert env.parameters == {"a": "1", "b": "2", "c": "2"}
    assert env.parameter_defaults == {"d": "3"}
    assert env.registry.resolve("X::A").name == "OS::Heat::None"
    assert env.registry.resolve("X::B").name == "OS::Heat::Value"
    assert [s["target"] for s in env.event_sinks] == ["q1", "q2"]
    assert env.encrypted_param_names == ("a",)


def test_order_of_names_decides() -> None:
    names, files = env_files({"parameters": {"a": "first"}}, {"parameters": {"a": "second"}})
    assert merge_environment_files(names, files).parameters == {"a": "second"}
    assert merge_environment_files(names[::-1], files).parameters == {"a": "first"}


def test_per_resource_registry_entries_are_merged() -> None:
    env = merged(
        {"resource_registry": {"resources": {"a": {"hooks": "pre-create"}}}},
        {"resource_registry": {"resources": {"b": {"restricted_actions": "replace"}}}},
    )
    assert env.registry.hooks("a") == {"pre-create"}
    assert env.registry.restricted_actions("b") == {"replace"}


MERGE_CASES = [
    # (strategies in the second file, types, first value, second value, expected)
    ({}, None, "a", "b", "b"),
    ({"p": "overwrite"}, None, ["a"], ["b"], ["b"]),
    ({"p": "merge"}, None, ["a"], ["b", "c"], ["a", "b", "c"]),
    ({"p": "merge"}, None, {"x": 1, "y": 1}, {"y": 2}, {"x": 1, "y": 2}),
    ({"p": "merge"}, None, "abc", "def", "abcdef"),
    ({"p": "merge"}, {"p": "string"}, "abc", "def", "abcdef"),
    ({"p": "merge"}, {"p": "number"}, 1, 2, 3),
    ({"p": "merge"}, {"p": "number"}, "1.5", "2", 3.5),
    ({"p": "merge"}, None, 1, 2, 3),
    ({"p": "merge"}, {"p": "comma_delimited_list"}, "a,b", "c", "a,b,c"),
    ({"p": "merge"}, {"p": "json"}, {"a": {"x": 1}}, {"a": {"y": 2}}, {"a": {"y": 2}}),
    (
        {"p": "deep_merge"},
        {"p": "json"},
        {"a": {"x": 1, "l": [1]}, "b": 1},
        {"a": {"y": 2, "l": [2]}},
        {"a": {"x": 1, "y": 2, "l": [1, 2]}, "b": 1},
    ),
    ({"default": "merge"}, None, ["a"], ["b"], ["a", "b"]),
    ({"default": "merge", "p": "overwrite"}, None, ["a"], ["b"], ["b"]),
    ({"other": "merge"}, None, ["a"], ["b"], ["b"]),
]


@pytest.mark.parametrize("section", ["parameters", "parameter_defaults"])
@pytest.mark.parametrize(("strategies", "types", "first", "second", "expected"), MERGE_CASES)
def test_parameter_merge_strategies(
    *,
    section: str,
    strategies: dict,
    types: dict | None,
    first: Any,
    second: Any,
    expected: Any,
) -> None:
    second_doc: dict[str, Any] = {section: {"p": second}}
    if strategies:
        second_doc["parameter_merge_strategies"] = strategies
    env = merged({section: {"p": first}}, second_doc, types=types)
    assert getattr(env, section)["p"] == expected


def test_merge_into_nothing_takes_the_new_value() -> None:
    env = merged(
        {"parameters": {"other": 1}},
        {"parameters": {"p": ["b"]}, "parameter_merge_strategies": {"p": "merge"}},
    )
    assert env.parameters["p"] == ["b"]


def test_strategies_apply_only_to_their_own_file() -> None:
    env = merged(
        {"parameters": {"p": ["a"]}, "parameter_merge_strategies": {"p": "merge"}},
        {"parameters": {"p": ["b"]}},
    )
    assert env.parameters["p"] == ["b"]


@pytest.mark.parametrize(
    ("strategies", "fragment"),
    [
        ({"p": "append"}, 'Invalid merge strategy "append"'),
        ({"default": "concat"}, 'Invalid merge strategy "concat"'),
        (["merge"], "parameter_merge_strategies must be a map"),
    ],
)
def test_invalid_merge_strategy(strategies: Any, fragment: str) -> None:
    names, files = env_files(
        {"parameters": {"p": "a"}},
        {"parameters": {"p": "b"}, "parameter_merge_strategies": strategies},
    )
    with pytest.raises(errors.InvalidEnvironment) as info:
        merge_environment_files(names, files)
    assert fragment in info.value.message
    assert "env1.yaml" in info.value.message


@pytest.mark.parametrize(
    ("types", "first", "second"),
    [
        ({"p": "boolean"}, True, False),
        (None, ["list"], {"a": 1}),
        (None, {"a": 1}, "text"),
    ],
)
def test_values_that_cannot_be_merged(types: dict | None, first: Any, second: Any) -> None:
    names, files = env_files(
        {"parameters": {"p": first}},
        {"parameters": {"p": second}, "parameter_merge_strategies": {"p": "merge"}},
    )
    with pytest.raises(errors.InvalidEnvironment, match="cannot merge"):
        merge_environment_files(names, files, param_types=types)


@pytest.mark.parametrize(
    ("docs", "fragment"),
    [
        (({"bogus": {}},), 'wrong section "bogus"'),
        (({"parameters": {}}, {"parameters": None}), 'empty section "parameters"'),
        (({"resource_registry": {"resources": {"r": {"hooks": "pre-fly"}}}},), "pre-fly"),
    ],
)
def test_invalid_environment_files(docs: tuple, fragment: str) -> None:
    names, files = env_files(*docs)
    with pytest.raises(errors.InvalidEnvironment) as info:
        merge_environment_files(names, files)
    assert fragment in info.value.message


def test_missing_environment_file() -> None:
    with pytest.raises(errors.InvalidEnvironment, match=r'"missing.yaml" is not in'):
        merge_environment_files(["missing.yaml"], {})


def test_environment_file_must_be_a_mapping() -> None:
    with pytest.raises(errors.InvalidEnvironment, match="not a JSON object or YAML mapping"):
        merge_environment_files(["e.yaml"], {"e.yaml": "- a\n"})


def test_no_environment_files() -> None:
    env = merge_environment_files([], {})
    assert env.parameters == {}
    assert env.registry.mappings == {}


def test_yaml_environment_files() -> None:
    files = {
        "a.yaml": "parameters:\n  l: [x]\n",
        "b.yaml": "parameter_merge_strategies:\n  default: merge\nparameters:\n  l: [y]\n",
    }
    env = merge_environment_files(["a.yaml", "b.yaml"], files)
    assert env.parameters == {"l": ["x", "y"]}
