"""What every wait condition handle shares: it has no dependencies (so whatever it waits
for can reference it), it is given a signal credential of its own, and it validates and
records the signals it receives for a wait condition to count.

A handle records its signals in its resource data (``SIGNALS_KEY``) as one JSON object
keyed by signal id, in the order the ids first came, each entry ``status``, ``reason``
and ``data``; a later signal with an id seen before overwrites that entry, as Heat's
metadata merge does. The same entries, in the type's own key names, are the handle's
metadata: what a signaller reads back. Wait conditions read the record with
``signals_of``; it is the one format every handle type writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ember.engine.resource import ResourceFailure, ResourcePlugin

SIGNALS_KEY = "wait_condition_signals"
SUCCESS, FAILURE = "SUCCESS", "FAILURE"
STATUSES = (FAILURE, SUCCESS)


class MetadataInvalid(ResourceFailure):
    error_type = "ValueError"  # what Heat raises for a signal it cannot accept

    def __init__(self) -> None:
        super().__init__("Metadata format invalid")


@dataclass(frozen=True)
class SignalRecord:
    """One signal as a wait condition counts it."""

    status: str
    reason: Any
    data: Any


@dataclass(frozen=True)
class MetadataKeys:
    """The names a handle type's signals use for each field."""

    data: str
    reason: str
    status: str
    unique_id: str

    def all(self) -> frozenset[str]:
        return frozenset((self.data, self.reason, self.status, self.unique_id))


def signals_of(data: Mapping[str, str]) -> dict[str, SignalRecord]:
    """A handle's recorded signals by id, in order, from its resource data."""
    raw = json.loads(data.get(SIGNALS_KEY) or "{}")
    return {
        str(key): SignalRecord(entry["status"], entry.get("reason"), entry.get("data"))
        for key, entry in raw.items()
    }


class BaseWaitConditionHandle(ResourcePlugin):
    """Base of the wait condition handle types (not a type itself). Subclasses name their
    payload keys (``metadata_keys``) and may fill in defaults (``normalise``)."""

    signal_supported = True
    signal_credential = True
    metadata_keys: ClassVar[MetadataKeys]

    async def create(self) -> None:
        # Heat names a handle after the user its credential belongs to.
        access = self.ctx.signal_access
        if self.ctx.physical_id is None:
            self.ctx.physical_id = access.user_id if access else self.ctx.physical_name()

    def normalise(self, details: Any, recorded: Mapping[str, SignalRecord]) -> Any:
        """The payload as it is checked: as sent, unless the type fills in defaults."""
        return details

    def _format_ok(self, payload: Any) -> bool:
        keys = self.metadata_keys
        return (
            isinstance(payload, Mapping)
            and set(payload) == keys.all()
            and payload[keys.status] in STATUSES
        )

    async def signal(self, details: Any) -> str | None:
        recorded = signals_of(self.ctx.data)
        payload = self.normalise(details, recorded)
        if not self._format_ok(payload):
            raise MetadataInvalid()
        keys = self.metadata_keys
        entry = {k: v for k, v in payload.items() if k != keys.unique_id}
        unique_id = str(payload[keys.unique_id])
        stored = json.loads(self.ctx.data.get(SIGNALS_KEY) or "{}")
        stored[unique_id] = {
            "status": payload[keys.status],
            "reason": payload[keys.reason],
            "data": payload[keys.data],
        }
        self.ctx.data[SIGNALS_KEY] = json.dumps(stored)
        self.ctx.metadata = {**self.ctx.metadata, unique_id: entry}
        return f"status:{payload[keys.status]} reason:{payload[keys.reason]}"
