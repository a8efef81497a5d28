"""The environment's ``resource_registry``: type aliases, wildcards, template resources,
and per-resource overrides (type mappings, hooks, restricted actions)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from ember.template.diagnostics import Diagnostics, Path

HOOK_TYPES = ("pre-create", "pre-update", "pre-delete", "post-create", "post-update", "post-delete")
RESTRICTED_ACTIONS = ("update", "replace")
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".template", ".json")
_SPECIAL_KEYS = ("hooks", "restricted_actions")
_MAX_ALIAS_STEPS = 64


def is_template_name(name: str) -> bool:
    """A type written as a file name (or URL) is a template resource."""
    return name.endswith(TEMPLATE_SUFFIXES) or "://" in name


@dataclass(frozen=True)
class ResolvedType:
    """What a type name in a template means after the registry is applied."""

    name: str  # the type or template path as written after mapping
    template: str | None = None  # the files key of a template resource
    chain: tuple[str, ...] = ()  # every name passed through, for error messages

    @property
    def is_template(self) -> bool:
        return self.template is not None


class RegistryError(ValueError):
    pass


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_per_resource(section: Any, path: Path, diags: Diagnostics) -> None:
    """Validate a ``resources:`` override map, recursively for nested stacks."""
    if not isinstance(section, dict):
        diags.add(path, "Per-resource overrides must be a map")
        return
    for name, spec in section.items():
        where = (*path, str(name))
        if not isinstance(spec, dict):
            diags.add(where, "Each per-resource override must be a map")
            continue
        for key, value in spec.items():
            if key == "hooks":
                for hook in _as_list(value):
                    if hook not in HOOK_TYPES:
                        diags.add(
                            (*where, "hooks"),
                            f'Invalid hook type "{hook}" for resource breakpoint, '
                            f"acceptable hook types are: {list(HOOK_TYPES)}",
                        )
            elif key == "restricted_actions":
                for action in _as_list(value):
                    if action not in RESTRICTED_ACTIONS:
                        diags.add(
                            (*where, "restricted_actions"),
                            f'Invalid restricted_action type "{action}", acceptable '
                            f"restricted_action types are: {list(RESTRICTED_ACTIONS)}",
                        )
            elif isinstance(value, dict):
                _check_per_resource({key: value}, where, diags)
            elif value is not None and not isinstance(value, str):
                diags.add((*where, str(key)), "A type mapping must be a string or null")


@dataclass(frozen=True)
class ResourceRegistry:
    """An immutable registry; ``merged`` layers a user registry over a global one."""

    mappings: Mapping[str, str | None] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    base_url: str | None = None

    @classmethod
    def parse(
        cls, section: Any, diags: Diagnostics, path: Path = ("resource_registry",)
    ) -> ResourceRegistry:
        if section is None:
            return cls()
        if not isinstance(section, dict):
            diags.add(path, "resource_registry must be a map")
            return cls()
        mappings: dict[str, str | None] = {}
        resources: dict[str, Any] = {}
        base_url = None
        for key, value in section.items():
            if key == "resources":
                _check_per_resource(value, (*path, "resources"), diags)
                if isinstance(value, dict):
                    resources = value
            elif key == "base_url":
                if isinstance(value, str):
                    base_url = value
                else:
                    diags.add((*path, "base_url"), "base_url must be a string")
            elif not isinstance(key, str):
                diags.add(path, f"Type names must be strings, not {key!r}")
            elif value is not None and not isinstance(value, str):
                diags.add((*path, key), "A type mapping must be a string or null")
            elif isinstance(value, str) and "*" in key and not value.endswith("*") and "*" in value:
                diags.add((*path, key), "A wildcard target may only end with *")
            else:
                mappings[key] = value
        return cls(mappings, resources, base_url)

    def merged(self, over: ResourceRegistry) -> ResourceRegistry:
        """This registry with ``over`` applied on top (``null`` removes mappings)."""
        mappings = dict(self.mappings)
        for key, value in over.mappings.items():
            if value is None:
                if key.endswith("*"):
                    prefix = key[:-1]
                    for existing in [k for k in mappings if k.startswith(prefix)]:
                        del mappings[existing]
                else:
                    mappings.pop(key, None)
                mappings[key] = None  # remembered so a later lookup does not fall through
            else:
                mappings[key] = value
        return ResourceRegistry(
            mappings,
            _deep_merge(dict(self.resources), over.resources),
            over.base_url or self.base_url,
        )

    def _lookup(self, type_name: str) -> str | None:
        """One mapping step: exact match first, then the longest matching wildcard."""
        if type_name in self.mappings:
            return self.mappings[type_name]
        best = self._wildcard_key(type_name)
        if best is None:
            return None
        target = self.mappings[best]
        if target is None:
            return None
        if target.endswith("*"):
            return target[:-1] + type_name[len(best) - 1 :]
        return target

    def _per_resource_type(self, type_name: str, resource_name: str | None) -> str | None:
        if resource_name is None:
            return None
        for pattern, spec in self.resources.items():
            if isinstance(spec, dict) and fnmatch.fnmatchcase(resource_name, str(pattern)):
                target = spec.get(type_name)
                if isinstance(target, str):
                    return target
        return None

    def facade_of(self, type_name: str, resource_name: str) -> ResolvedType | None:
        """The type a template resource stands in for, whose interface its template must
        offer (Heat's facade): what ``type_name`` means without the resource's own entry
        when it has one, else the built-in type a global mapping overrides (the caller
        checks that such a type exists). None when it stands in for nothing."""
        if self._per_resource_type(type_name, resource_name) is not None:
            facade = self.resolve(type_name)
            concrete = self.resolve(type_name, resource_name)
            return facade if facade != concrete else None
        if not is_template_name(type_name) and is_template_name(self._lookup(type_name) or ""):
            return ResolvedType(type_name, chain=(type_name,))
        return None

    def resolve(self, type_name: str, resource_name: str | None = None) -> ResolvedType:
        """Follow aliases to a plugin type or a template file, refusing alias loops."""
        chain = [type_name]
        current = self._per_resource_type(type_name, resource_name) or type_name
        if current != type_name:
            chain.append(current)
        while not is_template_name(current):
            target = self._lookup(current)
            if target is None or target == current:
                break
            if target in chain:
                raise RegistryError(
                    "Circular alias in resource_registry: " + " -> ".join([*chain, target])
                )
            if len(chain) > _MAX_ALIAS_STEPS:  # a wildcard mapping that keeps matching its output
                raise RegistryError(
                    "Circular alias in resource_registry: " + " -> ".join(chain[:4]) + " -> ..."
                )
            chain.append(target)
            current = target
        if is_template_name(current):
            path = (
                urljoin(self.base_url, current)
                if self.base_url and "://" not in current
                else current
            )
            return ResolvedType(current, template=path, chain=tuple(chain))
        return ResolvedType(current, chain=tuple(chain))

    def _matching(self, resource_name: str) -> list[dict[str, Any]]:
        return [
            spec
            for pattern, spec in self.resources.items()
            if isinstance(spec, dict) and fnmatch.fnmatchcase(resource_name, str(pattern))
        ]

    def hooks(self, resource_name: str) -> frozenset[str]:
        found: set[str] = set()
        for spec in self._matching(resource_name):
            if "hooks" in spec:
                found.update(_as_list(spec["hooks"]))
        return frozenset(found)

    def restricted_actions(self, resource_name: str) -> frozenset[str]:
        found: set[str] = set()
        for spec in self._matching(resource_name):
            if "restricted_actions" in spec:
                found.update(_as_list(spec["restricted_actions"]))
        return frozenset(found)

    def for_template_resource(self, type_name: str, resource_name: str) -> ResourceRegistry:
        """The registry the nested stack of template resource ``resource_name`` (of type
        ``type_name``) sees: ``for_nested``, without the global mapping that made the type a
        template (its exact key, else the wildcard matching it), so that the type inside
        its own template means what it would without it (Heat's guard against endless
        recursion). A resource's own entry is not passed down anyway."""
        nested = self.for_nested(resource_name)
        if self._per_resource_type(type_name, resource_name) is not None:
            return nested
        key = type_name if type_name in self.mappings else self._wildcard_key(type_name)
        if key is None:
            return nested
        mappings = {k: v for k, v in self.mappings.items() if k != key}
        return ResourceRegistry(mappings, nested.resources, self.base_url)

    def _wildcard_key(self, type_name: str) -> str | None:
        best = None
        for key in self.mappings:
            wildcard = key.endswith("*") and type_name.startswith(key[:-1])
            if wildcard and (best is None or len(key) > len(best)):
                best = key
        return best

    def for_nested(self, resource_name: str) -> ResourceRegistry:
        """The registry a nested stack under ``resource_name`` sees."""
        nested: dict[str, Any] = {}
        for spec in self._matching(resource_name):
            for key, value in spec.items():
                if isinstance(value, dict) and key not in _SPECIAL_KEYS:
                    nested[key] = value
        return ResourceRegistry(self.mappings, nested, self.base_url)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.mappings)
        if self.resources:
            out["resources"] = dict(self.resources)
        if self.base_url:
            out["base_url"] = self.base_url
        return out


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(dict(base[key]), value)
        else:
            base[key] = value
    return base
