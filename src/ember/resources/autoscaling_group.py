"""OS::Heat::AutoScalingGroup: members of any type (``resource``, a definition as in a
template) in a nested stack, between ``min_size`` and ``max_size``, resized by updates and
by OS::Heat::ScalingPolicy signals; a changed ``resource`` is rolled out as
``rolling_updates`` says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ember.engine.resource import AttributeSchema
from ember.resources import rolling_update
from ember.resources.resource_group import known_count
from ember.resources.scaling_group import ScalingGroup, ValidationFailed
from ember.template import Members, PropertySchema
from ember.template.constraints import Range

# What a member definition may hold, as a resource in a HOT template.
MEMBER_KEYS = ("type", "properties", "metadata", "depends_on", "update_policy", "deletion_policy")


def check_sizes(lower: int, upper: int, desired: int | None) -> None:
    """Heat's checks of a group's sizes (its words, shared by every scaling group)."""
    if upper < lower:
        raise ValidationFailed("MinSize can not be greater than MaxSize")
    if lower < 0:
        raise ValidationFailed("The size of AutoScalingGroup can not be less than zero")
    if desired is not None and not lower <= desired <= upper:
        raise ValidationFailed("DesiredCapacity must be between MinSize and MaxSize")


class AutoScalingGroup(ScalingGroup):
    type_name = "OS::Heat::AutoScalingGroup"
    description = (
        "An autoscaling group that can scale arbitrary resources: a desired count of "
        "similar resources, defined with the resource property in HOT format."
    )
    properties_schema = {
        "resource": PropertySchema(
            "map",
            "Resource definition for the resources in the group, in HOT format. The value "
            "of this property is the definition of a resource just as if it had been "
            "declared in the template itself.",
            required=True,
            update_allowed=True,
        ),
        "max_size": PropertySchema(
            "integer",
            "Maximum number of resources in the group.",
            required=True,
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
        "min_size": PropertySchema(
            "integer",
            "Minimum number of resources in the group.",
            required=True,
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
        "cooldown": PropertySchema("integer", "Cooldown period, in seconds.", update_allowed=True),
        "desired_capacity": PropertySchema(
            "integer", "Desired initial number of resources.", update_allowed=True
        ),
        "rolling_updates": PropertySchema(
            "map",
            "Policy for rolling updates for this scaling group.",
            update_allowed=True,
            default={"min_in_service": 0, "max_batch_size": 1, "pause_time": 0},
            schema={
                "min_in_service": rolling_update.MIN_IN_SERVICE,
                "max_batch_size": rolling_update.max_batch_size(),
                "pause_time": rolling_update.PAUSE_TIME,
            },
        ),
    }
    attributes_schema = {
        "outputs": AttributeSchema(
            "A map of resource names to the specified attribute of each individual resource "
            "that is part of the AutoScalingGroup. This map specifies output parameters "
            "that are available once the AutoScalingGroup has been instantiated.",
            "map",
        ),
        "outputs_list": AttributeSchema(
            "A list of the specified attribute of each individual resource that is part of "
            "the AutoScalingGroup. This list of attributes is available as an output once "
            "the AutoScalingGroup has been instantiated.",
            "list",
        ),
        "current_size": AttributeSchema("The current size of AutoscalingResourceGroup.", "integer"),
        "refs": AttributeSchema("A list of resource IDs for the resources in the group.", "list"),
        "refs_map": AttributeSchema(
            "A map of resource names to IDs for the resources in the group.", "map"
        ),
    }
    # Also resource.<index or name> and resource.<index or name>.<attr>.
    dynamic_attributes = True
    adjustable = True
    rolls_on = "resource"

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        size = known_count(properties.get("desired_capacity"))
        if size is None:
            size = known_count(properties.get("min_size", 0))
        rdef = properties.get("resource")
        if size is None or not isinstance(rdef, Mapping):
            return ()
        rtype, member_properties = rdef.get("type"), rdef.get("properties")
        return (
            Members(
                rtype if isinstance(rtype, str) else None,
                size,
                member_properties if isinstance(member_properties, Mapping) else {},
            ),
        )

    # Sizes ------------------------------------------------------------------------------

    def bounds(self) -> tuple[int, int]:
        return int(self.ctx.properties["min_size"]), int(self.ctx.properties["max_size"])

    def desired(self) -> int | None:
        value = self.ctx.properties.get("desired_capacity")
        return None if value is None else int(value)

    def group_cooldown(self) -> float | None:
        value = self.ctx.properties.get("cooldown")
        return None if value is None else float(value)

    @classmethod
    def property_problems(cls, properties: Mapping[str, Any]) -> Sequence[str]:
        lower, upper = properties.get("min_size"), properties.get("max_size")
        desired = properties.get("desired_capacity")
        if not isinstance(lower, int) or not isinstance(upper, int):
            return ()  # computed by functions: checked when they are
        if not (desired is None or isinstance(desired, int)):
            return ()
        try:
            check_sizes(lower, upper, desired)
        except ValidationFailed as exc:
            return (str(exc),)
        return ()

    def validate(self) -> None:
        check_sizes(*self.bounds(), self.desired())

    def initial_size(self) -> int:
        return self.desired() or self.bounds()[0]

    def wanted_size(self, current: int) -> int:
        lower, upper = self.bounds()
        return max(lower, min(upper, self.desired() or current))

    def rolling(self) -> tuple[int, int, float] | None:
        policy = self.ctx.properties.get("rolling_updates") or {}
        return (
            int(policy.get("min_in_service") or 0),
            int(policy.get("max_batch_size") or 1),
            float(policy.get("pause_time") or 0),
        )

    # Members ----------------------------------------------------------------------------

    def member_definition(self) -> dict[str, Any]:
        rdef = self.ctx.properties["resource"]
        if not isinstance(rdef.get("type"), str):
            raise ValidationFailed('resource: "type" must be a string')
        unknown = sorted(k for k in rdef if k not in MEMBER_KEYS)
        if unknown:
            raise ValidationFailed(f'resource: "{unknown[0]}" is not a valid keyword')
        return {k: v for k, v in rdef.items() if v is not None}

    # Views ------------------------------------------------------------------------------

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        names = self.member_names()
        every = super().attributes_from(outputs)
        by_attr: dict[str, dict[str, Any]] = every["attributes"]
        out: dict[str, Any] = {
            "current_size": len(names),
            "refs": every["refs"],
            "refs_map": every["refs_map"],
            # Read with a path: outputs.<attr> is {member: value}, outputs_list.<attr> a list.
            "outputs": by_attr,
            "outputs_list": {
                attr: [values.get(n) for n in names] for attr, values in by_attr.items()
            },
        }
        for index, name in enumerate(names):
            for key in (name, str(index)):
                out[f"resource.{key}"] = every.get(f"resource.{name}")
                for attr, values in by_attr.items():
                    out[f"resource.{key}.{attr}"] = values.get(name)
        return out
