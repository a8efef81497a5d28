"""What Heat's scaling groups share (OS::Heat::AutoScalingGroup, OS::Heat::InstanceGroup,
AWS::AutoScaling::AutoScalingGroup): members of one definition in a nested stack, named
by short ids and kept oldest first; resized by updates of the group and, for the
adjustable types, by scaling policies (``StackServices.adjust_group``); a changed member
definition rolled out a batch at a time.

As in Heat, shrinking removes the oldest members, a plain resize leaves the definition of
the members it keeps alone (only a rolling update brings them to a new one), and every
resize that changed the size starts a cooldown, during which adjustments are refused.

Resource data (this module's format, also read by the policies through ``refusal``):
``members`` (JSON list of names, oldest first), ``next_member`` (how many names were
ever made), ``cooldown_end`` (ISO time), ``scaling`` (JSON: the ``min``, ``max`` and
``cooldown`` last applied), ``adjusting`` (the adjustment under way and the size it
brings the group to), ``adjusted`` (the id of the last adjustment done).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from ember.common.timeutils import utcnow
from ember.engine.resource import PeerResource, ResourceFailure
from ember.resources import rolling_update
from ember.resources.stack_resource import (
    DIGEST_KEY,
    GENERATED_VERSION,
    NestedSpec,
    StackResource,
    member_attributes,
    member_outputs,
)
from ember.template import TOO_MANY_RESOURCES

MEMBERS = "members"
NEXT = "next_member"
COOLDOWN_END = "cooldown_end"
SCALING = "scaling"
ADJUSTING = "adjusting"
ADJUSTED = "adjusted"
# What the engine's nested-stack services record while a nested update is under way.
UPDATING_KEY = "nested_updating"

ADJUSTMENT_TYPES = (EXACT, CHANGE, PERCENT) = (
    "exact_capacity",
    "change_in_capacity",
    "percent_change_in_capacity",
)
CFN_ADJUSTMENT_TYPES = (CFN_EXACT, CFN_CHANGE, CFN_PERCENT) = (
    "ExactCapacity",
    "ChangeInCapacity",
    "PercentChangeInCapacity",
)


class ValidationFailed(ResourceFailure):
    error_type = "StackValidationFailed"


def new_capacity(
    current: int,
    adjustment: float,
    adjustment_type: str,
    min_adjustment_step: int | None,
    lower: int,
    upper: int,
) -> int:
    """Heat's new capacity: a percentage of less than one member rounds away from zero,
    a larger one towards zero, and is made at least ``min_adjustment_step``; the result is
    held within ``lower`` and ``upper``."""
    if adjustment_type in (CHANGE, CFN_CHANGE):
        capacity = current + adjustment
    elif adjustment_type in (EXACT, CFN_EXACT):
        capacity = adjustment
    else:
        delta = current * adjustment / 100.0
        if math.fabs(delta) < 1.0:
            rounded = int(math.ceil(delta) if delta > 0.0 else math.floor(delta))
        else:
            rounded = int(math.floor(delta) if delta > 0.0 else math.ceil(delta))
        if min_adjustment_step and min_adjustment_step > abs(rounded):
            rounded = min_adjustment_step if rounded > 0 else -min_adjustment_step
        capacity = current + rounded
    return int(max(lower, min(upper, capacity)))


def no_action(group: str, reason: str) -> str:
    """Heat's words for an adjustment a group does not make."""
    return f"The resource {group} could not perform scaling action: {reason}"


def number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _decide(
    name: str, data: Mapping[str, str], adjustment: Mapping[str, Any], now: dt.datetime
) -> tuple[int | None, str]:
    """The size an adjustment brings a group to, or None and why it is not made."""
    scaling = json.loads(data.get(SCALING) or "{}")
    current = len(json.loads(data.get(MEMBERS) or "[]"))
    size = new_capacity(
        current,
        float(adjustment["adjustment"]),
        str(adjustment["adjustment_type"]),
        adjustment.get("min_adjustment_step"),
        int(scaling.get("min", 0)),
        int(scaling.get("max", current)),
    )
    if size == current:
        return None, no_action(name, "as there is no change in capacity")
    cooldown = adjustment.get("cooldown")
    if cooldown is None:
        cooldown = scaling.get("cooldown")
    end = data.get(COOLDOWN_END)
    if end and now < dt.datetime.fromisoformat(end):
        return None, no_action(name, f"due to cooldown, cooldown {number(max(0, cooldown or 0))}")
    return size, ""


