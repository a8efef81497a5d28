"""OS::Heat::TestResource: a resource with knobs for testing the engine (waits, failures,
replacement)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ember.engine.resource import AttributeSchema, ResourceFailure, ResourcePlugin
from ember.template import PropertySchema


class TestFailure(ResourceFailure):
    error_type = "ValueError"  # what Heat's TestResource raises, as clients see it


class TestResource(ResourcePlugin):
    __test__ = False  # not a pytest class
    type_name = "OS::Heat::TestResource"
    check_supported = True
    description = "A resource which stores the string value that was provided."
    properties_schema = {
        "value": PropertySchema(
            "string", "The input string to be stored.", default="test_string", update_allowed=True
        ),
        "update_replace": PropertySchema(
            "boolean",
            "Whether the resource should be replaced when the value changes.",
            default=False,
            update_allowed=True,
        ),
        "update_replace_value": PropertySchema(
            "string", "Some value that can be stored but can not be updated."
        ),
        "fail": PropertySchema(
            "boolean",
            "Value which can be set to fail the resource operation to test failure scenarios.",
            default=False,
            update_allowed=True,
        ),
        "client_name": PropertySchema("string", "Client to poll.", default="", update_allowed=True),
        "entity_name": PropertySchema(
            "string", "Client entity to poll.", default="", update_allowed=True
        ),
        "wait_secs": PropertySchema(
            "number",
            "Seconds to wait after an action (-1 is infinite).",
            default=0,
            update_allowed=True,
        ),
        "action_wait_secs": PropertySchema(
            "map",
            "Options for simulating waiting.",
            update_allowed=True,
            schema={
                "create": PropertySchema("number"),
                "update": PropertySchema("number"),
                "delete": PropertySchema("number"),
            },
        ),
        "attr_wait_secs": PropertySchema(
            "number",
            "Number value for timeout during resolving output value.",
            default=0,
            update_allowed=True,
        ),
        "constraint_prop_secs": PropertySchema(
            "number",
            "Number value for delay during resolve constraint.",
            default=0,
            update_allowed=True,
        ),
    }
    attributes_schema = {
        "output": AttributeSchema(
            "The string that was stored. This value is also available by referencing the resource.",
            "string",
        )
    }

    async def _wait_and_maybe_fail(self, action: str) -> None:
        props = self.ctx.properties
        waits = props.get("action_wait_secs") or {}
        seconds = waits.get(action)
        if seconds is None:
            seconds = props.get("wait_secs") or 0
        if seconds == -1:
            await asyncio.Event().wait()  # forever, until cancelled or timed out
        elif seconds:
            await asyncio.sleep(float(seconds))
        if props.get("fail") and action != "delete":
            raise TestFailure(f"Test Resource failed {self.ctx.name}")

    async def create(self) -> None:
        await self._wait_and_maybe_fail("create")
        self.ctx.data["value"] = str(self.ctx.properties.get("value"))
        await super().create()

    async def update(self, changed: Mapping[str, Any]) -> None:
        await self._wait_and_maybe_fail("update")
        self.ctx.data["value"] = str(self.ctx.properties.get("value"))

    async def delete(self) -> None:
        await self._wait_and_maybe_fail("delete")

    async def check(self) -> None:
        if self.ctx.physical_id is None:
            raise TestFailure("Resource not created")

    def needs_replace(self, changed: Mapping[str, Any]) -> bool:
        if "update_replace_value" in changed:
            return True
        return bool(self.ctx.properties.get("update_replace")) and "value" in changed

    def reference_id(self) -> str | None:
        return self.ctx.physical_id

    def attributes(self) -> dict[str, Any]:
        return {"output": self.ctx.data.get("value")}
