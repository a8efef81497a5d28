"""OS::Heat::ResourceGroup: ``count`` copies of one resource definition in a nested stack.

Members are named "0", "1", ...; ``index_var`` in the definition's properties becomes each
member's name. Names removed through ``removal_policies`` are remembered (``name_blacklist``,
as Heat calls it) and never reused, so shrinking by a chosen member and growing again makes
new names. Update policies: ``rolling_update`` replaces member definitions a batch at a
time, keeping ``min_in_service`` members; ``batch_create`` creates members a batch at a
time.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ember.engine.resource import (
    ATTRIBUTE_DEFAULT,
    ATTRIBUTES_CLOSED,
    AttributeSchema,
    ResourceFailure,
)
from ember.resources import rolling_update
from ember.resources.stack_resource import (
    GENERATED_VERSION,
    REFS_OUTPUT,
    NestedSpec,
    StackResource,
    member_attributes,
    member_outputs,
)
from ember.template import TOO_MANY_RESOURCES, Members, PropertySchema, apply_schema
from ember.template.constraints import AllowedValues, Length, Range
from ember.template.functions.budget import TooLarge, measure
from ember.template.functions.hot_refs import MEMBER_PREFIX

BLACKLIST = "name_blacklist"
BATCHES = rolling_update.BATCHES
APPEND, UPDATE = "append", "update"

RESOURCE_DEF = {
    "type": PropertySchema("string", "The type of the resources in the group.", required=True),
    "properties": PropertySchema("map", "Property values for the resources in the group."),
    "metadata": PropertySchema("map", "Supplied metadata for the resources in the group."),
}

UPDATE_POLICY = {
    "rolling_update": PropertySchema(
        "map",
        "Rolling update configuration for the resources in the group.",
        schema={
            "min_in_service": rolling_update.MIN_IN_SERVICE,
            "max_batch_size": rolling_update.max_batch_size(),
            "pause_time": rolling_update.PAUSE_TIME,
        },
    ),
    "batch_create": PropertySchema(
        "map",
        "Batch creation configuration for the resources in the group.",
        schema={
            "max_batch_size": rolling_update.max_batch_size(doing="create"),
            "pause_time": PropertySchema(
                "number",
                "The number of seconds to wait between batches.",
                default=0,
                constraints=(Range(min=0),),
            ),
        },
    ),
}


def substitute(value: Any, variable: str, name: str) -> Any:
    """``variable`` replaced by ``name`` in every string (not in map keys)."""
    if isinstance(value, str):
        return value.replace(variable, name)
    if isinstance(value, Mapping):
        return {k: substitute(v, variable, name) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variable, name) for v in value]
    return value


def known_count(value: Any) -> int | None:
    """A count as validation sees it: None when not known yet (or not a count at all,
    which the property check reports)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def by_index(names: Any) -> list[str]:
    return sorted(names, key=lambda n: (int(n), n) if str(n).isdigit() else (-1, n))


