"""The environment's resource_registry: aliases, wildcards, removal, template resources,
per-resource overrides, hooks and restricted actions."""

from __future__ import annotations

from typing import Any

import pytest

from ember.common import errors
from ember.template import Environment
from ember.template.diagnostics import Diagnostics
from ember.template.registry import RegistryError, ResourceRegistry, is_template_name
from tests.template.conftest import make_definition


def registry(section: dict[str, Any]) -> ResourceRegistry:
    diags = Diagnostics()
    reg = ResourceRegistry.parse(section, diags)
    assert not diags, diags.messages()
    return reg


def stack(resources: dict[str, Any], version: str = "2016-10-14") -> dict[str, Any]:
    return {"heat_template_version": version, "resources": resources}


# ---------------------------------------------------------------------------
# Type mappings


@pytest.mark.parametrize(
    ("mappings", "type_name", "expected"),
    [
        ({}, "OS::Heat::None", "OS::Heat::None"),
        ({"My::Alias": "OS::Heat::None"}, "My::Alias", "OS::Heat::None"),
        ({"A::B": "C::D", "C::D": "OS::Heat::None"}, "A::B", "OS::Heat::None"),
        ({"My::Alias": "OS::Heat::None"}, "My::Other", "My::Other"),
        ({"OS::Networking::*": "OS::Neutron::*"}, "OS::Networking::Net", "OS::Neutron::Net"),
        ({"OS::Networking::*": "OS::Neutron::*"}, "OS::Networking::Sub::X", "OS::Neutron::Sub::X"),
        ({"OS::Networking::*": "OS::Neutron::*"}, "OS::Nova::Server", "OS::Nova::Server"),
        ({"OS::*": "OS::Heat::None"}, "OS::Nova::Server", "OS::Heat::None"),
        ({"OS::*": "OS::Heat::None"}, "OS::Heat::None", "OS::Heat::None"),
        ({"OS::*": "OS::Heat::None"}, "AWS::EC2::Instance", "AWS::EC2::Instance"),
        # An exact mapping beats any wildcard.
        (
            {"OS::Nova::*": "OS::Heat::Value", "OS::Nova::Server": "OS::Heat::TestResource"},
            "OS::Nova::Server",
            "OS::Heat::TestResource",
        ),
        # A mapping to itself is no mapping.
        ({"OS::Heat::None": "OS::Heat::None"}, "OS::Heat::None", "OS::Heat::None"),
        # Chains may reuse a wildcard as long as they end.
        ({"A::*": "B::*", "B::X": "A::Y"}, "A::X", "B::Y"),
    ],
)
def test_type_mappings(mappings: dict, type_name: str, expected: str) -> None:
    resolved = registry(mappings).resolve(type_name)
    assert resolved.name == expected
    assert not resolved.is_template
    assert resolved.chain[0] == type_name
    assert resolved.chain[-1] == expected


@pytest.mark.parametrize(
    ("mappings", "type_name"),
    [
        ({"A::B": "A::C", "A::C": "A::B"}, "A::B"),
        ({"A::B": "A::C", "A::C": "A::D", "A::D": "A::B"}, "A::C"),
        ({"X::*": "Y::*", "Y::*": "X::*"}, "X::T"),
        # A wildcard whose output matches itself again never ends.
        ({"OS::*": "OS::Heat::*"}, "OS::Nova::Server"),
        ({"A::*": "A::A::*"}, "A::B"),
    ],
)
def test_alias_loops_are_refused(mappings: dict, type_name: str) -> None:
    with pytest.raises(RegistryError, match="Circular alias in resource_registry"):
        registry(mappings).resolve(type_name)


def test_alias_loop_is_reported_by_validation() -> None:
    defn = make_definition(
        stack({"r": {"type": "Loop::A"}}),
        environment={"resource_registry": {"Loop::A": "Loop::B", "Loop::B": "Loop::A"}},
    )
    assert defn.diags.messages() == [
        "resources.r.type: Circular alias in resource_registry: Loop::A -> Loop::B -> Loop::A"
    ]
    with pytest.raises(errors.StackValidationFailed):
        defn.diags.raise_if_errors()


