"""Template parameters: types and Heat's coercion rules, keys, groups, pseudo-parameters."""

from __future__ import annotations

from typing import Any

import pytest

from ember.common import errors
from ember.template import Environment, StackIdentity, Template, define
from ember.template.parameters import HIDDEN_VALUE, immutable_changes
from tests.template.conftest import make_definition

CFN_TYPE = {
    "string": "String",
    "number": "Number",
    "comma_delimited_list": "CommaDelimitedList",
    "json": "Json",
    "boolean": "Boolean",
}


def hot(parameters: dict[str, Any], version: str = "2013-05-23", **sections: Any) -> dict:
    return {"heat_template_version": version, "parameters": parameters, **sections}


def cfn(parameters: dict[str, Any], **sections: Any) -> dict:
    return {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": parameters, **sections}


def one_param(kind: str, ptype: str, **keys: Any) -> dict:
    if kind == "hot":
        return hot({"p": {"type": ptype, **keys}})
    cfn_keys = {"Default": keys["default"]} if "default" in keys else {}
    return cfn({"p": {"Type": CFN_TYPE[ptype], **cfn_keys}})


def messages(defn: Any) -> str:
    return "\n".join(defn.diags.messages())


# ---------------------------------------------------------------------------
# Types and coercion


VALID_VALUES = [
    ("string", "hello", "hello"),
    ("string", "", ""),
    ("string", 5, "5"),
    ("number", "5", 5),
    ("number", "5.5", 5.5),
    ("number", "-3", -3),
    ("number", " 7 ", 7),
    ("number", 42, 42),
    ("number", 0.25, 0.25),
    ("number", "1e3", 1000.0),
    ("comma_delimited_list", "a, b", ["a", " b"]),
    ("comma_delimited_list", "a,b,,c", ["a", "b", "", "c"]),
    ("comma_delimited_list", "single", ["single"]),
    ("comma_delimited_list", "", []),
    ("comma_delimited_list", ["a", "b"], ["a", "b"]),
    ("comma_delimited_list", [1, 2], ["1", "2"]),
    ("json", '{"a": 1}', {"a": 1}),
    ("json", "[1, 2]", [1, 2]),
    ("json", {"a": {"b": [1]}}, {"a": {"b": [1]}}),
    ("json", [1, "x"], [1, "x"]),
    ("boolean", "true", True),
    ("boolean", "false", False),
    ("boolean", True, True),
    ("boolean", False, False),
    ("boolean", 1, True),
    ("boolean", 0, False),
]


@pytest.mark.parametrize("kind", ["hot", "cfn"])
@pytest.mark.parametrize(("ptype", "value", "expected"), VALID_VALUES)
def test_valid_values_are_coerced(kind: str, ptype: str, value: Any, expected: Any) -> None:
    defn = make_definition(one_param(kind, ptype), parameters={"p": value})
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] == expected
    assert type(defn.parameters["p"]) is type(expected)


INVALID_VALUES = [
    ("number", "x", "is not a number"),
    ("number", "5x", "is not a number"),
    ("number", "", "is not a number"),
    ("number", "nan", "is not a number"),
    ("number", [1], "is not a number"),
    ("number", {"a": 1}, "is not a number"),
    ("boolean", "maybe", 'Unrecognized value "maybe"'),
    ("boolean", "2", 'Unrecognized value "2"'),
    ("boolean", "", 'Unrecognized value ""'),
    ("boolean", 2, 'Unrecognized value "2"'),
    ("json", "{bad", "Value must be valid JSON"),
    ("json", "{'a': 1}", "Value must be valid JSON"),
    ("json", "5", "JSON map or list"),
    ("json", '"text"', "JSON map or list"),
    ("json", 7, "JSON map or list"),
    ("comma_delimited_list", {"a": 1}, "comma-delimited list"),
    ("string", {"a": 1}, "Value must be a string"),
    ("string", ["a"], "Value must be a string"),
]


