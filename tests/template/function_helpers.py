"""Small builders shared by the intrinsic-function tests.

Each test template holds one resource ``r`` of type ``OS::Heat::Value`` whose ``value``
property is the snippet under test, next to two plain resources (``other`` and ``third``) that
references can point at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ember.common import errors
from ember.template import OMIT, StackDefinition
from tests.template.conftest import FakeResources, make_definition

HOT_DATES = (
    "2013-05-23",
    "2014-10-16",
    "2015-04-30",
    "2015-10-15",
    "2016-04-08",
    "2016-10-14",
    "2017-02-24",
    "2017-09-01",
    "2018-03-02",
    "2018-08-31",
    "2021-04-16",
)
CFN_VERSIONS = (
    ("AWSTemplateFormatVersion", "2010-09-09"),
    ("HeatTemplateFormatVersion", "2012-12-12"),
)
ABSENT = "<absent>"
VALUE_PATH = "resources.r.properties.value"
CFN_VALUE_PATH = "Resources.r.Properties.value"


def since(date: str) -> list[str]:
    """HOT versions from ``date`` on."""
    return [d for d in HOT_DATES if d >= date]


def before(date: str) -> list[str]:
    """HOT versions older than ``date``."""
    return [d for d in HOT_DATES if d < date]


def hot(
    version: str,
    value: Any = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    conditions: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "heat_template_version": version,
        "resources": {
            "other": {"type": "OS::Heat::RandomString"},
            "third": {"type": "OS::Heat::RandomString"},
            "r": {"type": "OS::Heat::Value", "properties": {"value": value}},
        },
    }
    if resources is not None:
        doc["resources"].update(resources)
    if parameters is not None:
        doc["parameters"] = dict(parameters)
    if conditions is not None:
        doc["conditions"] = dict(conditions)
    if outputs is not None:
        doc["outputs"] = dict(outputs)
    return doc


def cfn(
    value: Any = None,
    *,
    key: str = "AWSTemplateFormatVersion",
    version: str = "2010-09-09",
    parameters: Mapping[str, Any] | None = None,
    mappings: Mapping[str, Any] | None = None,
    conditions: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        key: version,
        "Resources": {
            "other": {"Type": "OS::Heat::RandomString"},
            "third": {"Type": "OS::Heat::RandomString"},
            "r": {"Type": "OS::Heat::Value", "Properties": {"value": value}},
        },
    }
    if resources is not None:
        doc["Resources"].update(resources)
    for section, content in (
        ("Parameters", parameters),
        ("Mappings", mappings),
        ("Conditions", conditions),
        ("Outputs", outputs),
    ):
        if content is not None:
            doc[section] = dict(content)
    return doc


def define(doc: dict[str, Any], **kwargs: Any) -> StackDefinition:
    return make_definition(doc, **kwargs)


def value_of(
    defn: StackDefinition,
    resources: FakeResources | None = None,
    *,
    name: str = "r",
    facade: Mapping[str, Any] | None = None,
) -> Any:
    """The resolved ``value`` property of resource ``name`` (``ABSENT`` when removed)."""
    ctx = defn.resolve_context(resources or FakeResources(), facade=facade)
    props = defn.resources[name].resolved_properties(ctx)
    value = props.get("value", ABSENT)
    assert value is not OMIT
    return value


def resolution_error(defn: StackDefinition, resources: FakeResources | None = None) -> str:
    """The message of the error that resolving resource ``r`` raises."""
    with pytest.raises(errors.EmberError) as info:
        value_of(defn, resources)
    return str(info.value)


def output_values(
    defn: StackDefinition, resources: FakeResources | None = None
) -> dict[str, tuple[Any, str | None]]:
    """Each output's (value, error)."""
    ctx = defn.resolve_context(resources or FakeResources())
    return {o.name: (o.value, o.error) for o in defn.resolve_outputs(ctx)}


def assert_clean(defn: StackDefinition) -> None:
    assert defn.diags.messages() == []
