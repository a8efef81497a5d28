"""Batching for rolling updates and batched creation of group members (Heat's rules), and
the loop that runs the batches of a group's nested stack (ResourceGroup, the scaling
groups)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from ember.resources.stack_resource import DIGEST_KEY, NestedSpec, StackResource
from ember.template import PropertySchema
from ember.template.constraints import Range

Definition = dict[str, Any]
Members = dict[str, Definition]
# Resource data: the batches of a rolling update or batched create, and how far they got.
BATCHES = "batches"

# The knobs of a rolling update, as every group type's update policy names them.
MIN_IN_SERVICE = PropertySchema(
    "integer",
    "The minimum number of resources in service while rolling updates are being executed.",
    default=0,
    constraints=(Range(min=0),),
)
PAUSE_TIME = PropertySchema(
    "number",
    "The number of seconds to wait between batches of updates.",
    default=0,
    constraints=(Range(min=0),),
)


def max_batch_size(members: str = "resources", doing: str = "replace") -> PropertySchema:
    return PropertySchema(
        "integer",
        f"The maximum number of {members} to {doing} at once.",
        default=1,
        constraints=(Range(min=1),),
    )


def needs_update(target: int, current: int, up_to_date: int) -> bool:
    """Whether any existing member still has to be brought to the new definition."""
    return not (up_to_date >= current == target)


def next_batch(
    target: int, current: int, up_to_date: int, batch_size: int, min_in_service: int
) -> tuple[int, int]:
    """The group's size during the next batch, and how many members that batch updates."""
    effective_min = min(min_in_service, target, current)
    effective_batch = min(batch_size, max(target - up_to_date, 0))
    new_size = effective_batch + max(min(current, target - effective_batch), effective_min)
    return new_size, effective_batch


def batches(
    target: int, current: int, batch_size: int, min_in_service: int
) -> Iterator[tuple[int, int]]:
    """``(size, updates)`` for each batch, going from ``current`` members to ``target``
    members that all have the new definition."""
    updated = 0
    while needs_update(target, current, updated):
        size, count = next_batch(target, current, updated, batch_size, min_in_service)
        yield size, count
        updated += count - max(size - max(current, target), 0)
        current = size


def scaling_batches(
    target: int, current: int, batch_size: int, min_in_service: int
) -> Iterator[tuple[int, int]]:
    """The batches of a scaling group's rolling update, counted as Heat's scaling groups
    count them: every member given the new definition in a batch counts as up to date,
    also one a later batch removes. That holds only if a member given the new definition
    then counts as the newest (as a replaced instance is in Heat), so that a batch which
    shrinks the group back removes old members first; the caller orders them so."""
    updated = 0
    while needs_update(target, current, updated):
        size, count = next_batch(target, current, updated, batch_size, min_in_service)
        yield size, count
        updated += count
        current = size


def member_definitions(
    old: Sequence[tuple[str, Definition]],
    size: int,
    updates: int,
    new_name: Callable[[], str],
    definition_for: Callable[[str], Definition],
) -> Iterator[tuple[str, Definition]]:
    """The members of one batch: ``old`` is ordered lowest priority first; at most
    ``updates`` members get the new definition (new members count towards it)."""
    kept = list(old[-size:]) if size else []
    replace = updates - (size - len(kept))
    for i in range(size):
        if i < len(kept):
            name, current = kept[i]
            wanted = definition_for(name)
            if current != wanted and replace > 0:
                replace -= 1
                yield name, wanted
            else:
                yield name, current
        else:
            name = new_name()
            yield name, definition_for(name)


def batches_under_way(group: StackResource) -> bool:
    """Whether a batched change was begun and not finished (a resumed node goes on)."""
    return bool(group.ctx.data.get(BATCHES))


async def in_batches(
    group: StackResource,
    target: str,
    plan: Callable[[], Sequence[tuple[int, int]]],
    members_for: Callable[[Members, int, int], Members],
    spec_for: Callable[[Mapping[str, Definition]], NestedSpec],
    current: Callable[[], Awaitable[Members]],
    pause: float,
) -> None:
    """Bring a group's members to ``target`` (a digest of what they end as) a batch at a
    time. Each batch is one nested create or update of ``members_for(current, size,
    updates)``; the plan and how far it got are kept in the resource's data, so a node
    resumed after parking (a batch under way, or the pause between two batches, which
    parks the node and holds no worker) or after its engine died goes on where it was."""
    ctx = group.ctx
    raw = ctx.data.get(BATCHES)
    progress: dict[str, Any] | None = json.loads(raw) if raw else None
    if progress is None or progress["target"] != target:
        steps = [list(step) for step in plan()]
        progress = {"target": target, "plan": steps, "next": 0, "issued": False}
    steps = progress["plan"]
    while progress["next"] < len(steps):
        index = progress["next"]
        if progress["issued"]:
            action = "CREATE" if index == 0 and progress.get("created") else "UPDATE"
            assert ctx.physical_id is not None
            await group.services.wait_nested(ctx, ctx.physical_id, action)
        else:
            size, updates = steps[index]
            members = members_for(await current(), size, updates)
            progress["issued"] = True
            progress["created"] = ctx.physical_id is None
            ctx.data[BATCHES] = json.dumps(progress)
            spec = spec_for(members)
            if ctx.physical_id is None:
                await group.create_child(spec)
            else:
                await group.update_child(spec)
        progress.update(next=index + 1, issued=False, created=False)
        ctx.data[BATCHES] = json.dumps(progress)
        if index < len(steps) - 1 and pause > 0:
            await ctx.pause(f"batch-{index}", pause)
    ctx.data[BATCHES] = ""
    # What the nested stack is made of now.
    ctx.data[DIGEST_KEY] = spec_for(await current()).digest()
