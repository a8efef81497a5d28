"""What an update does to one resource, decided as data (pure: no I/O).

``plan(stored, wanted, capabilities)`` compares what is recorded of a resource with its
new definition and the plugin's declared capabilities, and names the change: nothing, a
create (it never was), an update in place, a repair (a failed nested stack brought up to
date in place), a replacement, or a refusal (the environment restricts the action). The
update runs what the plan says; the update preview shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ember.common.states import Action, Status


class Change(StrEnum):
    NONE = "none"
    CREATE = "create"
    UPDATE = "update"
    REPAIR = "repair"
    REPLACE = "replace"
    RESTRICTED = "restricted"


# How the update preview names each change.
PREVIEW = {
    Change.NONE: "unchanged",
    Change.CREATE: "updated",
    Change.UPDATE: "updated",
    Change.REPAIR: "updated",
    Change.REPLACE: "replaced",
    Change.RESTRICTED: "unchanged",
}


@dataclass(frozen=True)
class Stored:
    """What is recorded of the resource. ``plugin_type`` is the type it was made as,
    resolved through the environment (aliases and template files compare by what they
    resolve to)."""

    action: str
    status: str
    physical_id: str | None
    properties: Mapping[str, Any] | None
    plugin_type: str
    needs_replace: bool = False
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Wanted:
    """The new definition: resolved properties, the plugin type it resolves to, and the
    resource data a snapshot restore brings back (None when not restoring)."""

    properties: Mapping[str, Any]
    plugin_type: str
    restore_data: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Capabilities:
    """What the plugin declares: whether a failed resource is repaired in place, which
    property changes force a replacement, whether what it is made of changed although
    its properties did not, and which actions the environment restricts."""

    update_failed_in_place: bool = False
    replaces_on: Callable[[Mapping[str, Any]], bool] = lambda changed: False
    definition_changed: bool = False
    restricted: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    change: Change
    # Properties whose values differ (new values).
    changed: Mapping[str, Any] = field(default_factory=dict)
    # For RESTRICTED: the action refused ("update" or "replace").
    refused: str | None = None


def changed_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    return {k: new.get(k) for k in set(old) | set(new) if old.get(k) != new.get(k)}


def plan(stored: Stored, wanted: Wanted, capabilities: Capabilities) -> Plan:
    changed = changed_properties(stored.properties or {}, wanted.properties)
    never_created = stored.action == Action.INIT or (
        stored.physical_id is None and stored.status != Status.COMPLETE
    )
    failed = stored.status == Status.FAILED
    repair = failed and stored.physical_id is not None and capabilities.update_failed_in_place
    broken = (failed and not repair) or stored.needs_replace
    if wanted.restore_data is not None and dict(wanted.restore_data) != dict(stored.data):
        broken = True  # restoring a snapshot brings back the recorded resource
    type_changed = wanted.plugin_type != stored.plugin_type
    if not (
        changed
        or broken
        or repair
        or type_changed
        or never_created
        or capabilities.definition_changed
    ):
        return Plan(Change.NONE)
    if never_created and stored.physical_id is None:
        return Plan(Change.CREATE, changed)
    # A failed create recorded no properties, so which changed is unknown; repairing
    # applies them all.
    known = {} if repair and stored.properties is None else changed
    if not (broken or type_changed or capabilities.replaces_on(known)):
        if "update" in capabilities.restricted:
            return Plan(Change.RESTRICTED, changed, "update")
        return Plan(Change.REPAIR if repair else Change.UPDATE, changed)
    return replacement(capabilities, changed)


def replacement(capabilities: Capabilities, changed: Mapping[str, Any]) -> Plan:
    """Replace, unless the environment restricts it (also what an update that found it
    must replace after all turns into)."""
    if "replace" in capabilities.restricted:
        return Plan(Change.RESTRICTED, changed, "replace")
    return Plan(Change.REPLACE, changed)
