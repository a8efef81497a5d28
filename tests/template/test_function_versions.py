"""Which function exists in which template version (reference §4.1), checked by behaviour.

In every version, each function name is one of:

- live: the call is computed;
- removed: the template is rejected with "not supported in this version" at the call's path;
- absent: the map is plain data and is kept as written (Heat does the same).
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import pytest

from ember.common import errors
from ember.template import VERSIONS
from tests.template.conftest import FakeResources
from tests.template.function_helpers import (
    CFN_VALUE_PATH,
    CFN_VERSIONS,
    HOT_DATES,
    VALUE_PATH,
    assert_clean,
    cfn,
    define,
    hot,
    resolution_error,
    value_of,
)

CFN_IN_HOT_2013 = (
    "Ref",
    "Fn::GetAZs",
    "Fn::Select",
    "Fn::Join",
    "Fn::Split",
    "Fn::Replace",
    "Fn::Base64",
    "Fn::MemberListToMap",
    "Fn::ResourceFacade",
)
# HOT version -> functions added in it (cumulative afterwards).
ADDED = {
    "2013-05-23": (
        "get_param",
        "get_resource",
        "get_attr",
        "get_file",
        "str_replace",
        "list_join",
        "resource_facade",
        *CFN_IN_HOT_2013,
    ),
    "2015-04-30": ("repeat", "digest"),
    "2015-10-15": ("str_split",),
    "2016-04-08": ("map_merge",),
    "2016-10-14": ("yaql", "map_replace", "if"),
    "2017-02-24": ("filter", "str_replace_strict"),
    "2017-09-01": (
        "make_url",
        "list_concat",
        "list_concat_unique",
        "contains",
        "str_replace_vstrict",
    ),
}
REMOVED = {
    "2014-10-16": tuple(name for name in CFN_IN_HOT_2013 if name != "Fn::Select"),
    "2015-10-15": ("Fn::Select",),
}
ALIASES = {
    "newton": "2016-10-14",
    "ocata": "2017-02-24",
    "pike": "2017-09-01",
    "queens": "2018-03-02",
    "rocky": "2018-08-31",
    "wallaby": "2021-04-16",
}

MEMBERS = [".member.0.Name=k", ".member.0.Value=v"]
FACADE = {"metadata": {"m": 1}, "deletion_policy": "Retain", "update_policy": {}}
# A valid call of each function and its value, the same in every version that has it.
SAMPLES: dict[str, tuple[Any, Any]] = {
    "get_param": ("p", "pv"),
    "get_resource": ("other", "other-id"),
    "get_attr": (["other", "value"], "other.value"),
    "get_file": ("f.txt", "content"),
    "str_replace": ({"template": "a_x", "params": {"_x": "b"}}, "ab"),
    "list_join": ([",", ["a", "b"]], "a,b"),
    "resource_facade": ("metadata", {"m": 1}),
    "Ref": ("other", "other-id"),
    "Fn::GetAZs": ("", ["nova"]),
    "Fn::Select": ([1, ["a", "b"]], "b"),
    "Fn::Join": ([",", ["a", "b"]], "a,b"),
    "Fn::Split": ([",", "a,b"], ["a", "b"]),
    "Fn::Replace": ([{"_x": "b"}, "a_x"], "ab"),
    "Fn::Base64": ("abc", "abc"),
    "Fn::MemberListToMap": (["Name", "Value", MEMBERS], {"k": "v"}),
    "Fn::ResourceFacade": ("Metadata", {"m": 1}),
    "repeat": ({"for_each": {"%x%": ["a", "b"]}, "template": "v%x%"}, ["va", "vb"]),
    "digest": (["md5", "foo"], hashlib.md5(b"foo").hexdigest()),
    "str_split": ([",", "a,b"], ["a", "b"]),
    "map_merge": ([{"a": 1}, {"b": 2}], {"a": 1, "b": 2}),
    "yaql": ({"expression": "$.data.x.sum()", "data": {"x": [1, 2]}}, 3),
    "map_replace": ([{"a": 1}, {"keys": {"a": "b"}}], {"b": 1}),
    "if": ([True, "yes", "no"], "yes"),
    "filter": ([[1], [1, 2]], [2]),
    "str_replace_strict": ({"template": "a_x", "params": {"_x": "b"}}, "ab"),
    "make_url": ({"scheme": "http", "host": "h", "path": "/p"}, "http://h/p"),
    "list_concat": ([[1], [2]], [1, 2]),
    "list_concat_unique": ([[1], [1, 2]], [1, 2]),
    "contains": (["a", ["a"]], True),
    "str_replace_vstrict": ({"template": "a_x", "params": {"_x": "b"}}, "ab"),
    # Functions that exist only in CloudFormation templates, or only as condition functions.
    "Fn::GetAtt": (["other", "value"], "other.value"),
    "Fn::FindInMap": (["M", "k1", "k2"], "found"),
    "Fn::If": (["C", "yes", "no"], "yes"),
    "Fn::Equals": ([1, 1], True),
    "equals": ([1, 1], True),
    "not": (False, True),
    "and": ([True, True], True),
    "or": ([False, True], True),
}
HOT_NAMES = sorted(SAMPLES)


def hot_status(date: str, name: str) -> str:
    added = next((d for d, names in ADDED.items() if name in names), None)
    if added is None or date < added:
        return "absent"
    if any(date >= d and name in names for d, names in REMOVED.items()):
        return "removed"
    return "live"


def _hot_definition(version: str, name: str) -> Any:
    args, _ = SAMPLES[name]
    doc = hot(version, {name: args}, parameters={"p": {"type": "string", "default": "pv"}})
    return define(doc, files={"f.txt": "content"})


def test_the_version_table_covers_every_hot_version() -> None:
    assert set(ADDED) | set(REMOVED) <= set(HOT_DATES)
    live_somewhere = {n for n in HOT_NAMES if hot_status(HOT_DATES[-1], n) != "absent"}
    assert live_somewhere == {n for names in ADDED.values() for n in names}


@pytest.mark.parametrize("version", HOT_DATES)
@pytest.mark.parametrize("name", HOT_NAMES)
def test_hot_function_table(version: str, name: str) -> None:
    defn = _hot_definition(version, name)
    args, expected = SAMPLES[name]
    status = hot_status(version, name)
    if status == "live":
        assert_clean(defn)
        assert value_of(defn, facade=FACADE) == expected
    elif status == "removed":
        message = f"The function {name} is not supported in this version of the template."
        assert defn.diags.messages() == [f"{VALUE_PATH}.{name}: {message}"]
        assert resolution_error(defn) == f"{VALUE_PATH}.{name}: {message}"
    else:
        assert_clean(defn)
        assert value_of(defn, facade=FACADE) == {name: args}


@pytest.mark.parametrize("alias", sorted(ALIASES))
@pytest.mark.parametrize("name", HOT_NAMES)
def test_version_aliases_have_the_same_functions(alias: str, name: str) -> None:
    by_alias = _hot_definition(alias, name)
    by_date = _hot_definition(ALIASES[alias], name)
    assert by_alias.diags.messages() == by_date.diags.messages()
    if not by_date.diags:
        assert value_of(by_alias, facade=FACADE) == value_of(by_date, facade=FACADE)


@pytest.mark.parametrize(
    ("version", "snippet", "where"),
    [
        ("2014-10-16", {"Fn::Join": [",", ["a"]]}, "Fn::Join"),
        ("2015-10-15", {"Fn::Select": [0, ["a"]]}, "Fn::Select"),
        ("2021-04-16", {"Ref": "other"}, "Ref"),
        ("2016-10-14", {"k": [{"Fn::Base64": "x"}]}, "k[0].Fn::Base64"),
        (
            "2017-09-01",
            {"list_join": [",", [{"Fn::Select": [0, ["a"]]}]]},
            "list_join[1][0].Fn::Select",
        ),
    ],
)
def test_removed_function_error_names_the_path(version: str, snippet: Any, where: str) -> None:
    defn = define(hot(version, snippet))
    name = where.rsplit(".", 1)[-1]
    assert defn.diags.messages() == [
        f"{VALUE_PATH}.{where}: The function {name} is not supported in this version of the "
        "template."
    ]


def test_removed_function_in_an_output_is_reported() -> None:
    defn = define(hot("2014-10-16", "v", outputs={"o": {"value": {"Fn::Split": [",", "a"]}}}))
    assert defn.diags.messages() == [
        "outputs.o.value.Fn::Split: The function Fn::Split is not supported in this version of "
        "the template."
    ]


@pytest.mark.parametrize(
    ("version", "snippet"),
    [
        ("2014-10-16", {"repeat": {"for_each": {"%x%": ["a"]}, "template": "%x%"}}),
        ("2015-04-30", {"str_split": [",", "a,b"]}),
        ("2015-10-15", {"map_merge": [{"a": 1}]}),
        ("2016-04-08", {"if": [True, 1, 2]}),
        ("2016-10-14", {"filter": [[1], [1, 2]]}),
        ("2017-02-24", {"make_url": {"host": "h"}}),
        ("2017-02-24", {"str_replace_vstrict": {"template": "a", "params": {"a": "b"}}}),
    ],
)
def test_function_not_in_the_version_is_plain_data(version: str, snippet: Any) -> None:
    defn = define(hot(version, snippet))
    assert_clean(defn)
    assert value_of(defn) == snippet


def test_plain_data_still_resolves_functions_inside_it() -> None:
    snippet = {"make_url": {"host": {"get_resource": "other"}}}
    defn = define(hot("2017-02-24", snippet))
    assert value_of(defn) == {"make_url": {"host": "other-id"}}
    assert defn.resources["r"].requires == {"other"}


def test_a_map_with_a_function_name_and_other_keys_is_plain_data() -> None:
    snippet = {"get_resource": "other", "extra": {"get_param": "OS::stack_name"}}
    defn = define(hot("2016-10-14", snippet))
    assert_clean(defn)
    assert value_of(defn) == {"get_resource": "other", "extra": "teststack"}
    assert defn.resources["r"].requires == frozenset()


# ---------------------------------------------------------------------------------------------
# Version-specific behaviour of functions present in several versions


@pytest.mark.parametrize("version", HOT_DATES)
def test_get_attr_forms_per_version(version: str) -> None:
    resources = FakeResources({("other", "value"): {"a": ["x", "y"]}})
    with_path = define(hot(version, {"get_attr": ["other", "value", "a", 1]}))
    assert value_of(with_path, resources) == "y"
    computed = define(
        hot(
            version,
            {"get_attr": ["other", {"get_param": "n"}]},
            parameters={"n": {"type": "string", "default": "value"}},
        )
    )
    assert (not computed.diags) is (version >= "2014-10-16")
    name_only = define(hot(version, {"get_attr": ["other"]}))
    assert (not name_only.diags) is (version >= "2015-10-15")
    if version >= "2015-10-15":
        assert value_of(name_only, resources) == {"value": {"a": ["x", "y"]}}


@pytest.mark.parametrize("version", HOT_DATES)
def test_str_replace_and_list_join_per_version(version: str) -> None:
    json_ok = version >= "2015-10-15"
    replace = define(hot(version, {"str_replace": {"template": "$x", "params": {"$x": [1]}}}))
    join = define(hot(version, {"list_join": [",", ["a"], [["b"]]]}))
    if json_ok:
        assert value_of(replace) == "[1]"
        assert value_of(join) == 'a,["b"]'
    else:
        assert "params must be strings or numbers" in resolution_error(replace)
        assert join.diags


@pytest.mark.parametrize("version", HOT_DATES)
def test_repeat_per_version(version: str) -> None:
    over_map = define(hot(version, {"repeat": {"for_each": {"%k%": {"a": 1}}, "template": "%k%"}}))
    zipped = define(
        hot(
            version,
            {
                "repeat": {
                    "for_each": {"%x%": ["1", "2"], "%y%": ["a", "b"]},
                    "template": "%x%%y%",
                    "permutations": False,
                }
            },
        )
    )
    if version < "2015-04-30":
        assert value_of(over_map) == {"repeat": {"for_each": {"%k%": {"a": 1}}, "template": "%k%"}}
        return
    assert (not over_map.diags) is (version >= "2016-10-14")
    if version >= "2016-10-14":
        assert value_of(over_map) == ["a"]
    if version >= "2017-09-01":
        assert value_of(zipped) == ["1a", "2b"]
    else:
        assert zipped.diags


@pytest.mark.parametrize("version", HOT_DATES)
def test_if_with_two_arguments_per_version(version: str) -> None:
    defn = define(hot(version, {"a": 1, "b": {"if": [False, 2]}}))
    if version < "2016-10-14":
        assert value_of(defn) == {"a": 1, "b": {"if": [False, 2]}}
    elif version < "2021-04-16":
        assert defn.diags.messages() == [
            f'{VALUE_PATH}.b.if: Arguments to "if" must be a list of 3 items.'
        ]
    else:
        assert_clean(defn)
        assert value_of(defn) == {"a": 1}


# ---------------------------------------------------------------------------------------------
# Condition functions per version

CONDITION_SAMPLES = {
    "get_param": {"get_param": "flag"},
    "equals": {"equals": [1, 1]},
    "not": {"not": False},
    "and": {"and": [True, True]},
    "or": {"or": [False, True]},
    "yaql": {"yaql": {"expression": "$.data.x", "data": {"x": True}}},
    "contains": {"contains": ["a", ["a"]]},
}
CONDITIONS_ADDED = {
    "get_param": "2016-10-14",
    "equals": "2016-10-14",
    "not": "2016-10-14",
    "and": "2016-10-14",
    "or": "2016-10-14",
    "yaql": "2017-09-01",
    "contains": "2017-09-01",
}
NOT_A_CONDITION = (
    "conditions.c: A condition must be a boolean, a condition function or the name of a condition"
)


@pytest.mark.parametrize("version", HOT_DATES)
@pytest.mark.parametrize("name", sorted(CONDITION_SAMPLES))
def test_condition_function_table(version: str, name: str) -> None:
    doc = hot(version, "v", parameters={"flag": {"type": "boolean", "default": True}})
    doc["conditions"] = {"c": CONDITION_SAMPLES[name]}
    defn = define(doc)
    if version < "2016-10-14":
        assert defn.diags.messages() == ["The template section is invalid: conditions"]
    elif version < CONDITIONS_ADDED[name]:
        assert defn.diags.messages() == [NOT_A_CONDITION]
        assert defn.conditions == {"c": False}
    else:
        assert_clean(defn)
        assert defn.conditions == {"c": True}


@pytest.mark.parametrize(
    "name", ["get_resource", "get_attr", "str_replace", "list_join", "if", "map_merge"]
)
def test_resource_functions_are_not_condition_functions(name: str) -> None:
    args, _ = SAMPLES[name]
    doc = hot("2021-04-16", "v")
    doc["conditions"] = {"c": {name: args}}
    defn = define(doc)
    assert defn.diags.messages() == [NOT_A_CONDITION]


@pytest.mark.parametrize("name", ["equals", "not", "and", "or"])
def test_condition_functions_are_plain_data_in_properties(name: str) -> None:
    args, _ = SAMPLES[name]
    defn = define(hot("2021-04-16", {name: args}))
    assert_clean(defn)
    assert value_of(defn) == {name: args}


# ---------------------------------------------------------------------------------------------
# CloudFormation versions

CFN_LIVE = {
    "Ref",
    "Fn::GetAtt",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::Replace",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::FindInMap",
    "Fn::MemberListToMap",
    "Fn::ResourceFacade",
}


def cfn_status(date: str, name: str) -> str:
    if name in CFN_LIVE or (name == "Fn::If" and date == "2010-09-09"):
        return "live"
    return "absent"


@pytest.mark.parametrize("version", CFN_VERSIONS, ids=[d for _, d in CFN_VERSIONS])
@pytest.mark.parametrize("name", HOT_NAMES)
def test_cfn_function_table(version: tuple[str, str], name: str) -> None:
    key, date = version
    args, expected = SAMPLES[name]
    doc = cfn(
        {name: args},
        key=key,
        version=date,
        parameters={"p": {"Type": "String", "Default": "pv"}},
        mappings={"M": {"k1": {"k2": "found"}}},
        conditions={"C": True} if date == "2010-09-09" else None,
    )
    defn = define(doc, files={"f.txt": "content"})
    assert_clean(defn)
    if cfn_status(date, name) == "live":
        assert value_of(defn, facade=FACADE) == expected
    else:
        assert value_of(defn, facade=FACADE) == {name: args}


def test_cfn_value_path_uses_cfn_section_names() -> None:
    defn = define(cfn({"Ref": "nope"}))
    assert defn.diags.messages() == [
        f'{CFN_VALUE_PATH}.Ref: The specified reference "nope" (in Ref) is incorrect.'
    ]


# ---------------------------------------------------------------------------------------------
# Malformed calls are reported, never raised

ODD_ARGUMENTS: list[Any] = [
    None,
    1,
    True,
    "other",
    [],
    ["other"],
    [1, 2],
    ["a", "b", "c", "d"],
    {},
    {"a": 1},
    [[1], {"a": 1}, None],
    {"template": 1, "params": 2},
    {"for_each": {"x": 1}, "template": 1, "permutations": 3},
    {"expression": 5, "data": 1},
    {"host": 5, "port": [1], "query": 5},
]


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_malformed_arguments_never_crash(version: Any) -> None:
    for name in sorted(version.functions):
        for args in ODD_ARGUMENTS:
            if version.kind == "hot":
                doc = hot(version.date, {name: args}, outputs={"o": {"value": {name: args}}})
            else:
                doc = cfn(
                    {name: args},
                    key=version.key,
                    version=version.date,
                    outputs={"o": {"Value": {name: args}}},
                )
            defn = define(doc)
            defn.graph()
            with contextlib.suppress(errors.EmberError):  # an error is fine, a crash is not
                value_of(defn)
            [output] = defn.resolve_outputs(defn.resolve_context(FakeResources()))
            assert output.error is None or output.error.strip(), (name, args)
