"""OpenAPI descriptions of request bodies (bodies are parsed by hand, as Heat does)."""

from __future__ import annotations

from typing import Any

ANY_MAP = {"type": "object", "additionalProperties": True}
STACK_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "stack_name": {"type": "string"},
        "template": {"oneOf": [ANY_MAP, {"type": "string"}]},
        "template_url": {"type": "string"},
        "parameters": ANY_MAP,
        "environment": {"oneOf": [ANY_MAP, {"type": "string"}]},
        "environment_files": {"type": "array", "items": {"type": "string"}},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout_mins": {"type": "integer"},
        "disable_rollback": {"type": "boolean"},
        "tags": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "existing": {"type": "boolean"},
        "clear_parameters": {"type": "array", "items": {"type": "string"}},
        "converge": {"type": "boolean"},
        "adopt_stack_data": {"oneOf": [ANY_MAP, {"type": "string"}]},
    },
}
ACTION_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        k: {"type": "null"}
        for k in ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback")
    },
}
VALIDATE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        k: STACK_BODY["properties"][k]
        for k in (
            "template",
            "template_url",
            "parameters",
            "environment",
            "environment_files",
            "files",
        )
    },
}
MARK_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "mark_unhealthy": {"type": "boolean"},
        "resource_status_reason": {"type": "string"},
    },
    "required": ["mark_unhealthy"],
}
SNAPSHOT_BODY: dict[str, Any] = {"type": "object", "properties": {"name": {"type": "string"}}}


def body_doc(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }
