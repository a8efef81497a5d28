"""Heat's ``POST /validate`` answer: CloudFormation-style keys even for HOT templates."""

from __future__ import annotations

from typing import Any

import pytest

from ember.template import validate_response
from tests.template.conftest import make_definition


def hot(parameters: dict[str, Any], version: str = "2018-03-02", **sections: Any) -> dict:
    return {"heat_template_version": version, "parameters": parameters, **sections}


def response(template: dict | str, **kwargs: Any) -> dict[str, Any]:
    show_nested = kwargs.pop("show_nested", False)
    defn = make_definition(template, **kwargs)
    assert not defn.diags, defn.diags.messages()
    return validate_response(defn, show_nested=show_nested)


@pytest.mark.parametrize(
    ("ptype", "cfn_type"),
    [
        ("string", "String"),
        ("number", "Number"),
        ("comma_delimited_list", "CommaDelimitedList"),
        ("json", "Json"),
        ("boolean", "Boolean"),
    ],
)
def test_types_use_cfn_names(ptype: str, cfn_type: str) -> None:
    result = response(hot({"p": {"type": ptype}}), require_parameters=False)
    assert result["Parameters"]["p"] == {
        "Type": cfn_type,
        "Description": "",
        "Label": "p",
        "NoEcho": "false",
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "string"}, {}),
        ({"type": "string", "label": "Pretty"}, {"Label": "Pretty"}),
        ({"type": "string", "description": "What it is"}, {"Description": "What it is"}),
        ({"type": "string", "hidden": True}, {"NoEcho": "true"}),
        ({"type": "string", "hidden": False}, {"NoEcho": "false"}),
        ({"type": "string", "default": "d"}, {"Default": "d"}),
        ({"type": "number", "default": 5}, {"Type": "Number", "Default": 5}),
        ({"type": "string", "default": ""}, {"Default": ""}),
        ({"type": "string", "tags": ["role", "db"]}, {"Tags": ["role", "db"]}),
        ({"type": "string", "immutable": True}, {}),
    ],
)
def test_parameter_keys(spec: dict, expected: dict) -> None:
    result = response(hot({"p": spec}), require_parameters=False)
    view = {"Type": "String", "Description": "", "Label": "p", "NoEcho": "false", **expected}
    assert result["Parameters"]["p"] == view


CONSTRAINT_VIEWS = [
    ("string", {"length": {"min": 1, "max": 5}}, {"MinLength": 1, "MaxLength": 5}),
    ("string", {"length": {"min": 2}}, {"MinLength": 2}),
    ("json", {"length": {"max": 3}}, {"MaxLength": 3}),
    ("number", {"range": {"min": 0, "max": 9}}, {"MinValue": 0, "MaxValue": 9}),
    ("number", {"range": {"max": 2.5}}, {"MaxValue": 2.5}),
    ("number", {"modulo": {"step": 2, "offset": 1}}, {"Step": 2, "Offset": 1}),
    ("string", {"allowed_values": ["a", "b"]}, {"AllowedValues": ["a", "b"]}),
    ("string", {"allowed_pattern": "[a-z]+"}, {"AllowedPattern": "[a-z]+"}),
    ("string", {"custom_constraint": "nova.flavor"}, {"CustomConstraint": "nova.flavor"}),
    (
        "string",
        {"allowed_values": ["a"], "description": "Must be a"},
        {"AllowedValues": ["a"], "ConstraintDescription": "Must be a"},
    ),
]


@pytest.mark.parametrize(("ptype", "constraint", "keys"), CONSTRAINT_VIEWS)
def test_constraint_keys(ptype: str, constraint: dict, keys: dict) -> None:
    template = hot({"p": {"type": ptype, "constraints": [constraint]}})
    view = response(template, require_parameters=False)["Parameters"]["p"]
    for key, value in keys.items():
        assert view[key] == value
    constraint_keys = {
        "MinLength",
        "MaxLength",
        "MinValue",
        "MaxValue",
        "Step",
        "Offset",
        "AllowedValues",
        "AllowedPattern",
        "CustomConstraint",
        "ConstraintDescription",
    }
    assert constraint_keys & set(view) == set(keys)


def test_constraint_descriptions_are_joined() -> None:
    template = hot(
        {
            "p": {
                "type": "string",
                "constraints": [
                    {"length": {"min": 1}, "description": "Not empty."},
                    {"allowed_pattern": "[a-z]*"},
                    {"allowed_values": ["a", "b"], "description": "a or b."},
                ],
            }
        }
    )
    view = response(template, require_parameters=False)["Parameters"]["p"]
    assert view["ConstraintDescription"] == "Not empty. a or b."
    assert view["MinLength"] == 1
    assert view["AllowedPattern"] == "[a-z]*"
    assert view["AllowedValues"] == ["a", "b"]


