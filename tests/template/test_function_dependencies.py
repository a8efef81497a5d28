"""Each reference function reports the resources it depends on, found without computing
anything (``ResourceDefinition.requires`` and ``StackDefinition.graph``)."""

from __future__ import annotations

from typing import Any

import pytest

from ember.template import VERSIONS, Function
from tests.template.function_helpers import (
    CFN_VERSIONS,
    HOT_DATES,
    before,
    cfn,
    define,
    hot,
    since,
)


@pytest.fixture
def no_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make computing any function fail: dependencies must come from the text alone."""

    def refuse(self: Function, ctx: Any) -> Any:
        raise AssertionError(f"{self.name} was evaluated")

    classes = {
        fn for v in VERSIONS for fn in (*v.functions.values(), *v.condition_functions.values())
    }
    for cls in classes:
        monkeypatch.setattr(cls, "result", refuse)


ALL = HOT_DATES


@pytest.mark.usefixtures("no_evaluation")
@pytest.mark.parametrize(
    ("versions", "value", "requires"),
    [
        (ALL, {"get_resource": "other"}, {"other"}),
        (ALL, {"get_attr": ["other", "value"]}, {"other"}),
        (ALL, {"get_attr": ["other", "value", "a", 0]}, {"other"}),
        (
            since("2014-10-16"),
            {"get_attr": ["other", {"get_resource": "third"}]},
            {"other", "third"},
        ),
        (since("2015-10-15"), {"get_attr": ["other"]}, {"other"}),
        (ALL, {"get_param": "OS::stack_name"}, set()),
        (ALL, {"get_file": "f.txt"}, set()),
        (ALL, "plain", set()),
        (
            ALL,
            [{"get_resource": "other"}, {"k": {"get_attr": ["third", "show"]}}],
            {"other", "third"},
        ),
        (
            ALL,
            {"str_replace": {"template": "$a", "params": {"$a": {"get_attr": ["other", "value"]}}}},
            {"other"},
        ),
        (
            ALL,
            {"list_join": [",", [{"get_resource": "other"}, {"get_resource": "third"}]]},
            {"other", "third"},
        ),
        (["2013-05-23"], {"Ref": "other"}, {"other"}),
        (["2013-05-23"], {"Fn::Join": [",", [{"Ref": "other"}]]}, {"other"}),
        (
            since("2015-04-30"),
            {"repeat": {"for_each": {"%x%": ["a"]}, "template": {"get_resource": "other"}}},
            {"other"},
        ),
        (since("2016-04-08"), {"map_merge": [{"a": {"get_resource": "other"}}]}, {"other"}),
        (
            since("2016-10-14"),
            {"yaql": {"expression": "$.data", "data": {"get_attr": ["third", "value"]}}},
            {"third"},
        ),
        (
            since("2016-10-14"),
            {"map_replace": [{"a": 1}, {"values": {1: {"get_resource": "other"}}}]},
            {"other"},
        ),
        (since("2017-02-24"), {"filter": [[1], [{"get_resource": "other"}]]}, {"other"}),
        (since("2017-09-01"), {"make_url": {"host": {"get_attr": ["other", "value"]}}}, {"other"}),
        (since("2017-09-01"), {"list_concat": [[{"get_resource": "third"}]]}, {"third"}),
        (since("2017-09-01"), {"contains": [{"get_resource": "other"}, []]}, {"other"}),
    ],
)
def test_hot_dependencies(versions: list[str], value: Any, requires: set[str]) -> None:
    for version in versions:
        defn = define(hot(version, value), files={"f.txt": "x"})
        assert defn.resources["r"].requires == requires, version
        assert defn.graph().requires("r") == requires, version


@pytest.mark.usefixtures("no_evaluation")
@pytest.mark.parametrize("version", before("2015-10-15"))
def test_get_attr_without_attribute_has_no_dependency_before_2015_10_15(version: str) -> None:
    defn = define(hot(version, {"get_attr": ["other"]}))
    assert defn.diags  # malformed in these versions
    assert defn.resources["r"].requires == frozenset()


@pytest.mark.usefixtures("no_evaluation")
def test_dependencies_from_metadata_update_policy_and_depends_on() -> None:
    resources = {
        "r": {
            "type": "OS::Heat::None",
            "metadata": {"m": {"get_resource": "other"}},
            "update_policy": {"u": {"get_attr": ["third", "value"]}},
            "depends_on": "fourth",
        },
        "fourth": {"type": "OS::Heat::None"},
        "fifth": {"type": "OS::Heat::None", "depends_on": ["other", "third"]},
    }
    defn = define(hot("2016-10-14", resources=resources))
    assert defn.resources["r"].requires == {"other", "third", "fourth"}
    assert defn.resources["fifth"].requires == {"other", "third"}
    graph = defn.graph()
    assert graph.requires("r") == {"other", "third", "fourth"}
    assert graph.requires("other") == frozenset()


@pytest.mark.usefixtures("no_evaluation")
def test_output_dependencies() -> None:
    outputs = {
        "a": {"value": {"get_attr": ["other", "value"]}},
        "b": {
            "value": {
                "list_join": [",", [{"get_resource": "third"}, {"get_param": "OS::stack_id"}]]
            }
        },
        "c": {"value": "plain"},
    }
    defn = define(hot("2015-10-15", "v", outputs=outputs))
    assert {name: od.requires() for name, od in defn.outputs.items()} == {
        "a": {"other"},
        "b": {"third"},
        "c": set(),
    }


def test_reference_to_an_unknown_resource_stays_out_of_the_graph() -> None:
    defn = define(hot("2016-10-14", {"get_resource": "missing"}))
    assert defn.resources["r"].requires == {"missing"}
    assert defn.graph().requires("r") == frozenset()
    assert "missing" not in defn.graph()


@pytest.mark.parametrize(
    ("ref_a", "ref_b"),
    [
        ({"get_resource": "b"}, {"get_attr": ["a", "value"]}),
        ({"list_join": [",", [{"get_attr": ["b", "value"]}]]}, {"get_resource": "a"}),
    ],
)
def test_reference_cycle_is_reported(ref_a: Any, ref_b: Any) -> None:
    resources = {
        "a": {"type": "OS::Heat::Value", "properties": {"value": ref_a}},
        "b": {"type": "OS::Heat::Value", "properties": {"value": ref_b}},
    }
    defn = define(hot("2016-10-14", resources=resources))
    cycles = [m for m in defn.diags.messages() if "Circular Dependency Found" in m]
    assert len(cycles) == 1
    assert cycles[0].startswith("resources: Circular Dependency Found: ")
    assert "a" in cycles[0] and "b" in cycles[0]


@pytest.mark.usefixtures("no_evaluation")
@pytest.mark.parametrize("version", CFN_VERSIONS, ids=[d for _, d in CFN_VERSIONS])
@pytest.mark.parametrize(
    ("value", "requires"),
    [
        ({"Ref": "other"}, {"other"}),
        ({"Ref": "P"}, set()),
        ({"Ref": "AWS::StackName"}, set()),
        ({"Ref": "AWS::NoValue"}, set()),
        ({"Fn::GetAtt": ["other", "value"]}, {"other"}),
        ({"Fn::GetAtt": "third.value"}, {"third"}),
        (
            {"Fn::Join": [",", [{"Ref": "other"}, {"Fn::GetAtt": ["third", "value"]}]]},
            {"other", "third"},
        ),
        ({"Fn::Select": [0, [{"Ref": "other"}]]}, {"other"}),
        ({"Fn::Base64": {"Fn::GetAtt": ["other", "value"]}}, {"other"}),
    ],
)
def test_cfn_dependencies(version: tuple[str, str], value: Any, requires: set[str]) -> None:
    key, date = version
    doc = cfn(value, key=key, version=date, parameters={"P": {"Type": "String", "Default": "x"}})
    defn = define(doc)
    assert defn.resources["r"].requires == requires
    assert defn.graph().requires("r") == requires


@pytest.mark.usefixtures("no_evaluation")
def test_cfn_depends_on() -> None:
    resources = {"r": {"Type": "OS::Heat::None", "DependsOn": ["other", "third"]}}
    defn = define(cfn(resources=resources))
    assert defn.resources["r"].requires == {"other", "third"}
