"""HOT string functions (str_replace family, list_join, str_split, digest) in every version."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.template.function_helpers import (
    HOT_DATES,
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
    "s": {"type": "string", "default": "text"},
    "l": {"type": "comma_delimited_list", "default": "x,y,z"},
    "j": {"type": "json", "default": {"a": {"b": [10, 20]}, "k": "v"}},
}


# ---------------------------------------------------------------------------------------------
# str_replace, str_replace_strict, str_replace_vstrict


REPLACE_SYNTAX = (
    '"str_replace" syntax should be {"str_replace": {"template": <string>, "params": <map>}}'
)


def _replace(template: Any, params: Any, name: str = "str_replace") -> dict[str, Any]:
    return {name: {"template": template, "params": params}}


@pytest.mark.parametrize("version", HOT_DATES)
@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        ("Hello $name", {"$name": "World"}, "Hello World"),
        ("n=$n f=$f", {"$n": 3, "$f": 1.5}, "n=3 f=1.5"),
        ("b=$b", {"$b": True}, "b=True"),  # Heat renders booleans with str()
        ("[$none]", {"$none": None}, "[]"),
        ("$x$x", {"$x": "ab"}, "abab"),
        ("nothing to do", {"$x": "y"}, "nothing to do"),
        # Longest key first.
        ("$ab $a", {"$a": "1", "$ab": "2"}, "2 1"),
        # A replacement is never replaced again.
        ("$a $b", {"$a": "$b", "$b": "x"}, "$b x"),
        ("aaa", {"a": "aa"}, "aaaaaa"),
        # Keys of equal length apply in lexical order.
        ("abc", {"bc": "2", "ab": "1"}, "1c"),
    ],
)
def test_str_replace(version: str, template: str, params: dict[str, Any], expected: str) -> None:
    defn = define(hot(version, _replace(template, params)))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize("version", before("2015-10-15"))
@pytest.mark.parametrize(("param", "kind"), [([1, 2], "list"), ({"k": "v"}, "map")])
def test_str_replace_params_must_be_scalars_before_2015_10_15(
    version: str, param: Any, kind: str
) -> None:
    defn = define(hot(version, _replace("x=$x", {"$x": param})))
    assert_clean(defn)
    assert resolution_error(defn) == (
        f'{VALUE_PATH}.str_replace: "str_replace" params must be strings or numbers, not {kind}'
    )


@pytest.mark.parametrize("version", since("2015-10-15"))
@pytest.mark.parametrize(
    ("param", "text"),
    [
        ([1, "two"], '[1, "two"]'),
        ({"z": 1, "a": [True, None]}, '{"a": [true, null], "z": 1}'),  # keys sorted, as Heat
        ([], "[]"),
    ],
)
def test_str_replace_json_serialises_maps_and_lists(version: str, param: Any, text: str) -> None:
    defn = define(hot(version, _replace("x=$x", {"$x": param})))
    assert value_of(defn) == f"x={text}"


def test_str_replace_params_from_a_function() -> None:
    defn = define(
        hot("2015-10-15", _replace({"get_param": "s"}, {"get_param": "j"}), parameters=PARAMS)
    )
    assert_clean(defn)
    assert value_of(defn) == "text"  # no key of the map occurs in the template
    defn = define(hot("2015-10-15", _replace("k:a", {"get_param": "j"}), parameters=PARAMS))
    assert value_of(defn) == 'v:{"b": [10, 20]}'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"template": "x"}, REPLACE_SYNTAX),
        (
            "x",
            REPLACE_SYNTAX,
        ),
        (
            {"template": "x", "params": {}, "extra": 1},
            REPLACE_SYNTAX,
        ),
        ({"params": {}}, '"str_replace" is missing the "template" argument.'),
        ({"template": 5, "params": {}}, '"template" parameter of "str_replace" must be a string.'),
        ({"template": "x", "params": ["a"]}, '"params" parameter of "str_replace" must be a map.'),
    ],
)
def test_str_replace_bad_arguments(args: Any, message: str) -> None:
    defn = define(hot("2016-10-14", {"str_replace": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.str_replace: {message}"]


def test_str_replace_template_resolving_to_a_list_is_an_error() -> None:
    defn = define(hot("2016-10-14", _replace({"get_param": "l"}, {}), parameters=PARAMS))
    assert_clean(defn)
    assert resolution_error(defn) == (
        f'{VALUE_PATH}.str_replace: "template" parameter of "str_replace" must be a string.'
    )


@pytest.mark.parametrize("name", ["str_replace_strict", "str_replace_vstrict"])
@pytest.mark.parametrize(
    ("template", "params", "missing"),
    [
        ("a $b", {"$b": "x", "$c": "y"}, "$c"),
        ("a $b", {"$b": "x", "$dd": 1, "$ccc": 2}, "$ccc,$dd"),
        # "$a" only occurs inside "$ab", which is replaced first: it was never replaced.
        ("$ab", {"$ab": "x", "$a": "y"}, "$a"),
    ],
)
def test_str_replace_strict_missing_key_is_an_error(
    name: str, template: str, params: dict[str, Any], missing: str
) -> None:
    defn = define(hot("2017-09-01", _replace(template, params, name)))
    assert_clean(defn)
    assert resolution_error(defn) == (
        f"{VALUE_PATH}.{name}: The following params were not found in the template: {missing}"
    )


@pytest.mark.parametrize("version", since("2017-02-24"))
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"$b": "x"}, "a x"),
        ({"$b": ""}, "a "),  # strict, not very strict: an empty value is fine
        ({"$b": None}, "a "),
        ({"$b": ["l"]}, 'a ["l"]'),
    ],
)
def test_str_replace_strict(version: str, params: dict[str, Any], expected: str) -> None:
    defn = define(hot(version, _replace("a $b", params, "str_replace_strict")))
    assert value_of(defn) == expected


@pytest.mark.parametrize("version", since("2017-09-01"))
@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", "a x"), (0, "a 0"), (False, "a False"), ([1], "a [1]"), ({"k": 1}, 'a {"k": 1}')],
)
def test_str_replace_vstrict_accepts_non_empty_values(
    version: str, value: Any, expected: str
) -> None:
    defn = define(hot(version, _replace("a $b", {"$b": value}, "str_replace_vstrict")))
    assert value_of(defn) == expected


@pytest.mark.parametrize("value", ["", None, [], {}])
def test_str_replace_vstrict_empty_value_is_an_error(value: Any) -> None:
    defn = define(hot("2017-09-01", _replace("a $b", {"$b": value}, "str_replace_vstrict")))
    assert resolution_error(defn) == (
        f'{VALUE_PATH}.str_replace_vstrict: "str_replace_vstrict" has an undefined or empty '
        "value for param $b"
    )


# ---------------------------------------------------------------------------------------------
# list_join


@pytest.mark.parametrize("version", HOT_DATES)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([",", ["a", "b", "c"]], "a,b,c"),
        ([", ", ["only"]], "only"),
        (["-", []], ""),
        ([",", ["a", None, "b"]], "a,,b"),
        (["", ["a", "b"]], "ab"),
        ([",", {"get_param": "l"}], "x,y,z"),
        ([{"get_param": "s"}, ["1", "2"]], "1text2"),
    ],
)
def test_list_join(version: str, args: list[Any], expected: str) -> None:
    defn = define(hot(version, {"list_join": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize("version", before("2015-10-15"))
def test_list_join_takes_one_list_before_2015_10_15(version: str) -> None:
    defn = define(hot(version, {"list_join": [",", ["a"], ["b"]]}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.list_join: Arguments to "list_join" must be of the form [delimiter, list]'
    ]


@pytest.mark.parametrize("version", before("2015-10-15"))
def test_list_join_items_must_be_strings_before_2015_10_15(version: str) -> None:
    defn = define(hot(version, {"list_join": [",", ["a", {"k": "v"}]]}))
    assert resolution_error(defn) == (
        f"{VALUE_PATH}.list_join: Items to join must be strings, not map"
    )


@pytest.mark.parametrize("version", since("2015-10-15"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([",", ["a"], ["b", "c"]], "a,b,c"),
        ([",", ["a"], [], ["b"]], "a,b"),
        ([",", ["a"], None, ["b"]], "a,b"),
        ([" ", ["a"], [{"k": 1, "b": 2}, [1, "x"]]], 'a {"b": 2, "k": 1} [1, "x"]'),
    ],
)
def test_list_join_several_lists_from_2015_10_15(
    version: str, args: list[Any], expected: str
) -> None:
    defn = define(hot(version, {"list_join": args}))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("version", "args", "message"),
    [
        ("2013-05-23", [",", ["a", 1]], "Items to join must be strings, not number"),
        ("2016-10-14", [",", ["a", 1]], "Items to join must be string, map or list, not number"),
        (
            "2016-10-14",
            [",", ["a", True]],
            "Items to join must be string, map or list, not boolean",
        ),
        ("2013-05-23", [",", "abc"], '"list_join" must operate on a list, not string'),
        ("2016-10-14", [",", ["a"], "abc"], '"list_join" must operate on a list, not string'),
    ],
)
def test_list_join_bad_values(version: str, args: list[Any], message: str) -> None:
    defn = define(hot(version, {"list_join": args}))
    assert resolution_error(defn) == f"{VALUE_PATH}.list_join: {message}"


@pytest.mark.parametrize(
    ("version", "args", "message"),
    [
        ("2013-05-23", ",", 'Arguments to "list_join" must be of the form [delimiter, list]'),
        ("2013-05-23", [","], 'Arguments to "list_join" must be of the form [delimiter, list]'),
        (
            "2016-10-14",
            [","],
            'Arguments to "list_join" must be of the form [delimiter, list, ...]',
        ),
        ("2016-10-14", [1, ["a"]], 'Delimiter for "list_join" must be a string.'),
    ],
)
def test_list_join_bad_arguments(version: str, args: Any, message: str) -> None:
    defn = define(hot(version, {"list_join": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.list_join: {message}"]
    assert resolution_error(defn) == f"{VALUE_PATH}.list_join: {message}"


# ---------------------------------------------------------------------------------------------
# str_split


@pytest.mark.parametrize("version", since("2015-10-15"))
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([",", "a,b,c"], ["a", "b", "c"]),
        ([",", "abc"], ["abc"]),
        ([",", ""], [""]),
        ([", ", "a, b"], ["a", "b"]),
        ([",", "a,b,c", 0], "a"),
        ([",", "a,b,c", 2], "c"),
        ([",", "a,b,c", "1"], "b"),
        ([":", {"get_param": "s"}], ["text"]),
    ],
)
def test_str_split(version: str, args: list[Any], expected: Any) -> None:
    defn = define(hot(version, {"str_split": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([",", "a,b,c", 3], 'Incorrect index to "str_split" should be between 0 and 2'),
        ([",", "a,b,c", -1], 'Incorrect index to "str_split" should be between 0 and 2'),
        ([",", "a,b,c", "x"], 'Index to "str_split" must be an integer.'),
        ([",", "a", [0]], 'Index to "str_split" must be an integer.'),
        ([",", 5], '"str_split" can only split a string, not number'),
        (["", "a"], 'Delimiter for "str_split" must be a non-empty string.'),
    ],
)
def test_str_split_bad_values(args: list[Any], message: str) -> None:
    defn = define(hot("2016-10-14", {"str_split": args}))
    assert resolution_error(defn) == f"{VALUE_PATH}.str_split: {message}"


@pytest.mark.parametrize("args", [[","], "a,b", [",", "a", 0, 1]])
def test_str_split_bad_arguments(args: Any) -> None:
    defn = define(hot("2016-10-14", {"str_split": args}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.str_split: Arguments to "str_split" must be a list of 2 to 3 items.'
    ]


# ---------------------------------------------------------------------------------------------
# digest


@pytest.mark.parametrize("version", since("2015-04-30"))
@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_digest(version: str, algorithm: str) -> None:
    defn = define(hot(version, {"digest": [algorithm, "hello wörld"]}))
    assert_clean(defn)
    assert value_of(defn) == hashlib.new(algorithm, "hello wörld".encode()).hexdigest()


@pytest.mark.parametrize("algorithm", ["SHA256", "Md5"])
def test_digest_algorithm_name_is_case_insensitive(algorithm: str) -> None:
    defn = define(hot("2015-04-30", {"digest": [algorithm, "x"]}))
    assert value_of(defn) == hashlib.new(algorithm.lower(), b"x").hexdigest()


def test_digest_value_from_a_function() -> None:
    defn = define(hot("2015-04-30", {"digest": ["sha1", {"get_param": "s"}]}, parameters=PARAMS))
    assert value_of(defn) == hashlib.sha1(b"text").hexdigest()


def test_digest_bad_algorithm_is_reported_at_validation() -> None:
    defn = define(hot("2015-04-30", {"digest": ["rot13", "x"]}))
    [message] = defn.diags.messages()
    assert message.startswith(f"{VALUE_PATH}.digest: Algorithm must be one of ")
    assert "sha256" in message
    assert message.endswith('not "rot13"')
    assert "Algorithm must be one of" in resolution_error(defn)


def test_digest_bad_algorithm_from_a_parameter_fails_at_resolution() -> None:
    defn = define(hot("2015-04-30", {"digest": [{"get_param": "s"}, "x"]}, parameters=PARAMS))
    assert_clean(defn)
    assert resolution_error(defn).startswith(f"{VALUE_PATH}.digest: Algorithm must be one of ")


@pytest.mark.parametrize("args", [["md5"], "md5", ["md5", "a", "b"]])
def test_digest_bad_arguments(args: Any) -> None:
    defn = define(hot("2015-04-30", {"digest": args}))
    message = f'{VALUE_PATH}.digest: Arguments to "digest" must be a list of 2 items.'
    assert defn.diags.messages() == [message]
    assert resolution_error(defn) == message


def test_digest_value_must_be_a_string() -> None:
    defn = define(hot("2015-04-30", {"digest": ["md5", 5]}))
    assert (
        resolution_error(defn)
        == f'{VALUE_PATH}.digest: "digest" can only hash a string, not number'
    )