@pytest.mark.parametrize(
    ("values", "environment", "expected"),
    [
        ({}, None, {"Default": 10}),
        ({"p": 5}, None, {"Default": 10, "Value": 5}),
        ({"p": "7"}, None, {"Default": 10, "Value": "7"}),
        ({}, {"parameters": {"p": 6}}, {"Default": 10, "Value": 6}),
        ({}, {"parameter_defaults": {"p": 3}}, {"Default": 3}),
        ({"p": 4}, {"parameter_defaults": {"p": 3}}, {"Default": 3, "Value": 4}),
    ],
)
def test_default_and_value(values: dict, environment: dict | None, expected: dict) -> None:
    template = hot({"p": {"type": "number", "default": 10}})
    view = response(template, parameters=values, environment=environment)["Parameters"]["p"]
    assert {k: v for k, v in view.items() if k in ("Default", "Value")} == expected


def test_hidden_value_is_still_reported_with_no_echo() -> None:
    template = hot({"p": {"type": "string", "hidden": True}})
    view = response(template, parameters={"p": "secret"})["Parameters"]["p"]
    assert view["NoEcho"] == "true"
    assert view["Value"] == "secret"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (hot({}), "No description"),
        (hot({}, description="My stack"), "My stack"),
        ({"AWSTemplateFormatVersion": "2010-09-09"}, "No description"),
        ({"AWSTemplateFormatVersion": "2010-09-09", "Description": "CFN"}, "CFN"),
    ],
)
def test_description(template: dict, expected: str) -> None:
    assert response(template)["Description"] == expected


@pytest.mark.parametrize(
    "template",
    [
        hot({"a": {"type": "string", "default": "x"}}),
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"a": {"Type": "String", "Default": "x"}},
        },
    ],
)
def test_pseudo_parameters_are_left_out(template: dict) -> None:
    assert list(response(template)["Parameters"]) == ["a"]


def test_cfn_template() -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "Size": {
                "Type": "Number",
                "Default": "2",
                "MinValue": "1",
                "MaxValue": "4",
                "ConstraintDescription": "1 to 4",
                "Description": "How many",
            },
            "Secret": {"Type": "String", "NoEcho": "true", "MinLength": 8, "MaxLength": 64},
            "Names": {"Type": "CommaDelimitedList", "AllowedValues": ["a", "b"], "Label": "N"},
            "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "Default": "abc"},
        },
    }
    result = response(template, parameters={"Secret": "p4ssw0rd!", "Names": "a"})
    assert result["Parameters"] == {
        "Size": {
            "Type": "Number",
            "Description": "How many",
            "Label": "Size",
            "NoEcho": "false",
            "Default": "2",
            "MinValue": 1,
            "MaxValue": 4,
            "ConstraintDescription": "1 to 4",
        },
        "Secret": {
            "Type": "String",
            "Description": "",
            "Label": "Secret",
            "NoEcho": "true",
            "Value": "p4ssw0rd!",
            "MinLength": 8,
            "MaxLength": 64,
        },
        "Names": {
            "Type": "CommaDelimitedList",
            "Description": "",
            "Label": "N",
            "NoEcho": "false",
            "Value": "a",
            "AllowedValues": ["a", "b"],
        },
        "Name": {
            "Type": "String",
            "Description": "",
            "Label": "Name",
            "NoEcho": "false",
            "Default": "abc",
            "AllowedPattern": "[a-z]+",
        },
    }


@pytest.mark.parametrize(
    "groups",
    [
        None,
        [{"label": "G", "parameters": ["a"]}],
        [
            {"label": "G1", "description": "first", "parameters": ["a"]},
            {"label": "G2", "parameters": ["b"]},
        ],
    ],
)
def test_parameter_groups(groups: list | None) -> None:
    sections = {} if groups is None else {"parameter_groups": groups}
    template = hot(
        {"a": {"type": "string", "default": "1"}, "b": {"type": "string", "default": "2"}},
        **sections,
    )
    result = response(template)
    if groups is None:
        assert "ParameterGroups" not in result
    else:
        assert result["ParameterGroups"] == groups


