"""OS::Heat::Delay: waits a while (a minimum plus random jitter) during chosen actions.

The wait parks the node: it holds no worker while it lasts, and a resumed node waits only
what is left."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ember.engine.resource import ResourcePlugin
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues, Range

ACTIONS = ("CREATE", "DELETE", "SUSPEND", "RESUME")


class Delay(ResourcePlugin):
    type_name = "OS::Heat::Delay"
    description = (
        "A resource that pauses for a configurable delay. By manipulating the dependency "
        "relationships between resources in the template, a delay can be inserted at an "
        "arbitrary point during e.g. stack creation or deletion."
    )
    properties_schema = {
        "min_wait": PropertySchema(
            "number",
            "Minimum time in seconds to wait during the specified actions.",
            default=0,
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
        "max_jitter": PropertySchema(
            "number",
            "Maximum jitter to add to the minimum wait time.",
            default=0,
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
        "jitter_multiplier": PropertySchema(
            "number",
            "Number of seconds to multiply the maximum jitter value by.",
            default=1.0,
            update_allowed=True,
            constraints=(Range(min=0),),
        ),
        "actions": PropertySchema(
            "list",
            "Actions during which the delay will occur.",
            default=["CREATE"],
            update_allowed=True,
            schema=PropertySchema("string", constraints=(AllowedValues(values=ACTIONS),)),
        ),
    }

    def wait_seconds(self, action: str) -> float:
        """A (randomised) wait for ``action``; zero when it is not one of ``actions``."""
        props = self.ctx.properties
        if action not in (props.get("actions") or []):
            return 0.0
        min_wait = float(props.get("min_wait") or 0)
        jitter = float(props.get("max_jitter") or 0) * float(props.get("jitter_multiplier") or 0)
        return min_wait + jitter * random.random()  # timing jitter, not a secret

    async def _delay(self, action: str) -> None:
        seconds = self.wait_seconds(action)
        if seconds > 0:
            await self.ctx.pause(action, seconds)

    async def create(self) -> None:
        await self._delay("CREATE")
        await super().create()

    async def update(self, changed: Mapping[str, Any]) -> None:
        """Every property may change in place; an update itself does not wait."""

    async def delete(self) -> None:
        await self._delay("DELETE")

    async def suspend(self) -> None:
        await self._delay("SUSPEND")

    async def resume(self) -> None:
        await self._delay("RESUME")
