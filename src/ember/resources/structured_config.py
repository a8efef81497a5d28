"""OS::Heat::StructuredConfig: a software config whose ``config`` is a map, stored and shown
by ``/software_configs`` as parsed JSON (for tools configured in YAML or JSON). Its inputs
are substituted by OS::Heat::StructuredDeployment. Any change replaces it."""

from __future__ import annotations

from ember.resources.software_config import SoftwareConfig
from ember.template import PropertySchema


class StructuredConfig(SoftwareConfig):
    type_name = "OS::Heat::StructuredConfig"
    description = (
        "Like OS::Heat::SoftwareConfig, but the config property is a map rather than a "
        "string, serialized as JSON."
    )
    properties_schema = {
        **SoftwareConfig.properties_schema,
        "config": PropertySchema(
            "map",
            "Map representing the configuration data structure which will be serialized to "
            "JSON format.",
        ),
    }
