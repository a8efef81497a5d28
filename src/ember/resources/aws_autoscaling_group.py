"""AWS::AutoScaling::AutoScalingGroup: instances made from an
AWS::AutoScaling::LaunchConfiguration, between ``MinSize`` and ``MaxSize``, resized by
updates and by AWS::AutoScaling::ScalingPolicy signals (within ``Cooldown``); a new launch
configuration is rolled out as the ``AutoScalingRollingUpdate`` update policy says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ember.resources.autoscaling_group import check_sizes
from ember.resources.instance_group import MEMBER_TYPE, TAGS, InstanceGroup
from ember.resources.resource_group import known_count
from ember.resources.scaling_group import ValidationFailed
from ember.template import Members, PropertySchema
from ember.template.constraints import AllowedValues


class AWSAutoScalingGroup(InstanceGroup):
    type_name = "AWS::AutoScaling::AutoScalingGroup"
    description = "An AWS-style autoscaling group of instances made from a launch configuration."
    properties_schema = {
        "AvailabilityZones": PropertySchema("list", "Not Implemented.", required=True),
        "LaunchConfigurationName": PropertySchema(
            "string", "The reference to a LaunchConfiguration resource.", update_allowed=True
        ),
        "InstanceId": PropertySchema(
            "string",
            "The ID of an existing instance to use to create the Auto Scaling group. If "
            "specify this property, will create the group use an existing instance instead "
            "of a launch configuration.",
        ),
        "MaxSize": PropertySchema(
            "integer",
            "Maximum number of instances in the group.",
            required=True,
            update_allowed=True,
        ),
        "MinSize": PropertySchema(
            "integer",
            "Minimum number of instances in the group.",
            required=True,
            update_allowed=True,
        ),
        "Cooldown": PropertySchema("integer", "Cooldown period, in seconds.", update_allowed=True),
        "DesiredCapacity": PropertySchema(
            "integer", "Desired initial number of instances.", update_allowed=True
        ),
        "HealthCheckGracePeriod": PropertySchema("integer", "Not Implemented."),
        "HealthCheckType": PropertySchema(
            "string", "Not Implemented.", constraints=(AllowedValues(values=("EC2", "ELB")),)
        ),
        "LoadBalancerNames": PropertySchema("list", "List of LoadBalancer resources."),
        "VPCZoneIdentifier": PropertySchema(
            "list",
            "Use only with Neutron, to list the internal subnet to which the instance will be "
            "attached; needed only if multiple exist; list length must be exactly 1.",
            schema=PropertySchema(
                "string", "UUID of the internal subnet to which the instance will be attached."
            ),
        ),
        "Tags": TAGS,
    }
    adjustable = True
    update_policy_name = "AutoScalingRollingUpdate"

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        size = known_count(properties.get("DesiredCapacity"))
        if size is None:
            size = known_count(properties.get("MinSize"))
        return () if size is None else (Members(MEMBER_TYPE, size, defined_here=False),)

    # Sizes ------------------------------------------------------------------------------

    def bounds(self) -> tuple[int, int]:
        return int(self.ctx.properties["MinSize"]), int(self.ctx.properties["MaxSize"])

    def desired(self) -> int | None:
        value = self.ctx.properties.get("DesiredCapacity")
        return None if value is None else int(value)

    def group_cooldown(self) -> float | None:
        value = self.ctx.properties.get("Cooldown")
        return None if value is None else float(value)

    def initial_size(self) -> int:
        return self.desired() or self.bounds()[0]

    def wanted_size(self, current: int) -> int:
        lower, upper = self.bounds()
        return max(lower, min(upper, self.desired() or current))

    def validate(self) -> None:
        check_sizes(*self.bounds(), self.desired())
        zones = self.ctx.properties.get("VPCZoneIdentifier")
        if zones and len(zones) != 1:
            raise ValidationFailed("Anything other than one VPCZoneIdentifier is not supported.")
        if bool(self.ctx.properties.get("InstanceId")) == bool(self.configuration_name()):
            raise ValidationFailed(
                "Either 'InstanceId' or 'LaunchConfigurationName' must be provided."
            )
        if self.ctx.properties.get("InstanceId"):
            raise ValidationFailed(
                "InstanceId: a group can only be made from an existing instance where the "
                "Compute service is available."
            )
        super().validate()

    # Members ----------------------------------------------------------------------------

    def tags(self) -> list[dict[str, str]]:
        return [
            *super().tags(),
            {"Key": "metering.AutoScalingGroupName", "Value": self.ctx.physical_name()},
        ]

    def customise(self, member: dict[str, Any]) -> dict[str, Any]:
        zones = self.ctx.properties.get("VPCZoneIdentifier")
        if zones:
            member["properties"]["SubnetId"] = zones[0]
        return member
