"""The deployments a server's metadata lists, as the agent applies them.

heat-api's ``GET /software_deployments/metadata/<server>`` lists one derived config per
deployment of the server: the config itself (``config``, ``group``, ``outputs``) and its
``inputs``, which carry the deployment's own (``deploy_action``, ``deploy_signal_id``,
``deploy_signal_transport``, ...). A deployment's derived config gets a new ``id`` each time
the deployment changes, so "apply each id once" applies each change once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The groups this agent has a hook for.
SUPPORTED_GROUPS = ("script",)


@dataclass(frozen=True)
class DeploymentConfig:
    """One deployment to apply: its derived config and the inputs it was given."""

    id: str
    name: str
    group: str
    config: str
    inputs: dict[str, Any]
    outputs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def signal_transport(self) -> str:
        return str(self.inputs.get("deploy_signal_transport") or "CFN_SIGNAL")

    @property
    def signal_id(self) -> str | None:
        value = self.inputs.get("deploy_signal_id")
        return str(value) if value else None

    @property
    def signal_verb(self) -> str:
        return str(self.inputs.get("deploy_signal_verb") or "POST").upper()

    @property
    def supported(self) -> bool:
        return self.group in SUPPORTED_GROUPS

    def environment(self) -> dict[str, str]:
        """Each input as an environment variable, as Heat's script hook passes them: a
        list or a map as JSON, everything else as text."""
        env = {}
        for name, value in self.inputs.items():
            if isinstance(value, (dict, list)):
                env[name] = json.dumps(value)
            elif value is None:
                env[name] = ""
            else:
                env[name] = str(value)
        return env


class MetadataError(ValueError):
    """The metadata is not what heat-api answers."""


def parse(metadata: Any) -> list[DeploymentConfig]:
    """The deployments of ``metadata`` (heat-api's answer: ``{"metadata": [...]}``) in the
    order heat-api lists them (oldest first)."""
    if isinstance(metadata, Mapping):
        metadata = metadata.get("metadata")
    if not isinstance(metadata, Sequence) or isinstance(metadata, (str, bytes)):
        raise MetadataError("the deployment metadata is not a list")
    return [_config(item) for item in metadata]


def _config(item: Any) -> DeploymentConfig:
    if not isinstance(item, Mapping) or not item.get("id"):
        raise MetadataError(f"a deployment without an id: {item!r:.200}")
    inputs = {}
    for entry in item.get("inputs") or []:
        if isinstance(entry, Mapping) and entry.get("name"):
            inputs[str(entry["name"])] = entry.get("value", entry.get("default"))
    declared = item.get("outputs") or []
    outputs = tuple(str(o["name"]) for o in declared if isinstance(o, Mapping) and o.get("name"))
    config = item.get("config")
    return DeploymentConfig(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        group=str(item.get("group") or "Heat::Ungrouped"),
        config=config if isinstance(config, str) else json.dumps(config),
        inputs=inputs,
        outputs=outputs,
    )
