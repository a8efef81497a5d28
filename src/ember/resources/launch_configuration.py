"""AWS::AutoScaling::LaunchConfiguration: what the members of an AWS-style group
(AWS::AutoScaling::AutoScalingGroup, OS::Heat::InstanceGroup) are made of. It makes
nothing itself; its properties become each member's (an ``AWS::EC2::Instance``, which the
environment's ``resource_registry`` may map to another type or a template). Any change
replaces it, and the groups naming it then roll their members to the new one.
"""

from __future__ import annotations

from ember.engine.resource import ResourcePlugin
from ember.resources.scaling_group import ValidationFailed
from ember.template import PropertySchema

KEY_VALUE = {
    "Key": PropertySchema("string", required=True),
    "Value": PropertySchema("string", required=True),
}


class LaunchConfiguration(ResourcePlugin):
    type_name = "AWS::AutoScaling::LaunchConfiguration"
    description = "The configuration of the instances an AWS-style scaling group makes."
    properties_schema = {
        "ImageId": PropertySchema("string", "Glance image ID or name."),
        "InstanceType": PropertySchema("string", "Nova instance type (flavor)."),
        "InstanceId": PropertySchema(
            "string",
            "The ID of an existing instance you want to use to create the launch "
            "configuration. All properties are derived from the instance with the "
            "exception of BlockDeviceMapping.",
        ),
        "KeyName": PropertySchema("string", "Optional Nova keypair name."),
        "UserData": PropertySchema("string", "User data to pass to instance."),
        "SecurityGroups": PropertySchema("list", "Security group names to assign."),
        "KernelId": PropertySchema("string", "Not Implemented."),
        "RamDiskId": PropertySchema("string", "Not Implemented."),
        "BlockDeviceMappings": PropertySchema(
            "list",
            "Block device mappings to attach to instance.",
            schema=PropertySchema("map"),
        ),
        "NovaSchedulerHints": PropertySchema(
            "list",
            "Scheduler hints to pass to Nova (Heat extension).",
            schema=PropertySchema("map", schema=KEY_VALUE),
        ),
    }

    async def create(self) -> None:
        properties = self.ctx.properties
        if properties.get("InstanceId"):
            # Heat reads such a configuration back from the Compute service.
            raise ValidationFailed(
                "InstanceId: a launch configuration can only be made from an existing "
                "instance where the Compute service is available."
            )
        if not (properties.get("ImageId") and properties.get("InstanceType")):
            raise ValidationFailed("If without InstanceId, ImageId and InstanceType are required.")
        await super().create()
