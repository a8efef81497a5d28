"""How long the database takes: each transaction, by unit of work and kind."""

from __future__ import annotations

from prometheus_client import Histogram

TRANSACTION_SECONDS = Histogram(
    "ember_db_transaction_seconds",
    "Time of a database transaction, queueing for a connection included.",
    ["unit", "kind"],
)