def refusal(group: PeerResource, adjustment: Mapping[str, Any]) -> str | None:
    """Why the group would not make ``adjustment`` now (Heat's words), or None. A policy
    asks before it sends the adjustment; the group decides again when it runs."""
    if group.status == "IN_PROGRESS":
        return no_action(group.name, "due to scaling activity")
    if group.status != "COMPLETE":
        return no_action(group.name, "when status is not COMPLETE")
    size, reason = _decide(group.name, group.data, adjustment, utcnow())
    return reason if size is None else None


def short_id(seed: str, number: int) -> str:
    """A member name as Heat makes them (12 lowercase base32 characters), made from the
    group's id and the member's number so that a resumed node makes the same names."""
    raw = uuid.uuid5(uuid.UUID(seed), str(number)).bytes[:8]
    return base64.b32encode(raw).decode()[:12].lower()


def iso_duration(text: str, name: str) -> float:
    """Seconds in an ISO 8601 duration such as ``PT1M30S`` (``name`` is the property)."""
    found = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text)
    if not text or found is None or text in ("P", "PT") or text.endswith("T"):
        raise ValidationFailed(
            f"{name}: Only ISO 8601 duration format of the form PT#H#M#S is supported."
        )
    days, hours, minutes, seconds = found.groups()
    return (
        int(days or 0) * 86400
        + int(hours or 0) * 3600
        + int(minutes or 0) * 60
        + float(seconds or 0)
    )


