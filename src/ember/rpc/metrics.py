"""How long engine calls take, as the APIs see them."""

from __future__ import annotations

from prometheus_client import Histogram

CALL_SECONDS = Histogram(
    "ember_rpc_call_seconds",
    "Time from sending an engine call to its answer, by operation and outcome.",
    ["operation", "outcome"],
)
