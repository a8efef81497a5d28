"""OS::Heat::CloudConfig: cloud-init's ``#cloud-config`` YAML made from a map, stored as a
software config (generally a server's user_data or a MultipartMime part). Any change
replaces it."""

from __future__ import annotations

from typing import Any

import yaml

from ember.engine.resource import AttributeSchema
from ember.resources.software_config import SoftwareConfig
from ember.template import PropertySchema

HEADER = "#cloud-config\n"


def cloud_config_text(value: Any) -> str:
    """The config cloud-init reads: the header line, then the map as block YAML."""
    return HEADER + yaml.safe_dump(value, default_flow_style=False)


class CloudConfig(SoftwareConfig):
    type_name = "OS::Heat::CloudConfig"
    description = (
        "A configuration resource for representing cloud-init cloud-config. Any intrinsic "
        "functions in the config are resolved before it is stored."
    )
    properties_schema = {
        "cloud_config": PropertySchema(
            "map",
            "Map representing the cloud-config data structure which will be formatted as YAML.",
        ),
    }
    attributes_schema = {
        "config": AttributeSchema("The config value of the software config.", "string")
    }

    async def config_fields(self) -> dict[str, Any]:
        return {"group": "Heat::Ungrouped", "config": self._text()}

    def _text(self) -> str:
        return cloud_config_text(self.ctx.properties.get("cloud_config"))

    def attributes(self) -> dict[str, Any]:
        return {"config": self._text()}
