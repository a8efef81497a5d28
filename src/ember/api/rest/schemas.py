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
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
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
    "required": ["template"],
}
MARK_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "mark_unhealthy": {"type": "boolean"},
        "resource_status_reason": {"type": "string"},
    },
    "required": ["mark_unhealthy"],
    "additionalProperties": False,
}
SNAPSHOT_BODY: dict[str, Any] = {"type": "object", "properties": {"name": {"type": "string"}}}


def body_doc(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }


# Responses ------------------------------------------------------------------------------
# The routes build their responses by hand, so what FastAPI infers (a 422 that is never sent,
# JSON everywhere) is replaced by what they really answer.

FAULT: dict[str, Any] = {
    "type": "object",
    "required": ["code", "title", "explanation", "error"],
    "properties": {
        "code": {"type": "integer"},
        "title": {"type": "string"},
        "explanation": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["type", "traceback"],
            "properties": {
                "type": {"type": "string"},
                "message": {"type": "string"},
                "traceback": {"type": ["string", "null"]},
            },
        },
    },
}
FAULT_RESPONSE = {
    "description": "Heat fault",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HeatFault"}}},
}
LOCATION = {"Location": {"description": "Absolute URL", "schema": {"type": "string"}}}
REDIRECT_RESPONSE = {
    "description": "Found: the canonical URL of the stack is in Location",
    "headers": LOCATION,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["code", "title", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                },
            }
        },
        "text/plain": {"schema": {"type": "string"}},
    },
}
TEXT_RESPONSE = {"content": {"text/plain": {"schema": {"type": "string"}}}}
NULL = {"type": "null"}
OBJECT = {"type": "object"}
LIST = {"type": "array", "items": OBJECT}


def _wrapped(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": [key], "properties": {key: schema}}


STACK_PATH = "/v1/{tenant_id}/stacks/{stack_name}/{stack_id}"
SOFTWARE = "/v1/{tenant_id}/software_"
# Bodies of successful JSON responses, by operation.
SUCCESS_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/v1/{tenant_id}/stacks"): {
        "type": "object",
        "required": ["stacks"],
        "properties": {"stacks": LIST, "links": LIST, "count": {"type": "integer"}},
    },
    ("post", "/v1/{tenant_id}/stacks"): _wrapped(
        "stack",
        {
            "type": "object",
            "required": ["id", "links"],
            "properties": {"id": {"type": "string"}, "links": LIST},
        },
    ),
    ("get", "/v1/{tenant_id}/stacks/detail"): _wrapped("stacks", LIST),
    ("post", "/v1/{tenant_id}/stacks/preview"): _wrapped("stack", OBJECT),
    ("get", STACK_PATH): _wrapped("stack", OBJECT),
    ("put", STACK_PATH + "/preview"): _wrapped("resource_changes", OBJECT),
    ("patch", STACK_PATH + "/preview"): _wrapped("resource_changes", OBJECT),
    ("get", STACK_PATH + "/template"): OBJECT,
    ("get", STACK_PATH + "/environment"): OBJECT,
    ("get", STACK_PATH + "/files"): {"type": "object", "additionalProperties": {"type": "string"}},
    ("get", STACK_PATH + "/outputs"): _wrapped("outputs", LIST),
    ("get", STACK_PATH + "/outputs/{output_key}"): _wrapped("output", OBJECT),
    ("post", STACK_PATH + "/actions"): NULL,
    ("delete", STACK_PATH + "/abandon"): OBJECT,
    ("get", STACK_PATH + "/export"): OBJECT,
    ("post", STACK_PATH + "/snapshots"): OBJECT,
    ("get", STACK_PATH + "/snapshots"): _wrapped("snapshots", LIST),
    ("get", STACK_PATH + "/snapshots/{snapshot_id}"): _wrapped("snapshot", OBJECT),
    ("get", STACK_PATH + "/resources"): _wrapped("resources", LIST),
    ("get", STACK_PATH + "/resources/{resource_name}"): _wrapped("resource", OBJECT),
    ("patch", STACK_PATH + "/resources/{resource_name}"): NULL,
    ("get", STACK_PATH + "/resources/{resource_name}/metadata"): _wrapped("metadata", OBJECT),
    ("post", STACK_PATH + "/resources/{resource_name}/signal"): NULL,
    ("get", STACK_PATH + "/events"): _wrapped("events", LIST),
    ("get", STACK_PATH + "/resources/{resource_name}/events"): _wrapped("events", LIST),
    ("get", STACK_PATH + "/resources/{resource_name}/events/{event_id}"): _wrapped("event", OBJECT),
    ("post", "/v1/{tenant_id}/validate"): OBJECT,
    ("get", "/v1/{tenant_id}/resource_types"): _wrapped("resource_types", {"type": "array"}),
    ("get", "/v1/{tenant_id}/resource_types/{type_name}"): OBJECT,
    ("get", "/v1/{tenant_id}/resource_types/{type_name}/template"): OBJECT,
    ("get", "/v1/{tenant_id}/template_versions"): _wrapped("template_versions", LIST),
    ("get", "/v1/{tenant_id}/template_versions/{template_version}/functions"): _wrapped(
        "template_functions", LIST
    ),
    ("get", "/v1/{tenant_id}/build_info"): {
        "type": "object",
        "required": ["api", "engine"],
        "properties": {"api": OBJECT, "engine": OBJECT},
    },
    ("get", "/v1/{tenant_id}/services"): _wrapped("services", LIST),
    ("get", SOFTWARE + "configs"): _wrapped("software_configs", LIST),
    ("post", SOFTWARE + "configs"): _wrapped("software_config", OBJECT),
    ("get", SOFTWARE + "configs/{config_id}"): _wrapped("software_config", OBJECT),
    ("get", SOFTWARE + "deployments"): _wrapped("software_deployments", LIST),
    ("get", SOFTWARE + "deployments/metadata/{server_id}"): _wrapped("metadata", LIST),
    ("post", SOFTWARE + "deployments"): _wrapped("software_deployment", OBJECT),
    ("get", SOFTWARE + "deployments/{deployment_id}"): _wrapped("software_deployment", OBJECT),
    ("put", SOFTWARE + "deployments/{deployment_id}"): _wrapped("software_deployment", OBJECT),
}
# 202 answers: a text page for updates, nothing for a snapshot restore.
TEXT_ACCEPTED = {("put", STACK_PATH), ("patch", STACK_PATH)}