@pytest.mark.parametrize("kind", ["hot", "cfn"])
@pytest.mark.parametrize(("ptype", "value", "fragment"), INVALID_VALUES)
def test_invalid_values_are_reported(kind: str, ptype: str, value: Any, fragment: str) -> None:
    defn = make_definition(one_param(kind, ptype), parameters={"p": value})
    text = messages(defn)
    assert "Parameter 'p' is invalid" in text
    assert fragment in text
    with pytest.raises(errors.StackValidationFailed):
        defn.diags.raise_if_errors()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(s, True) for s in ("1", "t", "true", "on", "y", "yes")],
        *[(s, False) for s in ("0", "f", "false", "off", "n", "no")],
        ("TRUE", True),
        ("Yes", True),
        ("On", True),
        ("OFF", False),
        ("No", False),
        (" true ", True),
    ],
)
def test_boolean_accepts_heat_strings(text: str, expected: bool) -> None:
    defn = make_definition(one_param("hot", "boolean"), parameters={"p": text})
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] is expected


@pytest.mark.parametrize(
    ("ptype", "default", "expected"),
    [
        ("number", "10", 10),
        ("number", 2.5, 2.5),
        ("boolean", "yes", True),
        ("boolean", "off", False),
        ("comma_delimited_list", "x,y", ["x", "y"]),
        ("json", '{"k": "v"}', {"k": "v"}),
        ("string", "abc", "abc"),
    ],
)
@pytest.mark.parametrize("kind", ["hot", "cfn"])
def test_defaults_are_coerced(kind: str, ptype: str, default: Any, expected: Any) -> None:
    defn = make_definition(one_param(kind, ptype, default=default))
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] == expected


@pytest.mark.parametrize(
    ("ptype", "default", "fragment"),
    [
        ("number", "ten", "is not a number"),
        ("boolean", "perhaps", "Unrecognized value"),
        ("json", "{not json", "Value must be valid JSON"),
    ],
)
def test_bad_default_is_reported_at_the_default(ptype: str, default: Any, fragment: str) -> None:
    defn = make_definition(one_param("hot", ptype, default=default))
    paths = {d.path for d in defn.diags}
    assert ("parameters", "p", "default") in paths
    assert fragment in messages(defn)


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        (hot({"p": {"type": "integer"}}), "Invalid type (integer)"),
        (hot({"p": {"type": "String"}}), "Invalid type (String)"),
        (hot({"p": {"default": 1}}), "Missing parameter type for parameter: p"),
        (hot({"p": "string"}), "Parameter p must be a map"),
        (hot({"p": {"type": "string", "Default": "x"}}), "Invalid key 'Default'"),
        (hot({"p": {"type": "string", "hidden": "perhaps"}}), '"perhaps" is not a valid boolean'),
        (hot({"p": {"type": "string", "immutable": 3}}), '"3" is not a valid boolean'),
        (hot({"p": {"type": "string", "constraints": {"length": {}}}}), "must be a list"),
        (hot(["p"]), "The parameters section must be a map"),
        (cfn({"p": {"Type": "string"}}), "Invalid type (string)"),
        (cfn({"p": {"Type": "Integer"}}), "Invalid type (Integer)"),
        (cfn({"p": {"Default": "x"}}), "Missing parameter type for parameter: p"),
        (cfn({"p": {"Type": "String", "type": "String"}}), "Invalid key 'type'"),
        (cfn({"p": {"Type": "String", "NoEcho": "maybe"}}), '"maybe" is not a valid boolean'),
    ],
)
def test_bad_parameter_declarations(template: dict, fragment: str) -> None:
    defn = make_definition(template, require_parameters=False)
    assert fragment in messages(defn)
    # A declaration Heat's parameter schema refuses; a section of the wrong shape is the
    # template's own problem.
    section = "section must be a map" in fragment
    with pytest.raises(errors.StackValidationFailed if section else errors.InvalidSchemaError):
        defn.diags.raise_if_errors()


# ---------------------------------------------------------------------------
# hidden / NoEcho, immutable, label, tags


@pytest.mark.parametrize(
    ("template", "hidden"),
    [
        (hot({"p": {"type": "string", "hidden": True}}), True),
        (hot({"p": {"type": "string", "hidden": "true"}}), True),
        (hot({"p": {"type": "string", "hidden": False}}), False),
        (hot({"p": {"type": "string"}}), False),
        (cfn({"p": {"Type": "String", "NoEcho": "true"}}), True),
        (cfn({"p": {"Type": "String", "NoEcho": "True"}}), True),
        (cfn({"p": {"Type": "String", "NoEcho": True}}), True),
        (cfn({"p": {"Type": "String", "NoEcho": "false"}}), False),
        (cfn({"p": {"Type": "String"}}), False),
    ],
)
def test_hidden_values_are_masked(template: dict, hidden: bool) -> None:
    defn = make_definition(template, parameters={"p": "s3cret"})
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] == "s3cret"  # the real value is still usable
    shown = defn.parameters.shown()
    assert shown["p"] == (HIDDEN_VALUE if hidden else "s3cret")
    assert HIDDEN_VALUE == "******"


