"""AWS::CloudFormation::Stack: a nested stack from a template named by ``TemplateURL``.

The template is looked up in the stack's ``files`` by its URL; nothing is fetched, and
the server's own files are never read. ``Ref`` gives the nested stack's ARN; outputs are
read as ``Fn::GetAtt: [stack, Outputs.<name>]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.engine.resource import ResourceFailure
from ember.resources.stack_resource import NestedSpec, StackResource
from ember.template import PropertySchema
from ember.template.constraints import Range

OUTPUTS_PREFIX = "Outputs."


class CfnStack(StackResource):
    type_name = "AWS::CloudFormation::Stack"
    description = "Represents a child stack to allow composition of templates."
    properties_schema = {
        "TemplateURL": PropertySchema(
            "string",
            "The URL of a template that specifies the stack to be created as a resource.",
            required=True,
            update_allowed=True,
        ),
        "TimeoutInMinutes": PropertySchema(
            "integer",
            "The length of time, in minutes, to wait for the nested stack creation.",
            update_allowed=True,
            constraints=(Range(min=1),),
        ),
        "Parameters": PropertySchema(
            "map",
            "The set of parameters passed to this nested stack.",
            default={},
            update_allowed=True,
        ),
    }
    # Attributes are ``Outputs.<name>`` for every output of the nested template.
    dynamic_attributes = True

    def child_spec(self) -> NestedSpec:
        url = str(self.ctx.properties["TemplateURL"])
        content = self.ctx.files.get(url)
        if content is None:
            raise ResourceFailure(
                f'Could not fetch remote template "{url}": it is not in the request\'s files.'
            )
        timeout = self.ctx.properties.get("TimeoutInMinutes")
        parameters = {str(k): v for k, v in (self.ctx.properties.get("Parameters") or {}).items()}
        return NestedSpec(
            template=content,
            parameters=parameters,
            files=self.ctx.files,
            environment=self.child_environment(),
            timeout_mins=int(timeout) if timeout else None,
        )

    def reference_id(self) -> str | None:
        if self.ctx.physical_id is None:
            return self.ctx.name
        return self.nested_arn()

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        return {f"{OUTPUTS_PREFIX}{k}": v for k, v in outputs.items()}