@pytest.mark.parametrize(
    ("mappings", "rtype", "error"),
    [
        ({"My::Server": "OS::Heat::None"}, "My::Server", None),
        ({"OS::Networking::*": "OS::Heat::*"}, "OS::Networking::None", None),
        ({"OS::*": "OS::Heat::None"}, "OS::Nova::Server", None),
        ({}, "My::Server", "The Resource Type (My::Server) could not be found."),
        ({"My::Server": "OS::Nova::Nope"}, "My::Server", "(OS::Nova::Nope) could not be found"),
    ],
)
def test_mappings_are_applied_by_validation(mappings: dict, rtype: str, error: str | None) -> None:
    defn = make_definition(
        stack({"r": {"type": rtype}}), environment={"resource_registry": mappings}
    )
    if error is None:
        assert not defn.diags, defn.diags.messages()
        assert defn.resource_types["r"].name in {"OS::Heat::None"}
        assert defn.resources["r"].type == rtype  # the definition keeps the written type
    else:
        assert error in "\n".join(defn.diags.messages())


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        (["A"], "resource_registry must be a map"),
        ({"A::B": 5}, "A type mapping must be a string or null"),
        ({"A::B": ["C::D"]}, "A type mapping must be a string or null"),
        ({"A::*": "B::*::C"}, "A wildcard target may only end with *"),
        ({"base_url": 5}, "base_url must be a string"),
        ({"resources": ["r"]}, "Per-resource overrides must be a map"),
        ({"resources": {"r": "OS::Heat::None"}}, "Each per-resource override must be a map"),
        ({"resources": {"r": {"A::B": 3}}}, "A type mapping must be a string or null"),
        ({1: "A::B"}, "Type names must be strings"),
    ],
)
def test_invalid_registries(section: Any, fragment: str) -> None:
    with pytest.raises(errors.InvalidEnvironment) as info:
        Environment.parse({"resource_registry": section})
    assert fragment in info.value.message


# ---------------------------------------------------------------------------
# null removes mappings (layering a user environment over a global one)

GLOBAL = {
    "AWS::EC2::Instance": "OS::Nova::Server",
    "OS::Networking::Net": "OS::Neutron::Net",
    "OS::Networking::Subnet": "OS::Neutron::Subnet",
    "OS::Networking::*": "OS::Neutron::*",
    "Keep::Me": "OS::Heat::None",
}


@pytest.mark.parametrize(
    ("user", "type_name", "expected"),
    [
        ({}, "AWS::EC2::Instance", "OS::Nova::Server"),
        ({}, "OS::Networking::Port", "OS::Neutron::Port"),
        ({"AWS::EC2::Instance": None}, "AWS::EC2::Instance", "AWS::EC2::Instance"),
        ({"AWS::EC2::Instance": None}, "Keep::Me", "OS::Heat::None"),
        ({"OS::Networking::*": None}, "OS::Networking::Net", "OS::Networking::Net"),
        ({"OS::Networking::*": None}, "OS::Networking::Subnet", "OS::Networking::Subnet"),
        ({"OS::Networking::*": None}, "OS::Networking::Port", "OS::Networking::Port"),
        ({"OS::Networking::*": None}, "Keep::Me", "OS::Heat::None"),
        ({"OS::Networking::Net": None}, "OS::Networking::Subnet", "OS::Neutron::Subnet"),
        ({"Keep::Me": "OS::Heat::Value"}, "Keep::Me", "OS::Heat::Value"),
    ],
)
def test_null_removes_global_mappings(user: dict, type_name: str, expected: str) -> None:
    global_env = Environment.parse({"resource_registry": GLOBAL})
    user_env = Environment.parse({"resource_registry": user} if user else {})
    layered = user_env.layered_on(global_env)
    assert layered.registry.resolve(type_name).name == expected


def test_layering_keeps_user_parameters_and_merges_registries() -> None:
    global_env = Environment.parse({"resource_registry": {"G::T": "OS::Heat::None"}})
    user_env = Environment.parse(
        {"parameters": {"a": 1}, "resource_registry": {"U::T": "OS::Heat::Value"}}
    )
    layered = user_env.layered_on(global_env)
    assert layered.parameters == {"a": 1}
    assert layered.registry.resolve("G::T").name == "OS::Heat::None"
    assert layered.registry.resolve("U::T").name == "OS::Heat::Value"


# ---------------------------------------------------------------------------
# Template resources


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("file.yaml", True),
        ("dir/file.yml", True),
        ("provider.template", True),
        ("nested.json", True),
        ("http://example.com/t", True),
        ("OS::Heat::None", False),
        ("My::Type", False),
    ],
)
def test_is_template_name(name: str, expected: bool) -> None:
    assert is_template_name(name) is expected


NESTED = """
heat_template_version: 2016-10-14
description: A nested stack
parameters:
  size:
    type: number
    default: 1
outputs:
  out:
    value: {get_param: size}
"""


