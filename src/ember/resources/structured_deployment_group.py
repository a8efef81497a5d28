"""OS::Heat::StructuredDeploymentGroup: one OS::Heat::StructuredDeployment per server of
the ``servers`` map, as OS::Heat::SoftwareDeploymentGroup does for software deployments."""

from __future__ import annotations

from ember.resources.software_deployment_group import SoftwareDeploymentGroup
from ember.resources.structured_deployment import STRUCTURED_PROPERTIES, StructuredDeployment


class StructuredDeploymentGroup(SoftwareDeploymentGroup):
    type_name = "OS::Heat::StructuredDeploymentGroup"
    description = (
        "This resource associates a group of servers with some configuration, as "
        "OS::Heat::SoftwareDeploymentGroup does, for structured configs."
    )
    member_type = StructuredDeployment.type_name
    properties_schema = {**SoftwareDeploymentGroup.properties_schema, **STRUCTURED_PROPERTIES}
