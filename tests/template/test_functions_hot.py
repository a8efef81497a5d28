"""HOT reference functions (get_param, get_resource, get_attr, get_file, resource_facade)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.conftest import FakeResources
from tests.template.function_helpers import (
    HOT_DATES,
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

FIRST_AND_LAST = (HOT_DATES[0], HOT_DATES[-1])

PARAMS = {
    "s": {"type": "string", "default": "text"},
    "n": {"type": "number", "default": 42},
    "l": {"type": "comma_delimited_list", "default": "x,y,z"},
    "j": {"type": "json", "default": {"a": {"b": [10, 20]}, "k": "v"}},
    "b": {"type": "boolean", "default": True},
    "key": {"type": "string", "default": "k"},
    "attr": {"type": "string", "default": "value"},
}


# ---------------------------------------------------------------------------------------------
# get_param


@pytest.mark.parametrize("version", FIRST_AND_LAST)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("s", "text"),
        ("n", 42),
        ("l", ["x", "y", "z"]),
        ("b", True),
        ("j", {"a": {"b": [10, 20]}, "k": "v"}),
        (["l", 1], "y"),
        (["l", "2"], "z"),  # a list index may be written as a string
        (["j", "a", "b", 0], 10),
        (["j", "k"], "v"),
        (["j", {"get_param": "key"}], "v"),  # a path component may itself be a function
        # A path that leads nowhere gives an empty string, as in Heat.
        (["l", 7], ""),
        (["j", "missing"], ""),
        (["j", "a", "b", 5], ""),
        (["j", "a", "b", "x"], ""),
        (["s", "x"], ""),
        ("OS::stack_name", "teststack"),
        ("OS::stack_id", "1234"),
        ("OS::project_id", "demo"),
    ],
)
def test_get_param(version: str, args: Any, expected: Any) -> None:
    defn = define(hot(version, {"get_param": args}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == expected


def test_get_param_user_value_wins_over_default() -> None:
    defn = define(
        hot("2013-05-23", {"get_param": "s"}, parameters=PARAMS), parameters={"s": "given"}
    )
    assert value_of(defn) == "given"


@pytest.mark.parametrize("version", FIRST_AND_LAST)
def test_get_param_undeclared_is_reported_at_validation(version: str) -> None:
    defn = define(hot(version, {"get_param": "nope"}, parameters=PARAMS))
    # In Heat's words (heat-tempest-plugin looks for them), after where it is.
    assert defn.diags.messages() == [
        f"{VALUE_PATH}.get_param: Property error: : {VALUE_PATH}: : The Parameter (nope) was "
        "not provided."
    ]
    assert "The Parameter (nope) was not provided." in resolution_error(defn)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (5, 'Function "get_param" must be a string or a non-empty list.'),
        ([], 'Function "get_param" must be a string or a non-empty list.'),
        ({"a": 1}, 'Function "get_param" must be a string or a non-empty list.'),
        ([5, "x"], 'The parameter name given to "get_param" must be a string.'),
    ],
)
def test_get_param_bad_arguments(args: Any, message: str) -> None:
    defn = define(hot("2016-10-14", {"get_param": args}, parameters=PARAMS))
    assert defn.diags.messages() == [f"{VALUE_PATH}.get_param: {message}"]
    assert resolution_error(defn) == f"{VALUE_PATH}.get_param: {message}"


# ---------------------------------------------------------------------------------------------
# get_resource


@pytest.mark.parametrize("version", HOT_DATES)
def test_get_resource(version: str) -> None:
    defn = define(hot(version, {"get_resource": "other"}))
    assert_clean(defn)
    assert value_of(defn) == "other-id"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("missing", 'The specified reference "missing" (in get_resource) is incorrect.'),
        (["other"], 'Argument to "get_resource" must be a resource name.'),
        ({"a": "b"}, 'Argument to "get_resource" must be a resource name.'),
        (None, 'Argument to "get_resource" must be a resource name.'),
    ],
)
def test_get_resource_invalid(args: Any, message: str) -> None:
    defn = define(hot("2015-10-15", {"get_resource": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.get_resource: {message}"]


# ---------------------------------------------------------------------------------------------
# get_attr

NESTED_ATTRS = FakeResources({("other", "value"): {"a": [1, {"b": "deep"}]}, ("other", "show"): {}})


@pytest.mark.parametrize("version", HOT_DATES)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["other", "value"], {"a": [1, {"b": "deep"}]}),
        (["other", "value", "a"], [1, {"b": "deep"}]),
        (["other", "value", "a", 1, "b"], "deep"),
        (["other", "value", "a", "0"], 1),
        (["other", "value", "missing"], None),
        (["other", "value", "a", 9], None),
    ],
)
def test_get_attr_with_path(version: str, args: list[Any], expected: Any) -> None:
    defn = define(hot(version, {"get_attr": args}))
    assert_clean(defn)
    assert value_of(defn, NESTED_ATTRS) == expected


def test_get_attr_2013_requires_a_literal_attribute_name() -> None:
    defn = define(
        hot("2013-05-23", {"get_attr": ["other", {"get_param": "attr"}]}, parameters=PARAMS)
    )
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.get_attr: The attribute name given to "get_attr" must be a string.'
    ]


@pytest.mark.parametrize("version", since("2014-10-16"))
def test_get_attr_attribute_name_may_be_computed(version: str) -> None:
    defn = define(hot(version, {"get_attr": ["other", {"get_param": "attr"}]}, parameters=PARAMS))
    assert_clean(defn)
    assert value_of(defn) == "other.value"


@pytest.mark.parametrize("version", since("2015-10-15"))
def test_get_attr_resource_name_only_returns_all_attributes(version: str) -> None:
    defn = define(hot(version, {"get_attr": ["other"]}))
    assert_clean(defn)
    assert value_of(defn, NESTED_ATTRS) == {"value": {"a": [1, {"b": "deep"}]}, "show": {}}


@pytest.mark.parametrize("version", before("2015-10-15"))
def test_get_attr_resource_name_only_is_an_error_before_2015_10_15(version: str) -> None:
    defn = define(hot(version, {"get_attr": ["other"]}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.get_attr: Arguments to "get_attr" must be a list of the form '
        "[resource_name, attribute, (path), ...]"
    ]


@pytest.mark.parametrize("version", FIRST_AND_LAST)
@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"get_attr": ["other", "bogus"]}, "get_attr"),
        ({"list_join": [",", [{"get_attr": ["other", "bogus"]}]]}, "list_join[1][0].get_attr"),
        ({"k": [{"get_attr": ["other", "bogus"]}]}, "k[0].get_attr"),
    ],
)
def test_get_attr_unknown_attribute_caught_at_validation(
    version: str, value: Any, where: str
) -> None:
    defn = define(hot(version, value))
    assert defn.diags.messages() == [
        f"{VALUE_PATH}.{where}: The Referenced Attribute (other bogus) is incorrect."
    ]


@pytest.mark.parametrize("version", FIRST_AND_LAST)
def test_get_attr_unknown_attribute_in_output_names_the_output(version: str) -> None:
    outputs = {"x": {"value": {"get_attr": ["other", "bogus"]}}, "y": {"value": "fine"}}
    defn = define(hot(version, "v", outputs=outputs))
    assert defn.diags.messages() == [
        "outputs.x.value.get_attr: The Referenced Attribute (other bogus) is incorrect."
    ]


def test_get_attr_any_attribute_of_a_type_without_schema() -> None:
    defn = define(
        hot(
            "2016-10-14",
            {"get_attr": ["free", "anything"]},
            resources={"free": {"type": "OS::Heat::None"}},
        )
    )
    assert_clean(defn)
    assert value_of(defn) == "free.anything"


@pytest.mark.parametrize(
    ("version", "args", "message"),
    [
        (
            "2013-05-23",
            ["nope", "value"],
            'The specified reference "nope" (in get_attr) is incorrect.',
        ),
        ("2021-04-16", ["nope"], 'The specified reference "nope" (in get_attr) is incorrect.'),
        (
            "2013-05-23",
            "other",
            'Arguments to "get_attr" must be a list of the form '
            "[resource_name, attribute, (path), ...]",
        ),
        (
            "2015-10-15",
            "other",
            'Arguments to "get_attr" must be a list of the form [resource_name] or '
            "[resource_name, attribute, (path), ...]",
        ),
        (
            "2015-10-15",
            [],
            'Arguments to "get_attr" must be a list of the form [resource_name] or '
            "[resource_name, attribute, (path), ...]",
        ),
        ("2014-10-16", [5, "value"], 'The resource name given to "get_attr" must be a string.'),
        (
            "2014-10-16",
            ["other", ["value"]],
            'The attribute name given to "get_attr" must be a string.',
        ),
    ],
)
def test_get_attr_invalid(version: str, args: Any, message: str) -> None:
    defn = define(hot(version, {"get_attr": args}))
    assert defn.diags.messages() == [f"{VALUE_PATH}.get_attr: {message}"]


def test_get_attr_output_resolves_with_path() -> None:
    outputs = {"deep": {"value": {"get_attr": ["other", "value", "a", 1, "b"]}}}
    defn = define(hot("2014-10-16", "v", outputs=outputs))
    assert output_values(defn, NESTED_ATTRS) == {"deep": ("deep", None)}


# ---------------------------------------------------------------------------------------------
# get_file


@pytest.mark.parametrize("version", HOT_DATES)
def test_get_file_reads_the_files_map(version: str) -> None:
    defn = define(hot(version, {"get_file": "scripts/a.sh"}), files={"scripts/a.sh": "#!/bin/sh\n"})
    assert_clean(defn)
    assert value_of(defn) == "#!/bin/sh\n"


@pytest.mark.parametrize("key", ["nofile", "/etc/passwd", "file:///etc/hostname"])
def test_get_file_missing_key_is_an_error(key: str) -> None:
    defn = define(hot("2016-10-14", {"get_file": key}), files={"other": "x"})
    message = f'No content found in the "files" section for get_file path: {key}'
    assert defn.diags.messages() == [f"{VALUE_PATH}.get_file: {message}"]
    assert resolution_error(defn) == f"{VALUE_PATH}.get_file: {message}"


@pytest.mark.parametrize("args", [["a"], {"a": 1}, 5])
def test_get_file_argument_must_be_a_string(args: Any) -> None:
    defn = define(hot("2016-10-14", {"get_file": args}), files={"a": "x"})
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.get_file: Argument to "get_file" must be a string.'
    ]


# ---------------------------------------------------------------------------------------------
# resource_facade

FACADE = {"metadata": {"m": 1}, "deletion_policy": "Retain", "update_policy": {"u": 2}}


@pytest.mark.parametrize("version", FIRST_AND_LAST)
@pytest.mark.parametrize("key", ["metadata", "deletion_policy", "update_policy"])
def test_resource_facade_in_a_nested_stack(version: str, key: str) -> None:
    defn = define(hot(version, {"resource_facade": key}))
    assert_clean(defn)
    assert value_of(defn, facade=FACADE) == FACADE[key]


@pytest.mark.parametrize("key", ["metadata", "deletion_policy", "update_policy"])
def test_resource_facade_at_top_level_is_an_error(key: str) -> None:
    defn = define(hot("2016-10-14", {"resource_facade": key}))
    assert resolution_error(defn) == (
        f'{VALUE_PATH}.resource_facade: "resource_facade" is only available in a nested stack.'
    )


@pytest.mark.parametrize("args", ["Metadata", "properties", ["metadata"], None])
def test_resource_facade_bad_argument(args: Any) -> None:
    defn = define(hot("2016-10-14", {"resource_facade": args}))
    assert defn.diags.messages() == [
        f'{VALUE_PATH}.resource_facade: Incorrect arguments to "resource_facade" should be: '
        "resource_facade: metadata|deletion_policy|update_policy"
    ]
