"""OS::Heat::SoftwareDeploymentGroup: one OS::Heat::SoftwareDeployment per server of the
``servers`` map, in a nested stack (a resource group whose members are named by the map's
keys). Attributes are maps from those names: ``deploy_stdouts``, ``deploy_stderrs``,
``deploy_status_codes``, and any attribute of a deployment (a declared output, say)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ember.engine.resource import AttributeSchema, ResourceFailure
from ember.resources import rolling_update
from ember.resources.resource_group import UPDATE_POLICY, ResourceGroup, by_index
from ember.resources.software_deployment import (
    PROPERTIES,
    STATUS_CODE,
    STDERR,
    STDOUT,
    SoftwareDeployment,
)
from ember.resources.stack_resource import REFS_OUTPUT, member_attributes
from ember.template import TOO_MANY_RESOURCES, Members, PropertySchema, apply_schema

# Group attribute -> the member attribute it maps.
MAPPED = {"deploy_stdouts": STDOUT, "deploy_stderrs": STDERR, "deploy_status_codes": STATUS_CODE}
# Heat's rolling update of deployments has no min_in_service: none need stay in service.
GROUP_POLICY = {
    "rolling_update": PropertySchema(
        "map",
        "Rolling update configuration for the deployments in the group.",
        schema={
            "max_batch_size": rolling_update.max_batch_size("deployments"),
            "pause_time": rolling_update.PAUSE_TIME,
        },
    ),
    "batch_create": UPDATE_POLICY["batch_create"],
}


class SoftwareDeploymentGroup(ResourceGroup):
    type_name = "OS::Heat::SoftwareDeploymentGroup"
    description = (
        "This resource associates a group of servers with some configuration: the "
        "configuration is deployed to every server of the group."
    )
    member_type = SoftwareDeployment.type_name
    properties_schema = {
        "servers": PropertySchema(
            "map",
            "A map of names and server IDs to apply configuration to. The name is arbitrary "
            "and is used as the Heat resource name for the corresponding deployment.",
            update_allowed=True,
            required=True,
        ),
        **{k: v for k, v in PROPERTIES.items() if k != "server"},
    }
    attributes_schema = {
        "deploy_stdouts": AttributeSchema(
            "A map of Nova names and captured stdouts from the configuration execution to "
            "each server.",
            "map",
        ),
        "deploy_stderrs": AttributeSchema(
            "A map of Nova names and captured stderrs from the configuration execution to "
            "each server.",
            "map",
        ),
        "deploy_status_codes": AttributeSchema(
            "A map of Nova names and returned status code from the configuration execution.",
            "map",
        ),
    }

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        servers = properties.get("servers")
        if not isinstance(servers, Mapping):
            return ()
        return (Members(cls.member_type, len(servers), defined_here=False),)

    def servers(self) -> dict[str, Any]:
        return dict(self.ctx.properties.get("servers") or {})

    def size(self) -> int:
        return len(self.servers())

    def members_changed(self, changed: Mapping[str, Any]) -> bool:
        return True  # every property is passed on to every member

    def member_template(self) -> Any:
        return {k: v for k, v in self.ctx.properties.items() if k != "servers"}

    def names(self, size: int | None = None) -> list[str]:
        """The server map's keys: each names its deployment."""
        names = list(self.servers())
        limit = self.ctx.limits.max_resources
        if limit != -1 and len(names) > limit:
            raise ResourceFailure(TOO_MANY_RESOURCES)
        return names if size is None else names[:size]

    def member_definition(self, name: str) -> dict[str, Any]:
        properties = {
            k: v for k, v in self.ctx.properties.items() if k != "servers" and v is not None
        }
        properties["server"] = self.servers().get(name)
        return {"type": self.member_type, "properties": properties}

    def policy(self) -> dict[str, Any]:
        path = ("resources", self.ctx.name, "update_policy")
        out = apply_schema(GROUP_POLICY, self.ctx.update_policy or {}, path)
        if out.get("rolling_update"):
            out["rolling_update"] = {**out["rolling_update"], "min_in_service": 0}
        return out

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        names = by_index((outputs.get(REFS_OUTPUT) or {}).keys())
        out = member_attributes(names, outputs)
        per_member: dict[str, dict[str, Any]] = out.get("attributes") or {}
        # Every member attribute is a map by deployment name here, not a list.
        out.update(per_member)
        for group_attr, member_attr in MAPPED.items():
            out[group_attr] = per_member.get(member_attr) or dict.fromkeys(names)
        return out
