"""HOT ``if`` and the ``conditions`` section with its condition functions, per version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.function_helpers import (
    ABSENT,
    VALUE_PATH,
    assert_clean,
    before,
    define,
    hot,
    output_values,
    resolution_error,
    since,
    value_of,
)

PARAMS = {
    "env": {"type": "string", "default": "prod"},
    "flag": {"type": "boolean", "default": True},
    "zones": {"type": "comma_delimited_list", "default": "az1,az2"},
}
CONDITIONS = {
    "is_prod": {"equals": [{"get_param": "env"}, "prod"]},
    "is_dev": {"not": "is_prod"},
    "prod_and_flag": {"and": ["is_prod", {"get_param": "flag"}]},
    "dev_or_false": {"or": ["is_dev", False]},
    "always": True,
    "never": False,
}
NEWTON_ON = since("2016-10-14")


def _defn(version: str, value: Any, **kwargs: Any) -> Any:
    given = kwargs.pop("given", None)
    return define(
        hot(version, value, parameters=PARAMS, conditions=CONDITIONS, **kwargs), parameters=given
    )


# ---------------------------------------------------------------------------------------------
# if


@pytest.mark.parametrize("version", NEWTON_ON)
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("is_prod", "yes"),
        ("is_dev", "no"),
        ("prod_and_flag", "yes"),
        ("dev_or_false", "no"),
        ("always", "yes"),
        ("never", "no"),
        (True, "yes"),
        (False, "no"),
        # An inline condition function, parsed with the condition functions.
        ({"equals": [{"get_param": "env"}, "dev"]}, "no"),
        ({"not": "is_dev"}, "yes"),
        ({"or": ["never", {"equals": [1, 1]}]}, "yes"),
    ],
)
def test_if(version: str, condition: Any, expected: str) -> None:
    defn = _defn(version, {"if": [condition, "yes", "no"]})
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(("env", "expected"), [("prod", "big"), ("dev", "small")])
def test_if_follows_the_parameter_values(env: str, expected: str) -> None:
    defn = _defn("2016-10-14", {"if": ["is_prod", "big", "small"]}, given={"env": env})
    assert defn.conditions["is_prod"] is (env == "prod")
    assert value_of(defn) == expected


def test_if_branches_may_hold_functions_and_nest() -> None:
    value = {
        "if": [
            "is_prod",
            {"list_join": ["-", [{"get_param": "env"}, {"get_resource": "other"}]]},
            {"if": ["never", "a", "b"]},
        ]
    }
    assert value_of(_defn("2016-10-14", value)) == "prod-other-id"
    assert value_of(_defn("2016-10-14", value, given={"env": "dev"})) == "b"


@pytest.mark.parametrize("version", NEWTON_ON)
def test_if_unknown_condition_name(version: str) -> None:
    defn = _defn(version, {"if": ["nosuch", "yes", "no"]})
    assert defn.diags.messages() == [f'{VALUE_PATH}.if: Invalid condition name "nosuch"']
    assert resolution_error(defn) == f'{VALUE_PATH}.if: Invalid condition name "nosuch"'


def test_if_bad_inline_condition_is_reported() -> None:
    defn = _defn("2016-10-14", {"if": [{"not": "nosuch"}, "yes", "no"]})
    assert defn.diags.messages() == [f'{VALUE_PATH}.if: Invalid condition name "nosuch"']


@pytest.mark.parametrize(
    ("version", "condition", "name"),
    [
        ("2016-10-14", {"equals": [{"get_attr": ["other", "value"]}, "x"]}, "get_attr"),
        ("2021-04-16", {"not": {"get_resource": "other"}}, "get_resource"),
        ("2016-10-14", {"not": {"yaql": {"expression": "true"}}}, "yaql"),
        ("2017-02-24", {"contains": ["a", ["a"]]}, None),  # not even a function before pike
    ],
)
def test_if_inline_condition_only_takes_condition_functions(
    version: str, condition: Any, name: str | None
) -> None:
    defn = _defn(version, {"if": [condition, "yes", "no"]})
    [message] = defn.diags.messages()
    if name is None:
        assert message == (
            f"{VALUE_PATH}.if: A condition must be a boolean, a condition function or the name "
            "of a condition"
        )
    else:
        assert message == f'{VALUE_PATH}.if: The function "{name}" is invalid in this context'


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"not": {"yaql": {"expression": "true"}}}, "no"),
        ({"contains": [{"get_param": "env"}, ["prod", "dev"]]}, "yes"),
    ],
)
def test_if_inline_yaql_and_contains_from_pike(version: str, condition: Any, expected: str) -> None:
    defn = _defn(version, {"if": [condition, "yes", "no"]})
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("version", "args", "message"),
    [
        ("2016-10-14", ["is_prod", "yes"], 'Arguments to "if" must be a list of 3 items.'),
        ("2018-08-31", ["is_prod", "yes"], 'Arguments to "if" must be a list of 3 items.'),
        ("2016-10-14", ["is_prod", 1, 2, 3], 'Arguments to "if" must be a list of 3 items.'),
        ("2021-04-16", ["is_prod"], 'Arguments to "if" must be a list of 2 to 3 items.'),
        ("2021-04-16", ["is_prod", 1, 2, 3], 'Arguments to "if" must be a list of 2 to 3 items.'),
        ("2016-10-14", "is_prod", 'Arguments to "if" must be a list of 3 items.'),
        (
            "2016-10-14",
            [["is_prod"], 1, 2],
            'The condition of "if" must be a condition name, boolean or condition function.',
        ),
    ],
)
def test_if_bad_arguments(version: str, args: Any, message: str) -> None:
    defn = _defn(version, {"if": args})
    assert defn.diags.messages() == [f"{VALUE_PATH}.if: {message}"]
    assert resolution_error(defn) == f"{VALUE_PATH}.if: {message}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1, "b": {"if": ["never", "B"]}}, {"a": 1}),
        ({"a": 1, "b": {"if": ["always", "B"]}}, {"a": 1, "b": "B"}),
        ([1, {"if": ["is_dev", 2]}, 3], [1, 3]),
        ([1, {"if": ["is_prod", 2]}, 3], [1, 2, 3]),
        ({"l": [{"if": ["never", {"get_resource": "other"}]}]}, {"l": []}),
        ({"a": {"if": ["never", "B", "C"]}}, {"a": "C"}),  # the 3-argument form still works
    ],
)
def test_if_two_argument_form_removes_the_item_from_wallaby(value: Any, expected: Any) -> None:
    defn = _defn("2021-04-16", value)
    assert_clean(defn)
    assert value_of(defn) == expected


def test_if_two_argument_form_removes_a_whole_property() -> None:
    resources = {"free": {"type": "OS::Heat::None", "properties": {"p": {"if": ["never", 1]}}}}
    defn = _defn("2021-04-16", "v", resources=resources)
    assert_clean(defn)
    assert value_of(defn, name="free") == ABSENT


def test_if_two_argument_form_in_an_output() -> None:
    outputs = {"o": {"value": {"a": {"if": ["never", 1]}, "b": {"if": ["always", 2]}}}}
    defn = _defn("2021-04-16", "v", outputs=outputs)
    assert output_values(defn) == {"o": ({"b": 2}, None)}


@pytest.mark.parametrize("version", NEWTON_ON)
def test_if_unused_branch_references_disappear(version: str) -> None:
    value = {
        "if": [
            "is_prod",
            {"get_attr": ["other", "value"]},
            {"list_join": [",", [{"get_resource": "third"}, {"get_resource": "missing"}]]},
        ]
    }
    defn = _defn(version, value)
    assert_clean(defn)  # the reference to "missing" is gone with its branch
    assert defn.resources["r"].requires == frozenset({"other"})
    assert defn.graph().requires("r") == frozenset({"other"})
    dev = _defn(version, value, given={"env": "dev"})
    assert dev.resources["r"].requires == frozenset({"third", "missing"})
    assert dev.diags.messages() == [
        f'{VALUE_PATH}.if[2].list_join[1][1].get_resource: The specified reference "missing" '
        "(in get_resource) is incorrect."
    ]


@pytest.mark.parametrize("version", before("2016-10-14"))
def test_if_before_newton_is_plain_data(version: str) -> None:
    snippet = {"if": [True, {"get_resource": "other"}, "no"]}
    defn = define(hot(version, snippet))
    assert_clean(defn)
    assert value_of(defn) == {"if": [True, "other-id", "no"]}


# ---------------------------------------------------------------------------------------------
# The conditions section


def _conditions(version: str, conditions: Any, given: dict[str, Any] | None = None) -> Any:
    doc = hot(version, "v", parameters=PARAMS)
    doc["conditions"] = conditions
    return define(doc, parameters=given)


@pytest.mark.parametrize("version", NEWTON_ON)
@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (True, True),
        (False, False),
        ({"equals": [{"get_param": "env"}, "prod"]}, True),
        ({"equals": [{"get_param": "env"}, "dev"]}, False),
        ({"equals": [{"get_param": "zones"}, ["az1", "az2"]]}, True),
        ({"equals": [1, "1"]}, False),
        ({"get_param": "flag"}, True),
        ({"not": True}, False),
        ({"not": {"equals": [1, 2]}}, True),
        ({"and": [True, True, True]}, True),
        ({"and": [True, {"equals": [1, 2]}]}, False),
        ({"or": [False, False]}, False),
        ({"or": [False, {"get_param": "flag"}]}, True),
        ({"not": {"and": [True, {"or": [False, {"not": False}]}]}}, False),
    ],
)
def test_condition_functions(version: str, definition: Any, expected: bool) -> None:
    defn = _conditions(version, {"c": definition})
    assert_clean(defn)
    assert defn.conditions == {"c": expected}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"env": "prod", "flag": True}, {"a": True, "b": False, "c": True, "d": True}),
        ({"env": "prod", "flag": False}, {"a": True, "b": False, "c": False, "d": False}),
        ({"env": "dev", "flag": True}, {"a": False, "b": True, "c": False, "d": True}),
    ],
)
def test_conditions_refer_to_other_conditions(
    given: dict[str, Any], expected: dict[str, bool]
) -> None:
    conditions = {
        "d": {"or": ["b", "c"]},  # written before the conditions it uses
        "a": {"equals": [{"get_param": "env"}, "prod"]},
        "b": {"not": "a"},
        "c": {"and": ["a", {"get_param": "flag"}]},
    }
    defn = _conditions("2016-10-14", conditions, given)
    assert_clean(defn)
    assert defn.conditions == expected


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"a": "a"}, "conditions.a: Circular definition for condition: a -> a"),
        ({"a": "b", "b": "a"}, "conditions.a: Circular definition for condition: a -> b -> a"),
        (
            {"a": {"not": "b"}, "b": {"and": [True, "c"]}, "c": {"or": ["a", False]}},
            "Circular definition for condition: a -> b -> c -> a",
        ),
    ],
)
def test_condition_loop_is_reported(conditions: dict[str, Any], message: str) -> None:
    defn = _conditions("2016-10-14", conditions)
    messages = defn.diags.messages()
    assert messages
    assert any(m.endswith(message) for m in messages), messages
    assert not any(defn.conditions.values())


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("nosuch", 'conditions.c: Invalid condition name "nosuch"'),
        ("true", 'conditions.c: Invalid condition name "true"'),
        ({"get_param": "env"}, "conditions.c: A condition must be a boolean, not 'prod'"),
        (
            {"equals": [{"get_param": "nope"}, 1]},
            "conditions.c.equals[0].get_param: The Parameter (nope) was not provided.",
        ),
        ({"equals": [1]}, 'conditions.c.equals: Arguments to "equals" must be a list of 2 items.'),
        (
            {"and": [True]},
            'conditions.c.and: Arguments to "and" must be a list of 2 or more conditions.',
        ),
        (
            {"or": "always"},
            'conditions.c.or: Arguments to "or" must be a list of 2 or more conditions.',
        ),
        (
            {"not": [True]},
            'conditions.c.not: Argument to "not" must be a condition name, boolean or '
            "condition function.",
        ),
        (
            {"get_resource": "other"},
            "conditions.c: A condition must be a boolean, a condition function or the name of "
            "a condition",
        ),
        (
            5,
            "conditions.c: A condition must be a boolean, a condition function or the name of "
            "a condition",
        ),
        (
            {"and": [True, "nosuch"]},
            'conditions.c.and: Invalid condition name "nosuch"',
        ),
    ],
)
def test_bad_conditions(definition: Any, message: str) -> None:
    defn = _conditions("2016-10-14", {"c": definition})
    assert defn.diags.messages() == [message]
    assert defn.conditions == {"c": False}


@pytest.mark.parametrize("version", ["2016-10-14", "2017-02-24"])
@pytest.mark.parametrize(
    "definition",
    [
        {"yaql": {"expression": "$.data.x", "data": {"x": True}}},
        {"contains": ["az1", {"get_param": "zones"}]},
    ],
)
def test_yaql_and_contains_are_not_condition_functions_before_pike(
    version: str, definition: Any
) -> None:
    defn = _conditions(version, {"c": definition})
    assert defn.diags.messages() == [
        "conditions.c: A condition must be a boolean, a condition function or the name of a "
        "condition"
    ]


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"yaql": {"expression": "$.data.x", "data": {"x": True}}}, True),
        ({"yaql": {"expression": "$.data.z.len() > 2", "data": {"z": [1, 2]}}}, False),
        ({"contains": ["az1", {"get_param": "zones"}]}, True),
        ({"contains": ["az9", {"get_param": "zones"}]}, False),
        ({"not": {"contains": ["az9", ["az1"]]}}, True),
    ],
)
def test_yaql_and_contains_are_condition_functions_from_pike(
    version: str, definition: Any, expected: bool
) -> None:
    defn = _conditions(version, {"c": definition})
    assert_clean(defn)
    assert defn.conditions == {"c": expected}


def test_yaql_condition_must_give_a_boolean() -> None:
    defn = _conditions("2017-09-01", {"c": {"yaql": {"expression": "1 + 1"}}})
    assert defn.diags.messages() == ["conditions.c: A condition must be a boolean, not 2"]


@pytest.mark.parametrize("version", before("2016-10-14"))
def test_conditions_section_before_newton_is_invalid(version: str) -> None:
    defn = _conditions(version, {"c": True})
    assert defn.diags.messages() == ["The template section is invalid: conditions"]


# ---------------------------------------------------------------------------------------------
# Conditions on resources and outputs


@pytest.mark.parametrize("version", NEWTON_ON)
@pytest.mark.parametrize(
    ("condition", "enabled"),
    [
        ("is_prod", True),
        ("is_dev", False),
        (True, True),
        (False, False),
        ({"equals": [{"get_param": "env"}, "dev"]}, False),
        ({"not": "never"}, True),
    ],
)
def test_resource_and_output_conditions(version: str, condition: Any, enabled: bool) -> None:
    resources = {"maybe": {"type": "OS::Heat::None", "condition": condition}}
    outputs = {"o": {"value": "out", "condition": condition}, "always": {"value": 1}}
    defn = _defn(version, "v", resources=resources, outputs=outputs)
    assert_clean(defn)
    assert ("maybe" in defn.resources) is enabled
    assert ("maybe" in defn.disabled) is not enabled
    # A disabled output is still there, with no value.
    assert output_values(defn) == {"o": ("out" if enabled else None, None), "always": (1, None)}


def test_unknown_condition_on_a_resource_and_an_output() -> None:
    resources = {"maybe": {"type": "OS::Heat::None", "condition": "nosuch"}}
    outputs = {"o": {"value": "out", "condition": "nosuch"}}
    defn = _defn("2016-10-14", "v", resources=resources, outputs=outputs)
    assert defn.diags.messages() == [
        'resources.maybe.condition: Invalid condition name "nosuch"',
        'outputs.o.condition: Invalid condition name "nosuch"',
    ]


def test_reference_to_a_disabled_resource_is_reported() -> None:
    resources = {
        "maybe": {"type": "OS::Heat::None", "condition": "never"},
        "user": {"type": "OS::Heat::Value", "properties": {"value": {"get_resource": "maybe"}}},
    }
    defn = _defn("2016-10-14", "v", resources=resources)
    assert defn.diags.messages() == [
        'resources.user.properties.value.get_resource: The specified reference "maybe" '
        "(in get_resource) is incorrect."
    ]
