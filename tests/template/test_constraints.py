"""Parameter constraints, HOT and CloudFormation, including the custom-constraint hook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ember.common import errors
from ember.template import Environment, StackDefinition, StackIdentity, Template, define
from ember.template import constraints as c
from tests.template.conftest import FakeCatalog, make_definition


def hot_param(
    ptype: str, constraints: list[Any], version: str = "2013-05-23", **keys: Any
) -> dict[str, Any]:
    return {
        "heat_template_version": version,
        "parameters": {"p": {"type": ptype, "constraints": constraints, **keys}},
    }


def cfn_param(ptype: str, **keys: Any) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": {"p": {"Type": ptype, **keys}}}


def with_value(template: dict[str, Any], value: Any) -> StackDefinition:
    return make_definition(template, parameters={"p": value})


def define_custom(
    template: dict[str, Any], value: Any, custom: Mapping[str, c.CustomCheck] | None
) -> StackDefinition:
    return define(
        Template.load(template),
        Environment().with_parameters({"p": value}),
        identity=StackIdentity(stack_name="s", stack_id="1", project_id="p"),
        catalog=FakeCatalog(),
        custom_constraints=custom,
    )


def text(defn: StackDefinition) -> str:
    return "\n".join(defn.diags.messages())


# ---------------------------------------------------------------------------
# HOT constraints: values that pass and values that fail (with Heat's wording)

HOT_CASES = [
    # length
    ("string", {"length": {"min": 2, "max": 4}}, "ab", None),
    ("string", {"length": {"min": 2, "max": 4}}, "abcd", None),
    ("string", {"length": {"min": 2, "max": 4}}, "a", "The length must be in the range 2 to 4."),
    (
        "string",
        {"length": {"min": 2, "max": 4}},
        "abcde",
        "The length must be in the range 2 to 4.",
    ),
    ("string", {"length": {"min": 3}}, "ab", "The length must be at least 3."),
    ("string", {"length": {"max": 1}}, "ab", "The length must be no greater than 1."),
    ("string", {"length": {"min": "2"}}, "a", "The length must be at least 2."),
    ("comma_delimited_list", {"length": {"max": 2}}, "a,b", None),
    ("comma_delimited_list", {"length": {"max": 2}}, "a,b,c", "no greater than 2"),
    ("json", {"length": {"min": 1}}, {"a": 1}, None),
    ("json", {"length": {"min": 1}}, {}, "The length must be at least 1."),
    # range
    ("number", {"range": {"min": 1, "max": 10}}, "1", None),
    ("number", {"range": {"min": 1, "max": 10}}, "10", None),
    ("number", {"range": {"min": 1, "max": 10}}, "5.5", None),
    ("number", {"range": {"min": 1, "max": 10}}, "0", "The value must be in the range 1 to 10."),
    ("number", {"range": {"min": 1, "max": 10}}, 11, "The value must be in the range 1 to 10."),
    ("number", {"range": {"min": 0.5}}, "0.4", "The value must be at least 0.5."),
    ("number", {"range": {"max": -1}}, "0", "The value must be no greater than -1."),
    # allowed_values
    ("string", {"allowed_values": ["red", "blue"]}, "red", None),
    ("string", {"allowed_values": ["red", "blue"]}, "Red", '"Red" is not an allowed value'),
    ("string", {"allowed_values": ["red", "blue"]}, "", '"" is not an allowed value'),
    ("number", {"allowed_values": [1, 2.5]}, "2.5", None),
    ("number", {"allowed_values": ["1", "2"]}, "2", None),
    ("number", {"allowed_values": [1, 2]}, "3", '"3" is not an allowed value'),
    ("comma_delimited_list", {"allowed_values": ["a", "b"]}, "a,b,a", None),
    ("comma_delimited_list", {"allowed_values": ["a", "b"]}, "a,c", '"c" is not an allowed value'),
    ("boolean", {"allowed_values": [True]}, "yes", None),
    ("boolean", {"allowed_values": [True]}, "no", "is not an allowed value"),
    # allowed_pattern: the whole value must match
    ("string", {"allowed_pattern": "[a-z]+"}, "abc", None),
    ("string", {"allowed_pattern": "[a-z]+"}, "abc1", 'does not match pattern "[a-z]+"'),
    ("string", {"allowed_pattern": "[a-z]+"}, "1abc", 'does not match pattern "[a-z]+"'),
    ("string", {"allowed_pattern": "[a-z]+"}, "", 'does not match pattern "[a-z]+"'),
    ("string", {"allowed_pattern": "^[A-Z][a-z]*$"}, "Abc", None),
    ("string", {"allowed_pattern": "x"}, "xx", 'does not match pattern "x"'),
]


@pytest.mark.parametrize(("ptype", "constraint", "value", "error"), HOT_CASES)
def test_hot_constraints(ptype: str, constraint: dict, value: Any, error: str | None) -> None:
    defn = with_value(hot_param(ptype, [constraint]), value)
    if error is None:
        assert not defn.diags, text(defn)
    else:
        assert "Parameter 'p' is invalid: " in text(defn)
        assert error in text(defn)
        assert [d.path for d in defn.diags] == [("parameters", "p")]
        with pytest.raises(errors.StackValidationFailed):
            defn.diags.raise_if_errors()


@pytest.mark.parametrize(
    ("constraint", "value", "message"),
    [
        ({"length": {"min": 5}, "description": "Too short!"}, "abc", "Too short!"),
        ({"range": {"max": 3}, "description": "Too big!"}, "4", "Too big!"),
        ({"allowed_values": ["a"], "description": "Only a."}, "b", "Only a."),
        ({"allowed_pattern": "[0-9]+", "description": "Digits only"}, "x", "Digits only"),
    ],
)
def test_description_replaces_the_message(constraint: dict, value: str, message: str) -> None:
    ptype = "number" if "range" in constraint else "string"
    defn = with_value(hot_param(ptype, [constraint]), value)
    assert text(defn) == f"parameters.p: Parameter 'p' is invalid: {message}"


def test_every_constraint_is_checked() -> None:
    constraints = [{"length": {"min": 2}}, {"allowed_pattern": "[a-z]*"}]
    assert "does not match" in text(with_value(hot_param("string", constraints), "AB"))
    assert "at least 2" in text(with_value(hot_param("string", constraints), "a"))
    assert not with_value(hot_param("string", constraints), "ab").diags


# ---------------------------------------------------------------------------
# modulo: only from HOT 2017-02-24 (ocata)


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("2013-05-23", False),
        ("2015-10-15", False),
        ("2016-10-14", False),
        ("newton", False),
        ("2017-02-24", True),
        ("ocata", True),
        ("2017-09-01", True),
        ("2018-03-02", True),
        ("2021-04-16", True),
    ],
)
def test_modulo_needs_ocata(version: str, ok: bool) -> None:
    template = hot_param("number", [{"modulo": {"step": 2, "offset": 1}}], version)
    defn = with_value(template, "3")
    if ok:
        assert not defn.diags, text(defn)
        assert defn.parameters.schemas["p"].constraints == (c.Modulo(step=2, offset=1),)
    else:
        assert 'Invalid constraint type "modulo"' in text(defn)


@pytest.mark.parametrize(
    ("step", "offset", "value", "ok"),
    [
        (2, 1, "3", True),
        (2, 1, "-1", True),
        (2, 1, "4", False),
        (2, 0, "0", True),
        (2, 0, "8", True),
        (2, 0, "7", False),
        (5, 3, "13", True),
        (5, 3, "12", False),
        (-2, -1, "-3", True),
        (-2, -1, "3", True),
        (-2, -1, "-4", False),
    ],
)
def test_modulo_values(step: int, offset: int, value: str, ok: bool) -> None:
    template = hot_param("number", [{"modulo": {"step": step, "offset": offset}}], "2017-02-24")
    defn = with_value(template, value)
    if ok:
        assert not defn.diags, text(defn)
    else:
        assert f"The value must be a multiple of {step} with an offset of {offset}." in text(defn)


@pytest.mark.parametrize(
    ("modulo", "fragment"),
    [
        ({"step": 0, "offset": 0}, "step cannot be 0."),
        ({"step": 2, "offset": 2}, "offset must be smaller (by absolute value) than step."),
        ({"step": 2, "offset": -3}, "offset must be smaller (by absolute value) than step."),
        ({"step": 3, "offset": -1}, "step and offset must be both positive or both negative."),
        ({"step": -3, "offset": 1}, "step and offset must be both positive or both negative."),
        ({"step": 2}, "modulo needs exactly step and offset"),
        ({"offset": 1}, "modulo needs exactly step and offset"),
        ({"step": 2, "offset": 1, "extra": 0}, "modulo needs exactly step and offset"),
        ([2, 1], "modulo needs exactly step and offset"),
        ({"step": "two", "offset": 1}, '"two" is not a number'),
    ],
)
def test_bad_modulo_definitions(modulo: Any, fragment: str) -> None:
    defn = with_value(hot_param("number", [{"modulo": modulo}], "2017-02-24"), "1")
    assert fragment in text(defn)
    assert all(d.path[:4] == ("parameters", "p", "constraints", 0) for d in defn.diags)


# ---------------------------------------------------------------------------
# Malformed constraints and constraints on the wrong type


@pytest.mark.parametrize(
    ("ptype", "constraint", "fragment"),
    [
        ("number", {"length": {"min": 1}}, 'The "length" constraint is invalid for parameter type'),
        ("boolean", {"length": {"min": 1}}, 'The "length" constraint is invalid'),
        ("string", {"range": {"min": 1}}, 'The "range" constraint is invalid'),
        ("json", {"range": {"min": 1}}, 'The "range" constraint is invalid'),
        ("string", {"modulo": {"step": 2, "offset": 0}}, 'The "modulo" constraint is invalid'),
        ("number", {"allowed_pattern": "[0-9]+"}, 'The "allowed_pattern" constraint is invalid'),
        ("comma_delimited_list", {"allowed_pattern": "x"}, '"allowed_pattern" constraint is inv'),
        ("json", {"allowed_values": [{}]}, 'The "allowed_values" constraint is invalid'),
    ],
)
def test_constraint_on_wrong_type(ptype: str, constraint: dict, fragment: str) -> None:
    defn = make_definition(hot_param(ptype, [constraint], "2017-02-24"), require_parameters=False)
    assert fragment in text(defn)
    assert f'parameter type "{ptype}"' in text(defn)
    with pytest.raises(errors.InvalidSchemaError):
        defn.diags.raise_if_errors()


@pytest.mark.parametrize(
    ("constraints", "fragment"),
    [
        ([{"length": {}}], "Expected a map with min and/or max"),
        ([{"length": 3}], "Expected a map with min and/or max"),
        ([{"length": {"least": 3}}], "Expected a map with min and/or max"),
        ([{"length": {"min": "x"}}], '"x" is not a number'),
        ([{"range": {"max": [1]}}], "is not a number"),
        ([{"allowed_values": []}], "allowed_values must be a non-empty list"),
        ([{"allowed_values": "a"}], "allowed_values must be a non-empty list"),
        ([{"allowed_pattern": ["a"]}], "allowed_pattern must be a string"),
        ([{"allowed_pattern": "[unclosed"}], 'Invalid allowed_pattern "[unclosed"'),
        ([{"custom_constraint": 5}], "custom_constraint must be a string"),
        ([{"colour": "red"}], 'Invalid constraint type "colour"'),
        ([{"length": {"min": 1}, "range": {"min": 1}}], "exactly one constraint type"),
        ([{"description": "only a description"}], "exactly one constraint type"),
        (["length"], "Each constraint must be a map"),
    ],
)
def test_malformed_constraints(constraints: list[Any], fragment: str) -> None:
    defn = make_definition(hot_param("string", constraints), require_parameters=False)
    assert fragment in text(defn)
    assert all(d.path[:3] == ("parameters", "p", "constraints") for d in defn.diags)


@pytest.mark.parametrize(
    ("ptype", "default", "constraint", "fragment"),
    [
        ("string", "toolong", {"length": {"max": 3}}, "no greater than 3"),
        ("number", 99, {"range": {"max": 10}}, "no greater than 10"),
        ("string", "c", {"allowed_values": ["a", "b"]}, '"c" is not an allowed value'),
        ("string", "A1", {"allowed_pattern": "[A-Z]+"}, "does not match pattern"),
        ("string", "x", {"allowed_values": ["a"], "description": "Pick a"}, "Pick a"),
    ],
)
def test_default_violating_a_constraint_is_reported(
    ptype: str, default: Any, constraint: dict, fragment: str
) -> None:
    template = hot_param(ptype, [constraint], default=default)
    defn = make_definition(template)
    defaults = [d for d in defn.diags if d.path == ("parameters", "p", "default")]
    assert defaults, text(defn)
    assert fragment in defaults[0].message
    # A valid user value still leaves the bad default reported.
    assert ("parameters", "p", "default") in {d.path for d in with_value(template, "a").diags}


# ---------------------------------------------------------------------------
# custom_constraint through the hook


def even(value: Any) -> str | None:
    return None if int(value) % 2 == 0 else "the value is odd"


CUSTOM = {"test.even": even, "test.always": lambda value: None}


@pytest.mark.parametrize(
    ("name", "value", "custom", "fragment"),
    [
        ("test.even", "4", CUSTOM, None),
        ("test.even", "3", CUSTOM, '"3" does not validate test.even: the value is odd'),
        ("test.always", "anything", CUSTOM, None),
        # Unknown names are an error when a stack is created (a checker table is given) ...
        ("nova.flavor", "m1.small", CUSTOM, "does not validate nova.flavor"),
        ("nova.flavor", "m1.small", {}, "does not validate nova.flavor"),
        # ... and skipped by static validation, which has no checkers.
        ("nova.flavor", "m1.small", None, None),
        ("test.even", "3", None, None),
    ],
)
def test_custom_constraint(
    name: str, value: str, custom: dict | None, fragment: str | None
) -> None:
    defn = define_custom(hot_param("string", [{"custom_constraint": name}]), value, custom)
    if fragment is None:
        assert not defn.diags, text(defn)
        assert defn.parameters["p"] == value
    else:
        assert "Parameter 'p' is invalid: " in text(defn)
        assert fragment in text(defn)


def test_custom_constraint_description_replaces_the_message() -> None:
    template = hot_param("number", [{"custom_constraint": "test.even", "description": "Even!"}])
    defn = define_custom(template, "3", CUSTOM)
    assert text(defn) == "parameters.p: Parameter 'p' is invalid: Even!"


def test_custom_constraint_receives_the_coerced_value() -> None:
    seen: list[Any] = []

    def record(value: Any) -> None:
        seen.append(value)

    template = hot_param("comma_delimited_list", [{"custom_constraint": "rec"}])
    define_custom(template, "a,b", {"rec": record})
    assert seen == [["a", "b"]]


@pytest.mark.parametrize("ptype", ["string", "number", "comma_delimited_list", "json", "boolean"])
def test_custom_constraint_applies_to_every_type(ptype: str) -> None:
    defn = make_definition(
        hot_param(ptype, [{"custom_constraint": "x.y"}]), require_parameters=False
    )
    assert not defn.diags, text(defn)


# ---------------------------------------------------------------------------
# CloudFormation constraint keys


CFN_CASES = [
    ("String", {"MinLength": 2}, "ab", None),
    ("String", {"MinLength": "2"}, "a", "The length must be at least 2."),
    ("String", {"MaxLength": "3"}, "abcd", "The length must be no greater than 3."),
    ("String", {"MinLength": 1, "MaxLength": 2}, "abc", "The length must be in the range 1 to 2."),
    ("Number", {"MinValue": "1", "MaxValue": "5"}, "5", None),
    ("Number", {"MinValue": "1", "MaxValue": "5"}, "6", "The value must be in the range 1 to 5."),
    ("Number", {"MinValue": 2}, "1", "The value must be at least 2."),
    ("Number", {"MaxValue": 2.5}, "3", "The value must be no greater than 2.5."),
    ("String", {"AllowedValues": ["t1", "t2"]}, "t2", None),
    ("String", {"AllowedValues": ["t1", "t2"]}, "t3", '"t3" is not an allowed value'),
    ("Number", {"AllowedValues": ["1", "2"]}, "2", None),
    ("CommaDelimitedList", {"AllowedValues": ["a", "b"]}, "b,a", None),
    ("CommaDelimitedList", {"AllowedValues": ["a", "b"]}, "a,z", '"z" is not an allowed value'),
    ("String", {"AllowedPattern": "[a-z0-9]*"}, "ab12", None),
    ("String", {"AllowedPattern": "[a-z0-9]*"}, "ab-12", 'does not match pattern "[a-z0-9]*"'),
    ("Json", {"MaxLength": 1}, '{"a": 1, "b": 2}', "The length must be no greater than 1."),
    # ConstraintDescription replaces the message of every constraint
    ("String", {"MinLength": 3, "ConstraintDescription": "Name it!"}, "a", "Name it!"),
    ("String", {"AllowedPattern": "[a-z]+", "ConstraintDescription": "lower"}, "A", "lower"),
    ("Number", {"MaxValue": 1, "ConstraintDescription": "Small please"}, "9", "Small please"),
]


@pytest.mark.parametrize(("ptype", "keys", "value", "error"), CFN_CASES)
def test_cfn_constraints(ptype: str, keys: dict, value: Any, error: str | None) -> None:
    defn = with_value(cfn_param(ptype, **keys), value)
    if error is None:
        assert not defn.diags, text(defn)
    else:
        assert text(defn).startswith("Parameters.p: Parameter 'p' is invalid: ")
        assert error in text(defn)


@pytest.mark.parametrize(
    ("ptype", "keys", "fragment"),
    [
        ("Number", {"MinLength": 1}, "Length is invalid for parameter type Number"),
        ("String", {"MinValue": 1}, "Range is invalid for parameter type String"),
        ("Number", {"AllowedPattern": "[0-9]"}, "AllowedPattern is invalid for parameter type"),
        ("Json", {"AllowedValues": ["a"]}, "AllowedValues is invalid for parameter type Json"),
        ("String", {"AllowedValues": []}, "AllowedValues must be a non-empty list"),
        ("String", {"MinLength": "x"}, '"x" is not a number'),
        ("String", {"AllowedPattern": "("}, "Invalid allowed_pattern"),
        ("String", {"MinLength": 1, "Colour": "red"}, "Invalid key 'Colour' for parameter (p)"),
    ],
)
def test_cfn_bad_constraints(ptype: str, keys: dict, fragment: str) -> None:
    defn = make_definition(cfn_param(ptype, **keys), require_parameters=False)
    assert fragment in text(defn)
    with pytest.raises(errors.InvalidSchemaError):
        defn.diags.raise_if_errors()


def test_cfn_constraint_description_and_no_echo_are_kept() -> None:
    template = cfn_param(
        "String", MinLength=1, ConstraintDescription="Give a name", NoEcho="true", Default="x"
    )
    defn = make_definition(template)
    assert not defn.diags, text(defn)
    schema = defn.parameters.schemas["p"]
    assert schema.constraint_description == "Give a name"
    assert schema.hidden
    assert defn.parameters.shown()["p"] == "******"
    assert [type(k) for k in schema.constraints] == [c.Length]


def test_cfn_default_violating_a_constraint() -> None:
    defn = make_definition(cfn_param("Number", MaxValue=5, Default=6))
    defaults = [d for d in defn.diags if d.path == ("Parameters", "p", "Default")]
    assert defaults, text(defn)
    assert "no greater than 5" in defaults[0].message


# ---------------------------------------------------------------------------
# The constraint classes themselves


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (c.Length(min=1, max=2), {"length": {"min": 1, "max": 2}}),
        (c.Length(max=2), {"length": {"max": 2}}),
        (c.Range(min=0), {"range": {"min": 0}}),
        (c.Modulo(step=3, offset=1), {"modulo": {"step": 3, "offset": 1}}),
        (c.AllowedValues(values=("a", "b")), {"allowed_values": ["a", "b"]}),
        (c.AllowedPattern(pattern="x+"), {"allowed_pattern": "x+"}),
        (c.CustomConstraint(name="nova.flavor"), {"custom_constraint": "nova.flavor"}),
    ],
)
def test_constraint_to_dict(constraint: c.Constraint, expected: dict) -> None:
    assert constraint.to_dict() == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5), ("5.5", 5.5), (3, 3), (2.5, 2.5), ("-0", 0), ("1e2", 100.0)],
)
def test_to_number(value: Any, expected: Any) -> None:
    result = c.to_number(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("value", ["x", "", None, True, "inf", "nan", [1]])
def test_to_number_rejects(value: Any) -> None:
    with pytest.raises(c.ConstraintError, match="is not a number"):
        c.to_number(value)
