"""What the RabbitMQ broker itself reports, through ``rabbitmqctl``: how many messages each
queue holds ready, how many it has handed out that are not acknowledged yet, and which
queues are bound to an exchange.

A client connection sees only the ready messages of a queue; tests that must show that
nothing more will arrive wait until the broker has nothing left to hand out and nothing
outstanding, which only the broker knows. Without ``rabbitmqctl`` the tests that need it
skip, or fail under ``CI=true``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.api.helpers import require

RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
CTL_TIMEOUT = 60.0


@dataclass(frozen=True)
class QueueCounts:
    """One queue as the broker counts it."""

    ready: int = 0
    unacknowledged: int = 0
    consumers: int = 0

    @property
    def idle(self) -> bool:
        """Nothing waiting to be handed out and nothing handed out still unacknowledged."""
        return self.ready == 0 and self.unacknowledged == 0


def vhost_of(url: str) -> str:
    """The virtual host of a ``rabbit://`` or ``amqp://`` URL (``/`` when it names none)."""
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _ctl(*args: str) -> list[dict[str, Any]]:
    require(Path(RABBITMQCTL).is_file(), f"rabbitmqctl ({RABBITMQCTL}) to read the broker")
    argv = [RABBITMQCTL, "--quiet", *args, "--formatter", "json"]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=CTL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{argv} did not answer within {CTL_TIMEOUT}s") from None
    if done.returncode != 0:
        raise AssertionError(f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    rows: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return rows


def queues(vhost: str = "/") -> dict[str, QueueCounts]:
    """Every queue of ``vhost`` by name."""
    rows = _ctl(
        "list_queues",
        "--vhost",
        vhost,
        "name",
        "messages_ready",
        "messages_unacknowledged",
        "consumers",
    )
    return {
        str(row["name"]): QueueCounts(
            int(row["messages_ready"]), int(row["messages_unacknowledged"]), int(row["consumers"])
        )
        for row in rows
    }


def queue(name: str, vhost: str = "/") -> QueueCounts:
    """One queue; a queue that does not exist (yet) holds nothing and has no consumer."""
    return queues(vhost).get(name, QueueCounts())


def bound_queues(exchange: str, vhost: str = "/") -> list[str]:
    """The queues bound to ``exchange``: one per subscriber of a fanout exchange."""
    rows = _ctl(
        "list_bindings",
        "--vhost",
        vhost,
        "source_name",
        "source_kind",
        "destination_name",
        "destination_kind",
    )
    return sorted(
        str(row["destination_name"])
        for row in rows
        if row["source_kind"] == "exchange"
        and row["source_name"] == exchange
        and row["destination_kind"] == "queue"
    )