@pytest.mark.parametrize(
    ("ptype", "value", "shown"),
    [
        ("string", "abc", "abc"),
        ("number", "5", "5"),
        ("comma_delimited_list", "a, b", "a, b"),
        ("json", {"a": 1}, '{"a": 1}'),
        ("boolean", "yes", "True"),
        ("boolean", "no", "False"),
    ],
)
def test_shown_values_are_strings(ptype: str, value: Any, shown: str) -> None:
    defn = make_definition(one_param("hot", ptype), parameters={"p": value})
    assert defn.parameters.shown()["p"] == shown


def test_shown_includes_pseudo_parameters_and_hides_only_hidden() -> None:
    defn = make_definition(
        hot({"a": {"type": "string", "hidden": True}, "b": {"type": "string"}}),
        parameters={"a": "x", "b": "y"},
    )
    shown = defn.parameters.shown()
    assert shown["a"] == "******"
    assert shown["b"] == "y"
    assert shown["OS::stack_name"] == "teststack"


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ({"fixed": "a", "free": "x"}, {"fixed": "b", "free": "x"}, "fixed"),
        ({"fixed": "a", "fixed2": 1}, {"fixed": "b", "fixed2": 2}, "fixed, fixed2"),
        ({"fixed": "a", "free": "x"}, {"fixed": "a", "free": "y"}, None),
        ({"fixed": "a"}, {"fixed": "a"}, None),
        ({"free": "x"}, {"fixed": "b", "free": "x"}, None),
    ],
)
def test_immutable_changes(old: dict, new: dict, changed: str | None) -> None:
    schemas = Template.load(
        hot(
            {
                "fixed": {"type": "string", "immutable": True},
                "fixed2": {"type": "number", "immutable": "true"},
                "free": {"type": "string", "immutable": False},
            }
        )
    ).parameter_schemas()
    assert schemas["fixed"].immutable
    assert not schemas["free"].immutable
    if changed is None:
        immutable_changes(schemas, old, new)
    else:
        with pytest.raises(errors.ImmutableParameterModified) as info:
            immutable_changes(schemas, old, new)
        assert info.value.message.endswith(changed)


@pytest.mark.parametrize(
    ("old", "new", "raises"),
    [
        ("5", 5, False),
        ("5", "5.0", False),
        ("5", "6", True),
        (None, "6", True),  # from the template default to a new value
    ],
)
def test_immutable_changes_compare_coerced_values(old: Any, new: Any, raises: bool) -> None:
    template = hot({"n": {"type": "number", "immutable": True, "default": 5}})
    before = make_definition(template, parameters={} if old is None else {"n": old})
    after = make_definition(template, parameters={"n": new})
    schemas = before.parameters.schemas
    if raises:
        with pytest.raises(errors.ImmutableParameterModified, match=r"immutable.*: n$"):
            immutable_changes(schemas, before.parameters, after.parameters)
    else:
        immutable_changes(schemas, before.parameters, after.parameters)


@pytest.mark.parametrize(
    ("template", "label", "description"),
    [
        (hot({"p": {"type": "string", "label": "Nice", "description": "D"}}), "Nice", "D"),
        (hot({"p": {"type": "string"}}), None, ""),
        (cfn({"p": {"Type": "String", "Label": "L", "Description": "CD"}}), "L", "CD"),
    ],
)
def test_label_and_description(template: dict, label: str | None, description: str) -> None:
    defn = make_definition(template, parameters={"p": "v"})
    assert not defn.diags, messages(defn)
    schema = defn.parameters.schemas["p"]
    assert schema.label == label
    assert schema.description == description


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("2013-05-23", False),
        ("2016-10-14", False),
        ("2017-02-24", False),
        ("2017-09-01", False),
        ("pike", False),
        ("2018-03-02", True),
        ("queens", True),
        ("2018-08-31", True),
        ("2021-04-16", True),
        ("wallaby", True),
    ],
)
def test_tags_need_queens(version: str, ok: bool) -> None:
    template = hot({"p": {"type": "string", "default": "x", "tags": ["a", "b"]}}, version)
    defn = make_definition(template)
    if ok:
        assert not defn.diags, messages(defn)
        assert defn.parameters.schemas["p"].tags == ("a", "b")
    else:
        assert "Invalid key 'tags' for parameter (p)" in messages(defn)


