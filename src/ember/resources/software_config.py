"""OS::Heat::SoftwareConfig: an immutable software config, stored as the ones made through
``/software_configs`` are; its physical id is the config's id. Any change replaces it."""

from __future__ import annotations

import contextlib
from typing import Any

from ember.common import errors
from ember.engine.resource import AttributeSchema, ResourceFailure, ResourcePlugin
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues

IO_TYPES = ("String", "Number", "CommaDelimitedList", "Json", "Boolean")
_IO_TYPE = PropertySchema(
    "string",
    "Type of the value of the input.",
    default="String",
    constraints=(AllowedValues(values=IO_TYPES),),
)
INPUT_SCHEMA = {
    "name": PropertySchema("string", "Name of the input.", required=True),
    "description": PropertySchema("string", "Description of the input."),
    "type": _IO_TYPE,
    "default": PropertySchema("any", "Default value for the input if none is specified."),
    "replace_on_change": PropertySchema(
        "boolean",
        "Replace the deployment instead of updating it when the input value changes.",
        default=False,
    ),
    "value": PropertySchema("any", "Value of the input."),
}
OUTPUT_SCHEMA = {
    "name": PropertySchema("string", "Name of the output.", required=True),
    "description": PropertySchema("string", "Description of the output."),
    "type": _IO_TYPE,
    "error_output": PropertySchema(
        "boolean",
        "Denotes that the deployment is in an error state if this output has a value.",
        default=False,
    ),
}


class SoftwareConfig(ResourcePlugin):
    type_name = "OS::Heat::SoftwareConfig"
    description = (
        "A resource for describing and storing software configuration. The config is "
        "immutable: changing any property makes a new one."
    )
    properties_schema = {
        "group": PropertySchema(
            "string",
            "Namespace to group this software config by when delivered to a server. This "
            "may imply what configuration tool is going to perform the configuration.",
            default="Heat::Ungrouped",
        ),
        "config": PropertySchema(
            "string",
            "Configuration script or manifest which specifies what actual configuration is "
            "performed.",
        ),
        "options": PropertySchema(
            "map",
            "Map containing options specific to the configuration management tool used by "
            "this resource.",
        ),
        "inputs": PropertySchema(
            "list",
            "Schema representing the inputs that this software config is expecting.",
            schema=PropertySchema("map", schema=INPUT_SCHEMA),
        ),
        "outputs": PropertySchema(
            "list",
            "Schema representing the outputs that this software config will produce.",
            schema=PropertySchema("map", schema=OUTPUT_SCHEMA),
        ),
    }
    attributes_schema = {
        "config": AttributeSchema("The config value of the software config.", "string")
    }

    def _services(self) -> Any:
        if self.ctx.services is None:
            raise ResourceFailure("Software configs are not available to this resource")
        return self.ctx.services

    async def config_fields(self) -> dict[str, Any]:
        """What the stored config is made of; the types that derive their config from
        other properties (structured, cloud-config, multipart, component) say so here."""
        props = self.ctx.properties
        return {
            "group": props.get("group"),
            "config": props.get("config"),
            "inputs": props.get("inputs"),
            "outputs": props.get("outputs"),
            "options": props.get("options"),
        }

    async def create(self) -> None:
        if self.ctx.physical_id is not None:
            return  # made before this node was resumed
        fields = await self.config_fields()
        self.ctx.physical_id = await self._services().create_software_config(
            self.ctx, name=self.ctx.physical_name(), **fields
        )

    async def delete(self) -> None:
        if self.ctx.physical_id is None:
            return
        with contextlib.suppress(errors.EntityNotFound):
            await self._services().delete_software_config(self.ctx, self.ctx.physical_id)

    def attributes(self) -> dict[str, Any]:
        return {"config": self.ctx.properties.get("config")}
