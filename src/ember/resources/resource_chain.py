"""OS::Heat::ResourceChain: a list of resource types in a nested stack, each depending on
the one before it unless ``concurrent``; every member gets ``resource_properties``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ember.engine.resource import AttributeSchema, ResourceFailure
from ember.resources.stack_resource import (
    GENERATED_VERSION,
    REFS_OUTPUT,
    NestedSpec,
    StackResource,
    member_attributes,
    member_outputs,
)
from ember.template import TOO_MANY_RESOURCES, Members, PropertySchema


class ResourceChain(StackResource):
    type_name = "OS::Heat::ResourceChain"
    description = (
        "Creates one or more resources, each depending on the one before it (or all at once "
        "when concurrent), with the same properties."
    )
    properties_schema = {
        "resources": PropertySchema(
            "list",
            "The list of resource types to create. This list may contain type names or "
            "aliases defined in the resource registry.",
            required=True,
            update_allowed=True,
            schema=PropertySchema("string"),
        ),
        "concurrent": PropertySchema(
            "boolean",
            "If true, the resources in the chain will be created concurrently. If false or "
            "omitted, each resource will be treated as having a dependency on the previous "
            "resource in the list.",
            default=False,
        ),
        "resource_properties": PropertySchema(
            "map",
            "Properties to pass to each resource being created in the chain.",
            default={},
            update_allowed=True,
        ),
    }
    attributes_schema = {
        "refs": AttributeSchema("A list of resource IDs for the resources in the chain.", "list"),
        "attributes": AttributeSchema(
            "A map of resource names to the specified attribute of each individual resource.",
            "map",
        ),
    }
    # Also resource.<i>, resource.<i>.<attr>, and any member attribute (a list).
    dynamic_attributes = True

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        types = properties.get("resources")
        if not isinstance(types, list):
            return ()
        shared = properties.get("resource_properties")
        shared = shared if isinstance(shared, Mapping) else {}
        counted = Counter(t if isinstance(t, str) else None for t in types)
        return tuple(Members(t, n, shared) for t, n in counted.items())

    def child_spec(self) -> NestedSpec:
        types = [str(t) for t in self.ctx.properties.get("resources") or []]
        limit = self.ctx.limits.max_resources
        if limit != -1 and len(types) > limit:
            raise ResourceFailure(TOO_MANY_RESOURCES)
        names = [str(i) for i in range(len(types))]
        concurrent = bool(self.ctx.properties.get("concurrent"))
        properties = self.ctx.properties.get("resource_properties") or {}
        resources: dict[str, Any] = {}
        for i, (name, kind) in enumerate(zip(names, types, strict=True)):
            member: dict[str, Any] = {"type": kind}
            if properties:
                member["properties"] = dict(properties)
            if i > 0 and not concurrent:
                member["depends_on"] = [names[i - 1]]
            resources[name] = member
        template = {
            "heat_template_version": GENERATED_VERSION,
            "resources": resources,
            "outputs": member_outputs(names),
        }
        return NestedSpec(
            template=template, files=self.ctx.files, environment=self.child_environment()
        )

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        names = sorted((outputs.get(REFS_OUTPUT) or {}).keys(), key=int)
        out = member_attributes(names, outputs)
        del out["refs_map"]
        return out
