"""AWS::AutoScaling::ScalingPolicy: resizes the AWS::AutoScaling::AutoScalingGroup named
by ``AutoScalingGroupName`` when signalled, as OS::Heat::ScalingPolicy does, in
CloudFormation's words; ``Ref`` gives its pre-signed alarm URL."""

from __future__ import annotations

from typing import Any

from ember.engine.resource import AttributeSchema
from ember.resources import scaling_group
from ember.resources.scaling_policy import ScalingPolicy
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues, Range


class AWSScalingPolicy(ScalingPolicy):
    type_name = "AWS::AutoScaling::ScalingPolicy"
    description = "A resource to manage scaling of AWS::AutoScaling::AutoScalingGroup."
    GROUP = "AutoScalingGroupName"
    ADJUSTMENT = "ScalingAdjustment"
    TYPE = "AdjustmentType"
    COOLDOWN = "Cooldown"
    STEP = "MinAdjustmentStep"
    PERCENT = scaling_group.CFN_PERCENT

    properties_schema = {
        "AutoScalingGroupName": PropertySchema(
            "string", "AutoScaling group name to apply policy to.", required=True
        ),
        "ScalingAdjustment": PropertySchema(
            "integer", "Size of adjustment.", required=True, update_allowed=True
        ),
        "AdjustmentType": PropertySchema(
            "string",
            "Type of adjustment (absolute or percentage).",
            required=True,
            update_allowed=True,
            constraints=(AllowedValues(values=scaling_group.CFN_ADJUSTMENT_TYPES),),
        ),
        "Cooldown": PropertySchema("integer", "Cooldown period, in seconds.", update_allowed=True),
        "MinAdjustmentStep": PropertySchema(
            "integer",
            "Minimum number of resources that are added or removed when the AutoScaling "
            "group scales up or down. This can be used only when specifying "
            "PercentChangeInCapacity for the AdjustmentType property.",
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
    }
    attributes_schema = {
        "AlarmUrl": AttributeSchema(
            "A signed url to handle the alarm. (Heat extension).", "string"
        ),
    }

    def attributes(self) -> dict[str, Any]:
        access = self.ctx.signal_access
        return {"AlarmUrl": access.cfn_signal_url if access else None}

    def reference_id(self) -> str | None:
        access = self.ctx.signal_access
        if self.ctx.physical_id is not None and access is not None:
            return access.cfn_signal_url
        return self.ctx.name
