"""heat-api throughput: ``GET /stacks`` with 100 stacks and stack show, with 1 and 8
concurrent clients, against heat-all started in its own process (SQLite, noauth).

    python bench/api_bench.py [--seconds 10] [--stacks 100] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    conf = tmp / "heat.conf"
    conf.write_text(
        f"[DEFAULT]\nnum_engine_workers = 1\nmax_stacks_per_tenant = 100000\n"
        f"[database]\nconnection = sqlite:///{tmp / 'ember.sqlite'}\n"
        f"[heat_api]\nbind_host = 127.0.0.1\nbind_port = {port}\n"
    )
    log = (tmp / "heat-all.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ember.cmd.all", "--config-file", str(conf)], stdout=log, stderr=log
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthcheck").status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("heat-all did not start")


async def populate(base: str, count: int) -> str:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {"r": {"type": "OS::Heat::RandomString"}},
    }
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        ids = []
        for i in range(count):
            resp = await client.post("/stacks", json={"stack_name": f"s{i}", "template": template})
            resp.raise_for_status()
            ids.append(resp.json()["stack"]["id"])
        while True:
            listed = (await client.get("/stacks")).json()["stacks"]
            if all(s["stack_status"] == "CREATE_COMPLETE" for s in listed):
                break
            await asyncio.sleep(0.2)
    return f"/stacks/s0/{ids[0]}"


async def load(base: str, path: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            resp = await client.get(path)
            latencies.append(time.perf_counter() - t0)
            if resp.status_code != 200:
                errors += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        start = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.monotonic() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--stacks", type=int, default=100)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_service(Path(tmp), port)
        try:
            base = f"http://127.0.0.1:{port}/v1/bench"
            show = asyncio.run(populate(base, args.stacks))
            results = []
            for name, path in (("GET /stacks", "/stacks"), ("stack show", show)):
                for clients in (1, 8):
                    row = {
                        "case": name,
                        "clients": clients,
                        **asyncio.run(load(base, path, clients, args.seconds)),
                    }
                    results.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    report = {
        "benchmark": "heat-api (heat-all, SQLite, noauth)",
        "stacks": args.stacks,
        "seconds_per_case": args.seconds,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "results": results,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