@pytest.mark.parametrize(
    ("environment", "parameters", "expected"),
    [
        (
            None,
            None,
            {
                "parameters": {},
                "parameter_defaults": {},
                "resource_registry": {"resources": {}},
                "event_sinks": [],
            },
        ),
        (
            {
                "parameters": {"a": "env"},
                "parameter_defaults": {"b": "d"},
                "resource_registry": {
                    "My::T": "OS::Heat::None",
                    "resources": {"r": {"hooks": "pre-create"}},
                },
                "event_sinks": [{"type": "zaqar-queue", "target": "q"}],
                "encrypted_param_names": ["a"],
            },
            {"a": "body"},
            {
                "parameters": {"a": "body"},
                "parameter_defaults": {"b": "d"},
                "resource_registry": {
                    "My::T": "OS::Heat::None",
                    "resources": {"r": {"hooks": "pre-create"}},
                },
                "event_sinks": [{"type": "zaqar-queue", "target": "q"}],
            },
        ),
    ],
)
def test_environment_block(
    environment: dict | None, parameters: dict | None, expected: dict
) -> None:
    template = hot({"a": {"type": "string"}, "b": {"type": "string", "default": "t"}})
    result = response(template, environment=environment, parameters=parameters or {"a": "x"})
    if parameters is None:
        expected = {**expected, "parameters": {"a": "x"}}
    assert result["Environment"] == expected


def test_a_template_file_written_as_a_type_is_in_the_registry() -> None:
    # Heat registers such a type as mapped to itself, and shows it so.
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {"child": {"type": "child.yaml"}, "other": {"type": "My::Other"}},
    }
    files = {"child.yaml": "heat_template_version: 2018-08-31\n"}
    environment = {"resource_registry": {"My::Other": "other.yaml"}}
    files["other.yaml"] = files["child.yaml"]
    result = response(template, files=files, environment=environment)
    assert result["Environment"]["resource_registry"] == {
        "child.yaml": "child.yaml",
        "My::Other": "other.yaml",
        "resources": {},
    }


def test_response_has_only_heat_keys() -> None:
    result = response(hot({}))
    assert set(result) == {"Description", "Parameters", "Environment"}


# ---------------------------------------------------------------------------
# NestedParameters (show_nested) for template resources

NESTED = """
heat_template_version: 2016-10-14
description: the nested stack
parameters:
  aparam:
    type: number
    default: 10
    description: the param description
  bparam:
    type: string
    default: foo
    hidden: true
parameter_groups:
- label: str_params
  parameters: [bparam]
resources:
  deeper:
    type: deep.yaml
    properties:
      cparam: {get_param: bparam}
"""

DEEP = """
heat_template_version: 2016-10-14
parameters:
  cparam:
    type: string
"""

PARENT = """
heat_template_version: 2016-10-14
description: the parent template
parameters:
  pparam:
    type: number
    default: 5
resources:
  nres:
    type: My::Nested
    properties:
      aparam: {get_param: pparam}
  plain:
    type: OS::Heat::None
"""

NESTED_FILES = {"nested.yaml": NESTED, "deep.yaml": DEEP}
NESTED_ENV = {"resource_registry": {"My::Nested": "nested.yaml"}}


def test_nested_parameters_are_hidden_without_show_nested() -> None:
    result = response(PARENT, files=NESTED_FILES, environment=NESTED_ENV)
    assert "NestedParameters" not in result
    assert list(result["Parameters"]) == ["pparam"]


def test_nested_parameters_with_show_nested() -> None:
    result = response(PARENT, files=NESTED_FILES, environment=NESTED_ENV, show_nested=True)
    assert result["Description"] == "the parent template"
    assert result["NestedParameters"] == {
        "nres": {
            "Description": "the nested stack",
            "Type": "My::Nested",
            "Parameters": {
                "aparam": {
                    "Type": "Number",
                    "Description": "the param description",
                    "Label": "aparam",
                    "NoEcho": "false",
                    "Default": 10,
                    "Value": 5,
                },
                "bparam": {
                    "Type": "String",
                    "Description": "",
                    "Label": "bparam",
                    "NoEcho": "true",
                    "Default": "foo",
                },
            },
            "ParameterGroups": [{"label": "str_params", "parameters": ["bparam"]}],
            "NestedParameters": {
                "deeper": {
                    "Description": "No description",
                    "Type": "deep.yaml",
                    "Parameters": {
                        "cparam": {
                            "Type": "String",
                            "Description": "",
                            "Label": "cparam",
                            "NoEcho": "false",
                            "Value": "foo",
                        }
                    },
                }
            },
        }
    }


def test_nested_parameters_see_parameter_defaults() -> None:
    result = response(
        PARENT,
        files=NESTED_FILES,
        environment={**NESTED_ENV, "parameter_defaults": {"aparam": 99, "cparam": "c"}},
        show_nested=True,
    )
    nested = result["NestedParameters"]["nres"]
    assert nested["Parameters"]["aparam"]["Default"] == 99
    assert nested["Parameters"]["aparam"]["Value"] == 5
    assert nested["NestedParameters"]["deeper"]["Parameters"]["cparam"]["Default"] == "c"


def test_show_nested_without_template_resources() -> None:
    result = response(hot({}, resources={"r": {"type": "OS::Heat::None"}}), show_nested=True)
    assert "NestedParameters" not in result
