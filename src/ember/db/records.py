"""Plain records that cross between the engine and the repositories: nodes to write, nodes
claimed, what parks a node, and the writes an outcome makes.

Rows read for display (stacks, resources, events) are returned as the mapped classes of
``ember.db.models``; they are snapshots, never changed outside a repository.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node of a traversal to be written: act on a resource once ``requires`` are done."""

    seq: int
    resource_uuid: str
    action: str
    requires: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NodeKey:
    traversal_id: str
    seq: int

    def to_message(self) -> dict[str, Any]:
        return {"traversal_id": self.traversal_id, "seq": self.seq}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> NodeKey:
        return cls(str(message["traversal_id"]), int(message["seq"]))


# Wake keys: what a parked node waits for.
def stack_key(stack_id: str) -> str:
    """The nested stack's current action finishing."""
    return f"stack:{stack_id}"


def hook_key(resource_id: int, hook: str) -> str:
    """A breakpoint of the resource being cleared."""
    return f"hook:{resource_id}:{hook}"


def lock_key(resource_id: int) -> str:
    """The node holding the resource's lock finishing or parking."""
    return f"lock:{resource_id}"


def turn_key(resource_id: int) -> str:
    """A node of the resource finishing its action (done or failed, not parked)."""
    return f"turn:{resource_id}"


def signal_key(resource_id: int) -> str:
    """The resource handling a signal."""
    return f"signal:{resource_id}"


@dataclass(frozen=True, slots=True)
class Wait:
    """What wakes a parked node: ``key`` (one of the keys above) and/or a deadline ``at``.
    For a signal key, ``seen`` is how many signals the waiter has already seen."""

    key: str | None = None
    at: dt.datetime | None = None
    seen: int = 0


@dataclass(slots=True)
class ClaimedNode:
    """A node this engine now owns, with what is needed to run it."""

    key: NodeKey
    action: str
    node_data: dict[str, Any]
    traversal_action: str
    traversal_data: dict[str, Any]
    scope: str
    deadline: dt.datetime | None
    stack_id: str
    stack_name: str
    project_id: str
    root_stack_id: str
    raw_template_id: int
    nested_depth: int
    resource_id: int
    resource_uuid: str
    resource_name: str
    resource_type: str
    physical_id: str | None
    resource_action: str
    resource_status: str
    properties: dict[str, Any] | None
    attributes: dict[str, Any] | None
    data: dict[str, str]
    attempts: int
    lock_token: str
    requires: list[str] = field(default_factory=list)
    # Seqs of the nodes to count down when this one finishes.
    dependents: tuple[int, ...] = ()
    replaced_by: int | None = None
    needs_replace: bool = False
    # The raw template the resource was last made or updated with (its type is resolved
    # through that template's environment).
    template_id: int | None = None
    reference_id: str | None = None
    metadata: dict[str, Any] | None = None
    signals: int = 0
    # Why a parked node was made ready again (None for a first run).
    woken_by: str | None = None
    # "acted": the action is done and recorded, its post- hook is what remains.
    progress: str | None = None
    # The node's traversal was cancelled while it was parked: it only records that.
    cancelled: bool = False
    # Reference ids and attributes of the resources this one refers to, by name.
    peers: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)


@dataclass(slots=True)
class TraversalRow:
    """A traversal as its last node's transaction reads (and locks) it."""

    id: str
    stack_id: str
    action: str
    scope: str
    state: str
    remaining: int
    failed: int
    data: dict[str, Any]
    deadline: dt.datetime | None
    created_at: dt.datetime


@dataclass(slots=True)
class ResourceWrite:
    """Columns of one resource row to set (only those given)."""

    resource_id: int
    values: dict[str, Any]


@dataclass(slots=True)
class NodeResult:
    """What finishing (or parking) one claimed node writes, decided by the engine."""

    node: ClaimedNode
    success: bool
    # Resource rows to update, data to store, rows to delete, events to add.
    writes: list[ResourceWrite] = field(default_factory=list)
    data: dict[int, dict[str, str]] = field(default_factory=dict)
    forget: list[tuple[int, str]] = field(default_factory=list)  # data keys to delete
    removed: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # A failure: the stack's reason ("Resource CREATE failed: ..." or "Timed out") and
    # the failure as data (``common.failures.Failure.to_dict``).
    stack_reason: str | None = None
    failure: dict[str, Any] | None = None
    # Park instead of finishing; the node runs again when this wakes it.
    park: Wait | None = None
    progress: str | None = None
    # A signal was handled: the resource's signal count goes up, its waiters wake.
    signalled: bool = False


@dataclass(slots=True)
class Recovery:
    """What taking over from stopped engines found: nodes to publish again, and resources
    (id, node action) left in progress by nodes of traversals that have since stopped."""

    publish: list[NodeKey] = field(default_factory=list)
    abandoned: list[tuple[int, str]] = field(default_factory=list)
    rollbacks: list[tuple[str, str]] = field(default_factory=list)  # (stack, failed traversal)


@dataclass(slots=True)
class Progress:
    """What a batch of finished nodes set in motion."""

    ready: list[NodeKey] = field(default_factory=list)  # to publish
    claimed: list[ClaimedNode] = field(default_factory=list)  # to run here, unpublished
    finished: list[str] = field(default_factory=list)  # traversal ids that ended
    # (action, seconds from start to end) of each traversal that ended, for the metrics
    took: list[tuple[str, float]] = field(default_factory=list)
    # (stack id, failed traversal id) of stacks to roll back
    rollbacks: list[tuple[str, str]] = field(default_factory=list)
    # Stacks where a signal (or the scaling it asked for) was handled: their resources'
    # metadata is resolved again
    signalled: list[str] = field(default_factory=list)
    deadlines: list[tuple[NodeKey, dt.datetime]] = field(default_factory=list)  # parked