class ResourceGroup(StackResource):
    type_name = "OS::Heat::ResourceGroup"
    description = (
        "Creates one or more identically configured nested resources. In addition to the "
        "refs attribute, this resource implements synthetic attributes that mirror those of "
        "the resources in the group."
    )
    properties_schema = {
        "count": PropertySchema(
            "integer",
            "The number of resources to create.",
            default=1,
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
        "index_var": PropertySchema(
            "string",
            "A variable that this resource will use to replace with the current index of a "
            "given resource in the group.",
            default="%index%",
            constraints=(Length(min=3),),
        ),
        "resource_def": PropertySchema(
            "map",
            "Resource definition for the resources in the group.",
            required=True,
            update_allowed=True,
            schema=RESOURCE_DEF,
        ),
        "removal_policies": PropertySchema(
            "list",
            "Policies for removal of resources on update.",
            default=[],
            update_allowed=True,
            schema=PropertySchema(
                "map",
                "Policy to be processed when doing an update which requires removal of "
                "specific resources.",
                schema={
                    "resource_list": PropertySchema(
                        "list",
                        "List of resources to be removed when doing an update which requires "
                        "removal of specific resources. The resource may be specified several "
                        'ways: (1) The resource name, as in the nested stack, e.g. "0". '
                        "(2) The resource reference returned from get_resource in a template.",
                        default=[],
                    ),
                },
            ),
        ),
        "removal_policies_mode": PropertySchema(
            "string",
            "How to handle changes to removal_policies on update. The default 'append' mode "
            "appends to the internal list, 'update' replaces it on update.",
            default=APPEND,
            update_allowed=True,
            constraints=(AllowedValues(values=(APPEND, UPDATE)),),
        ),
    }
    attributes_schema = {
        "refs": AttributeSchema("A list of resource IDs for the resources in the group.", "list"),
        "refs_map": AttributeSchema(
            "A map of resource names to IDs for the resources in the group.", "map"
        ),
        "attributes": AttributeSchema(
            "A map of resource names to the specified attribute of each individual resource. "
            "Requires heat_template_version: 2014-10-16.",
            "map",
        ),
        "removed_rsrc_list": AttributeSchema("A list of removed resource names.", "list"),
    }
    # Also resource.<n>, resource.<n>.<attr>, and any member attribute (a list).
    dynamic_attributes = True

    @classmethod
    def nested_members(cls, properties: Mapping[str, Any]) -> Sequence[Members]:
        count = known_count(properties.get("count", 1))
        rdef = properties.get("resource_def")
        if count is None or not isinstance(rdef, Mapping):
            return ()
        rtype, member_properties = rdef.get("type"), rdef.get("properties")
        return (
            Members(
                rtype if isinstance(rtype, str) else None,
                count,
                member_properties if isinstance(member_properties, Mapping) else {},
            ),
        )

    # Names -----------------------------------------------------------------------------

    def size(self) -> int:
        """How many members the group is to have."""
        return int(self.ctx.properties["count"])

    def members_changed(self, changed: Mapping[str, Any]) -> bool:
        """Whether the changed properties change what the members are (so that a rolling
        update replaces them a batch at a time)."""
        return "resource_def" in changed

    def member_template(self) -> Any:
        """What every member definition is made from (its size counts against limits)."""
        return self.ctx.properties.get("resource_def")

    def check_fan_out(self, size: int) -> None:
        """Refuse, before any definition is made, more members than a stack may hold or
        member definitions larger together than template functions may make (a count
        that validation could not know: one taken from another resource's attribute)."""
        limit = self.ctx.limits.max_resources
        if limit != -1 and size > limit:
            raise ResourceFailure(TOO_MANY_RESOURCES)
        budget = self.ctx.limits.budget()
        items, chars = measure(self.member_template(), *budget.room())
        try:
            budget.need(size * items, size * chars)
        except TooLarge as exc:
            raise ResourceFailure(f"resource_def: {exc}") from None

    def blacklist(self) -> set[str]:
        return {n for n in self.ctx.data.get(BLACKLIST, "").split(",") if n}

    def names(self, size: int | None = None) -> list[str]:
        """The first ``size`` (default ``count``) names that were never removed."""
        size = self.size() if size is None else size
        self.check_fan_out(size)
        removed = self.blacklist()
        free = (str(i) for i in itertools.count() if str(i) not in removed)
        return list(itertools.islice(free, size))

    async def update_blacklist(self, members: Mapping[str, Any]) -> None:
        """Turn ``removal_policies`` into names never to use again (Heat's rules: an entry
        is a member name, or a member's reference when no member has that name)."""
        current = self.blacklist()
        mode = self.ctx.properties.get("removal_policies_mode") or APPEND
        wanted = set() if mode == UPDATE else set(current)
        refs: dict[str, Any] | None = None
        for policy in self.ctx.properties.get("removal_policies") or []:
            for entry in policy.get("resource_list") or []:
                text = str(entry)
                if text in current or self.ctx.physical_id is None or text in members:
                    wanted.add(text)
                elif isinstance(entry, str):
                    if refs is None:
                        refs = (await self.load_outputs()).get(REFS_OUTPUT) or {}
                    wanted.update(name for name, ref in refs.items() if ref == entry)
        if wanted != current:
            self.ctx.data[BLACKLIST] = ",".join(sorted(wanted))

    # Definitions -----------------------------------------------------------------------

    def member_definition(self, name: str) -> dict[str, Any]:
        rdef = self.ctx.properties["resource_def"]
        out: dict[str, Any] = {"type": rdef["type"]}
        if rdef.get("properties"):
            variable = str(self.ctx.properties.get("index_var") or "%index%")
            out["properties"] = substitute(rdef["properties"], variable, name)
        if rdef.get("metadata"):
            out["metadata"] = dict(rdef["metadata"])
        return out

    def spec_for(self, members: Mapping[str, dict[str, Any]]) -> NestedSpec:
        names = by_index(members)
        template = {
            "heat_template_version": GENERATED_VERSION,
            "resources": {n: members[n] for n in names},
            "outputs": member_outputs(names),
        }
        return NestedSpec(
            template=template, files=self.files_for(members), environment=self.child_environment()
        )

    def child_spec(self) -> NestedSpec:
        return self.spec_for({n: self.member_definition(n) for n in self.names()})

    def batch_members(
        self, current: Mapping[str, dict[str, Any]], size: int, updates: int
    ) -> dict[str, dict[str, Any]]:
        """The members during one batch of a rolling update (or batched create)."""
        names = self.names(size)
        target = self.size()
        removed = self.blacklist()
        valid = [(n, current[n]) for n in by_index(current) if n not in removed]

        def priority(item: tuple[str, Any]) -> int:
            if item[0] not in names:
                return 0  # removed at once
            index = names.index(item[0])
            return target - index if index < target else size  # higher indices first

        old = sorted(valid, key=priority)
        existing = {n for n, _ in valid}
        fresh = (n for n in names if n not in existing)
        return dict(
            rolling_update.member_definitions(
                old, size, updates, lambda: next(fresh), self.member_definition
            )
        )

    def policy(self) -> dict[str, Any]:
        path = ("resources", self.ctx.name, "update_policy")
        return apply_schema(UPDATE_POLICY, self.ctx.update_policy or {}, path)

    # Handlers --------------------------------------------------------------------------

    async def _in_batches(
        self,
        current: dict[str, dict[str, Any]],
        batch_size: int,
        min_in_service: int,
        pause: float,
    ) -> None:
        """Bring the members to the full group a batch at a time (see
        ``rolling_update.in_batches``)."""

        def plan() -> list[tuple[int, int]]:
            removed = self.blacklist()
            size = len([n for n in current if n not in removed])
            return list(rolling_update.batches(self.size(), size, batch_size, min_in_service))

        await rolling_update.in_batches(
            self,
            self.child_spec().digest(),
            plan,
            self.batch_members,
            self.spec_for,
            self._current_members,
            pause,
        )

    def _batches(self) -> dict[str, Any] | None:
        raw = self.ctx.data.get(BATCHES)
        return json.loads(raw) if raw else None

    async def _current_members(self) -> dict[str, dict[str, Any]]:
        return await self.current_members()

    async def create(self) -> None:
        batch = self.policy().get("batch_create")
        if self.ctx.physical_id is None and self._batches() is None:
            await self.update_blacklist({})
        if batch and self.size() > 0:
            await self._in_batches(
                await self._current_members(), batch["max_batch_size"], 0, batch["pause_time"]
            )
        else:
            await self.create_child(self.child_spec())
        await self.load_outputs()

    async def update(self, changed: Mapping[str, Any]) -> None:
        if self.ctx.physical_id is None:
            await self.create()
            return
        current = await self._current_members()
        await self.update_blacklist(current)
        rolling = self.policy().get("rolling_update")
        full = self.child_spec()
        resuming = self._batches() is not None
        if rolling and (self.members_changed(changed) or resuming):
            await self._in_batches(
                current,
                rolling["max_batch_size"],
                rolling["min_in_service"],
                rolling["pause_time"],
            )
            final = await self._current_members()
            if self.spec_for(final).digest() != full.digest():
                await self.update_child(full)
        else:
            await self.update_child(full)
        await self.load_outputs()

    # Views -----------------------------------------------------------------------------

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        names = by_index((outputs.get(REFS_OUTPUT) or {}).keys())
        out = member_attributes(names, outputs)
        out["removed_rsrc_list"] = sorted(self.blacklist())
        if self.ctx.physical_id is not None:
            # As Heat reads a group: resource.<n> of no member fails, and so does an
            # attribute no member has; with no members at all, any member attribute is [].
            out[ATTRIBUTES_CLOSED] = True if names else [MEMBER_PREFIX]
            if not names:
                out[ATTRIBUTE_DEFAULT] = []
        return out
