"""CloudFormation functions in ``AWSTemplateFormatVersion: 2010-09-09`` and
``HeatTemplateFormatVersion: 2012-12-12`` templates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.conftest import FakeResources
from tests.template.function_helpers import (
    ABSENT,
    CFN_VALUE_PATH,
    CFN_VERSIONS,
    assert_clean,
    cfn,
    define,
    output_values,
    resolution_error,
    value_of,
)

PARAMS = {
    "P": {"Type": "String", "Default": "pv"},
    "L": {"Type": "CommaDelimitedList", "Default": "a,b"},
    "Env": {"Type": "String", "Default": "prod"},
    "J": {"Type": "Json", "Default": {"k": "v"}},
}
MAPPINGS = {
    "Regions": {"RegionOne": {"ami": "ami-1"}, "ap-southeast-1": {"ami": "ami-2"}},
    "Sizes": {"prod": {"flavor": "m1.large"}, "dev": {"flavor": "m1.small"}},
}


def _defn(value: Any, version: tuple[str, str] = CFN_VERSIONS[0], **kwargs: Any) -> Any:
    key, date = version
    given = kwargs.pop("given", None)
    kwargs.setdefault("parameters", PARAMS)
    kwargs.setdefault("mappings", MAPPINGS)
    return define(cfn(value, key=key, version=date, **kwargs), parameters=given)


both_versions = pytest.mark.parametrize("version", CFN_VERSIONS, ids=["2010-09-09", "2012-12-12"])


# ---------------------------------------------------------------------------------------------
# Ref


@both_versions
@pytest.mark.parametrize(
    ("name", "expected", "requires"),
    [
        ("P", "pv", set()),
        ("L", ["a", "b"], set()),
        ("other", "other-id", {"other"}),
        ("AWS::StackName", "teststack", set()),
        ("AWS::StackId", "arn:openstack:heat::demo:stacks/teststack/1234", set()),
        ("AWS::Region", "RegionOne", set()),  # the configured region, not Heat's fixed one
    ],
)
def test_ref(version: tuple[str, str], name: str, expected: Any, requires: set[str]) -> None:
    defn = _defn({"Ref": name}, version)
    assert_clean(defn)
    assert value_of(defn) == expected
    assert defn.resources["r"].requires == requires


def test_ref_prefers_a_parameter_over_a_resource_of_the_same_name() -> None:
    defn = _defn({"Ref": "P"}, resources={"P": {"Type": "OS::Heat::None"}})
    assert value_of(defn) == "pv"
    assert defn.resources["r"].requires == frozenset()


@both_versions
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("nope", 'The specified reference "nope" (in Ref) is incorrect.'),
        (["P"], 'Argument to "Ref" must be a parameter or resource name.'),
        (None, 'Argument to "Ref" must be a parameter or resource name.'),
    ],
)
def test_ref_invalid(version: tuple[str, str], args: Any, message: str) -> None:
    defn = _defn({"Ref": args}, version)
    assert defn.diags.messages() == [f"{CFN_VALUE_PATH}.Ref: {message}"]


@both_versions
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": {"Ref": "AWS::NoValue"}, "b": 1}, {"b": 1}),
        ([1, {"Ref": "AWS::NoValue"}, 2], [1, 2]),
        ({"Ref": "AWS::NoValue"}, ABSENT),
    ],
)
def test_aws_novalue_removes_the_property(
    version: tuple[str, str], value: Any, expected: Any
) -> None:
    defn = _defn(value, version)
    assert value_of(defn) == expected


# ---------------------------------------------------------------------------------------------
# Fn::GetAtt

ATTRS = FakeResources({("other", "value"): "secret"})


@both_versions
@pytest.mark.parametrize("args", [["other", "value"], "other.value"])
def test_getatt(version: tuple[str, str], args: Any) -> None:
    defn = _defn({"Fn::GetAtt": args}, version)
    assert_clean(defn)
    assert value_of(defn, ATTRS) == "secret"
    assert defn.resources["r"].requires == frozenset({"other"})


@both_versions
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["other", "bogus"], "The Referenced Attribute (other bogus) is incorrect."),
        ("other.bogus", "The Referenced Attribute (other bogus) is incorrect."),
        (["nope", "value"], 'The specified reference "nope" (in Fn::GetAtt) is incorrect.'),
        (["other"], 'Arguments to "Fn::GetAtt" must be of the form [resource_name, attribute]'),
        ("other", 'Arguments to "Fn::GetAtt" must be of the form [resource_name, attribute]'),
        (
            ["other", "value", "x"],
            'Arguments to "Fn::GetAtt" must be of the form [resource_name, attribute]',
        ),
    ],
)
def test_getatt_invalid(version: tuple[str, str], args: Any, message: str) -> None:
    defn = _defn({"Fn::GetAtt": args}, version)
    assert defn.diags.messages() == [f"{CFN_VALUE_PATH}.Fn::GetAtt: {message}"]


def test_getatt_unknown_attribute_in_an_output() -> None:
    defn = _defn("v", outputs={"x": {"Value": {"Fn::GetAtt": ["other", "bogus"]}}})
    assert defn.diags.messages() == [
        "Outputs.x.Value.Fn::GetAtt: The Referenced Attribute (other bogus) is incorrect."
    ]


# ---------------------------------------------------------------------------------------------
# Fn::Join, Fn::Split, Fn::Replace, Fn::Base64


@both_versions
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Fn::Join": [",", ["a", {"Ref": "P"}]]}, "a,pv"),
        ({"Fn::Join": ["", ["a", None, "b"]]}, "ab"),
        ({"Fn::Join": [":", {"Ref": "L"}]}, "a:b"),
        ({"Fn::Join": [",", []]}, ""),
        ({"Fn::Split": [",", "a,b,,c"]}, ["a", "b", "", "c"]),
        ({"Fn::Split": ["-", {"Ref": "P"}]}, ["pv"]),
        ({"Fn::Replace": [{"$a": "A", "$ab": "B"}, "$a $ab"]}, "A B"),
        ({"Fn::Replace": [{"%n%": 5, "%x%": None}, "n=%n% x=%x%"]}, "n=5 x="),
        ({"Fn::Replace": [{"$p": {"Ref": "P"}}, {"Fn::Join": ["", ["<", "$p", ">"]]}]}, "<pv>"),
        ({"Fn::Base64": "#!/bin/sh\necho hi"}, "#!/bin/sh\necho hi"),
        ({"Fn::Base64": {"Ref": "P"}}, "pv"),
    ],
)
def test_string_functions(version: tuple[str, str], value: Any, expected: Any) -> None:
    defn = _defn(value, version)
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Join": [",", "abc"]}, 'Fn::Join: "Fn::Join" must operate on a list, not string'),
        ({"Fn::Join": [",", ["a", 1]]}, "Fn::Join: Items to join must be strings, not number"),
        ({"Fn::Join": [",", [["a"]]]}, "Fn::Join: Items to join must be strings, not list"),
        ({"Fn::Split": [",", ["a"]]}, 'Fn::Split: "Fn::Split" can only split a string, not list'),
        (
            {"Fn::Replace": [{"$a": ["x"]}, "$a"]},
            'Fn::Replace: "Fn::Replace" values must be strings or numbers',
        ),
        (
            {"Fn::Replace": [{"$a": "x"}, 5]},
            'Fn::Replace: The second argument to "Fn::Replace" must be a string.',
        ),
        ({"Fn::Base64": ["x"]}, 'Fn::Base64: "Fn::Base64" argument must be a string, not list'),
        (
            {"Fn::Base64": {"Ref": "J"}},
            'Fn::Base64: "Fn::Base64" argument must be a string, not map',
        ),
    ],
)
def test_string_functions_bad_values(value: Any, message: str) -> None:
    defn = _defn(value)
    assert_clean(defn)
    assert resolution_error(defn) == f"{CFN_VALUE_PATH}.{message}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Join": [","]}, 'Fn::Join: Arguments to "Fn::Join" must be a list of 2 items.'),
        ({"Fn::Join": [1, ["a"]]}, 'Fn::Join: Delimiter for "Fn::Join" must be a string.'),
        ({"Fn::Split": "a,b"}, 'Fn::Split: Arguments to "Fn::Split" must be a list of 2 items.'),
        (
            {"Fn::Replace": ["$a", "x"]},
            'Fn::Replace: The first argument to "Fn::Replace" must be a map.',
        ),
        (
            {"Fn::Replace": [{"$a": "x"}]},
            'Fn::Replace: Arguments to "Fn::Replace" must be a list of 2 items.',
        ),
    ],
)
def test_string_functions_bad_arguments(value: Any, message: str) -> None:
    defn = _defn(value)
    assert defn.diags.messages() == [f"{CFN_VALUE_PATH}.{message}"]
    assert resolution_error(defn) == f"{CFN_VALUE_PATH}.{message}"


# ---------------------------------------------------------------------------------------------
# Fn::Select


@both_versions
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([1, ["a", "b", "c"]], "b"),
        (["2", ["a", "b", "c"]], "c"),
        ([0, {"Ref": "L"}], "a"),
        (["k", {"k": "v", "x": "y"}], "v"),
        (["k", {"Ref": "J"}], "v"),
        ([1, '["j0", "j1"]'], "j1"),  # a JSON string is parsed
        (["k", '{"k": "jv"}'], "jv"),
        # Out of range and missing keys give an empty string.
        ([5, ["a"]], ""),
        (["zz", {"k": "v"}], ""),
        ([0, []], ""),
        ([0, None], ""),
        ([0, ""], ""),  # what functions give while a value is not known yet
        ([{"Ref": "P"}, {"pv": "by-ref"}], "by-ref"),
    ],
)
def test_select(version: tuple[str, str], args: list[Any], expected: Any) -> None:
    defn = _defn({"Fn::Select": args}, version)
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([0, "not json"], '"Fn::Select": Expecting value: line 1 column 1 (char 0)'),
        ([0, {"k": "v"}], '"Fn::Select" index must be a string when selecting from a map'),
        (["x", ["a"]], '"Fn::Select" index must be an integer for a list'),
        ([0, 5], '"Fn::Select" must select from a list or map, not number'),
    ],
)
def test_select_bad_values(args: list[Any], message: str) -> None:
    defn = _defn({"Fn::Select": args})
    assert resolution_error(defn) == f"{CFN_VALUE_PATH}.Fn::Select: {message}"


@pytest.mark.parametrize("args", [[0], "0", [0, ["a"], 1]])
def test_select_bad_arguments(args: Any) -> None:
    defn = _defn({"Fn::Select": args})
    assert defn.diags.messages() == [
        f'{CFN_VALUE_PATH}.Fn::Select: Arguments to "Fn::Select" must be a list of 2 items.'
    ]


# ---------------------------------------------------------------------------------------------
# Fn::GetAZs, Fn::FindInMap, Fn::MemberListToMap, Fn::ResourceFacade


@both_versions
@pytest.mark.parametrize("args", ["", {"Ref": "AWS::Region"}, "RegionOne"])
def test_getazs(version: tuple[str, str], args: Any) -> None:
    defn = _defn({"Fn::GetAZs": args}, version)
    assert_clean(defn)
    assert value_of(defn) == ["nova"]
    ctx = defn.resolve_context(FakeResources(), availability_zones=("az1", "az2"))
    assert defn.resources["r"].resolved_properties(ctx) == {"value": ["az1", "az2"]}


@both_versions
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["Regions", "ap-southeast-1", "ami"], "ami-2"),
        (["Regions", {"Ref": "AWS::Region"}, "ami"], "ami-1"),
        (["Sizes", {"Ref": "Env"}, "flavor"], "m1.large"),
    ],
)
def test_findinmap(version: tuple[str, str], args: list[Any], expected: str) -> None:
    defn = _defn({"Fn::FindInMap": args}, version)
    assert_clean(defn)
    assert value_of(defn) == expected


def test_findinmap_follows_parameters() -> None:
    defn = _defn({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "flavor"]}, given={"Env": "dev"})
    assert value_of(defn) == "m1.small"


@both_versions
def test_findinmap_unknown_mapping_caught_at_validation(version: tuple[str, str]) -> None:
    defn = _defn({"Fn::FindInMap": ["NoMap", "a", "b"]}, version)
    assert defn.diags.messages() == [
        f'{CFN_VALUE_PATH}.Fn::FindInMap: The mapping "NoMap" is not defined in Mappings.'
    ]


@pytest.mark.parametrize(
    "args", [["Regions", "nowhere", "ami"], ["Regions", "RegionOne", "nothing"]]
)
def test_findinmap_missing_key_fails_at_resolution(args: list[str]) -> None:
    defn = _defn({"Fn::FindInMap": args})
    assert_clean(defn)
    assert resolution_error(defn) == (
        f'{CFN_VALUE_PATH}.Fn::FindInMap: "Fn::FindInMap" could not find '
        f"[{args[0]}, {args[1]}, {args[2]}] in Mappings"
    )


@pytest.mark.parametrize("args", [["Regions", "RegionOne"], "Regions"])
def test_findinmap_bad_arguments(args: Any) -> None:
    defn = _defn({"Fn::FindInMap": args})
    message = (
        f'{CFN_VALUE_PATH}.Fn::FindInMap: Arguments to "Fn::FindInMap" must be a list of 3 items.'
    )
    assert defn.diags.messages() == [message]
    assert resolution_error(defn) == message


def test_mapping_must_be_a_map_of_maps() -> None:
    defn = _defn("v", mappings={"Bad": {"k": "not a map"}})
    assert defn.diags.messages() == ["Mappings.Bad: Each mapping must be a map of maps"]


MEMBERS = [".member.0.Name=k0", ".member.0.Value=v0", "member.1.Name=k1", "member.1.Value=v=1"]


@both_versions
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["Name", "Value", MEMBERS], {"k0": "v0", "k1": "v=1"}),
        (["Value", "Name", MEMBERS], {"v0": "k0", "v=1": "k1"}),
        (["Name", "Value", []], {}),
        # The AWS query API's prefixed lists; a member without its value is left out.
        (
            ["Name", "Value", ["P.member.1.Name=a", "P.member.1.Value=b", "P.member.2.Name=c"]],
            {"a": "b"},
        ),
    ],
)
def test_member_list_to_map(version: tuple[str, str], args: list[Any], expected: Any) -> None:
    defn = _defn({"Fn::MemberListToMap": args}, version)
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("args", "message", "at_validation"),
    [
        (
            ["Name", "Value", ["bad"]],
            'Items of "Fn::MemberListToMap" must look like ".member.N.Key=value"',
            False,
        ),
        (
            ["Name", "Value", "x"],
            'The third argument to "Fn::MemberListToMap" must be a list.',
            False,
        ),
        ([1, "Value", []], 'Key and value names of "Fn::MemberListToMap" must be strings.', True),
        (["Name", []], 'Arguments to "Fn::MemberListToMap" must be a list of 3 items.', True),
    ],
)
def test_member_list_to_map_invalid(args: Any, message: str, at_validation: bool) -> None:
    defn = _defn({"Fn::MemberListToMap": args})
    expected = f"{CFN_VALUE_PATH}.Fn::MemberListToMap: {message}"
    assert defn.diags.messages() == ([expected] if at_validation else [])
    assert resolution_error(defn) == expected


FACADE = {"metadata": {"m": 1}, "deletion_policy": "Retain", "update_policy": {"u": 2}}


@both_versions
@pytest.mark.parametrize(
    ("key", "expected"),
    [("Metadata", {"m": 1}), ("DeletionPolicy", "Retain"), ("UpdatePolicy", {"u": 2})],
)
def test_resource_facade(version: tuple[str, str], key: str, expected: Any) -> None:
    defn = _defn({"Fn::ResourceFacade": key}, version)
    assert_clean(defn)
    assert value_of(defn, facade=FACADE) == expected
    assert resolution_error(defn) == (
        f'{CFN_VALUE_PATH}.Fn::ResourceFacade: "Fn::ResourceFacade" is only available in a '
        "nested stack."
    )


@pytest.mark.parametrize("args", ["metadata", "Properties", ["Metadata"], {"Metadata": 1}])
def test_resource_facade_bad_argument(args: Any) -> None:
    defn = _defn({"Fn::ResourceFacade": args})
    assert defn.diags.messages() == [
        f'{CFN_VALUE_PATH}.Fn::ResourceFacade: Incorrect arguments to "Fn::ResourceFacade" '
        "should be: Metadata, DeletionPolicy, UpdatePolicy"
    ]


@both_versions
@pytest.mark.parametrize(
    "snippet",
    [
        {"get_param": "P"},
        {"get_resource": "other"},
        {"str_replace": {"template": "a", "params": {"a": "b"}}},
        {"Fn::Sub": "${P}"},
    ],
)
def test_hot_and_unknown_functions_are_plain_data(version: tuple[str, str], snippet: Any) -> None:
    defn = _defn(snippet, version)
    assert_clean(defn)
    assert value_of(defn) == snippet
    assert defn.resources["r"].requires == frozenset()


# ---------------------------------------------------------------------------------------------
# Conditions and Fn::If (2010-09-09 only)

CONDITIONS = {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    "ProdHere": {
        "Fn::And": [
            "IsProd",
            {
                "Fn::Equals": [
                    {"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "ami"]},
                    "ami-1",
                ]
            },
        ]
    },
    "DevOrProd": {"Fn::Or": ["IsDev", {"Condition": "IsProd"}]},
}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("prod", {"IsProd": True, "IsDev": False, "ProdHere": True, "DevOrProd": True}),
        ("dev", {"IsProd": False, "IsDev": True, "ProdHere": False, "DevOrProd": True}),
    ],
)
def test_conditions(env: str, expected: dict[str, bool]) -> None:
    defn = _defn("v", conditions=CONDITIONS, given={"Env": env})
    assert_clean(defn)
    assert defn.conditions == expected


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("prod", {"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ("dev", {"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ("dev", {"Fn::If": ["IsDev", {"Ref": "P"}, {"Ref": "other"}]}, "pv"),
        ("prod", {"a": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "b": 2}, {"b": 2}),
        ("dev", {"a": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "b": 2}, {"a": 1, "b": 2}),
    ],
)
def test_fn_if(env: str, value: Any, expected: Any) -> None:
    defn = _defn(value, conditions=CONDITIONS, given={"Env": env})
    assert_clean(defn)
    assert value_of(defn) == expected


def test_fn_if_unused_branch_reference_disappears() -> None:
    value = {"Fn::If": ["IsProd", {"Ref": "other"}, {"Fn::GetAtt": ["third", "value"]}]}
    assert _defn(value, conditions=CONDITIONS).resources["r"].requires == {"other"}
    dev = _defn(value, conditions=CONDITIONS, given={"Env": "dev"})
    assert dev.resources["r"].requires == {"third"}


def test_fn_if_unknown_condition() -> None:
    defn = _defn({"Fn::If": ["Nope", 1, 2]}, conditions=CONDITIONS)
    assert defn.diags.messages() == [f'{CFN_VALUE_PATH}.Fn::If: Invalid condition name "Nope"']


def test_cfn_resource_and_output_conditions() -> None:
    resources = {"Maybe": {"Type": "OS::Heat::None", "Condition": "IsDev"}}
    outputs = {"O": {"Value": {"Fn::If": ["IsProd", "p", "d"]}, "Condition": "IsProd"}}
    prod = _defn("v", conditions=CONDITIONS, resources=resources, outputs=outputs)
    assert_clean(prod)
    assert "Maybe" not in prod.resources
    assert output_values(prod) == {"O": ("p", None)}
    dev = _defn(
        "v", conditions=CONDITIONS, resources=resources, outputs=outputs, given={"Env": "dev"}
    )
    assert "Maybe" in dev.resources
    assert output_values(dev) == {"O": (None, None)}


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"A": {"Condition": "B"}, "B": {"Fn::Not": ["A"]}},
            "Circular definition for condition: A -> B -> A",
        ),
        (
            {"A": {"Fn::Not": "B"}, "B": True},
            'Conditions.A.Fn::Not: Arguments to "Fn::Not" must be a list of one condition.',
        ),
        (
            {"A": {"Fn::Equals": [1]}},
            'Conditions.A.Fn::Equals: Arguments to "Fn::Equals" must be a list of 2 items.',
        ),
        (
            {"A": {"Fn::And": ["B"]}, "B": True},
            'Conditions.A.Fn::And: Arguments to "Fn::And" must be a list of 2 or more conditions.',
        ),
        (
            {"A": {"equals": [1, 1]}},
            "Conditions.A: A condition must be a boolean, a condition function or the name of "
            "a condition",
        ),
        ({"A": {"Fn::Or": ["Nope", True]}}, 'Conditions.A.Fn::Or: Invalid condition name "Nope"'),
    ],
)
def test_bad_cfn_conditions(conditions: dict[str, Any], message: str) -> None:
    defn = _defn("v", conditions=conditions)
    messages = defn.diags.messages()
    assert any(m.endswith(message) for m in messages), messages
    assert defn.conditions["A"] is False


def test_heat_2012_has_no_conditions_section() -> None:
    defn = _defn("v", CFN_VERSIONS[1], conditions={"C": True})
    assert defn.diags.messages() == ["The template section is invalid: Conditions"]


def test_heat_2012_has_no_fn_if_and_no_resource_condition() -> None:
    snippet = {"Fn::If": ["C", "a", "b"]}
    defn = _defn(snippet, CFN_VERSIONS[1])
    assert_clean(defn)
    assert value_of(defn) == snippet
    resources = {"Maybe": {"Type": "OS::Heat::None", "Condition": "C"}}
    defn = _defn("v", CFN_VERSIONS[1], resources=resources)
    assert defn.diags.messages() == [
        'Resources.Maybe: "Condition" is not a valid keyword inside a resource definition'
    ]