@pytest.mark.parametrize("tags", ["a", [1], {"a": "b"}])
def test_tags_must_be_a_list_of_strings(tags: Any) -> None:
    template = hot({"p": {"type": "string", "default": "x", "tags": tags}}, "2018-03-02")
    assert "tags must be a list of strings" in messages(make_definition(template))


# ---------------------------------------------------------------------------
# parameter_groups


GROUP_PARAMS = {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        ([{"label": "g1", "parameters": ["a", "b"]}, {"parameters": ["c"]}], None),
        ([{"label": "g", "description": "d", "parameters": []}], None),
        ([], None),
        (
            [{"label": "g1", "parameters": ["a"]}, {"label": "g2", "parameters": ["a"]}],
            "The a parameter must be assigned to one parameter group only.",
        ),
        (
            [{"label": "g1", "parameters": ["a", "a"]}],
            "The a parameter must be assigned to one parameter group only.",
        ),
        (
            [{"label": "g1", "parameters": ["zzz"]}],
            "The grouped parameter zzz does not reference a valid parameter.",
        ),
        (
            [{"label": "g1"}],
            "Parameters must be provided for each Parameter Group.",
        ),
        (
            [{"label": "g1", "parameters": "a"}],
            "The parameters of parameter group g1 should be a list.",
        ),
        ([{"label": "g1", "parameters": ["a"], "colour": "red"}], "Invalid key(s)"),
        (["a"], "Each parameter group must be a map"),
        ({"label": "g1", "parameters": ["a"]}, "parameter_groups must be a list"),
    ],
)
def test_parameter_groups(groups: Any, fragment: str | None) -> None:
    template = hot(GROUP_PARAMS, parameter_groups=groups)
    defn = make_definition(template, parameters={"a": "1", "b": "2", "c": "3"})
    if fragment is None:
        assert not defn.diags, messages(defn)
        assert defn.parameter_groups == groups
    else:
        assert fragment in messages(defn)
        assert any(d.path[0] == "parameter_groups" for d in defn.diags)


# ---------------------------------------------------------------------------
# Pseudo-parameters


def test_hot_pseudo_parameters() -> None:
    defn = make_definition(hot({}))
    assert defn.parameters["OS::stack_name"] == "teststack"
    assert defn.parameters["OS::stack_id"] == "1234"
    assert defn.parameters["OS::project_id"] == "demo"
    assert "AWS::StackName" not in defn.parameters
    assert "AWS::Region" not in defn.parameters


@pytest.mark.parametrize("region", ["RegionOne", "mars-north-7"])
def test_cfn_pseudo_parameters(region: str) -> None:
    identity = StackIdentity(stack_name="web", stack_id="abc-123", project_id="p1", region=region)
    defn = define(Template.load(cfn({})), Environment(), identity=identity)
    assert not defn.diags, messages(defn)
    assert defn.parameters["AWS::StackName"] == "web"
    assert defn.parameters["AWS::StackId"] == "arn:openstack:heat::p1:stacks/web/abc-123"
    # Heat hard-wires ap-southeast-1 (reference §8.8); Ember reports the configured region.
    assert defn.parameters["AWS::Region"] == region
    assert "OS::stack_name" not in defn.parameters


def test_pseudo_parameters_are_usable_through_get_param() -> None:
    template = hot(
        {},
        outputs={
            "name": {"value": {"get_param": "OS::stack_name"}},
            "id": {"value": {"get_param": "OS::stack_id"}},
            "project": {"value": {"get_param": "OS::project_id"}},
        },
    )
    defn = make_definition(template)
    assert not defn.diags, messages(defn)
    values = {o.name: o.value for o in defn.resolve_outputs(defn.resolve_context())}
    assert values == {"name": "teststack", "id": "1234", "project": "demo"}


@pytest.mark.parametrize(
    "template",
    [
        hot({"OS::stack_name": {"type": "string", "default": "x"}}),
        cfn({"AWS::Region": {"Type": "String", "Default": "x"}}),
    ],
)
def test_pseudo_parameter_names_are_reserved(template: dict) -> None:
    assert "is reserved" in messages(make_definition(template))


