"""Stack environments: parsing, validation, and merging several environment files."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ember.common import errors
from ember.template import loader
from ember.template.diagnostics import Diagnostics
from ember.template.registry import ResourceRegistry

SECTIONS = (
    "parameters",
    "parameter_defaults",
    "resource_registry",
    "event_sinks",
    "encrypted_param_names",
    "parameter_merge_strategies",
)
STRATEGIES = ("overwrite", "merge", "deep_merge")


@dataclass(frozen=True)
class Environment:
    parameters: Mapping[str, Any] = field(default_factory=dict)
    parameter_defaults: Mapping[str, Any] = field(default_factory=dict)
    registry: ResourceRegistry = field(default_factory=ResourceRegistry)
    event_sinks: tuple[Any, ...] = ()
    encrypted_param_names: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls,
        source: str | bytes | Mapping[str, Any] | None,
        *,
        max_size: int | None = None,
        what: str = "environment",
    ) -> Environment:
        """Parse and check one environment; raise ``InvalidEnvironment`` listing every problem."""
        raw = _load(source, max_size, what)
        diags = Diagnostics()
        env = cls.from_dict(raw, diags)
        _raise(diags, what)
        return env

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], diags: Diagnostics) -> Environment:
        _check_sections(raw, diags)
        params = raw.get("parameters") or {}
        defaults = raw.get("parameter_defaults") or {}
        sinks = raw.get("event_sinks") or []
        encrypted = raw.get("encrypted_param_names") or []
        for name, value in (("parameters", params), ("parameter_defaults", defaults)):
            if not isinstance(value, dict):
                diags.add((name,), f"{name} must be a map")
        if not isinstance(sinks, list) or not all(
            isinstance(s, dict) and "type" in s and "target" in s for s in sinks
        ):
            diags.add(("event_sinks",), "event_sinks must be a list of maps with type and target")
            sinks = []
        if not isinstance(encrypted, list):
            diags.add(("encrypted_param_names",), "encrypted_param_names must be a list")
            encrypted = []
        registry = ResourceRegistry.parse(raw.get("resource_registry"), diags)
        return cls(
            parameters=dict(params) if isinstance(params, dict) else {},
            parameter_defaults=dict(defaults) if isinstance(defaults, dict) else {},
            registry=registry,
            event_sinks=tuple(sinks),
            encrypted_param_names=tuple(str(n) for n in encrypted),
        )

    def with_parameters(self, parameters: Mapping[str, Any]) -> Environment:
        """Request-body parameters override the environment's."""
        return replace(self, parameters={**self.parameters, **parameters})

    def layered_on(self, global_env: Environment) -> Environment:
        """This (user) environment over a system-wide one."""
        return replace(self, registry=global_env.registry.merged(self.registry))

    def for_nested(self, resource_name: str) -> Environment:
        """What a nested stack under ``resource_name`` sees: defaults reach it, values do not."""
        return Environment(
            parameters={},
            parameter_defaults=self.parameter_defaults,
            registry=self.registry.for_nested(resource_name),
            event_sinks=self.event_sinks,
            encrypted_param_names=(),
        )

    def for_template_resource(self, type_name: str, resource_name: str) -> Environment:
        """What the nested stack of template resource ``resource_name`` sees: as
        ``for_nested``, with the registry of ``ResourceRegistry.for_template_resource``."""
        nested = self.for_nested(resource_name)
        return replace(
            nested, registry=self.registry.for_template_resource(type_name, resource_name)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": dict(self.parameters),
            "parameter_defaults": dict(self.parameter_defaults),
            "resource_registry": self.registry.to_dict(),
            "event_sinks": list(self.event_sinks),
            "encrypted_param_names": list(self.encrypted_param_names),
        }


def _load(source: Any, max_size: int | None, what: str) -> dict[str, Any]:
    if source is None or source == "":
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    data = loader.parse_text(source, what=what, max_size=max_size)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.InvalidEnvironment(
            explanation=f"The {what} is not a JSON object or YAML mapping."
        )
    return data


