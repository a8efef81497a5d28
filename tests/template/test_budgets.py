"""What template functions may make is bounded: every value a function returns counts
against one budget per evaluation, and the functions that can make much from little refuse
before they build. Validation computes the amplifying calls it can, so a template that could
only fail later is refused at once, naming where."""

from __future__ import annotations

from typing import Any

import pytest

from ember.common import errors
from ember.template import Environment, Limits, Template, build, define
from ember.template.functions.budget import Budget, TooLarge, measure
from ember.template.stack_definition import StackDefinition

VERSION = "2017-09-01"
TOO_MANY_ITEMS = "The value is too large: it would pass the limit of"


def template(outputs: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": VERSION, **sections}
    if outputs is not None:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return doc


def validated(doc: dict[str, Any], limits: Limits | None = None) -> StackDefinition:
    return define(Template.load(doc), Environment(), limits=limits or Limits())


def stored(doc: dict[str, Any]) -> StackDefinition:
    """A definition as the engine rebuilds a stored stack's: not validated again."""
    return build(Template.load(doc), limits=Limits())


def numbers(n: int) -> dict[str, Any]:
    return {"type": "comma_delimited_list", "default": ",".join(str(i) for i in range(n))}


def shown(defn: StackDefinition) -> dict[str, Any]:
    """Output values (or errors) as a stack show computes them: one context for all."""
    ctx = defn.resolve_context()
    return {o.name: o.error or o.value for o in defn.resolve_outputs(ctx)}


# The probe's template: a repeat over two 3,000-item lists is nine million strings.
AMPLIFIED = template(
    parameters={"a": numbers(3000)},
    outputs={
        "x": {
            "repeat": {
                "for_each": {"<%a%>": {"get_param": "a"}, "<%b%>": {"get_param": "a"}},
                "template": "<%a%>-<%b%>",
            }
        }
    },
)


def test_validation_refuses_a_repeat_too_large_naming_it() -> None:
    defn = validated(AMPLIFIED)
    messages = defn.diags.messages()
    assert len(messages) == 1
    assert messages[0].startswith(f"outputs.x.value.repeat: {TOO_MANY_ITEMS} 200000 ")
    with pytest.raises(errors.StackValidationFailed):
        defn.diags.raise_if_errors()


def test_a_stored_stack_shows_the_output_error_instead_of_building_it() -> None:
    # Stacks stored before the limit (or whose value depends on resources) still show:
    # the output carries the error, nothing is built.
    again = stored(AMPLIFIED)
    ctx = again.resolve_context()
    (value,) = again.resolve_outputs(ctx)
    assert value.value is None
    assert value.error is not None and value.error.startswith("The value is too large")
    assert ctx.budget.items < 10_000  # the two lists read, nothing of nine million made


def test_a_repeat_within_the_budget_is_made() -> None:
    doc = template(
        parameters={"a": numbers(300)},
        outputs={
            "x": {
                "repeat": {
                    "for_each": {"<%a%>": {"get_param": "a"}, "<%b%>": {"get_param": "a"}},
                    "template": "<%a%>-<%b%>",
                }
            }
        },
    )
    defn = validated(doc)
    assert not defn.diags
    value = shown(defn)["x"]
    assert len(value) == 90_000 and value[301] == "1-1"


@pytest.mark.parametrize(
    ("expression", "path"),
    [
        # One 300,000-piece split of a parameter.
        ({"str_split": [",", {"get_param": "commas"}]}, "str_split"),
        # list_concat of a long list many times over.
        (
            {"list_concat": [{"str_split": [",", {"get_param": "short"}]}] * 30},
            "list_concat[19].str_split",
        ),
        # A thousand placeholders, each replaced by 5,000 characters: 5 million.
        (
            {"str_replace": {"template": "%x%" * 1000, "params": {"%x%": {"get_param": "long"}}}},
            "str_replace",
        ),
        # A repeat whose every item is a long string.
        (
            {
                "repeat": {
                    "for_each": {"%i%": {"str_split": [",", {"get_param": "short"}]}},
                    "template": {"k": "%i%" * 200},
                }
            },
            "repeat",
        ),
        (
            {
                "list_join": [
                    {"get_param": "long"},
                    {"str_split": [",", {"get_param": "short"}]},
                ]
            },
            "list_join",
        ),
    ],
)
def test_amplifying_functions_are_refused_before_they_validated(
    expression: dict[str, Any], path: str
) -> None:
    doc = template(
        parameters={
            "commas": {"type": "string", "default": "," * 300_000},
            "short": {"type": "string", "default": ",".join(["abc"] * 10_000)},
            "long": {"type": "string", "default": "y" * 5_000},
        },
        outputs={"x": expression},
    )
    messages = validated(doc).diags.messages()
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"outputs.x.value.{path}: The value is too large"), messages


@pytest.mark.parametrize(
    "expression",
    [
        {"Fn::Split": [",", {"Ref": "commas"}]},
        {"Fn::Replace": [{"%x%": {"Ref": "long"}}, "%x%" * 1000]},
        {"Fn::Join": [{"Ref": "long"}, {"Fn::Split": [",", "," * 1000]}]},
    ],
)
def test_cfn_functions_are_refused_before_they_build(expression: dict[str, Any]) -> None:
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "commas": {"Type": "String", "Default": "," * 300_000},
            "long": {"Type": "String", "Default": "y" * 5_000},
        },
        "Outputs": {"x": {"Value": expression}},
    }
    (name,) = expression
    messages = validated(doc).diags.messages()
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"Outputs.x.Value.{name}: The value is too large"), messages


