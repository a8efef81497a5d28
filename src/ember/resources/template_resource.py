"""Template resources: a resource whose type is a template file (``type: server.yaml``) or
is mapped to one in the environment's ``resource_registry``.

The template comes from the stack's ``files``; the properties become the nested stack's
parameters and its outputs become the resource's attributes (plus ``OS::stack_id``).
``get_resource`` gives the nested stack's id, unless the template has an ``OS::stack_id``
output, which then stands in for it (as in Heat).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.engine.resource import ATTRIBUTES_CLOSED, ResourceContext, ResourceFailure
from ember.resources.stack_resource import NestedSpec, StackResource
from ember.template import Diagnostics, Environment
from ember.template.functions.hot_refs import MEMBER_PREFIX
from ember.template.registry import RegistryError

STACK_ID = "OS::stack_id"
STACK_NAME = "OS::stack_name"


class TemplateResource(StackResource):
    type_name = "OS::Heat::TemplateResource"
    description = "A resource implemented by a nested stack made from a template file."
    # Only reached through a template type; never written in a template itself.
    refreshes_metadata = True  # after a signal, as Heat's TemplateResource
    support_status = {
        "status": "HIDDEN",
        "version": None,
        "message": "Use a template file name or a resource_registry mapping as the type.",
        "previous_status": None,
    }
    # The template's parameters are the properties; its outputs are the attributes.
    any_properties = True
    dynamic_attributes = True

    def __init__(self, ctx: ResourceContext) -> None:
        super().__init__(ctx)
        self._members: dict[str, tuple[Any, dict[str, Any]]] = {}

    def template_name(self) -> str:
        env = Environment.from_dict(self.ctx.environment, Diagnostics())
        try:
            resolved = env.registry.resolve(self.ctx.type, self.ctx.name)
        except RegistryError as exc:
            raise ResourceFailure(str(exc)) from None
        if resolved.template is None:
            raise ResourceFailure(f"The type {self.ctx.type} is not a template resource.")
        return resolved.template

    def child_environment(self) -> dict[str, Any]:
        # The mapping that made this resource a template resource does not reach its own
        # template: the type means its built-in self in there (no endless recursion).
        env = Environment.from_dict(self.ctx.environment, Diagnostics())
        return env.for_template_resource(self.ctx.type, self.ctx.name).to_dict()

    def child_spec(self) -> NestedSpec:
        name = self.template_name()
        content = self.ctx.files.get(name)
        if content is None:
            raise ResourceFailure(
                f'Could not fetch remote template "{name}": it is not in the request\'s files.'
            )
        parameters = {k: v for k, v in self.ctx.properties.items() if v is not None}
        return NestedSpec(
            template=content,
            parameters=parameters,
            files=self.ctx.files,
            environment=self.child_environment(),
        )

    def needs_replace(self, changed: Mapping[str, Any]) -> bool:
        return False  # every parameter can be changed by updating the nested stack

    def reference_id(self) -> str | None:
        # As Heat: the nested template's OS::stack_id output, else the nested stack's ARN.
        override = (self._outputs or {}).get(STACK_ID)
        if override is not None:
            return str(override)
        return self.nested_arn() if self.ctx.physical_id is not None else self.ctx.name

    async def load_outputs(self) -> dict[str, Any]:
        outputs = await super().load_outputs()
        self._members = (
            await self.services.nested_members(self.ctx.physical_id)
            if self.ctx.physical_id is not None
            else {}
        )
        return outputs

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            STACK_ID: self.ctx.physical_id,
            STACK_NAME: self.ctx.physical_name(),
        }
        # Heat's resource.<name> and resource.<name>.<attribute> of the nested resources.
        for name, (reference, values) in self._members.items():
            attributes[f"{MEMBER_PREFIX}{name}"] = reference
            for key, value in (values or {}).items():
                attributes[f"{MEMBER_PREFIX}{name}.{key}"] = value
        attributes.update(outputs)
        if self.ctx.physical_id is not None:
            attributes[ATTRIBUTES_CLOSED] = True  # its template's outputs are all there is
        return attributes
