"""OS::Heat::None: a placeholder that accepts any properties and makes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.engine.resource import ResourcePlugin


class NoneResource(ResourcePlugin):
    type_name = "OS::Heat::None"
    description = "Enables easily disabling certain resources via the resource_registry."
    any_properties = True
    dynamic_attributes = True

    def attributes(self) -> dict[str, Any]:
        return {}

    def needs_replace(self, changed: Mapping[str, Any]) -> bool:
        return False