@pytest.mark.parametrize(
    ("rtype", "mappings", "base_url", "files_key"),
    [
        ("nested.yaml", {}, None, "nested.yaml"),
        ("My::Type", {"My::Type": "nested.yaml"}, None, "nested.yaml"),
        ("My::Type", {"My::Type": "My::Other", "My::Other": "nested.yaml"}, None, "nested.yaml"),
        ("OS::Mine::Thing", {"OS::Mine::*": "nested.yaml"}, None, "nested.yaml"),
        (
            "My::Type",
            {"My::Type": "nested.yaml"},
            "file:///templates/",
            "file:///templates/nested.yaml",
        ),
        ("sub/nested.yaml", {}, "http://example.com/t/", "http://example.com/t/sub/nested.yaml"),
        (
            "My::Type",
            {"My::Type": "http://other.example/n.yaml"},
            "file:///templates/",
            "http://other.example/n.yaml",
        ),
    ],
)
def test_template_resources(
    rtype: str, mappings: dict, base_url: str | None, files_key: str
) -> None:
    section = dict(mappings)
    if base_url is not None:
        section["base_url"] = base_url
    template = stack(
        {
            "r": {"type": rtype, "properties": {"size": 3}},
            "user": {
                "type": "OS::Heat::Value",
                "properties": {"value": {"get_attr": ["r", "out"]}},
            },
        }
    )
    defn = make_definition(
        template, files={files_key: NESTED}, environment={"resource_registry": section}
    )
    assert not defn.diags, defn.diags.messages()
    resolved = defn.resource_types["r"]
    assert resolved.is_template
    assert resolved.template == files_key
    assert defn.nested["r"].description == "A nested stack"


@pytest.mark.parametrize(
    ("rtype", "mappings", "files"),
    [
        ("missing.yaml", {}, {}),
        ("My::Type", {"My::Type": "missing.yaml"}, {"other.yaml": NESTED}),
    ],
)
def test_template_resource_file_must_be_in_files(rtype: str, mappings: dict, files: dict) -> None:
    defn = make_definition(
        stack({"r": {"type": rtype}}),
        files=files,
        environment={"resource_registry": mappings},
    )
    assert defn.diags.messages() == [
        'resources.r.type: Could not fetch remote template "missing.yaml": '
        "it is not in the request's files."
    ]


def test_template_resource_properties_are_checked_and_attributes_read_as_they_are() -> None:
    template = stack(
        {
            "r": {"type": "My::Type", "properties": {"sise": 3}},
            "user": {
                "type": "OS::Heat::Value",
                "properties": {"value": {"get_attr": ["r", "nope"]}},
            },
        }
    )
    defn = make_definition(
        template,
        files={"nested.yaml": NESTED},
        environment={"resource_registry": {"My::Type": "nested.yaml"}},
    )
    text = "\n".join(defn.diags.messages())
    assert "sise" in text
    assert "nope" not in text  # as in Heat: it fails when it is read


def test_invalid_template_resource_is_reported_with_its_path() -> None:
    defn = make_definition(
        stack({"r": {"type": "bad.yaml"}}),
        files={"bad.yaml": "heat_template_version: 2016-10-14\nresources: [1]\n"},
    )
    assert any(d.path[:2] == ("resources", "r") for d in defn.diags), defn.diags.messages()


# ---------------------------------------------------------------------------
# Per-resource overrides


PER_RESOURCE = {
    "My::Type": "OS::Heat::None",
    "resources": {
        "web*": {"My::Type": "OS::Heat::Value"},
        "db": {"My::Type": "OS::Heat::TestResource"},
        "batch_?": {"My::Type": "nested.yaml"},
    },
}


@pytest.mark.parametrize(
    ("resource_name", "expected"),
    [
        ("web", "OS::Heat::Value"),
        ("web_server_1", "OS::Heat::Value"),
        ("db", "OS::Heat::TestResource"),
        ("db2", "OS::Heat::None"),
        ("other", "OS::Heat::None"),
        ("batch_1", "nested.yaml"),
        ("batch_10", "OS::Heat::None"),
        (None, "OS::Heat::None"),
    ],
)
def test_per_resource_type_overrides(resource_name: str | None, expected: str) -> None:
    assert registry(PER_RESOURCE).resolve("My::Type", resource_name).name == expected


def test_per_resource_override_only_applies_to_its_type() -> None:
    reg = registry(PER_RESOURCE)
    assert reg.resolve("Other::Type", "web1").name == "Other::Type"


