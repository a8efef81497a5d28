"""OS::Heat::SoftwareComponent: one config per lifecycle action of a software component,
stored as a software config of group ``component`` whose config is ``{"configs": [...]}``
(what in-instance hooks and OS::Heat::SoftwareDeployment read). Any change replaces it."""

from __future__ import annotations

from typing import Any

from ember.engine.resource import AttributeSchema, ResourceFailure
from ember.resources.software_config import SoftwareConfig
from ember.template import PropertySchema
from ember.template.constraints import Length

COMPONENT_GROUP = "component"
CONFIG_SCHEMA = {
    # Custom actions are allowed: in-instance hooks may handle more than Heat's own.
    "actions": PropertySchema(
        "list",
        "Lifecycle actions to which the configuration applies. The string values provided "
        "for this property can include the standard resource actions CREATE, DELETE, "
        "UPDATE, SUSPEND and RESUME supported by Heat.",
        default=["CREATE", "UPDATE"],
        schema=PropertySchema("string"),
        constraints=(Length(min=1),),
    ),
    "config": SoftwareConfig.properties_schema["config"],
    "tool": PropertySchema(
        "string",
        "The configuration tool used to actually apply the configuration on a server. This "
        "string property has to be understood by in-instance tools running inside deployed "
        "servers.",
        required=True,
    ),
}


class SoftwareComponent(SoftwareConfig):
    type_name = "OS::Heat::SoftwareComponent"
    description = (
        "A resource for describing and storing a software component: the configurations "
        "of all its lifecycle actions in one place."
    )
    properties_schema = {
        "configs": PropertySchema(
            "list",
            "The list of configurations for the different lifecycle actions of the "
            "represented software component.",
            required=True,
            schema=PropertySchema("map", schema=CONFIG_SCHEMA),
            constraints=(Length(min=1),),
        ),
        "inputs": SoftwareConfig.properties_schema["inputs"],
        "outputs": SoftwareConfig.properties_schema["outputs"],
        "options": SoftwareConfig.properties_schema["options"],
    }
    attributes_schema = {
        "config": AttributeSchema("The config value of the software config.", "string"),
        "configs": AttributeSchema(
            "The list of configurations for the software component's lifecycle actions.",
            "list",
        ),
    }

    def _configs(self) -> list[dict[str, Any]]:
        return list(self.ctx.properties.get("configs") or [])

    def _check_actions(self) -> None:
        # One config per action: nothing would say in which order two should run.
        seen: set[str] = set()
        for entry in self._configs():
            actions = entry.get("actions") or []
            if any(action in seen for action in actions):
                raise ResourceFailure(
                    "Defining more than one configuration for the same action in "
                    f'SoftwareComponent "{self.ctx.name}" is not allowed.'
                )
            seen.update(actions)

    async def config_fields(self) -> dict[str, Any]:
        self._check_actions()
        props = self.ctx.properties
        return {
            "group": COMPONENT_GROUP,
            "config": {"configs": self._configs()},
            "inputs": props.get("inputs"),
            "outputs": props.get("outputs"),
            "options": props.get("options"),
        }

    def attributes(self) -> dict[str, Any]:
        return {"config": {"configs": self._configs()}, "configs": self._configs()}
