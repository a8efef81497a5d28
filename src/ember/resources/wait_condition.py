"""OS::Heat::WaitCondition: its create (and an update that changes ``count``) completes
once its handle has ``count`` successful signals, fails at the first FAILURE signal, and
fails when ``timeout`` seconds pass first.

While it waits the node is parked on the handle's signals with the timeout as its
deadline: no worker is held and nothing polls. Each signal the handle handles wakes it to
count again; when the wait began is kept in its resource data, so a node resumed (or run
again by another engine) waits only what is left of the timeout.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from ember.common.timeutils import utcnow
from ember.engine.resource import (
    AttributeSchema,
    PeerResource,
    ResourceFailure,
    ResourcePlugin,
    StackServices,
)
from ember.resources.wait_condition_handle_base import (
    SUCCESS,
    BaseWaitConditionHandle,
    SignalRecord,
    signals_of,
)
from ember.template import PropertySchema
from ember.template.constraints import Range

# Resource data: when the current wait began ("" when not waiting), and the signals'
# data once the wait is over (the data attribute).
STARTED_KEY = "wait_started"
DATA_KEY = "wait_data"
MAX_TIMEOUT = 43200


# What both wait condition types (HOT and AWS) declare alike.
COUNT_SCHEMA = PropertySchema(
    "integer",
    "The number of success signals that must be received before the stack creation "
    "process continues.",
    default=1,
    update_allowed=True,
    constraints=(Range(min=1),),
)
DATA_ATTRIBUTE = AttributeSchema(
    "JSON string containing data associated with wait condition signals sent to the handle.",
    "string",
)


class HandleInvalid(ResourceFailure):
    error_type = "ValueError"  # as Heat raises it


class WaitConditionFailure(ResourceFailure):
    error_type = "Error"

    def __init__(self, records: Mapping[str, SignalRecord]) -> None:
        super().__init__(";".join(str(r.reason) for r in records.values() if r.status != SUCCESS))


class WaitConditionTimeout(ResourceFailure):
    error_type = "WaitConditionTimeout"

    def __init__(self, records: Mapping[str, SignalRecord], count: int) -> None:
        reasons = [str(r.reason) for r in records.values() if r.status == SUCCESS]
        message = f"{len(reasons)} of {count} received"
        if reasons:
            message += " - " + ";".join(reasons)
        super().__init__(message)


class WaitCondition(ResourcePlugin):
    type_name = "OS::Heat::WaitCondition"
    description = (
        "Resource for handling signals received by WaitConditionHandle. It stays "
        "CREATE_IN_PROGRESS until the WaitConditionHandle has received the number of "
        "successful signals given by count, and fails when the timeout passes first."
    )
    support_status = {
        "status": "SUPPORTED",
        "version": "2014.2",
        "message": None,
        "previous_status": None,
    }
    properties_schema = {
        "handle": PropertySchema(
            "string",
            "A reference to the wait condition handle used to signal this wait condition.",
            required=True,
        ),
        "timeout": PropertySchema(
            "number",
            "The number of seconds to wait for the correct number of signals to arrive.",
            required=True,
            constraints=(Range(min=1, max=MAX_TIMEOUT),),
        ),
        "count": COUNT_SCHEMA,
    }
    attributes_schema = {
        "data": DATA_ATTRIBUTE,
    }
    # Property names (the AWS type spells them its own way).
    HANDLE, TIMEOUT, COUNT, DATA = "handle", "timeout", "count", "data"

    def _services(self) -> StackServices:
        if self.ctx.services is None:
            raise ResourceFailure("Stack services are not available")
        return self.ctx.services

    async def find_handle(self) -> PeerResource:
        """The handle the ``handle`` property names, in this stack."""
        reference = str(self.ctx.properties[self.HANDLE])
        handle = await self._services().find_resource(self.ctx, reference)
        if handle is None or handle.plugin is None:
            raise HandleInvalid(f"{reference} is not a valid wait condition handle.")
        if not issubclass(handle.plugin, BaseWaitConditionHandle):
            raise HandleInvalid(f"{handle.name} is not a valid wait condition handle.")
        return handle

    async def create(self) -> None:
        # A physical id from the start: a failed wait is then replaced by an update, not
        # created again over the data of its wait.
        self.ctx.physical_id = self.ctx.physical_id or self.ctx.physical_name()
        await self._wait(await self.find_handle())

    async def update(self, changed: Mapping[str, Any]) -> None:
        # Heat waits again, from the start, for the (new) count.
        await self._wait(await self.find_handle())

    async def _wait(self, handle: PeerResource) -> None:
        """Return once enough signals have come; raise on a failure or the timeout; park
        until the handle's next signal or the timeout otherwise."""
        ctx = self.ctx
        if not ctx.data.get(STARTED_KEY):
            ctx.data[STARTED_KEY] = utcnow().isoformat()
        started = dt.datetime.fromisoformat(ctx.data[STARTED_KEY])
        deadline = started + dt.timedelta(seconds=float(ctx.properties[self.TIMEOUT]))
        count = int(ctx.properties[self.COUNT])
        records = signals_of(handle.data)
        if utcnow() > deadline:
            ctx.data[STARTED_KEY] = ""
            raise WaitConditionTimeout(records, count)
        if any(r.status != SUCCESS for r in records.values()):
            ctx.data[STARTED_KEY] = ""
            raise WaitConditionFailure(records)
        if len(records) >= count:
            ctx.data[STARTED_KEY] = ""
            ctx.data[DATA_KEY] = json.dumps({key: r.data for key, r in records.items()})
            return
        # Woken by the handle's next signal, or by the deadline to time out.
        await ctx.wait_for_signal(handle.resource_id, handle.signals, deadline)

    def reference_id(self) -> str | None:
        # Heat's wait condition has no resource id of its own: its reference is its name.
        return self.ctx.name

    def attributes(self) -> dict[str, Any]:
        return {self.DATA: self.ctx.data.get(DATA_KEY) or None}
