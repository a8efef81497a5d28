"""Software configs and deployments as the API shows them, and the checks their fields get.

A config's ``inputs`` and ``outputs`` are normalised as Heat's ``InputConfig`` and
``OutputConfig`` do: unknown keys are refused, ``type`` defaults to ``String``, the boolean
flags default to false, and keys whose value is null are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.timeutils import isotime
from ember.db.models import SoftwareConfig, SoftwareDeployment

DEFAULT_GROUP = "Heat::Ungrouped"
IO_TYPES = ("String", "Number", "CommaDelimitedList", "Json", "Boolean")
_TRUE = {"true", "t", "yes", "y", "on", "1"}
_FALSE = {"false", "f", "no", "n", "off", "0"}
_ANY = "any"
_STRING = "string"
_BOOLEAN = "boolean"
# key -> (kind, default); "name" is required in both.
INPUT_SCHEMA: Mapping[str, tuple[str, Any]] = {
    "name": (_STRING, None),
    "description": (_STRING, None),
    "type": (_STRING, "String"),
    "default": (_ANY, None),
    "replace_on_change": (_BOOLEAN, False),
    "value": (_ANY, None),
}
OUTPUT_SCHEMA: Mapping[str, tuple[str, Any]] = {
    "name": (_STRING, None),
    "description": (_STRING, None),
    "type": (_STRING, "String"),
    "error_output": (_BOOLEAN, False),
}
# Column sizes: longer values are refused rather than failing in the database.
MAX_LENGTHS = {
    "name": 255,
    "group": 255,
    "server_id": 255,
    "config_id": 36,
    "action": 16,
    "status": 16,
    "stack_user_project_id": 64,
}


def invalid(message: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(message)


def optional_string(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string, not {_kind(value)}")
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        raise invalid(f"{field} must be at most {limit} characters")
    return value


def required_string(value: Any, field: str) -> str:
    text = optional_string(value, field)
    if not text:
        raise invalid(f"{field} must be specified")
    return text


def optional_map(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"{field} must be a map, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {
        dict: "a map",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise invalid(f'{where}: "{value}" is not a valid boolean')


def io_list(value: Any, field: str) -> list[dict[str, Any]]:
    """Check and normalise a config's ``inputs`` or ``outputs``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{field}: Software Config I/O Schema must be in a list")
    schema = INPUT_SCHEMA if field == "inputs" else OUTPUT_SCHEMA
    return [_io_item(item, f"{field}[{i}]", schema) for i, item in enumerate(value)]


def _io_item(item: Any, where: str, schema: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid(f"{where}: Software Config I/O Schema must be a dict")
    for key in item:
        if key not in schema:
            raise invalid(f"{where}: Unknown Property {key}")
    if item.get("name") is None:
        raise invalid(f"{where}: Property name not assigned")
    out: dict[str, Any] = {}
    for key, (kind, default) in schema.items():
        value = item.get(key)
        if value is None:
            value = default
        elif kind == _STRING and not isinstance(value, str):
            raise invalid(f"{where}.{key}: Value must be a string, not {_kind(value)}")
        elif kind == _BOOLEAN:
            value = _boolean(value, f"{where}.{key}")
        if key == "type" and value not in IO_TYPES:
            raise invalid(
                f'{where}.type: "{value}" is not an allowed value [{", ".join(IO_TYPES)}]'
            )
        if value is not None:
            out[key] = value
    return out


# Views ---------------------------------------------------------------------------------


def config_view(
    row: SoftwareConfig, *, detail: bool = True, include_project: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "group": row.group,
        "creation_time": isotime(row.created_at),
    }
    if detail:
        body = row.config or {}
        out["config"] = body.get("config")
        out["inputs"] = body.get("inputs") or []
        out["outputs"] = body.get("outputs") or []
        out["options"] = body.get("options") or {}
    if include_project:
        out["project"] = row.project_id
    return out


def deployment_view(row: SoftwareDeployment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "config_id": row.config_id,
        "server_id": row.server_id,
        "input_values": row.input_values or {},
        "output_values": row.output_values or {},
        "action": row.action,
        "status": row.status,
        "status_reason": row.status_reason,
        "creation_time": isotime(row.created_at),
    }
    if row.updated_at is not None:
        out["updated_time"] = isotime(row.updated_at)
    return out


def with_input_values(config: dict[str, Any], input_values: Mapping[str, Any]) -> dict[str, Any]:
    """The config a server applies for one deployment: each declared input carries the
    deployment's value for it (else the value it holds, else its default), and values with
    no declared input are added as String inputs, as Heat derives a deployment's config."""
    remaining = dict(input_values)
    inputs = []
    for declared in config.get("inputs") or []:
        item = dict(declared)
        held = item.get("value", item.get("default"))
        value = remaining.pop(str(item.get("name")), held)
        if value is not None:
            item["value"] = value
        inputs.append(item)
    inputs.extend({"name": k, "type": "String", "value": v} for k, v in remaining.items())
    return {**config, "inputs": inputs}