# Query parameters the routes read from the request by hand.
STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
BOOLEAN = {"type": "boolean"}
COUNT = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
SORT_DIR = {"type": "string", "enum": ["asc", "desc"]}
EVENT_QUERY: dict[str, Any] = {
    **dict.fromkeys(
        ("resource_status", "resource_action", "resource_name", "resource_type"), STRINGS
    ),
    "limit": COUNT,
    "marker": STRING,
    "sort_keys": STRINGS,
    "sort_dir": SORT_DIR,
    "nested_depth": COUNT,
}
# The filters GET /stacks takes (each may be given several times).
LIST_FILTERS = (
    "id",
    "name",
    "stack_name",
    "status",
    "stack_status",
    "action",
    "tenant",
    "username",
    "stack_owner",
    "owner_id",
    "parent",
    "stack_status_reason",
    "disable_rollback",
    "timeout_mins",
    "stack_user_project_id",
)
QUERIES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/v1/{tenant_id}/stacks"): {
        **dict.fromkeys((f for f in LIST_FILTERS if f != "disable_rollback"), STRINGS),
        "disable_rollback": {"type": "array", "items": BOOLEAN},
        "limit": COUNT,
        "marker": STRING,
        "sort_keys": STRINGS,
        "sort_dir": SORT_DIR,
        **dict.fromkeys(("tags", "tags_any", "not_tags", "not_tags_any"), STRING),
        **dict.fromkeys(
            ("show_deleted", "show_nested", "show_hidden", "global_tenant", "with_count"), BOOLEAN
        ),
    },
    ("get", STACK_PATH): {"resolve_outputs": BOOLEAN},
    ("get", STACK_PATH + "/resources"): {
        **dict.fromkeys(
            ("type", "status", "name", "action", "id", "physical_resource_id"), STRINGS
        ),
        "nested_depth": COUNT,
        "with_detail": BOOLEAN,
    },
    ("get", STACK_PATH + "/resources/{resource_name}"): {"with_attr": STRINGS},
    ("get", STACK_PATH + "/events"): EVENT_QUERY,
    ("get", STACK_PATH + "/resources/{resource_name}/events"): EVENT_QUERY,
    ("post", "/v1/{tenant_id}/validate"): {"ignore_errors": STRING, "show_nested": BOOLEAN},
    ("get", "/v1/{tenant_id}/resource_types"): {
        "name": STRING,
        "support_status": STRING,
        "version": STRING,
        "with_description": BOOLEAN,
    },
    ("get", "/v1/{tenant_id}/resource_types/{type_name}"): {"with_description": BOOLEAN},
    ("get", "/v1/{tenant_id}/resource_types/{type_name}/template"): {
        "template_type": {"type": "string", "enum": ["cfn", "hot"]}
    },
    ("get", "/v1/{tenant_id}/template_versions/{template_version}/functions"): {
        "with_condition_func": BOOLEAN
    },
    ("get", SOFTWARE + "configs"): {"limit": COUNT, "marker": STRING, "global_tenant": BOOLEAN},
    ("get", SOFTWARE + "deployments"): {"server_id": STRING},
}


def describe_routes(spec: dict[str, Any]) -> dict[str, Any]:
    """Rewrite the generated description to what the routes read and send."""
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            query = QUERIES.get((method, path), {})
            operation.setdefault("parameters", []).extend(
                {"name": name, "in": "query", "required": False, "schema": schema}
                for name, schema in query.items()
            )
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code, response in responses.items():
                response.pop("content", None)
                key = (method, path)
                if code == "302":
                    response.update(REDIRECT_RESPONSE)
                elif code == "202" and key in TEXT_ACCEPTED:
                    response.update(TEXT_RESPONSE)
                elif key in SUCCESS_BODIES:
                    response["content"] = {"application/json": {"schema": SUCCESS_BODIES[key]}}
                if code == "201":
                    response["headers"] = LOCATION
            responses["4XX"] = FAULT_RESPONSE
            responses["5XX"] = FAULT_RESPONSE
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["HeatFault"] = FAULT
    return spec
