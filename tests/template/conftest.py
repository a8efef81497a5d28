"""Shared helpers for template-language tests: a small type catalog and a fake resolver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from ember.template import (
    Environment,
    PropertySchema,
    StackDefinition,
    StackIdentity,
    Template,
    TypeInfo,
    define,
)
from ember.template.constraints import AllowedValues, Length, Range

CATALOG_TYPES: dict[str, TypeInfo] = {
    "OS::Heat::RandomString": TypeInfo(
        attributes=frozenset({"value", "show"}),
        properties={
            "length": PropertySchema("integer", default=32),
            "character_classes": PropertySchema("list"),
            "character_sequences": PropertySchema("list"),
            "salt": PropertySchema("string"),
        },
    ),
    "OS::Heat::Value": TypeInfo(
        attributes=frozenset({"value", "show"}),
        properties={
            "value": PropertySchema("any", required=True, update_allowed=True),
            "type": PropertySchema("string", update_allowed=True),
        },
    ),
    "OS::Heat::TestResource": TypeInfo(
        attributes=frozenset({"output", "show"}),
        properties={
            "value": PropertySchema("string", default="test_string", update_allowed=True),
            "fail": PropertySchema("boolean", default=False, update_allowed=True),
            "wait_secs": PropertySchema("number", default=0, update_allowed=True),
            "update_replace": PropertySchema("boolean", default=False, update_allowed=True),
        },
    ),
    "OS::Heat::None": TypeInfo(attributes=None, properties=None),
    # Member attributes and "resource.<n>[.<attr>]" are accepted, so any attribute name goes.
    "OS::Heat::ResourceGroup": TypeInfo(
        attributes=None,
        properties={
            "count": PropertySchema(
                "integer", default=1, update_allowed=True, constraints=(Range(min=0),)
            ),
            "index_var": PropertySchema("string", default="%index%", constraints=(Length(min=3),)),
            "resource_def": PropertySchema(
                "map",
                required=True,
                update_allowed=True,
                schema={
                    "type": PropertySchema("string", required=True),
                    "properties": PropertySchema("map"),
                    "metadata": PropertySchema("map"),
                },
            ),
            "removal_policies": PropertySchema(
                "list",
                default=[],
                update_allowed=True,
                schema=PropertySchema("map", schema={"resource_list": PropertySchema("list")}),
            ),
            "removal_policies_mode": PropertySchema(
                "string",
                default="append",
                update_allowed=True,
                constraints=(AllowedValues(values=("append", "update")),),
            ),
        },
    ),
    "OS::Heat::ResourceChain": TypeInfo(
        attributes=None,
        properties={
            "resources": PropertySchema("list", required=True, update_allowed=True),
            "concurrent": PropertySchema("boolean", default=False, update_allowed=True),
            "resource_properties": PropertySchema("map", default={}, update_allowed=True),
        },
    ),
    "OS::Heat::AutoScalingGroup": TypeInfo(
        attributes=None,
        properties={
            "resource": PropertySchema("map", required=True, update_allowed=True),
            "min_size": PropertySchema(
                "integer", required=True, update_allowed=True, constraints=(Range(min=0),)
            ),
            "max_size": PropertySchema(
                "integer", required=True, update_allowed=True, constraints=(Range(min=0),)
            ),
            "desired_capacity": PropertySchema("integer", update_allowed=True),
            "cooldown": PropertySchema("integer", update_allowed=True),
            "rolling_updates": PropertySchema(
                "map",
                update_allowed=True,
                schema={
                    "min_in_service": PropertySchema("integer", default=0),
                    "max_batch_size": PropertySchema("integer", default=1),
                    "pause_time": PropertySchema("number", default=0),
                },
            ),
        },
    ),
    "OS::Heat::Delay": TypeInfo(
        attributes=frozenset({"show"}),
        properties={
            "min_wait": PropertySchema(
                "number", default=0, update_allowed=True, constraints=(Range(min=0),)
            ),
            "max_jitter": PropertySchema(
                "number", default=0, update_allowed=True, constraints=(Range(min=0),)
            ),
            "jitter_multiplier": PropertySchema(
                "number", default=1.0, update_allowed=True, constraints=(Range(min=0),)
            ),
            "actions": PropertySchema(
                "list",
                default=["CREATE"],
                update_allowed=True,
                constraints=(AllowedValues(values=("CREATE", "DELETE", "SUSPEND", "RESUME")),),
            ),
        },
    ),
    "OS::Heat::WaitConditionHandle": TypeInfo(
        attributes=frozenset({"token", "endpoint", "curl_cli", "signal", "show"}),
        properties={
            "signal_transport": PropertySchema(
                "string",
                default="TOKEN_SIGNAL",
                constraints=(
                    AllowedValues(
                        values=(
                            "CFN_SIGNAL",
                            "TEMP_URL_SIGNAL",
                            "HEAT_SIGNAL",
                            "NO_SIGNAL",
                            "ZAQAR_SIGNAL",
                            "TOKEN_SIGNAL",
                        )
                    ),
                ),
            ),
        },
    ),
    "OS::Heat::WaitCondition": TypeInfo(
        attributes=frozenset({"data", "show"}),
        properties={
            "handle": PropertySchema("string", required=True),
            "timeout": PropertySchema("number", required=True, constraints=(Range(1, 43200),)),
            "count": PropertySchema(
                "integer", default=1, update_allowed=True, constraints=(Range(min=1),)
            ),
        },
    ),
    "OS::Heat::SoftwareConfig": TypeInfo(
        attributes=frozenset({"config", "show"}),
        properties={
            "group": PropertySchema("string", default="Heat::Ungrouped"),
            "config": PropertySchema("string"),
            "options": PropertySchema("map"),
            "inputs": PropertySchema("list"),
            "outputs": PropertySchema("list"),
        },
    ),
    "OS::Heat::CloudConfig": TypeInfo(
        attributes=frozenset({"config", "show"}),
        properties={"cloud_config": PropertySchema("map")},
    ),
    "OS::Heat::MultipartMime": TypeInfo(
        attributes=frozenset({"config", "show"}),
        properties={
            "group": PropertySchema("string", default="Heat::Ungrouped"),
            "parts": PropertySchema(
                "list",
                default=[],
                schema=PropertySchema(
                    "map",
                    schema={
                        "config": PropertySchema("string", required=True),
                        "filename": PropertySchema("string"),
                        "type": PropertySchema(
                            "string",
                            default="text",
                            constraints=(AllowedValues(values=("text", "multipart")),),
                        ),
                        "subtype": PropertySchema("string"),
                    },
                ),
            ),
        },
    ),
    "AWS::CloudFormation::WaitConditionHandle": TypeInfo(
        attributes=frozenset({"show"}), properties={}
    ),
    "AWS::CloudFormation::WaitCondition": TypeInfo(
        attributes=frozenset({"Data", "show"}),
        properties={
            "Handle": PropertySchema("string", required=True),
            "Timeout": PropertySchema("number", required=True, constraints=(Range(1, 43200),)),
            "Count": PropertySchema(
                "integer", default=1, update_allowed=True, constraints=(Range(min=1),)
            ),
        },
    ),
    # "Outputs.<name>" of the nested stack: any attribute name goes.
    "AWS::CloudFormation::Stack": TypeInfo(
        attributes=None,
        properties={
            "TemplateURL": PropertySchema("string", required=True, update_allowed=True),
            "TimeoutInMinutes": PropertySchema("integer", update_allowed=True),
            "Parameters": PropertySchema("map", update_allowed=True),
        },
    ),
    "AWS::EC2::Instance": TypeInfo(attributes=None, properties=None),
}


class FakeCatalog:
    def __init__(self, types: Mapping[str, TypeInfo] | None = None) -> None:
        self.types = dict(CATALOG_TYPES if types is None else types)

    def type_info(self, type_name: str) -> TypeInfo | None:
        return self.types.get(type_name)

    def type_names(self) -> Iterable[str]:
        return self.types


class FakeResources:
    """Resolves references and attributes to predictable strings."""

    def __init__(self, attributes: Mapping[tuple[str, str], Any] | None = None) -> None:
        self.attributes = dict(attributes or {})

    def reference(self, name: str) -> Any:
        return f"{name}-id"

    def attribute(self, name: str, attribute: str) -> Any:
        return self.attributes.get((name, attribute), f"{name}.{attribute}")

    def all_attributes(self, name: str) -> dict[str, Any]:
        return {a: v for (n, a), v in self.attributes.items() if n == name}


def make_definition(
    source: str | dict[str, Any],
    *,
    files: Mapping[str, str] | None = None,
    environment: Any = None,
    parameters: Mapping[str, Any] | None = None,
    require_parameters: bool = True,
    catalog: FakeCatalog | None = None,
) -> StackDefinition:
    template = Template.load(source, files)
    env = environment if isinstance(environment, Environment) else Environment.parse(environment)
    if parameters:
        env = env.with_parameters(parameters)
    return define(
        template,
        env,
        identity=StackIdentity(stack_name="teststack", stack_id="1234", project_id="demo"),
        catalog=catalog or FakeCatalog(),
        require_parameters=require_parameters,
    )


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()
