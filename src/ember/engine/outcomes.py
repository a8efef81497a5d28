"""What running a node produced (``Outcome``), and the rows and events that records it
(``NodeResult``), decided here and written by the repositories in one batch.

The events follow Heat's: a resource shows ``<ACTION>_IN_PROGRESS`` when it starts and
``<ACTION>_COMPLETE`` or ``_FAILED`` when it ends; an update with nothing to do shows
nothing; a replacement shows the old resource ``UPDATE_COMPLETE "requires replacement"``
and the new one's create; a signal shows one ``SIGNAL`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ember.common.failures import Failure
from ember.common.states import CLEANUP, Action, Status
from ember.common.timeutils import utcnow
from ember.db.events import node_event
from ember.db.records import ClaimedNode, NodeResult, ResourceWrite, Wait
from ember.engine.planner import HELD

# Actions that may turn out to be no-ops: they show themselves only when they act.
DEFERRED_START = (Action.UPDATE, CLEANUP)
HOOK_KEY = "hook:"


@dataclass(slots=True)
class Outcome:
    """What running a node produced, to be recorded in one batch."""

    node: ClaimedNode
    success: bool
    reason: str = "state changed"
    physical_id: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] | None = None
    attributes: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    reference_id: str | None = None
    timed_out: bool = False
    # Why it failed, as data (its ``reason()`` is ``reason``).
    failure: Failure | None = None
    # A successful delete removes the resource row.
    remove: bool = False
    # Nothing changed (an UPDATE or CLEANUP with no work): no event, no state change.
    silent: bool = False
    # Replacement: the new row the outcome belongs to; the node's row is marked replaced.
    replacement_id: int | None = None
    # The type name the template now writes, when an update kept the resource although
    # the name changed (an alias or a provider template of the same kind).
    resource_type: str | None = None
    # The resource row is left as it was (a refused or superseded action); ``event`` says
    # whether the refusal is shown.
    keep_state: bool = False
    event: bool = True
    # With ``keep_state``: the (action, status) its event shows, if not the node's action
    # and the outcome's status (a failure while paused at a breakpoint shows the state kept).
    event_state: tuple[str, str] | None = None
    # The stack's failure reason when it differs from Heat's usual "<TYPE>: resources.x: ..."
    stack_reason: str | None = None
    # Wait for this instead of finishing; what the handler made so far is recorded.
    park: Wait | None = None
    # With ``park``: the breakpoint's reason, shown when first pausing at it.
    paused: str | None = None
    # With ``park``: the action itself is done (recorded now); its post- hook remains.
    acted: bool = False
    # Resource data keys to delete (breakpoints that were cleared and passed).
    forget: tuple[str, ...] = ()


def shown_action(node: ClaimedNode) -> str:
    return Action.DELETE if node.action == CLEANUP else node.action


def starts_late(node: ClaimedNode) -> bool:
    """Whether a node shows its start only once it acts: an UPDATE or CLEANUP that may
    have nothing to do, or a node that may pause at a breakpoint first."""
    return node.action in DEFERRED_START or bool(node.node_data.get(HELD))


def start_values(node: ClaimedNode, engine_id: str) -> dict[str, Any] | None:
    """The columns a claimed node's resource shows as it starts: IN_PROGRESS (one that
    starts late only once it acts, a signal never; a node resumed after parking already
    shows it)."""
    if (
        starts_late(node)
        or node.action == Action.SIGNAL
        or node.cancelled
        or node.progress is not None
    ):
        return None
    return {
        "action": node.action,
        "status": Status.IN_PROGRESS,
        "status_reason": "state changed",
        "engine_id": engine_id,
        "updated_at": utcnow(),
    }


def start_events(nodes: Sequence[ClaimedNode]) -> list[dict[str, Any]]:
    """The IN_PROGRESS event of each node that starts showing (one taken over after an
    engine died is already shown as started)."""
    return [
        node_event(
            node,
            node.action,
            Status.IN_PROGRESS,
            "state changed",
            node.physical_id,
            node.properties,
        )
        for node in nodes
        if start_values(node, "") is not None
        and not (node.resource_action == node.action and node.resource_status == Status.IN_PROGRESS)
    ]


def started_late(
    nodes: Sequence[ClaimedNode], engine_id: str
) -> tuple[list[ResourceWrite], list[dict[str, Any]]]:
    """Nodes that start late (see ``starts_late``) and now act show it."""
    now = utcnow()
    writes, events = [], []
    for node in nodes:
        action = shown_action(node)
        writes.append(
            ResourceWrite(
                node.resource_id,
                {
                    "action": action,
                    "status": Status.IN_PROGRESS,
                    "status_reason": "state changed",
                    "engine_id": engine_id,
                    "updated_at": now,
                },
            )
        )
        events.append(
            node_event(
                node, action, Status.IN_PROGRESS, "state changed", node.physical_id, node.properties
            )
        )
    return writes, events


def result_for(o: Outcome) -> NodeResult:
    """The rows and events that record an outcome."""
    node = o.node
    result = NodeResult(node=node, success=o.success, park=o.park, progress=node.progress)
    result.forget = [(node.resource_id, key) for key in o.forget]
    if not o.success:
        result.failure = o.failure.to_dict() if o.failure is not None else None
        if o.timed_out:
            result.stack_reason = "Timed out"
        else:
            result.stack_reason = f"Resource {node.action} failed: {o.stack_reason or o.reason}"
    if o.park is not None and not o.acted:
        _record_progress(o, result)
        return result
    if node.action == Action.SIGNAL:
        _record_signal(o, result)
        return result
    if o.silent:
        quiet: dict[str, Any] = {}
        if "template_id" in node.node_data:
            quiet["template_id"] = node.node_data["template_id"]
        if o.resource_type is not None:
            quiet["type"] = o.resource_type
        if quiet:
            result.writes.append(ResourceWrite(node.resource_id, quiet))
        return result
    status = Status.COMPLETE if o.success else Status.FAILED
    if o.keep_state:
        if o.event:
            action, shown = o.event_state or (node.action, status)
            result.events.append(node_event(node, action, shown, o.reason, node.physical_id))
        return result
    action = Action.CREATE if o.replacement_id is not None else shown_action(node)
    shown_id = (
        o.physical_id if o.replacement_id is not None else (o.physical_id or node.physical_id)
    )
    result.events.append(
        node_event(
            node,
            action,
            status,
            o.reason,
            shown_id,
            o.properties if o.properties is not None else node.properties,
        )
    )
    if o.success and o.remove:
        result.removed.append(node.resource_id)
        return result
    if not o.success and o.replacement_id is not None:
        # A failed replacement leaves the original as the stack's resource.
        result.removed.append(o.replacement_id)
        return result
    target = node.resource_id
    if o.replacement_id is not None:
        target = o.replacement_id
        result.writes.append(ResourceWrite(node.resource_id, {"replaced_by": o.replacement_id}))
    result.writes.append(ResourceWrite(target, _row_values(o, action, status)))
    if o.data:
        result.data[target] = o.data
    if o.acted and o.paused:
        # Heat's post- hooks: the action is complete, and the pause is an event of it.
        result.events.append(node_event(node, action, status, o.paused, shown_id))
        result.progress = "acted"
    return result


def _record_progress(o: Outcome, result: NodeResult) -> None:
    """A parked node: keep what the handler made so far; show a breakpoint's pause."""
    node = o.node
    target = o.replacement_id if o.replacement_id is not None else node.resource_id
    values: dict[str, Any] = {}
    if o.physical_id is not None:
        values["physical_resource_id"] = o.physical_id
    if o.paused:
        # As in Heat, a resource paused before acting keeps its state (INIT_COMPLETE
        # before its create), and the pause is an event of that state.
        result.events.append(
            node_event(node, node.resource_action, node.resource_status, o.paused, node.physical_id)
        )
    if values:
        result.writes.append(ResourceWrite(target, values))
    if o.data:
        result.data[target] = o.data