class ScalingGroup(StackResource):
    """Base of the scaling groups. Subclasses say what a member is (``member``), how big
    the group should be (``bounds``, ``wanted_size``, ``initial_size``), which property
    change rolls the members (``rolls_on``) and by what policy (``rolling``)."""

    rolls_on: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._member: dict[str, Any] | None = None

    # What subclasses provide ------------------------------------------------------------

    def bounds(self) -> tuple[int, int]:
        raise NotImplementedError

    def group_cooldown(self) -> float | None:
        return None

    def initial_size(self) -> int:
        raise NotImplementedError

    def wanted_size(self, current: int) -> int:
        """The size an update of the group brings it to, from ``current`` members."""
        raise NotImplementedError

    def rolling(self) -> tuple[int, int, float] | None:
        """``(min_in_service, max_batch_size, pause seconds)``, or None: no rolling."""
        return None

    def validate(self) -> None:
        """Refuse sizes that do not make sense (Heat's words)."""

    async def load_member(self) -> None:
        """Find what a member is made of (before any handler acts)."""

    def member_definition(self) -> dict[str, Any]:
        raise NotImplementedError

    def member_environment(self) -> dict[str, Any]:
        return self.child_environment()

    # Members ----------------------------------------------------------------------------

    def member(self) -> dict[str, Any]:
        if self._member is None:
            self._member = self.member_definition()
        return self._member

    def names(self) -> list[str]:
        return list(json.loads(self.ctx.data.get(MEMBERS) or "[]"))

    def resized(self, size: int) -> tuple[list[str], int]:
        """The names of a group of ``size`` (the newest kept, new ones after them), and
        how many names were ever made then."""
        names = self.names()
        made = int(self.ctx.data.get(NEXT) or 0)
        if size <= len(names):
            return names[len(names) - size :], made
        fresh = [short_id(self.ctx.uuid, n) for n in range(made, made + size - len(names))]
        return names + fresh, made + len(fresh)

    def check_fan_out(self, size: int) -> None:
        limit = self.ctx.limits.max_resources
        if limit != -1 and size > limit:
            raise ResourceFailure(TOO_MANY_RESOURCES)

    def note(self, names: list[str], made: int) -> None:
        """Remember the members of the nested stack asked for (before it is asked)."""
        self.ctx.data[MEMBERS] = json.dumps(names)
        self.ctx.data[NEXT] = str(made)

    def ordered(self, current: Mapping[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        """The members oldest first (any the records do not know of first of all)."""
        known = self.names()
        unknown = sorted(n for n in current if n not in known)
        return [(n, current[n]) for n in unknown + [n for n in known if n in current]]

    def spec_for(self, members: Mapping[str, dict[str, Any]]) -> NestedSpec:
        names = list(members)
        template = {
            "heat_template_version": GENERATED_VERSION,
            "resources": dict(members),
            "outputs": member_outputs(names),
        }
        return NestedSpec(
            template=template, files=self.files_for(members), environment=self.member_environment()
        )

    # Sizes and cooldowns ------------------------------------------------------------------

    def _finish(self, size_changed: bool, cooldown: float | None) -> None:
        """Record what a finished create, update or adjustment means for the next ones:
        a changed size starts a cooldown (never shortening one under way)."""
        lower, upper = self.bounds()
        self.ctx.data[SCALING] = json.dumps(
            {"min": lower, "max": upper, "cooldown": self.group_cooldown()}
        )
        if size_changed:
            end = (utcnow() + dt.timedelta(seconds=max(0.0, float(cooldown or 0)))).isoformat()
            self.ctx.data[COOLDOWN_END] = max(end, self.ctx.data.get(COOLDOWN_END) or end)

    async def _resize(self, size: int, always: bool = False) -> bool:
        """Bring the group to ``size`` members, the ones kept as they are; whether the
        nested stack had to change. ``always`` updates the nested stack even if nothing
        in it changed (an update of the group, as Heat's; an adjustment that changes
        nothing does nothing)."""
        self.check_fan_out(size)
        current = dict(self.ordered(await self.current_members()))
        names, made = self.resized(size)
        members = {n: current.get(n) or self.member() for n in names}
        spec = self.spec_for(members)
        self.note(names, made)
        if self.ctx.physical_id is None or not self.ctx.data.get(DIGEST_KEY):
            # Not made yet, or made and not seen complete (a resumed create).
            await self.create_child(spec)
            return True
        unchanged = spec.digest() == self.ctx.data.get(DIGEST_KEY)
        if unchanged and not always:
            return False
        await self.update_child(spec)
        return not unchanged

    async def _roll(self, current: dict[str, dict[str, Any]], target: int) -> None:
        """Bring the members to the new definition a batch at a time, keeping
        ``min_in_service`` of them in service and pausing between batches."""
        rolling = self.rolling()
        assert rolling is not None
        min_in_service, batch_size, pause = rolling
        capacity = len(current)

        def plan() -> list[tuple[int, int]]:
            return list(
                rolling_update.scaling_batches(target, capacity, batch_size, min_in_service)
            )

        def members_for(
            now: dict[str, dict[str, Any]], size: int, updates: int
        ) -> dict[str, dict[str, Any]]:
            self.check_fan_out(size)
            made = int(self.ctx.data.get(NEXT) or 0)
            counter = iter(range(made, made + size))
            used: list[int] = []

            def new_name() -> str:
                n = next(counter)
                used.append(n)
                return short_id(self.ctx.uuid, n)

            members = dict(
                rolling_update.member_definitions(
                    self.ordered(now), size, updates, new_name, lambda _: self.member()
                )
            )
            # Kept oldest first: members given the new definition in this batch, then
            # those made in it, are the newest (the next batch removes the oldest).
            kept = [n for n in members if n in now and members[n] == now[n]]
            renewed = [n for n in members if n in now and members[n] != now[n]]
            order = kept + renewed + [n for n in members if n not in now]
            self.note(order, made + len(used))
            return {n: members[n] for n in order}

        # Kept while the batches run: the group's size changes between them.
        under_way = self.ctx.data.get(rolling_update.BATCHES)
        target_digest = (
            json.loads(under_way)["target"]
            if under_way
            else NestedSpec(template=json.dumps([self.member(), target], sort_keys=True)).digest()
        )
        await rolling_update.in_batches(
            self,
            target_digest,
            plan,
            members_for,
            self.spec_for,
            self.current_members,
            pause,
        )

    # Handlers ---------------------------------------------------------------------------

    async def create(self) -> None:
        await self.load_member()
        self.validate()
        size = self.initial_size()
        await self._resize(size)
        self._finish(True, self.group_cooldown())
        await self.load_outputs()

    def _busy(self) -> bool:
        """Whether another node's change of the group is under way (parked while the
        nested stack changes): an adjustment not this node's, or, for an adjustment,
        a nested update another node started."""
        state = json.loads(self.ctx.data.get(ADJUSTING) or "null")
        mine = str((self.ctx.adjustment or {}).get("id", "")) or None
        if state is not None:
            return bool(state.get("id") != mine)
        return mine is not None and bool(self.ctx.data.get(UPDATING_KEY))

    async def update(self, changed: Mapping[str, Any]) -> None:
        await self.load_member()
        self.validate()
        if self._busy():
            # Adjustments and updates of the group act one at a time, each on what the
            # one before left.
            await self.ctx.wait_turn()
        if self.ctx.physical_id is None:
            await self.create()
            return
        if self.ctx.adjustment is not None:
            await self._adjust(self.ctx.adjustment)
            await self.load_outputs()
            return
        current = await self.current_members()
        capacity = len(current)
        if self.rolling() is not None and (
            rolling_update.batches_under_way(self)
            or (self.rolls_on in changed and any(d != self.member() for d in current.values()))
        ):
            await self._roll(dict(self.ordered(current)), min(self.wanted_size(capacity), capacity))
        await self._resize(self.wanted_size(capacity), always=True)
        # As in Heat, a finished update of the group starts its cooldown again.
        self._finish(True, self.group_cooldown())
        await self.load_outputs()

    async def _adjust(self, adjustment: Mapping[str, Any]) -> None:
        """Make a policy's adjustment: decided once (a resumed node goes on with the size
        it decided), from the group's size when the node runs."""
        key = str(adjustment.get("id", ""))
        if key and key == self.ctx.data.get(ADJUSTED):
            return  # asked again after it was done
        state = json.loads(self.ctx.data.get(ADJUSTING) or "null")
        if state is None or state.get("id") != key:
            size, _ = _decide(self.ctx.name, self.ctx.data, adjustment, utcnow())
            if size is None:
                return
            state = {"id": key, "size": size}
            self.ctx.data[ADJUSTING] = json.dumps(state)
        try:
            changed = await self._resize(int(state["size"]))
        except ResourceFailure:
            # The next adjustment decides afresh.
            self.ctx.data[ADJUSTING] = ""
            await self.ctx.checkpoint()
            raise
        cooldown = adjustment.get("cooldown")
        self._finish(changed, self.group_cooldown() if cooldown is None else cooldown)
        self.ctx.data[ADJUSTING] = ""
        self.ctx.data[ADJUSTED] = key

    # Views ------------------------------------------------------------------------------

    def definition_changed(self) -> bool:
        """An adjustment acts only when the group would make it (else the update does
        nothing and shows nothing, as Heat records no event for it); otherwise always, as
        for any nested stack."""
        if self.ctx.adjustment is not None:
            if self._busy() or self.ctx.data.get(ADJUSTING):
                return True
            size, _ = _decide(self.ctx.name, self.ctx.data, self.ctx.adjustment, utcnow())
            return size is not None
        return True

    def member_names(self) -> list[str]:
        """The members as their attributes list them: oldest first."""
        refs = (self._outputs or {}).get("refs_map") or {}
        known = [n for n in self.names() if n in refs]
        return sorted(n for n in refs if n not in known) + known

    def attributes_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        names = self.member_names()
        return member_attributes(names, outputs)
