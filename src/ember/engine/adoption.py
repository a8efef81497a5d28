"""Adopt data: what Heat's abandon and export give and adopt takes, and what a snapshot
keeps — the stack's template, environment and files, and each resource's physical id and
data, nested stacks included."""

from __future__ import annotations

import json
from typing import Any

from ember.common import errors
from ember.common.states import Status
from ember.db.models import Stack
from ember.db.unit import UnitOfWork
from ember.template import parse_text

HOOK_KEY = "hook:"


def export_doc(uow: UnitOfWork, stack: Stack, action: str) -> dict[str, Any]:
    """Everything needed to adopt the stack elsewhere."""
    raw = uow.stacks.template(stack.raw_template_id)
    rows = uow.resources.live(stack.id)
    data = uow.resources.data_of([r.id for r in rows])
    children = {s.owner_resource: s for s in uow.stacks.nested(stack.id)}
    resources: dict[str, Any] = {}
    for row in rows:
        entry: dict[str, Any] = {
            "name": row.name,
            "type": row.type,
            "action": row.action,
            "status": row.status,
            "resource_id": row.physical_resource_id,
            "resource_data": {k: v for k, v in data[row.id].items() if not k.startswith(HOOK_KEY)},
            "metadata": row.metadata_ or {},
        }
        child = children.get(row.name)
        if child is not None:
            entry.update(export_doc(uow, child, action))
            entry["name"], entry["type"] = row.name, row.type
        resources[row.name] = entry
    return {
        "id": stack.id,
        "name": stack.name,
        "action": action,
        "status": Status.COMPLETE,
        "project_id": stack.project_id,
        "stack_user_project_id": stack.stack_user_project_id or stack.project_id,
        "tags": uow.stacks.tags_of([stack.id])[stack.id],
        "template": raw.template,
        "environment": raw.environment,
        "files": raw.files,
        "resources": resources,
    }


def parse_adopt_data(raw: Any) -> dict[str, Any]:
    data = raw if isinstance(raw, dict) else parse_text(str(raw), what="adopt data")
    if not isinstance(data, dict) or not isinstance(data.get("resources", {}), dict):
        raise errors.InvalidRequest("Invalid adopt data: it must be a map with a resources map")
    return data


def adopt_data_for(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each resource's physical id and data, as the adopting nodes take them, and the
    adopt data of its nested stack (its own ``resources``, as abandon gives them)."""
    return {
        name: {
            "resource_id": r.get("resource_id"),
            "resource_data": {
                str(k): v if isinstance(v, str) else json.dumps(v)
                for k, v in (r.get("resource_data") or {}).items()
            },
            "resources": r.get("resources") if isinstance(r.get("resources"), dict) else {},
        }
        for name, r in (doc.get("resources") or {}).items()
        if isinstance(r, dict)
    }