def _record_signal(o: Outcome, result: NodeResult) -> None:
    """A handled signal is one SIGNAL event; the resource keeps its action and status."""
    node = o.node
    status = node.resource_status if o.success else Status.FAILED
    result.events.append(node_event(node, Action.SIGNAL, status, o.reason, node.physical_id))
    if not o.success:
        return
    values: dict[str, Any] = {}
    if o.physical_id is not None:
        values["physical_resource_id"] = o.physical_id
    if o.attributes is not None:
        values["attributes"] = o.attributes
    if o.reference_id is not None:
        values["reference_id"] = o.reference_id
    if o.metadata is not None:
        values["metadata_"] = o.metadata
    if values:
        result.writes.append(ResourceWrite(node.resource_id, values))
    if o.data:
        result.data[node.resource_id] = o.data
    result.signalled = True


def _row_values(o: Outcome, action: str, status: str) -> dict[str, Any]:
    """The resource row columns an outcome sets (only those it knows)."""
    values: dict[str, Any] = {
        "action": action,
        "status": status,
        "status_reason": o.reason,
        "engine_id": None,
        "updated_at": utcnow(),
    }
    if o.physical_id is not None:
        values["physical_resource_id"] = o.physical_id
    if o.properties is not None:
        values["properties"] = o.properties
    if o.attributes is not None:
        values["attributes"] = o.attributes
    if o.reference_id is not None:
        values["reference_id"] = o.reference_id
    if o.metadata is not None:
        values["metadata_"] = o.metadata
    if "template_id" in o.node.node_data and o.success:
        values["template_id"] = o.node.node_data["template_id"]
    if o.resource_type is not None and o.success:
        values["type"] = o.resource_type
    return values
