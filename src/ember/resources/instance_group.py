"""OS::Heat::InstanceGroup: ``Size`` instances (``AWS::EC2::Instance``) made from an
AWS::AutoScaling::LaunchConfiguration, in a nested stack; a new launch configuration is
rolled out as the ``RollingUpdate`` update policy says (without one, only members made
from then on use it, as in Heat)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ember.engine.resource import AttributeSchema
from ember.resources.launch_configuration import KEY_VALUE
from ember.resources.resource_group import known_count
from ember.resources.scaling_group import ScalingGroup, ValidationFailed, iso_duration
from ember.template import Members, PropertySchema, apply_schema

MEMBER_TYPE = "AWS::EC2::Instance"
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"

TAGS = PropertySchema(
    "list", "Tags to attach to this group.", schema=PropertySchema("map", schema=KEY_VALUE)
)


def rolling_schema(name: str) -> dict[str, PropertySchema]:
    return {
        name: PropertySchema(
            "map",
            schema={
                "MinInstancesInService": PropertySchema("integer", default=0),
                "MaxBatchSize": PropertySchema("integer", default=1),
                "PauseTime": PropertySchema("string", default="PT0S"),
            },
        )
    }


class InstanceGroup(ScalingGroup):
    type_name = "OS::Heat::InstanceGroup"
    description = (
        "An instance group that can scale arbitrary instances, made from an "
        "AWS::AutoScaling::LaunchConfiguration."
    )
    properties_schema = {
        "AvailabilityZones": PropertySchema("list", "Not Implemented.", required=True),
        "LaunchConfigurationName": PropertySchema(
            "string",
            "The reference to a LaunchConfiguration resource.",
            required=True,
            update_allowed=True,
        ),
        "Size": PropertySchema(
            "integer", "Desired number of instances.", required=True, update_allowed=True
        ),
        "LoadBalancerNames": PropertySchema(
            "list",
            "List of LoadBalancer resources. Currently only the "
            "AWS::ElasticLoadBalancing::LoadBalancer resource type is supported.",
        ),
        "Tags": TAGS,
    }
    attributes_schema = {
        "InstanceList": AttributeSchema(
            "A comma-delimited list of server ip addresses. (Heat extension).", "string"
        ),
    }
    rolls_on = "LaunchConfigurationName"
    update_policy_name: ClassVar[str] = "RollingUpdate"

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        size = known_count(properties.get("Size"))
        return () if size is None else (Members(MEMBER_TYPE, size, defined_here=False),)

    # Sizes ------------------------------------------------------------------------------

    def size_property(self) -> int | None:
        value = self.ctx.properties.get("Size")
        return None if value is None else int(value)

    def bounds(self) -> tuple[int, int]:
        size = self.size_property() or 0
        return 0, size

    def initial_size(self) -> int:
        return self.size_property() or 0

    def wanted_size(self, current: int) -> int:
        size = self.size_property()
        return current if size is None else size

    def rolling(self) -> tuple[int, int, float] | None:
        path = ("resources", self.ctx.name, "update_policy")
        schema = rolling_schema(self.update_policy_name)
        policy = apply_schema(schema, self.ctx.update_policy or {}, path).get(
            self.update_policy_name
        )
        if not policy:
            return None
        pause = iso_duration(str(policy["PauseTime"]), "PauseTime")
        if pause > 3600:
            raise ValidationFailed("Maximum PauseTime is 1 hour.")
        return int(policy["MinInstancesInService"]), int(policy["MaxBatchSize"]), pause

    def validate(self) -> None:
        self.rolling()

    # Members ----------------------------------------------------------------------------

    def configuration_name(self) -> str | None:
        value = self.ctx.properties.get("LaunchConfigurationName")
        return None if value is None else str(value)

    def tags(self) -> list[dict[str, str]]:
        """The group's tags, and the one Ceilometer meters the group by (Heat's)."""
        tags = list(self.ctx.properties.get("Tags") or [])
        if any(str(t["Key"]).startswith("metering.") for t in tags):
            return tags
        return [*tags, {"Key": "metering.groupname", "Value": self.ctx.physical_name()}]

    async def load_member(self) -> None:
        reference = self.configuration_name()
        if reference is None:
            return
        services = self.services
        found = await services.find_resource(self.ctx, reference)
        if found is None or found.type != LAUNCH_CONFIGURATION or found.properties is None:
            raise ValidationFailed(
                f"LaunchConfigurationName ({reference}) reference can not be found."
            )
        properties = {k: v for k, v in found.properties.items() if v is not None}
        properties["Tags"] = self.tags()
        member: dict[str, Any] = {"type": MEMBER_TYPE, "properties": properties}
        if found.metadata:
            member["metadata"] = dict(found.metadata)
        self._member = self.customise(member)

    def customise(self, member: dict[str, Any]) -> dict[str, Any]:
        return member

    def member_definition(self) -> dict[str, Any]:
        # Only reached when load_member found no launch configuration to read.
        raise ValidationFailed("The launch configuration has not been read")

    # Views ------------------------------------------------------------------------------

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        names = self.member_names()
        every = super().attributes_from(outputs)
        by_attr: dict[str, dict[str, Any]] = every["attributes"]
        ips = [by_attr.get("PublicIp", {}).get(n) or "0.0.0.0" for n in names]
        return {"InstanceList": ",".join(ips) or None}
