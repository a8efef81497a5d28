"""Loading templates from YAML and JSON text safely."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ember.common import errors
from ember.template import Template, parse_text
from ember.template.loader import MAX_DEPTH, TemplateLoadError, load_mapping
from tests.template.conftest import make_definition

SMALL = "heat_template_version: 2016-10-14\n"


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def nested_yaml_blocks(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "leaf\n"


# ---------------------------------------------------------------------------
# Size limit


@pytest.mark.parametrize(
    ("text", "max_size", "ok"),
    [
        (SMALL, len(SMALL), True),
        (SMALL, len(SMALL) - 1, False),
        (SMALL, None, True),
        ("description: é\n", len(b"description: \xc3\xa9\n"), True),
        ("description: é\n", len("description: é\n"), False),  # bytes, not characters
        (json.dumps({"a": "x" * 100}), 50, False),
    ],
)
def test_size_limit(text: str, max_size: int | None, ok: bool) -> None:
    if ok:
        assert isinstance(parse_text(text, max_size=max_size), dict)
    else:
        with pytest.raises(errors.RequestLimitExceeded) as info:
            parse_text(text, max_size=max_size)
        assert "exceeds maximum allowed size" in info.value.message
        assert info.value.message.startswith("Request limit exceeded: Template size")


def test_template_load_applies_the_size_limit() -> None:
    text = SMALL + "description: " + "x" * 200 + "\n"
    with pytest.raises(errors.RequestLimitExceeded):
        Template.load(text, max_size=100)
    assert Template.load(text, max_size=1000).description == "x" * 200


# ---------------------------------------------------------------------------
# Alias bombs, recursion and deep nesting


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (billion_laughs(), "too many nodes through YAML aliases"),
        (billion_laughs(levels=6, width=10), "too many nodes through YAML aliases"),
        ("a: &a [*a]\n", "recursive YAML alias"),
        ("&a [*a]\n", "recursive YAML alias"),
        ("a: &x {b: *x}\n", "recursive YAML alias"),
        ("a: &x {b: [1, {c: *x}]}\n", "recursive YAML alias"),
        ("[" * (MAX_DEPTH + 50) + "]" * (MAX_DEPTH + 50), f"nested more than {MAX_DEPTH}"),
        (nested_yaml_blocks(MAX_DEPTH + 20), f"nested more than {MAX_DEPTH}"),
        ('{"a": ' * (MAX_DEPTH + 20) + "1" + "}" * (MAX_DEPTH + 20), f"more than {MAX_DEPTH}"),
        ('{"a": [' * 2 + "[" * (MAX_DEPTH * 2) + "]" * (MAX_DEPTH * 2) + "]}" * 2, "more than"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nest"),
        ("[" * 100_000 + "]" * 100_000, "nest"),
    ],
)
def test_unsafe_documents_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(TemplateLoadError) as info:
        parse_text(text)
    assert fragment in info.value.message
    assert isinstance(info.value, errors.InvalidRequest)


@pytest.mark.parametrize(
    "text",
    [
        billion_laughs(levels=3, width=3),
        "base: &b {x: 1, y: [1, 2]}\nuse1: *b\nuse2: *b\nmerged: {<<: *b, z: 3}\n",
        "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1),
        '{"a": ' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1),
        nested_yaml_blocks(MAX_DEPTH - 2),
    ],
)
def test_honest_aliases_and_nesting_are_accepted(text: str) -> None:
    assert parse_text(text) is not None


def test_aliases_expand_to_equal_values() -> None:
    data = parse_text("base: &b {x: 1}\nuse: *b\nmerged: {<<: *b, z: 3}\n")
    assert data == {"base": {"x": 1}, "use": {"x": 1}, "merged": {"x": 1, "z": 3}}


# ---------------------------------------------------------------------------
# Documents that are not mappings, and unparsable text


@pytest.mark.parametrize(
    "text",
    ["- a\n- b\n", "just a string\n", "5\n", "", "null\n", "---\n", "[1, 2]", '"text"'],
)
def test_templates_must_be_mappings(text: str) -> None:
    with pytest.raises(TemplateLoadError) as info:
        Template.load(text)
    assert info.value.message == "The template is not a JSON object or YAML mapping."


def test_load_mapping_names_what_it_loads() -> None:
    with pytest.raises(TemplateLoadError, match="The environment is not a JSON object"):
        load_mapping("- a\n", what="environment")


@pytest.mark.parametrize(
    "text",
    [
        "a: [\n",
        "a: b: c\n",
        "\t- a\n",
        "a: 'unterminated\n",
        '{"a": {]}',
        '{"heat_template_version": "2016-10-14",',
        "a: 1\n---\nb: 2\n",
        "? [a]\n: b\n",
        "a: !!python/object:os.system {}\n",
    ],
)
def test_invalid_text_gives_a_clear_error(text: str) -> None:
    with pytest.raises(TemplateLoadError) as info:
        parse_text(text)
    assert info.value.message.startswith("Error parsing template: ")
    assert isinstance(info.value, errors.InvalidRequest)


def test_error_names_the_document() -> None:
    with pytest.raises(TemplateLoadError, match="Error parsing environment"):
        parse_text("a: [\n", what="environment")


@pytest.mark.parametrize("data", [b"\xff\xfe\x00", b"description: \xe9\n"])
def test_bytes_must_be_utf8(data: bytes) -> None:
    with pytest.raises(TemplateLoadError, match="not valid UTF-8"):
        parse_text(data)


@pytest.mark.parametrize("max_size", [None, 1000])
def test_lone_surrogates_are_refused(max_size: int | None) -> None:
    with pytest.raises(TemplateLoadError, match="not valid UTF-8"):
        parse_text("description: \ud800\n", max_size=max_size)


@pytest.mark.parametrize("source", [5, ["heat_template_version", "2016-10-14"], None, 1.5])
def test_sources_that_are_not_text(source: Any) -> None:
    with pytest.raises(TemplateLoadError, match="not a JSON object or YAML mapping"):
        Template.load(source)


def test_utf8_bytes_are_decoded() -> None:
    assert parse_text("description: é\n".encode()) == {"description": "é"}


# ---------------------------------------------------------------------------
# Scalars: dates stay strings, other types as YAML says


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: 2016-10-14\n", "2016-10-14"),
        ("v: 2001-12-14t21:59:43.10-05:00\n", "2001-12-14t21:59:43.10-05:00"),
        ("v: 2001-12-14 21:59:43.10 -5\n", "2001-12-14 21:59:43.10 -5"),
        ("v: '2016-10-14'\n", "2016-10-14"),
        ("v: 5\n", 5),
        ("v: 5.5\n", 5.5),
        ("v: true\n", True),
        ("v: null\n", None),
        ("v: abc\n", "abc"),
    ],
)
def test_scalars(text: str, expected: Any) -> None:
    value = parse_text(text)["v"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("2013-05-23", "heat_template_version.2013-05-23"),
        ("2016-10-14", "heat_template_version.2016-10-14"),
        ("2018-03-02", "heat_template_version.2018-03-02"),
        ("2021-04-16", "heat_template_version.2021-04-16"),
        ("newton", "heat_template_version.2016-10-14"),
    ],
)
def test_unquoted_version_dates(version: str, name: str) -> None:
    template = Template.load(f"heat_template_version: {version}\n")
    assert template.version.name == name


def test_unquoted_cfn_version_date() -> None:
    template = Template.load("AWSTemplateFormatVersion: 2010-09-09\nResources: {}\n")
    assert template.version.name == "AWSTemplateFormatVersion.2010-09-09"
    assert template.kind == "cfn"


# ---------------------------------------------------------------------------
# JSON templates


JSON_HOT = {
    "heat_template_version": "2016-10-14",
    "description": "from JSON",
    "parameters": {"n": {"type": "number", "default": 2}},
    "resources": {"r": {"type": "OS::Heat::RandomString", "properties": {"length": 8}}},
    "outputs": {"o": {"value": {"get_param": "n"}}},
}

JSON_CFN = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "CFN from JSON",
    "Parameters": {"N": {"Type": "Number", "Default": "3"}},
    "Resources": {"H": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    "Outputs": {"O": {"Value": {"Ref": "N"}}},
}


@pytest.mark.parametrize(
    ("doc", "description"), [(JSON_HOT, "from JSON"), (JSON_CFN, "CFN from JSON")]
)
@pytest.mark.parametrize("indent", [None, 2])
def test_json_templates(doc: dict, description: str, indent: int | None) -> None:
    text = json.dumps(doc, indent=indent)
    assert parse_text(text) == doc
    defn = make_definition(text)
    assert not defn.diags, defn.diags.messages()
    assert defn.description == description


def test_json_with_leading_whitespace() -> None:
    assert parse_text("\n   " + json.dumps(JSON_HOT)) == JSON_HOT


def test_yaml_flow_mapping_that_is_not_json() -> None:
    assert parse_text("{a: 1, b: [x, y]}") == {"a": 1, "b": ["x", "y"]}
