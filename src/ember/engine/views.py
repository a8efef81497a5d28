"""Engine-side views: stacks, resources and events as Heat's REST API shapes them
(without links, which need the request's URL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ember.common.timeutils import isotime
from ember.db.models import Event, Resource, Stack
from ember.engine.resource import shown_attributes
from ember.template import StackDefinition

# The stack columns a summary is made of, in the order ``stack_summaries`` unpacks them.
SUMMARY_FIELDS = (
    "id",
    "name",
    "action",
    "status",
    "status_reason",
    "created_at",
    "updated_at",
    "deleted_at",
    "username",
    "owner_id",
    "stack_user_project_id",
    "project_id",
    "tags",
)


def stack_summaries(
    rows: list[tuple[Any, ...]], *, with_project: bool = False
) -> list[dict[str, Any]]:
    """Heat's stack summaries for rows of the ``SUMMARY_FIELDS`` columns (no ORM objects:
    the list path is kept lean)."""
    out = []
    for (
        stack_id,
        name,
        action,
        status,
        reason,
        created,
        updated,
        deleted,
        username,
        owner_id,
        user_project,
        project,
        tags,
    ) in rows:
        summary = {
            "id": stack_id,
            "stack_name": name,
            "description": "",
            "stack_status": f"{action}_{status}",
            "stack_status_reason": reason or "",
            "creation_time": isotime(created),
            "updated_time": isotime(updated) if updated is not None else None,
            "deletion_time": isotime(deleted) if deleted is not None else None,
            "stack_owner": username,
            "parent": owner_id,
            "stack_user_project_id": user_project or project,
            "tags": tags.split(",") if tags else None,
        }
        if with_project:
            summary["project"] = project
        out.append(summary)
    return out


def stack_detail(
    stack: Stack, defn: StackDefinition, outputs: list[dict[str, Any]] | None
) -> dict[str, Any]:
    [out] = stack_summaries([tuple(getattr(stack, field) for field in SUMMARY_FIELDS)])
    out.update(
        {
            "description": defn.description,
            "template_description": defn.description,
            "parameters": defn.parameters.shown(),
            "timeout_mins": stack.timeout_mins,
            "disable_rollback": stack.disable_rollback,
            "capabilities": [],
            "notification_topics": [],
            "tags": out["tags"] or [],
        }
    )
    if outputs is not None:
        out["outputs"] = outputs
    return out


def resource_view(
    res: Resource,
    stack: Stack,
    required_by: list[str],
    *,
    detail: bool = False,
    attributes: dict[str, Any] | None = None,
    description: str = "",
    nested_stack: tuple[str, str] | None = None,
    parent_resource: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource_name": res.name,
        "logical_resource_id": res.name,
        "physical_resource_id": res.physical_resource_id or "",
        "resource_type": res.type,
        "resource_status": f"{res.action}_{res.status}",
        "resource_status_reason": res.status_reason or "state changed",
        "creation_time": isotime(res.created_at),
        "updated_time": isotime(res.updated_at or res.created_at),
        "required_by": required_by,
        "stack_id": stack.id,
        "stack_name": stack.name,
    }
    if nested_stack:
        out["nested_stack_name"], out["nested_stack_id"] = nested_stack
    if parent_resource:
        out["parent_resource"] = parent_resource
    if detail:
        out["description"] = description
        out["attributes"] = shown_attributes(
            attributes if attributes is not None else res.attributes or {}
        )
    return out


def event_view(
    event: Event, stack: Stack, *, detail: bool = False, nested: bool = False
) -> dict[str, Any]:
    out = _event_fields(
        event.uuid,
        event.created_at,
        event.resource_name,
        event.physical_resource_id,
        event.resource_action,
        event.resource_status,
        event.resource_status_reason,
        stack.id,
        stack.name,
        event.root_stack_id if nested else None,
    )
    if detail:
        out["resource_type"] = event.resource_type
        out["resource_properties"] = event.resource_properties or {}
    return out


def written_event_view(event: dict[str, Any]) -> dict[str, Any]:
    """An event as a unit of work wrote it (``EventRepository.written``), as the events
    API shows it with ``nested_depth`` and detail."""
    out = _event_fields(
        event["uuid"],
        event["created_at"],
        event["resource_name"],
        event["physical_resource_id"],
        event["resource_action"],
        event["resource_status"],
        event["resource_status_reason"],
        event["stack_id"],
        event.get("stack_name", ""),
        event["root_stack_id"],
    )
    out["resource_type"] = event["resource_type"]
    out["resource_properties"] = event.get("resource_properties") or {}
    return out


def _event_fields(
    uuid: str,
    created_at: dt.datetime,
    resource_name: str,
    physical_id: str | None,
    action: str,
    status: str,
    reason: str | None,
    stack_id: str,
    stack_name: str,
    root_stack_id: str | None,
) -> dict[str, Any]:
    return {
        "id": uuid,
        "event_time": isotime(created_at),
        "resource_name": resource_name,
        "logical_resource_id": resource_name,
        "physical_resource_id": physical_id or "",
        "resource_status": f"{action}_{status}",
        "resource_status_reason": reason or "",
        "stack_id": stack_id,
        "stack_name": stack_name,
        "root_stack_id": root_stack_id,
    }
