"""What every resource type that owns a nested stack shares (template resources, groups,
chains, AWS::CloudFormation::Stack).

A subclass says what the nested stack is made of (``child_spec``) and how its outputs become
attributes (``attributes_from``); this base creates, updates, deletes, suspends, resumes and
checks the nested stack through ``ctx.services``. The nested stack's id is the physical id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from ember.engine.resource import (
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    StackServices,
)
from ember.template import Diagnostics, Environment

DIGEST_KEY = "nested_digest"
# Generated nested templates need get_attr with only a resource name (2015-10-15+).
GENERATED_VERSION = "2016-10-14"


@dataclass(frozen=True)
class NestedSpec:
    """Everything a nested stack is made of."""

    template: dict[str, Any] | str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    timeout_mins: int | None = None
    # What the nested templates read with resource_facade (the owner's, by default).
    facade: Mapping[str, Any] | None = None

    def digest(self) -> str:
        """Changes when anything the nested stack is made of changes."""
        text = json.dumps(
            [
                self.template,
                self.parameters,
                self.files,
                self.environment,
                self.timeout_mins,
                self.facade,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def child_environment(parent: Mapping[str, Any], resource_name: str) -> dict[str, Any]:
    """The environment a nested stack under ``resource_name`` gets: the parent's
    ``parameter_defaults`` and registry, but none of its parameter values."""
    env = Environment.from_dict(parent, Diagnostics())
    return env.for_nested(resource_name).to_dict()


class StackResource(ResourcePlugin):
    """Base of the types whose physical resource is a nested stack."""

    # The runner updates a FAILED resource of these types in place (the nested stack is
    # brought up to date) rather than replacing it.
    update_failed_in_place: ClassVar[bool] = True
    check_supported: ClassVar[bool] = True  # the nested stack is checked
    adopts_nested: ClassVar[bool] = True  # an adopted one adopts its nested stack

    def __init__(self, ctx: ResourceContext) -> None:
        super().__init__(ctx)
        self._outputs: dict[str, Any] | None = None
        # The files of the nested stack as it is now (read with its members).
        self._nested_files: dict[str, str] = {}

    # What subclasses provide -----------------------------------------------------------

    def child_spec(self) -> NestedSpec:
        raise NotImplementedError

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The resource's attributes, given the nested stack's outputs."""
        return {}

    # Helpers ---------------------------------------------------------------------------

    @property
    def services(self) -> StackServices:
        if self.ctx.services is None:
            raise ResourceFailure("Nested stacks are not available in this engine")
        return self.ctx.services

    def nested_arn(self) -> str:
        """The nested stack's ARN, as Heat names a stack in references."""
        return (
            f"arn:openstack:heat::{self.ctx.project_id}:stacks/"
            f"{self.ctx.physical_name()}/{self.ctx.physical_id}"
        )

    def child_environment(self) -> dict[str, Any]:
        return child_environment(self.ctx.environment, self.ctx.name)

    def facade(self) -> dict[str, Any]:
        """What the nested templates read with resource_facade: this resource's own."""
        return {
            "metadata": dict(self.ctx.metadata),
            "deletion_policy": self.ctx.deletion_policy,
            "update_policy": dict(self.ctx.update_policy),
        }

    def _facade_of(self, spec: NestedSpec) -> Mapping[str, Any]:
        return spec.facade if spec.facade is not None else self.facade()

    async def create_child(self, spec: NestedSpec) -> str:
        """Create the nested stack (or, when resumed, wait for the one already made)."""
        services: Any = self.services
        stack_id: str = await services.create_nested(
            self.ctx,
            spec.template,
            spec.parameters,
            spec.files,
            spec.timeout_mins,
            environment=spec.environment,
            facade=self._facade_of(spec),
            adopt=self.ctx.adopt,
        )
        await self._record(spec)
        return stack_id

    async def update_child(self, spec: NestedSpec) -> None:
        assert self.ctx.physical_id is not None
        services: Any = self.services
        await services.update_nested(
            self.ctx,
            self.ctx.physical_id,
            spec.template,
            spec.parameters,
            spec.files,
            spec.timeout_mins,
            environment=spec.environment,
            facade=self._facade_of(spec),
        )
        await self._record(spec)

    async def _record(self, spec: NestedSpec) -> None:
        self.ctx.data[DIGEST_KEY] = replace(spec, facade=self._facade_of(spec)).digest()
        await self.ctx.checkpoint()

    async def current_members(self) -> dict[str, dict[str, Any]]:
        """The resources the nested stack is defined with now, by name (none before it
        exists)."""
        if self.ctx.physical_id is None:
            return {}
        template = await self.services.nested_template(self.ctx.physical_id)
        self._nested_files = await self.services.nested_files(self.ctx.physical_id)
        return dict(template.get("resources") or {})

    def files_for(self, members: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """The files a nested stack of these members needs: the request's, and the files
        of members still defined as before (a rolling update's old members keep the
        provider template they were made with, however the request now names it)."""
        files = dict(self.ctx.files)
        for member in members.values():
            kind = member.get("type") if isinstance(member, Mapping) else None
            if isinstance(kind, str) and kind not in files and kind in self._nested_files:
                files[kind] = self._nested_files[kind]
        return files

    async def load_outputs(self) -> dict[str, Any]:
        if self.ctx.physical_id is None:
            self._outputs = {}
        else:
            self._outputs = await self.services.nested_outputs(self.ctx.physical_id)
        return self._outputs

    # Handlers --------------------------------------------------------------------------

    async def create(self) -> None:
        await self.create_child(self.child_spec())
        await self.load_outputs()

    async def update(self, changed: Mapping[str, Any]) -> None:
        spec = self.child_spec()
        if self.ctx.physical_id is None:
            await self.create_child(spec)
        else:
            await self.update_child(spec)
        await self.load_outputs()

    async def delete(self) -> None:
        if self.ctx.physical_id is not None:
            await self.services.delete_nested(self.ctx, self.ctx.physical_id)

    async def _act(self, action: str) -> None:
        if self.ctx.physical_id is None:
            raise ResourceFailure(f"{self.ctx.name} has no nested stack to {action.lower()}")
        await self.services.nested_action(self.ctx, self.ctx.physical_id, action)
        await self.load_outputs()

    async def suspend(self) -> None:
        await self._act("SUSPEND")

    async def resume(self) -> None:
        await self._act("RESUME")

    async def check(self) -> None:
        await self._act("CHECK")

    # Views -----------------------------------------------------------------------------

    def definition_changed(self) -> bool:
        """Always, as in Heat: an update of the stack updates every nested stack, and the
        nested stack's own resources decide whether they change (so a template resource
        is UPDATE_COMPLETE after any update of its stack, its own resources as they were)."""
        return True

    def reference_id(self) -> str | None:
        return self.ctx.physical_id

    def attributes(self) -> dict[str, Any]:
        return self.attributes_from(self._outputs or {})


# Members of groups and chains ----------------------------------------------------------

REFS_OUTPUT = "refs_map"
ATTRS_OUTPUT = "attributes"


def member_outputs(names: list[str]) -> dict[str, Any]:
    """Outputs of a generated nested stack that expose every member's reference and
    attributes, so the owner can answer any ``get_attr`` from them."""
    return {
        REFS_OUTPUT: {"value": {n: {"get_resource": n} for n in names}},
        ATTRS_OUTPUT: {"value": {n: {"get_attr": [n]} for n in names}},
    }


def member_attributes(names: list[str], outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Heat's group attributes, computed once: ``refs``, ``refs_map``, ``attributes``
    (``{attr: {member: value}}``, read with a path), ``resource.<n>``,
    ``resource.<n>.<attr>`` and every member attribute name (a list over members)."""
    refs_map: dict[str, Any] = dict(outputs.get(REFS_OUTPUT) or {})
    attrs: dict[str, dict[str, Any]] = {
        n: dict(v or {}) for n, v in (outputs.get(ATTRS_OUTPUT) or {}).items()
    }
    out: dict[str, Any] = {}
    every_attr = sorted({a for n in names for a in attrs.get(n, {})})
    for attr in every_attr:
        out[attr] = [attrs.get(n, {}).get(attr) for n in names]
    for n in names:
        out[f"resource.{n}"] = refs_map.get(n)
        for attr, value in attrs.get(n, {}).items():
            out[f"resource.{n}.{attr}"] = value
    out["attributes"] = {
        attr: {n: attrs.get(n, {}).get(attr) for n in names} for attr in every_attr
    }
    out["refs"] = [refs_map.get(n) for n in names]
    out["refs_map"] = {n: refs_map.get(n) for n in names}
    return out
