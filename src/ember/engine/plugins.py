"""Resource types available to the engine, found through the ``ember.resources``
entry-point group and loaded only when first used."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Mapping
from importlib import metadata

from ember.engine.resource import ResourcePlugin
from ember.template import TypeInfo
from ember.template.registry import RegistryError, ResourceRegistry

TEMPLATE_RESOURCE = "OS::Heat::TemplateResource"

ENTRY_POINT_GROUP = "ember.resources"


class PluginRegistry:
    """Type name -> plugin class. Built once at start-up and passed down."""

    def __init__(self, sources: Mapping[str, str | type[ResourcePlugin]]) -> None:
        # Values are "module:Class" strings until first use.
        self._sources = dict(sources)
        self._loaded: dict[str, type[ResourcePlugin]] = {}

    @classmethod
    def from_entry_points(cls) -> PluginRegistry:
        found = metadata.entry_points(group=ENTRY_POINT_GROUP)
        return cls({ep.name: ep.value for ep in found})

    def names(self) -> list[str]:
        return sorted(self._sources)

    def get(self, type_name: str) -> type[ResourcePlugin] | None:
        plugin = self._loaded.get(type_name)
        if plugin is not None:
            return plugin
        source = self._sources.get(type_name)
        if source is None:
            return None
        if isinstance(source, str):
            module_name, _, attr = source.partition(":")
            plugin = _load(module_name, attr)
        else:
            plugin = source
        self._loaded[type_name] = plugin
        return plugin

    def resolved(
        self, registry: ResourceRegistry, type_name: str, resource_name: str | None = None
    ) -> type[ResourcePlugin] | None:
        """The plugin a type written in a template reaches through an environment's
        registry (aliases followed, template files made template resources)."""
        try:
            found = registry.resolve(type_name, resource_name)
        except RegistryError:
            return None
        return self.get(TEMPLATE_RESOURCE if found.is_template else found.name)

    def suggest(self, type_name: str) -> str | None:
        close = difflib.get_close_matches(type_name, self.names(), n=1)
        return close[0] if close else None

    # The template layer's TypeCatalog protocol.
    def type_info(self, type_name: str) -> TypeInfo | None:
        plugin = self.get(type_name)
        if plugin is None:
            return None
        return TypeInfo(
            attributes=None if plugin.dynamic_attributes else plugin.attribute_names(),
            properties=None if plugin.any_properties else plugin.properties_schema,
            members=plugin.nested_members,
            problems=plugin.property_problems,
        )

    def type_names(self) -> Iterable[str]:
        return self.names()


def _load(module_name: str, attr: str) -> type[ResourcePlugin]:
    """The class an entry point names (``module:Class``), checked to be a plugin."""
    module = importlib.import_module(module_name)
    plugin = vars(module).get(attr)
    if not (isinstance(plugin, type) and issubclass(plugin, ResourcePlugin)):
        raise TypeError(f"{module_name}:{attr} is not a resource plugin")
    return plugin
