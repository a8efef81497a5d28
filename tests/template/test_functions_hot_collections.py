"""HOT functions on lists and maps (repeat, map_merge, map_replace, filter, list_concat,
list_concat_unique, contains), make_url and yaql."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.function_helpers import (
    VALUE_PATH,
    assert_clean,
    before,
    define,
    hot,
    resolution_error,
    since,
    value_of,
)

PARAMS = {
    "names": {"type": "comma_delimited_list", "default": "a,b"},
    "j": {"type": "json", "default": {"x": 1, "y": [1, 2]}},
    "port": {"type": "number", "default": 70000},
    "s": {"type": "string", "default": "text"},
    "expr": {"type": "string", "default": "$.data.n * 2"},
    "bad_expr": {"type": "string", "default": "$.data.("},
}


# ---------------------------------------------------------------------------------------------
# repeat


@pytest.mark.parametrize("version", since("2015-04-30"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # Placeholders are replaced in keys and in values.
        (
            {"for_each": {"%x%": ["a", "b"]}, "template": {"k_%x%": "v-%x%"}},
            [{"k_a": "v-a"}, {"k_b": "v-b"}],
        ),
        (
            {"for_each": {"<%p%>": ["80", "443"]}, "template": {"port": "<%p%>", "ip": "0.0.0.0"}},
            [{"port": "80", "ip": "0.0.0.0"}, {"port": "443", "ip": "0.0.0.0"}],
        ),
        (
            {"for_each": {"%x%": ["a"]}, "template": ["%x%", {"n": ["%x%-1"]}, 5]},
            [["a", {"n": ["a-1"]}, 5]],
        ),
        ({"for_each": {"%x%": []}, "template": "%x%"}, []),
        # Several lists: every combination (the default, and the only way before pike).
        (
            {"for_each": {"%x%": ["1", "2"], "%y%": ["a", "b"]}, "template": "%x%-%y%"},
            ["1-a", "1-b", "2-a", "2-b"],
        ),
        ({"for_each": {"%n%": {"get_param": "names"}}, "template": "n-%n%"}, ["n-a", "n-b"]),
    ],
)
def test_repeat(version: str, args: dict[str, Any], expected: list[Any]) -> None:
    defn = define(hot(version, {"repeat": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


def test_repeat_maps_are_rejected_in_2015_04_30() -> None:
    defn = define(hot("2015-04-30", {"repeat": {"for_each": {"%k%": {"a": 1}}, "template": "%k%"}}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.repeat: The values of the "for_each" argument to "repeat" must be lists'
    ]


def test_repeat_map_from_a_parameter_is_rejected_in_2015_04_30() -> None:
    defn = define(
        hot(
            "2015-04-30",
            {"repeat": {"for_each": {"%k%": {"get_param": "j"}}, "template": "%k%"}},
            parameters=PARAMS,
        )
    )
    assert_clean(defn)
    assert resolution_error(defn) == (
        f'{VALUE_PATH}.repeat: The value of "%k%" in "for_each" must be a list, not map'
    )


@pytest.mark.parametrize("version", since("2016-10-14"))
def test_repeat_iterates_the_keys_of_a_map_from_newton(version: str) -> None:
    args = {"for_each": {"%k%": {"a": 1, "b": 2}, "%v%": ["x"]}, "template": "%k%=%v%"}
    defn = define(hot(version, {"repeat": args}))
    assert_clean(defn)
    assert value_of(defn) == ["a=x", "b=x"]


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("permutations", "expected"),
    [(True, ["1-a", "1-b", "2-a", "2-b"]), (False, ["1-a", "2-b"])],
)
def test_repeat_permutations_from_pike(
    version: str, permutations: bool, expected: list[str]
) -> None:
    args = {
        "for_each": {"%x%": ["1", "2"], "%y%": ["a", "b"]},
        "template": "%x%-%y%",
        "permutations": permutations,
    }
    defn = define(hot(version, {"repeat": args}))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("for_each", "message"),
    [
        (
            {"%x%": ["1", "2"], "%y%": ["a"]},
            'Each "for_each" list of "repeat" must have the same length when permutations is '
            "false.",
        ),
        (
            {"%x%": {"a": 1}, "%y%": {"b": 2}},
            'The values of the "for_each" argument to "repeat" must be lists when permutations '
            "is false.",
        ),
    ],
)
def test_repeat_without_permutations_needs_equal_length_lists(
    for_each: dict[str, Any], message: str
) -> None:
    args = {"for_each": for_each, "template": "%x%-%y%", "permutations": False}
    defn = define(hot("2017-09-01", {"repeat": args}))
    assert_clean(defn)
    assert resolution_error(defn) == f"{VALUE_PATH}.repeat: {message}"


SYNTAX = '"repeat" syntax should be {"repeat": {"for_each": {<var>: <list>}, "template": <value>}}'


@pytest.mark.parametrize(
    ("version", "args", "message"),
    [
        ("2015-04-30", {"template": "%x%"}, SYNTAX),
        ("2015-04-30", {"for_each": {"%x%": ["a"]}}, SYNTAX),
        ("2015-04-30", ["%x%"], SYNTAX),
        (
            "2015-04-30",
            {"for_each": {}, "template": "x"},
            'The "for_each" argument to "repeat" must be a non-empty map.',
        ),
        (
            "2015-04-30",
            {"for_each": ["a"], "template": "x"},
            'The "for_each" argument to "repeat" must be a non-empty map.',
        ),
        (
            "2015-04-30",
            {"for_each": {"%x%": "abc"}, "template": "x"},
            'The values of the "for_each" argument to "repeat" must be lists',
        ),
        (
            "2016-10-14",
            {"for_each": {"%x%": "abc"}, "template": "x"},
            'The values of the "for_each" argument to "repeat" must be lists or maps',
        ),
        (
            "2017-09-01",
            {"for_each": {"%x%": ["a"]}, "template": "x", "permutations": "no"},
            '"permutations" of "repeat" must be a boolean.',
        ),
    ],
)
def test_repeat_bad_arguments(version: str, args: Any, message: str) -> None:
    defn = define(hot(version, {"repeat": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.repeat: {message}"]
    assert resolution_error(defn) == f"{VALUE_PATH}.repeat: {message}"


# ---------------------------------------------------------------------------------------------
# map_merge


@pytest.mark.parametrize("version", since("2016-04-08"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([{"a": 1, "b": 2}, {"b": 3}], {"a": 1, "b": 3}),
        ([{"a": 1}, None, {"c": 3}], {"a": 1, "c": 3}),
        ([], {}),
        # Merging is shallow: a later map replaces a whole nested value.
        ([{"a": {"x": 1}}, {"a": {"y": 2}}], {"a": {"y": 2}}),
        ([{"get_param": "j"}, {"z": 0}], {"x": 1, "y": [1, 2], "z": 0}),
    ],
)
def test_map_merge(version: str, args: list[Any], expected: dict[str, Any]) -> None:
    defn = define(hot(version, {"map_merge": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


def test_map_merge_items_must_be_maps() -> None:
    defn = define(hot("2016-04-08", {"map_merge": [{"a": 1}, ["b"]]}))
    assert (
        resolution_error(defn) == f"{VALUE_PATH}.map_merge: Items to merge must be maps, not list"
    )


@pytest.mark.parametrize("args", [{"a": 1}, "a"])
def test_map_merge_bad_arguments(args: Any) -> None:
    defn = define(hot("2016-04-08", {"map_merge": args}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.map_merge: Arguments to "map_merge" must be a list of maps.'
    ]


# ---------------------------------------------------------------------------------------------
# map_replace


@pytest.mark.parametrize("version", since("2016-10-14"))
@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ({"keys": {"a": "A"}}, {"A": 1, "b": 2, "c": [1]}),
        ({"values": {2: "two"}}, {"a": 1, "b": "two", "c": [1]}),
        ({"keys": {"a": "A", "b": "B"}, "values": {1: "one"}}, {"A": "one", "B": 2, "c": [1]}),
        ({"keys": {"zz": "y"}, "values": {"zz": "y"}}, {"a": 1, "b": 2, "c": [1]}),
        ({}, {"a": 1, "b": 2, "c": [1]}),
    ],
)
def test_map_replace(version: str, replacements: dict[str, Any], expected: dict[str, Any]) -> None:
    defn = define(hot(version, {"map_replace": [{"a": 1, "b": 2, "c": [1]}, replacements]}))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"a": "b"}, "key replacement b collides with a key in the input map"),
        ({"a": "b", "b": "a"}, "key replacement b collides with a key in the input map"),
        ({"a": "c", "b": "c"}, "key replacement c collides with a key in the output map"),
    ],
)
def test_map_replace_key_collisions(keys: dict[str, str], message: str) -> None:
    defn = define(hot("2016-10-14", {"map_replace": [{"a": 1, "b": 2}, {"keys": keys}]}))
    assert_clean(defn)
    assert resolution_error(defn) == f"{VALUE_PATH}.map_replace: {message}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [{"a": 1}, {"key": {"a": "b"}}],
            'Incorrect arguments to "map_replace": unknown key(s) key; expected "keys" and/or '
            '"values"',
        ),
        ([{"a": 1}, ["keys"]], 'The second argument to "map_replace" must be a map.'),
        ([{"a": 1}], 'Arguments to "map_replace" must be a list of 2 items.'),
        ({"a": 1}, 'Arguments to "map_replace" must be a list of 2 items.'),
    ],
)
def test_map_replace_bad_arguments(args: Any, message: str) -> None:
    defn = define(hot("2016-10-14", {"map_replace": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.map_replace: {message}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([["a"], {"keys": {}}], 'The first argument to "map_replace" must be a map.'),
        ([{"a": 1}, {"keys": ["a"]}], '"keys" and "values" of "map_replace" must be maps.'),
    ],
)
def test_map_replace_bad_values(args: Any, message: str) -> None:
    defn = define(hot("2016-10-14", {"map_replace": args}))
    assert resolution_error(defn) == f"{VALUE_PATH}.map_replace: {message}"


# ---------------------------------------------------------------------------------------------
# filter, list_concat, list_concat_unique, contains


@pytest.mark.parametrize("version", since("2017-02-24"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([[1, 3], [1, 2, 3, 1]], [2]),
        ([None, [1, 2]], [1, 2]),
        ([[], [1, 2]], [1, 2]),
        ([["a"], []], []),
        ([[{"k": 1}], [{"k": 1}, {"k": 2}]], [{"k": 2}]),
        ([["b"], {"get_param": "names"}], ["a"]),
    ],
)
def test_filter(version: str, args: list[Any], expected: list[Any]) -> None:
    defn = define(hot(version, {"filter": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


def test_filter_needs_lists() -> None:
    defn = define(hot("2017-02-24", {"filter": [[1], "abc"]}))
    assert (
        resolution_error(defn) == f'{VALUE_PATH}.filter: Both arguments to "filter" must be lists.'
    )


@pytest.mark.parametrize("args", [[[1]], [[1], [2], [3]], "abc"])
def test_filter_bad_arguments(args: Any) -> None:
    defn = define(hot("2017-02-24", {"filter": args}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.filter: Arguments to "filter" must be a list of 2 items.'
    ]


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("list_concat", [[1, 2], [2, 3]], [1, 2, 2, 3]),
        ("list_concat", [[1], None, [], [{"a": 1}]], [1, {"a": 1}]),
        ("list_concat", [], []),
        ("list_concat", [{"get_param": "names"}, ["c"]], ["a", "b", "c"]),
        ("list_concat_unique", [[1, 2], [2, 3]], [1, 2, 3]),
        ("list_concat_unique", [[{"a": 1}], [{"a": 1}, [1]], [[1]]], [{"a": 1}, [1]]),
        ("list_concat_unique", [["x", "x"], None], ["x"]),
    ],
)
def test_list_concat(version: str, name: str, args: list[Any], expected: list[Any]) -> None:
    defn = define(hot(version, {name: args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


def test_list_concat_unique_keeps_one_of_each() -> None:
    defn = define(hot("2017-09-01", {"list_concat_unique": [[0, 1, 0], [2, 1, 2]]}))
    result = value_of(defn)
    assert sorted(result) == [0, 1, 2]


@pytest.mark.parametrize("name", ["list_concat", "list_concat_unique"])
def test_list_concat_bad_values(name: str) -> None:
    defn = define(hot("2017-09-01", {name: [[1], "ab"]}))
    assert (
        resolution_error(defn)
        == f"{VALUE_PATH}.{name}: Items to concatenate must be lists, not string"
    )
    defn = define(hot("2017-09-01", {name: "ab"}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.{name}: Arguments to "{name}" must be a list of lists.'
    ]


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["a", ["a", "b"]], True),
        (["c", ["a", "b"]], False),
        ([1, [1, 2]], True),
        (["1", [1, 2]], False),
        ([{"k": 1}, [{"k": 1}]], True),
        (["ab", "cabd"], True),
        (["b", {"get_param": "names"}], True),
    ],
)
def test_contains(version: str, args: list[Any], expected: bool) -> None:
    defn = define(hot(version, {"contains": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) is expected


def test_contains_needs_a_sequence() -> None:
    defn = define(hot("2017-09-01", {"contains": ["a", 5]}))
    assert resolution_error(defn) == (
        f'{VALUE_PATH}.contains: "contains" needs a list, map or string to look in.'
    )


@pytest.mark.parametrize("args", [["a"], "a", ["a", ["a"], "b"]])
def test_contains_bad_arguments(args: Any) -> None:
    defn = define(hot("2017-09-01", {"contains": args}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.contains: Arguments to "contains" must be a list of 2 items.'
    ]


# ---------------------------------------------------------------------------------------------
# make_url


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {
                "scheme": "https",
                "username": "u ser",
                "password": "p@ss:w",
                "host": "example.com",
                "port": 8443,
                "path": "/a b/c",
                "query": {"q": "x y", "p": "a/b"},
                "fragment": "frag ment",
            },
            "https://u%20ser:p%40ss%3Aw@example.com:8443/a%20b/c?q=x+y&p=a/b#frag%20ment",
        ),
        ({"scheme": "http", "host": "h"}, "http://h"),
        ({"scheme": "http", "host": "h", "port": "8080", "path": "/"}, "http://h:8080/"),
        ({"scheme": "http", "username": "u", "host": "h"}, "http://u@h"),
        ({"scheme": "http", "host": "::1", "port": 80, "path": "/"}, "http://[::1]:80/"),
        ({"scheme": "http", "host": "[fe80::1]"}, "http://[fe80::1]"),
        ({"scheme": "http", "host": "2001:db8::7", "path": "/x"}, "http://[2001:db8::7]/x"),
        ({"scheme": "file", "path": "/tmp/f"}, "file:///tmp/f"),
        ({"path": "relative/x"}, "relative/x"),
    ],
)
def test_make_url(version: str, args: dict[str, Any], expected: str) -> None:
    defn = define(hot(version, {"make_url": args}))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("port", "message"),
    [
        (0, "Invalid URL port 0"),
        (65536, "Invalid URL port 65536"),
        ("abc", 'Invalid URL port "abc"'),
    ],
)
def test_make_url_bad_literal_port_is_reported_at_validation(port: Any, message: str) -> None:
    defn = define(hot("2017-09-01", {"make_url": {"scheme": "http", "host": "h", "port": port}}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.make_url: {message}"]
    assert resolution_error(defn) == f"{VALUE_PATH}.make_url: {message}"


def test_make_url_bad_computed_port_fails_at_resolution() -> None:
    args = {"scheme": "http", "host": "h", "port": {"get_param": "port"}}
    defn = define(hot("2017-09-01", {"make_url": args}, parameters=PARAMS))
    assert_clean(defn)
    assert resolution_error(defn) == f"{VALUE_PATH}.make_url: Invalid URL port 70000"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"scheme": "http:", "host": "h"}, 'URL "scheme" should not contain ":"'),
        ({"host": "h", "query": ["a"]}, '"query" of "make_url" must be a map.'),
        ({"host": ["h"]}, '"host" of "make_url" must be a string.'),
    ],
)
def test_make_url_bad_values(args: dict[str, Any], message: str) -> None:
    defn = define(hot("2017-09-01", {"make_url": args}))
    assert resolution_error(defn) == f"{VALUE_PATH}.make_url: {message}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"host": "h", "bogus": 1}, 'Unknown arguments to "make_url": bogus'),
        (["http", "h"], 'Arguments to "make_url" must be a map.'),
    ],
)
def test_make_url_bad_arguments(args: Any, message: str) -> None:
    defn = define(hot("2017-09-01", {"make_url": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.make_url: {message}"]


# ---------------------------------------------------------------------------------------------
# yaql


@pytest.mark.parametrize("version", since("2016-10-14"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"expression": "$.data.a.select($ * 2)", "data": {"a": [1, 2, 3]}}, [2, 4, 6]),
        ({"expression": "$.data.a.sum()", "data": {"a": [1, 2, 3]}}, 6),
        ({"expression": "$.data.where($ > 1)", "data": [1, 2, 3]}, [2, 3]),
        ({"expression": "$.data.m.keys()", "data": {"m": {"k": 1}}}, ["k"]),
        ({"expression": "dict(a => 1)"}, {"a": 1}),
        ({"expression": "$.data"}, {}),
        ({"expression": "$.data.x", "data": {"get_param": "j"}}, 1),
        ({"expression": {"get_param": "expr"}, "data": {"n": 21}}, 42),
    ],
)
def test_yaql(version: str, args: dict[str, Any], expected: Any) -> None:
    defn = define(hot(version, {"yaql": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize("expression", ["$.data.a.select($ * 2", "$.data.(", "1 +"])
def test_yaql_syntax_error_is_reported_at_validation(expression: str) -> None:
    defn = define(hot("2016-10-14", {"yaql": {"expression": expression, "data": {}}}))
    [message] = defn.diags.messages()
    assert message.startswith(f"{VALUE_PATH}.yaql: Bad expression ")
    assert resolution_error(defn).startswith(f"{VALUE_PATH}.yaql: Bad expression ")


def test_yaql_syntax_error_of_a_computed_expression_fails_at_resolution() -> None:
    defn = define(
        hot("2016-10-14", {"yaql": {"expression": {"get_param": "bad_expr"}}}, parameters=PARAMS)
    )
    assert_clean(defn)
    assert resolution_error(defn).startswith(f"{VALUE_PATH}.yaql: ")


@pytest.mark.parametrize(
    "expression",
    [
        "range(0, 100000).select($ * 2)",
        "range(0, 100000).toList()",
        "range(0, 1000).select(range(0, 1000)).flatten().len()",
    ],
)
def test_yaql_iteration_limit_is_an_error_not_a_crash(expression: str) -> None:
    # Known before anything exists, so refused by validation, naming where; and an error,
    # not a crash, when computed all the same.
    defn = define(hot("2016-10-14", {"yaql": {"expression": expression}}))
    (problem,) = defn.diags.messages()
    assert problem.startswith(f"{VALUE_PATH}.yaql: The expression would ")
    assert "limit of 200 elements" in problem or "more than 1000000 steps" in problem
    message = resolution_error(defn)
    assert message == problem


@pytest.mark.parametrize(
    "args",
    [
        {"expression": "$.data.a.b", "data": {"a": [1]}},
        {"expression": "$.data.a + 1", "data": {"a": "x"}},
        {"expression": "$.data.a[5]", "data": {"a": [1]}},
        {"expression": "int($.data)", "data": "x"},
        {"expression": "$.data.nosuch.foo()"},
    ],
)
def test_yaql_evaluation_failure_is_an_error(args: dict[str, Any]) -> None:
    defn = define(hot("2016-10-14", {"yaql": args}))
    assert resolution_error(defn).startswith(f"{VALUE_PATH}.yaql: ")


YAQL_SYNTAX = '"yaql" syntax should be {"yaql": {"expression": <string>, "data": <value>}}'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"data": {}}, YAQL_SYNTAX),
        ("$.data", YAQL_SYNTAX),
        ({"expression": "$.data", "extra": 1}, 'Unknown arguments to "yaql": extra'),
        ({"expression": 5}, 'The "expression" of "yaql" must be a string.'),
    ],
)
def test_yaql_bad_arguments(args: Any, message: str) -> None:
    defn = define(hot("2016-10-14", {"yaql": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.yaql: {message}"]


@pytest.mark.parametrize("version", before("2016-10-14"))
def test_yaql_before_newton_is_plain_data(version: str) -> None:
    snippet = {"yaql": {"expression": "$.data.(", "data": {}}}
    defn = define(hot(version, snippet))
    assert_clean(defn)
    assert value_of(defn) == snippet
