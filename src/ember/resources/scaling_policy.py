"""OS::Heat::ScalingPolicy: resizes the OS::Heat::AutoScalingGroup it names when
signalled (an alarm, or anyone holding its URLs).

A signal finds the group (the resource of the same stack that ``get_resource`` of it gives
``auto_scaling_group_id``), asks whether the group would make the adjustment now, and if
so sends it (``StackServices.adjust_group``): the group's own node then resizes it, within
its ``min_size`` and ``max_size``, and starts its cooldown (the policy's ``cooldown`` if
given, else the group's). A signal the group would not act on (inside the cooldown, no
change in size, the group busy) changes nothing; its SIGNAL event says why, in Heat's
words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ember.engine.resource import AttributeSchema, ResourceFailure, ResourcePlugin
from ember.resources import scaling_group
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues, Range


class ScalingPolicy(ResourcePlugin):
    type_name = "OS::Heat::ScalingPolicy"
    description = "A resource to manage scaling of OS::Heat::AutoScalingGroup."
    # Property names, by role (the AWS policy names them its own way).
    GROUP: ClassVar[str] = "auto_scaling_group_id"
    ADJUSTMENT: ClassVar[str] = "scaling_adjustment"
    TYPE: ClassVar[str] = "adjustment_type"
    COOLDOWN: ClassVar[str] = "cooldown"
    STEP: ClassVar[str] = "min_adjustment_step"
    PERCENT: ClassVar[str] = scaling_group.PERCENT

    properties_schema = {
        "auto_scaling_group_id": PropertySchema(
            "string", "AutoScaling group ID to apply policy to.", required=True
        ),
        "scaling_adjustment": PropertySchema(
            "number", "Size of adjustment.", required=True, update_allowed=True
        ),
        "adjustment_type": PropertySchema(
            "string",
            "Type of adjustment (absolute or percentage).",
            required=True,
            update_allowed=True,
            constraints=(AllowedValues(values=scaling_group.ADJUSTMENT_TYPES),),
        ),
        "cooldown": PropertySchema("number", "Cooldown period, in seconds.", update_allowed=True),
        "min_adjustment_step": PropertySchema(
            "integer",
            "Minimum number of resources that are added or removed when the AutoScaling "
            "group scales up or down. This can be used only when specifying "
            "percent_change_in_capacity for the adjustment_type property.",
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
    }
    attributes_schema = {
        "alarm_url": AttributeSchema("A signed url to handle the alarm.", "string"),
        "signal_url": AttributeSchema("A url to handle the alarm using native API.", "string"),
    }
    signal_supported = True
    signal_credential = True

    def validate(self) -> None:
        """Heat's ResourcePropertyValueDependency."""
        if (
            self.ctx.properties.get(self.TYPE) != self.PERCENT
            and self.ctx.properties.get(self.STEP) is not None
        ):
            raise scaling_group.ValidationFailed(
                f"{self.STEP} property should only be specified for {self.TYPE} with value "
                f"{self.PERCENT}."
            )

    async def create(self) -> None:
        self.validate()
        await super().create()

    async def update(self, changed: Mapping[str, Any]) -> None:
        self.validate()

    async def signal(self, details: Any) -> str | None:
        services = self.ctx.services
        if services is None:
            raise ResourceFailure("Scaling is not available in this engine")
        reference = str(self.ctx.properties[self.GROUP])
        group = await services.find_resource(self.ctx, reference)
        if group is None or not group.adjustable:
            raise ResourceFailure(
                f'Alarm {self.ctx.name} could not find scaling group named "{reference}"'
            )
        cooldown = self.ctx.properties.get(self.COOLDOWN)
        adjustment = {
            # One per signal handled, so that the same signal run twice resizes once.
            "id": f"{self.ctx.uuid}:{self.ctx.signals}",
            "adjustment": self.ctx.properties[self.ADJUSTMENT],
            "adjustment_type": self.ctx.properties[self.TYPE],
            "min_adjustment_step": self.ctx.properties.get(self.STEP),
            "cooldown": None if cooldown is None else float(cooldown),
        }
        refused = scaling_group.refusal(group, adjustment)
        if refused is not None:
            return refused
        await services.adjust_group(self.ctx, group.name, adjustment)
        return None

    def attributes(self) -> dict[str, Any]:
        access = self.ctx.signal_access
        return {
            "alarm_url": access.cfn_signal_url if access else None,
            "signal_url": access.heat_url if access else None,
        }