def test_one_budget_serves_every_output_of_a_show() -> None:
    # Each output alone fits; together they do not, and the later one says so.
    half = {"str_split": [",", {"get_param": "s"}]}
    doc = template(
        parameters={"s": {"type": "string", "default": "," * 120_000}},
        outputs={"a": half, "b": half},
    )
    values = shown(stored(doc))
    assert len(values["a"]) == 120_001
    assert values["b"].startswith("The value is too large")


def test_a_value_used_many_times_counts_each_time() -> None:
    # A long parameter written out many times is as large as if it were copied.
    doc = template(
        parameters={"long": {"type": "string", "default": "z" * 100_000}},
        outputs={"x": {"list_concat": [[{"get_param": "long"}] * 50]}},
    )
    # The call that passes the limit is named: here the 42nd use of the parameter.
    assert validated(doc).diags.messages() == [
        "outputs.x.value.list_concat[0][41].get_param: The value is too large: it would pass "
        "the limit of 4194304 characters that template functions may make."
    ]


def test_calls_that_refer_to_resources_are_left_to_the_budget_at_run_time() -> None:
    doc = template(
        resources={"r": {"type": "OS::Heat::None"}},
        outputs={
            "x": {
                "repeat": {
                    "for_each": {"%a%": {"get_attr": ["r", "list"]}},
                    "template": "%a%",
                }
            }
        },
    )
    assert not validated(doc).diags


def test_the_limits_come_from_the_definition() -> None:
    doc = template(
        parameters={"a": numbers(50)},
        outputs={"x": {"str_split": [",", {"list_join": [",", {"get_param": "a"}]}]}},
    )
    assert not validated(doc).diags
    message = validated(doc, Limits(max_result_items=40)).diags.messages()[0]
    assert message.startswith(
        f"outputs.x.value.str_split[1].list_join[1].get_param: {TOO_MANY_ITEMS} 40 "
    )
    chars = validated(doc, Limits(max_result_chars=100)).diags.messages()[0]
    assert chars.startswith("outputs.x.value.str_split[1].list_join: The value is too large")


@pytest.mark.parametrize(("limit", "fails"), [(200, False), (20, True)])
def test_yaql_is_held_to_limit_iterators(limit: int, fails: bool) -> None:
    doc = template(
        outputs={"x": {"yaql": {"expression": "range(0, 50).select($ * 2)", "data": {}}}},
    )
    defn = validated(doc, Limits(yaql_limit_iterators=limit))
    (value,) = defn.resolve_outputs(defn.resolve_context())
    if fails:
        assert value.error is not None and "limit of 20 elements" in value.error
    else:
        assert value.error is None and value.value[-1] == 98


def test_filter_and_unique_concat_keep_their_answers() -> None:
    doc = template(
        parameters={"a": numbers(20_000)},
        outputs={
            "f": {"filter": [[1, "3", {"k": 1}], ["1", 1, 1.0, True, "3", {"k": 1}, [2]]]},
            "u": {"list_concat_unique": [[1, {"a": 1}, "x"], [True, {"a": 1}, "x", [1]]]},
            "big": {"list_concat_unique": [{"get_param": "a"}, {"get_param": "a"}]},
        },
    )
    values = shown(validated(doc))
    assert values["f"] == ["1", [2]]
    assert values["u"] == [1, {"a": 1}, "x", [1]]
    assert len(values["big"]) == 20_000


def test_measure_stops_counting_past_the_room() -> None:
    big = [["x"] * 1000] * 1000
    # The outer list, one inner list, then its strings: stopped at the 51st item.
    assert measure(big, 50, float("inf")) == (51, 49)
    assert measure({"key": ["ab", 1, None]}, float("inf"), float("inf")) == (5, 5)


def test_a_budget_only_grows_and_refuses_past_its_limit() -> None:
    budget = Budget(max_items=10, max_chars=5)
    budget.charge("abc")
    assert (budget.items, budget.chars) == (1, 3)
    with pytest.raises(TooLarge):
        budget.charge("abc")
    with pytest.raises(TooLarge):
        budget.need(items=10)
    unlimited = Budget(max_items=-1, max_chars=-1)
    unlimited.charge(["x" * 10_000] * 10_000)
    assert unlimited.items == 10_001


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        # No collection is made, only work: yaql's own limits do not see it.
        ("range(0, 100000000).len()", "The expression would take more than 1000000 steps"),
        (
            "range(0, 150).select(range(0, 150).select(range(0, 150)))",
            "The expression would take more than 1000000 steps",
        ),
        ("range(0, 1000000000).sum()", "The expression would pass the limit of 200 elements"),
        ("'x' * 100000000", "The expression would pass the limit of 10000 bytes"),
    ],
)
def test_yaql_work_and_size_are_refused_at_validation(expression: str, message: str) -> None:
    doc = template(outputs={"x": {"yaql": {"expression": expression, "data": {}}}})
    messages = validated(doc).diags.messages()
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"outputs.x.value.yaql: {message}"), messages


def test_yaql_steps_are_counted_the_same_each_time() -> None:
    doc = template(
        parameters={"a": numbers(100)},
        outputs={
            "x": {"yaql": {"expression": "$.data.select(int($) * 2)", "data": {"get_param": "a"}}}
        },
    )
    first, second = (shown(validated(doc))["x"] for _ in range(2))
    assert first == second == [i * 2 for i in range(100)]
