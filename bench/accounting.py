"""What a benchmark's load cost and did, seen from outside the services: CPU seconds by
component (from ``/proc``), how busy the machine was, and the services' own counters (their
``GET /metrics``, read as the tests read them)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The checkout's root, for the tests' reader of the services' metrics.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.api.metrics_scrape import moved, scrape

__all__ = ["Meter", "cpu_seconds", "machine_busy", "moved", "scrape"]

TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> Iterable[tuple[int, str, int, float]]:
    """(pid, command name, session id, CPU seconds used) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:  # gone meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        # After the name: state ppid pgrp session ... utime (11th) stime (12th).
        yield int(entry.name), name, int(rest[3]), (int(rest[11]) + int(rest[12])) / TICKS


def cpu_seconds(
    sessions: Mapping[str, Iterable[int]], names: Mapping[str, str]
) -> dict[str, float]:
    """CPU seconds used so far by each component: the processes of its sessions (a service
    started in a session of its own, forked workers included), or those whose command name
    starts with its ``names`` entry (servers this benchmark did not start); ``bench`` is
    this process."""
    by_session = {sid: kind for kind, sids in sessions.items() for sid in sids}
    used = dict.fromkeys([*sessions, *names, "bench"], 0.0)
    me = os.getpid()
    for pid, name, sid, seconds in _processes():
        if pid == me:
            used["bench"] += seconds
        elif sid in by_session:
            used[by_session[sid]] += seconds
        else:
            for kind, prefix in names.items():
                if name.startswith(prefix):
                    used[kind] += seconds
                    break
    return used


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the machine since boot, summed over its cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


@dataclass
class Meter:
    """CPU use between ``start`` and ``stop``, by component and for the whole machine."""

    sessions: Mapping[str, Iterable[int]]
    names: Mapping[str, str]
    _cpu: dict[str, float] = field(default_factory=dict)
    _machine: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        self._cpu = cpu_seconds(self.sessions, self.names)
        self._machine = machine_busy()

    def stop(self) -> dict[str, object]:
        cpu = cpu_seconds(self.sessions, self.names)
        busy, total = machine_busy()
        spent = {k: round(cpu[k] - self._cpu.get(k, 0.0), 2) for k in cpu}
        share = (busy - self._machine[0]) / max(total - self._machine[1], 1e-9)
        return {"cpu_s": spent, "machine_busy": round(share, 3)}
