"""Plain records passed between the engine's logic and its units of work."""

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


@dataclass(slots=True)
class ClaimedNode:
    """A node this engine now owns, with what is needed to run it."""

    key: NodeKey
    action: str
    node_data: dict[str, Any]
    traversal_action: str
    deadline: dt.datetime | None
    stack_id: str
    stack_name: str
    project_id: str
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
    requires: list[str] = field(default_factory=list)
    replaced_by: int | None = None
    needs_replace: bool = False
    reference_id: str | None = None
    metadata: dict[str, Any] | None = None
    # Reference ids and attributes of the resources this one refers to, by name.
    peers: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)


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
    # A successful delete removes the resource row.
    remove: bool = False
    # Nothing changed (an UPDATE or CLEANUP with no work): no event, no state change.
    silent: bool = False
    # Replacement: the new row the outcome belongs to; the node's row is marked replaced.
    replacement_id: int | None = None
    # The resource row is left as it was (a refused or superseded action); ``event`` says
    # whether the refusal is shown.
    keep_state: bool = False
    event: bool = True
    # The stack's failure reason when it differs from Heat's usual "<TYPE>: resources.x: ..."
    stack_reason: str | None = None


@dataclass(slots=True)
class Completion:
    """What a batch of outcomes set in motion."""

    ready: list[NodeKey] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)  # traversal ids that ended
    rollbacks: list[str] = field(default_factory=list)  # stack ids to roll back