# ---------------------------------------------------------------------------
# Missing and unknown parameters


@pytest.mark.parametrize(
    ("template", "values", "error", "fragment"),
    [
        (
            hot({"p": {"type": "string"}}),
            {},
            errors.UserParameterMissing,
            "The Parameter (p) was not provided.",
        ),
        (
            cfn({"P": {"Type": "Number"}}),
            {},
            errors.UserParameterMissing,
            "The Parameter (P) was not provided.",
        ),
        (
            hot({"a": {"type": "string"}, "b": {"type": "number"}}),
            {},
            errors.UserParameterMissing,
            "The Parameter (a) was not provided.",
        ),
        (
            # Heat treats ``default: null`` as no default.
            hot({"p": {"type": "string", "default": None}}),
            {},
            errors.UserParameterMissing,
            "The Parameter (p) was not provided.",
        ),
        (
            hot({"p": {"type": "number"}}),
            {"p": None},
            errors.UserParameterMissing,
            "The Parameter (p) was not provided.",
        ),
        (
            hot({"p": {"type": "string", "default": "d"}}),
            {"extra": "1"},
            errors.UnknownUserParameter,
            "The Parameter (extra) was not defined in template.",
        ),
        (
            cfn({}),
            {"AWS::StackName": "x"},
            errors.UnknownUserParameter,
            "The Parameter (AWS::StackName) was not defined in template.",
        ),
        (
            hot({"p": {"type": "string"}}),
            {"extra": "1"},
            errors.UnknownUserParameter,
            "The Parameter (extra) was not defined in template.",
        ),
    ],
)
def test_missing_and_unknown_parameters(
    template: dict, values: dict, error: type[Exception], fragment: str
) -> None:
    defn = make_definition(template, parameters=values)
    with pytest.raises(error) as info:
        defn.diags.raise_if_errors()
    assert type(info.value) is error
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("template", "values"),
    [
        (hot({"p": {"type": "string", "default": "d"}}), {}),
        (hot({"p": {"type": "string"}}), {"p": "v"}),
        (cfn({"P": {"Type": "String", "Default": ""}}), {}),
    ],
)
def test_parameters_with_values_or_defaults_are_not_missing(template: dict, values: dict) -> None:
    defn = make_definition(template, parameters=values)
    assert not defn.diags, messages(defn)
    defn.diags.raise_if_errors()


def test_null_value_falls_back_to_the_default() -> None:
    defn = make_definition(hot({"p": {"type": "number", "default": 3}}), parameters={"p": None})
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] == 3


def test_missing_parameters_tolerated_when_not_required() -> None:
    defn = make_definition(hot({"p": {"type": "string"}}), require_parameters=False)
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] is None


# ---------------------------------------------------------------------------
# Values and defaults from the environment


@pytest.mark.parametrize(
    ("template_default", "env_default", "env_value", "body_value", "expected"),
    [
        ("t", None, None, None, "t"),
        ("t", "e", None, None, "e"),
        ("t", "e", "v", None, "v"),
        ("t", "e", "v", "b", "b"),
        ("t", None, None, "b", "b"),
        (None, "e", None, None, "e"),
    ],
)
def test_value_precedence(
    template_default: str | None,
    env_default: str | None,
    env_value: str | None,
    body_value: str | None,
    expected: str,
) -> None:
    spec: dict[str, Any] = {"type": "string"}
    if template_default is not None:
        spec["default"] = template_default
    env: dict[str, Any] = {}
    if env_default is not None:
        env["parameter_defaults"] = {"p": env_default}
    if env_value is not None:
        env["parameters"] = {"p": env_value}
    body = {} if body_value is None else {"p": body_value}
    defn = make_definition(hot({"p": spec}), environment=env, parameters=body)
    assert not defn.diags, messages(defn)
    assert defn.parameters["p"] == expected


def test_parameter_defaults_for_undeclared_names_are_ignored() -> None:
    defn = make_definition(hot({}), environment={"parameter_defaults": {"other": 1}})
    assert not defn.diags, messages(defn)


def test_parameter_default_is_checked_against_constraints() -> None:
    template = hot(
        {"p": {"type": "string", "constraints": [{"allowed_values": ["a", "b"]}]}},
    )
    defn = make_definition(template, environment={"parameter_defaults": {"p": "zzz"}})
    assert '"zzz" is not an allowed value' in messages(defn)