def _raise(diags: Diagnostics, what: str) -> None:
    if diags:
        raise errors.InvalidEnvironment(
            explanation=f"{what}: " + "\n".join(diags.messages())
            if what != "environment"
            else "\n".join(diags.messages())
        )


def _check_sections(raw: Mapping[str, Any], diags: Diagnostics) -> None:
    for key, value in raw.items():
        if key not in SECTIONS:
            diags.add((), f'environment has wrong section "{key}"')
        elif value is None:
            diags.add((), f'environment has empty section "{key}"')


def _merge_value(strategy: str, ptype: str | None, old: Any, new: Any) -> Any:
    if strategy == "overwrite" or old is None:
        return new
    if isinstance(old, dict) and isinstance(new, dict):
        return _deep_merge(old, new) if strategy == "deep_merge" else {**old, **new}
    if isinstance(old, list) and isinstance(new, list):
        return [*old, *new]
    if ptype == "comma_delimited_list" or (isinstance(old, str) and isinstance(new, list)):
        old_list = old.split(",") if isinstance(old, str) else list(old)
        new_list = new.split(",") if isinstance(new, str) else list(new)
        return ",".join(str(v) for v in [*old_list, *new_list])
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (old, new))
    if ptype == "number" or (ptype is None and numbers):
        total = float(old) + float(new)
        return int(total) if total.is_integer() else total
    if ptype == "boolean":
        raise ValueError("boolean parameters can only be overwritten, not merged")
    if isinstance(old, str) and isinstance(new, str):
        return old + new
    raise ValueError(f"cannot merge a {type(new).__name__} into a {type(old).__name__}")


def _deep_merge(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out


def merge_environment_files(
    names: Sequence[str],
    files: Mapping[str, str],
    *,
    param_types: Mapping[str, str] | None = None,
    max_size: int | None = None,
) -> Environment:
    """Merge ``environment_files`` (names into ``files``) in order, honouring each file's
    ``parameter_merge_strategies``."""
    param_types = param_types or {}
    merged: dict[str, Any] = {
        "parameters": {},
        "parameter_defaults": {},
        "resource_registry": {},
        "event_sinks": [],
        "encrypted_param_names": [],
    }
    diags = Diagnostics()
    for name in names:
        if name not in files:
            raise errors.InvalidEnvironment(
                explanation=f'Environment file "{name}" is not in the request\'s files.'
            )
        raw = _load(files[name], max_size, f"environment file {name}")
        file_diags = Diagnostics()
        _check_sections(raw, file_diags)
        strategies = raw.get("parameter_merge_strategies") or {}
        if not isinstance(strategies, dict):
            file_diags.add(
                ("parameter_merge_strategies",), "parameter_merge_strategies must be a map"
            )
            strategies = {}
        for key, value in strategies.items():
            if value not in STRATEGIES:
                file_diags.add(
                    ("parameter_merge_strategies", str(key)),
                    f'Invalid merge strategy "{value}"; valid are {", ".join(STRATEGIES)}',
                )
        default = strategies.get("default", "overwrite")
        for section in ("parameters", "parameter_defaults"):
            values = raw.get(section) or {}
            if not isinstance(values, dict):
                continue
            target = merged[section]
            for key, value in values.items():
                strategy = strategies.get(key, default)
                try:
                    target[key] = _merge_value(
                        strategy if strategy in STRATEGIES else "overwrite",
                        param_types.get(key),
                        copy.deepcopy(target.get(key)),
                        value,
                    )
                except (TypeError, ValueError) as exc:
                    file_diags.add((section, str(key)), f"cannot merge: {exc}")
        registry = raw.get("resource_registry")
        if isinstance(registry, dict):
            merged["resource_registry"] = _deep_merge(merged["resource_registry"], registry)
        for section in ("event_sinks", "encrypted_param_names"):
            if isinstance(raw.get(section), list):
                merged[section].extend(raw[section])
        diags.extend(file_diags, ())
        if file_diags:
            _raise(file_diags, f"environment file {name}")
    result = {k: v for k, v in merged.items() if v}
    return Environment.parse(result)
