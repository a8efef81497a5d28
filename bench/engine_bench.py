"""Create, update (one property of every resource) and delete stacks of N independent
OS::Heat::RandomString resources, and a 50-long chain, in heat-all's composition (engine
workers, in-process transport, SQLite), through the RPC client. Each case runs in a fresh
process so its peak RSS is its own.

    python bench/engine_bench.py [--sizes 100,500,1000] [--reps 3] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ember.common.settings import Settings
from ember.db import migration
from ember.db.database import Database
from ember.engine.app import Engine
from ember.rpc.client import EngineClient
from ember.rpc.inproc import InProcTransport

CTX = {"project_id": "bench", "username": "bench", "is_admin": False}


def flat(count: int, length: int) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            f"r{i}": {"type": "OS::Heat::RandomString", "properties": {"length": length}}
            for i in range(count)
        },
    }


def chain(count: int, length: int) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for i in range(count):
        props: dict[str, Any] = {"length": length}
        if i:
            props["salt"] = {"get_attr": [f"r{i - 1}", "value"]}
        resources[f"r{i}"] = {"type": "OS::Heat::RandomString", "properties": props}
    return {"heat_template_version": "2018-08-31", "resources": resources}


async def _wait(client: Any, stack_id: str, action: str) -> str:
    while True:
        shown = await client.show_stack(CTX, stack_id, resolve_outputs=False)
        status = shown["stack_status"]
        if status.startswith(action + "_") and not status.endswith("IN_PROGRESS"):
            return status
        await asyncio.sleep(0.005)


async def run_case(kind: str, size: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ember.sqlite'}"
        migration.db_sync(url)
        settings = Settings(database_url=url, max_resources_per_stack=-1)
        db = Database(url)
        transport = InProcTransport()
        engines = [Engine(settings, db, transport) for _ in range(workers)]
        for engine in engines:
            await engine.start()
        client = EngineClient(transport)
        build = chain if kind == "chain" else flat
        out: dict[str, Any] = {}
        t0 = time.perf_counter()
        created = await client.create_stack(CTX, "bench", build(size, 16))
        out["create_status"] = await _wait(client, created["stack_id"], "CREATE")
        out["create_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await client.update_stack(CTX, created["stack_id"], build(size, 20))
        out["update_status"] = await _wait(client, created["stack_id"], "UPDATE")
        out["update_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await client.delete_stack(CTX, created["stack_id"])
        out["delete_status"] = await _wait(client, created["stack_id"], "DELETE")
        out["delete_s"] = time.perf_counter() - t0
        for engine in engines:
            await engine.stop()
        db.close()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--chain", type=int, default=50)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, size = args.case.split(":")
        print(json.dumps(asyncio.run(run_case(kind, int(size), args.workers))))
        return
    cases = [("flat", int(s)) for s in args.sizes.split(",")] + [("chain", args.chain)]
    results = []
    for kind, size in cases:
        runs = []
        for _ in range(args.reps):
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--case",
                    f"{kind}:{size}",
                    "--workers",
                    str(args.workers),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        row: dict[str, Any] = {"case": kind, "resources": size}
        for key in ("create_s", "update_s", "delete_s", "peak_rss_mb"):
            row[f"median_{key}"] = round(statistics.median(r[key] for r in runs), 3)
        row["statuses"] = sorted({r[k] for r in runs for k in r if k.endswith("_status")})
        results.append(row)
        print(json.dumps(row), flush=True)
    report = {
        "benchmark": "engine create/update/delete (heat-all composition, SQLite)",
        "reps": args.reps,
        "engine_workers": args.workers,
        "python": platform.python_version(),
        "results": results,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
