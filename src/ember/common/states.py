"""Actions and statuses of stacks, resources, traversals and their nodes."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    INIT = "INIT"
    CREATE = "CREATE"
    DELETE = "DELETE"
    UPDATE = "UPDATE"
    ROLLBACK = "ROLLBACK"
    SUSPEND = "SUSPEND"
    RESUME = "RESUME"
    ADOPT = "ADOPT"
    SNAPSHOT = "SNAPSHOT"
    CHECK = "CHECK"
    RESTORE = "RESTORE"
    ABANDON = "ABANDON"
    SIGNAL = "SIGNAL"


# The node action that deletes what an update replaced (shown to users as DELETE).
CLEANUP = "CLEANUP"


class Status(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


class NodeState(StrEnum):
    WAITING = "WAITING"  # prerequisites unfinished
    READY = "READY"  # published, not yet claimed
    CLAIMED = "CLAIMED"  # an engine runs it
    PARKED = "PARKED"  # waits for what its wake key or deadline names; no engine holds it
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class TraversalState(StrEnum):
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    SUPERSEDED = "SUPERSEDED"


class Scope(StrEnum):
    """What a traversal acts for: the whole stack (it is the stack's current operation and
    sets the stack's state) or one resource (an update or a signal of that resource alone,
    serialised with the stack's own work by the resource's lock)."""

    STACK = "stack"
    RESOURCE = "resource"


FINISHED_NODE_STATES = (NodeState.DONE, NodeState.FAILED, NodeState.CANCELLED)