@pytest.mark.parametrize(
    ("resources", "name", "hooks", "restricted"),
    [
        ({"r": {"hooks": "pre-create"}}, "r", {"pre-create"}, set()),
        (
            {"r": {"hooks": ["pre-create", "post-delete"]}},
            "r",
            {"pre-create", "post-delete"},
            set(),
        ),
        (
            {"r": {"hooks": ["pre-update", "pre-delete", "post-create", "post-update"]}},
            "r",
            {"pre-update", "pre-delete", "post-create", "post-update"},
            set(),
        ),
        ({"r*": {"hooks": "pre-update"}}, "r12", {"pre-update"}, set()),
        ({"r*": {"hooks": "pre-update"}}, "x", set(), set()),
        ({"r": {"restricted_actions": "replace"}}, "r", set(), {"replace"}),
        ({"r": {"restricted_actions": ["update", "replace"]}}, "r", set(), {"update", "replace"}),
        (
            {"*": {"hooks": "pre-create"}, "r": {"hooks": "post-create"}},
            "r",
            {"pre-create", "post-create"},
            set(),
        ),
    ],
)
def test_hooks_and_restricted_actions(
    resources: dict, name: str, hooks: set, restricted: set
) -> None:
    env = Environment.parse({"resource_registry": {"resources": resources}})
    assert env.registry.hooks(name) == hooks
    assert env.registry.restricted_actions(name) == restricted


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"hooks": "pre-fly"}, 'Invalid hook type "pre-fly"'),
        ({"hooks": ["pre-create", "create"]}, 'Invalid hook type "create"'),
        ({"hooks": "Pre-Create"}, 'Invalid hook type "Pre-Create"'),
        ({"restricted_actions": "delete"}, 'Invalid restricted_action type "delete"'),
        ({"restricted_actions": ["update", "Update"]}, 'Invalid restricted_action type "Update"'),
        ({"nested": {"inner": {"hooks": "bad-hook"}}}, 'Invalid hook type "bad-hook"'),
    ],
)
def test_invalid_hooks_and_restricted_actions(spec: dict, fragment: str) -> None:
    with pytest.raises(errors.InvalidEnvironment) as info:
        Environment.parse({"resource_registry": {"resources": {"r": spec}}})
    assert fragment in info.value.message


def test_nested_stacks_are_addressed_by_nesting_resources_maps() -> None:
    env = Environment.parse(
        {
            "resource_registry": {
                "My::Type": "OS::Heat::None",
                "resources": {
                    "outer": {
                        "hooks": "pre-create",
                        "inner": {"hooks": "pre-update", "My::Type": "OS::Heat::Value"},
                        "deep": {"deepest": {"restricted_actions": "replace"}},
                    },
                    "other": {"inner": {"hooks": "post-delete"}},
                },
            }
        }
    )
    reg = env.registry
    assert reg.hooks("outer") == {"pre-create"}
    assert reg.hooks("inner") == set()  # not at the top level
    nested = env.for_nested("outer").registry
    assert nested.hooks("inner") == {"pre-update"}
    assert nested.hooks("outer") == set()
    assert nested.resolve("My::Type", "inner").name == "OS::Heat::Value"
    assert nested.resolve("My::Type", "elsewhere").name == "OS::Heat::None"
    deeper = nested.for_nested("deep")
    assert deeper.restricted_actions("deepest") == {"replace"}
    assert env.for_nested("other").registry.hooks("inner") == {"post-delete"}
    assert env.for_nested("unrelated").registry.resources == {}


def test_nested_template_sees_its_per_resource_overrides() -> None:
    nested = """
heat_template_version: 2016-10-14
resources:
  inner:
    type: My::Type
"""
    defn = make_definition(
        stack({"outer": {"type": "nested.yaml"}}),
        files={"nested.yaml": nested},
        environment={
            "resource_registry": {
                "My::Type": "OS::Heat::None",
                "resources": {"outer": {"inner": {"My::Type": "OS::Heat::RandomString"}}},
            }
        },
    )
    assert not defn.diags, defn.diags.messages()
    assert defn.nested["outer"].resource_types["inner"].name == "OS::Heat::RandomString"


def test_base_url_is_kept_for_nested_stacks() -> None:
    reg = registry({"base_url": "file:///t/", "My::Type": "x.yaml"})
    assert reg.for_nested("r").resolve("My::Type").template == "file:///t/x.yaml"


def test_to_dict_round_trip() -> None:
    section = {
        "My::Type": "OS::Heat::None",
        "Gone::Type": None,
        "base_url": "file:///t/",
        "resources": {"r": {"hooks": ["pre-create"]}},
    }
    reg = registry(section)
    assert reg.to_dict() == section
    assert registry(reg.to_dict()) == reg


def test_a_template_resource_does_not_pass_its_own_mapping_down() -> None:
    env = Environment.parse(
        {
            "resource_registry": {
                "OS::Heat::RandomString": "nested.yaml",
                "My::*": "OS::Heat::None",
                "resources": {"special": {"OS::Heat::RandomString": "own.yaml"}},
            }
        }
    )
    child = env.for_template_resource("OS::Heat::RandomString", "r").registry
    assert child.resolve("OS::Heat::RandomString").name == "OS::Heat::RandomString"
    assert child.resolve("My::Thing").name == "OS::Heat::None"  # other mappings stay
    wildcard = env.for_template_resource("My::Thing", "r").registry
    assert wildcard.resolve("My::Thing").name == "My::Thing"
    # A resource's own entry made it a template resource: the global mapping stays.
    own = env.for_template_resource("OS::Heat::RandomString", "special").registry
    assert own.resolve("OS::Heat::RandomString").template == "nested.yaml"
