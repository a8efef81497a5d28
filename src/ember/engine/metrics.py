"""What the engines do: nodes by resource type, action and outcome, traversals ended and
how long they took, nodes parked, engines alive. Every metric has labels, so that none has
a value before the process knows whether its workers share their metrics (see
``cmd.processes``); ``service`` is the process kind."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NODES_CLAIMED = Counter(
    "ember_nodes_claimed_total", "Nodes an engine claimed to run.", ["resource_type", "action"]
)
NODES_FINISHED = Counter(
    "ember_nodes_finished_total",
    "Nodes whose outcome an engine recorded, by outcome (complete or failed).",
    ["resource_type", "action", "outcome"],
)
TRAVERSALS_FINISHED = Counter(
    "ember_traversals_finished_total", "Traversals (stack operations) that ended.", ["service"]
)
TRAVERSAL_SECONDS = Histogram(
    "ember_traversal_seconds",
    "Time from a traversal's start to its end (a stack operation, or a resource's own, "
    "such as a signal), by action.",
    ["action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
NODES_RUNNING = Gauge(
    "ember_nodes_running",
    "Nodes whose resource actions run now, by engine process.",
    ["service"],
    multiprocess_mode="livesum",
)
NODES_PARKED = Gauge(
    "ember_nodes_parked",
    "Nodes waiting for a signal or a deadline with a timer in this engine process.",
    ["service"],
    multiprocess_mode="livesum",
)
ENGINES_ALIVE = Gauge(
    "ember_engines_alive",
    "Engines beating, as the last heartbeat of an engine process saw them.",
    ["service"],
    multiprocess_mode="livemax",
)
SERVICE = "heat-engine"
