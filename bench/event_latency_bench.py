"""How soon an event reaches a follower of the stack's event stream: from the time the
engine stamped it (its ``created_at``, written in the transaction that commits it, so a
little before the commit) to its arrival at an SSE client, for every event written while
the client was following.

    python bench/event_latency_bench.py [--deployment all|split] [--stacks 10] [--output FILE]

Each stack has 20 TestResources in a chain of waits, so its events come one after
another over a few seconds; ``--followers`` clients follow each stack at once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

# Run as a script, this file's directory is on the path.
from api_bench import drop_scratch, free_port, start_all, start_split, wait_healthy

EVENT = sa.table("event", sa.column("uuid"), sa.column("created_at", sa.DateTime()))
RESOURCES = 20


def template() -> dict[str, Any]:
    """A chain: each resource waits for the one before, and takes a moment itself."""
    resources: dict[str, Any] = {}
    for i in range(RESOURCES):
        body: dict[str, Any] = {
            "type": "OS::Heat::TestResource",
            "properties": {"action_wait_secs": {"create": 0.1}},
        }
        if i:
            body["depends_on"] = [f"r{i - 1}"]
        resources[f"r{i}"] = body
    return {"heat_template_version": "2016-10-14", "resources": resources}


async def follow(client: httpx.AsyncClient, url: str, name: str) -> dict[str, float]:
    """Event id -> arrival time (UTC, seconds) until the stack's create is done."""
    arrived: dict[str, float] = {}
    async with client.stream("GET", url, timeout=120.0) as response:
        response.raise_for_status()
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line:
                if not line.startswith(":"):
                    key, _, value = line.partition(":")
                    fields[key] = value.removeprefix(" ")
                continue
            if "data" in fields:
                event = json.loads(fields["data"])
                arrived[event["id"]] = time.time()
                if event["resource_name"] == name and event["resource_status"] in (
                    "CREATE_COMPLETE",
                    "CREATE_FAILED",
                ):
                    return arrived
            fields = {}
    return arrived


async def one_stack(base: str, name: str, followers: int) -> list[tuple[str, float, float]]:
    """(event id, arrival, when the client began following) of each follower's events."""
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        made = await client.post("/stacks", json={"stack_name": name, "template": template()})
        made.raise_for_status()
        url = f"/stacks/{name}/{made.json()['stack']['id']}/events/stream"
        begun = time.time()
        streams = await asyncio.gather(*(follow(client, url, name) for _ in range(followers)))
    return [(eid, at, begun) for arrived in streams for eid, at in arrived.items()]


def stamped(db: sa.Engine, ids: set[str]) -> dict[str, float]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(EVENT.c.uuid, EVENT.c.created_at).where(EVENT.c.uuid.in_(ids))
        ).all()
    return {uuid: created.replace(tzinfo=dt.UTC).timestamp() for uuid, created in rows}


def database_url(args: argparse.Namespace, tmp: Path) -> str:
    if args.deployment == "all":
        return f"sqlite:///{tmp}/e.sqlite"
    url = sa.make_url(args.mysql).set(database=args.scratch_database)
    return url.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployment", choices=("all", "split"), default="all")
    parser.add_argument("--stacks", type=int, default=10)
    parser.add_argument("--followers", type=int, default=5)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--engine-workers", type=int, default=1)
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--transport-url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    start = start_all if args.deployment == "all" else start_split
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        procs = start(Path(tmp), port, args)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", procs)
            base = f"http://127.0.0.1:{port}/v1/bench"
            db = sa.create_engine(database_url(args, Path(tmp)))
            for i in range(args.stacks):
                seen = asyncio.run(one_stack(base, f"latency-{i}", args.followers))
                stamps = stamped(db, {eid for eid, _, _ in seen})
                # Only what was written while following: earlier events are replayed.
                latencies += [
                    at - stamps[eid] for eid, at, begun in seen if stamps.get(eid, 0) > begun
                ]
            db.dispose()
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            drop_scratch(args)
    latencies.sort()
    ms = [round(x * 1000, 1) for x in latencies]
    report = {
        "benchmark": "event stream: from an event's engine stamp to its arrival at a follower",
        "deployment": (
            "heat-all (SQLite, in-process messaging)"
            if args.deployment == "all"
            else f"heat-api x{args.api_workers} + heat-engine x{args.engine_workers}, "
            "RabbitMQ, MariaDB"
        ),
        "stacks": args.stacks,
        "followers_per_stack": args.followers,
        "events_measured": len(ms),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "latency_ms": {
            "median": statistics.median(ms),
            "p95": ms[int(len(ms) * 0.95) - 1],
            "p99": ms[int(len(ms) * 0.99) - 1],
            "max": ms[-1],
            "within_100ms": round(sum(1 for x in ms if x <= 100) / len(ms), 4),
        },
    }
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
