"""heat-api throughput: ``GET /stacks`` and stack show, with 1 and 8 concurrent clients.

    python bench/api_bench.py [--deployment all|split] [--stacks 100] [--seconds 10]
                              [--output FILE]

- ``all``: one ``heat-all`` process (SQLite, in-process messaging): the embedded default.
- ``split``: ``heat-api`` (``--api-workers`` processes) and ``heat-engine``
  (``--engine-workers`` processes) talking over RabbitMQ, state in MariaDB — the scaled-out
  topology real Heat's figures were measured on.

The clients are threads with a ``requests`` session each, as in the benchmark that measured
real Heat (``shared/heat-anchor/bench.py``), so the figures compare directly. The load
generator shares the machine's cores with the service.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {"r": {"type": "OS::Heat::RandomString"}},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _conf(tmp: Path, port: int, extra: str, api_workers: int = 1) -> Path:
    conf = tmp / "heat.conf"
    conf.write_text(
        "[DEFAULT]\nmax_stacks_per_tenant = 100000\n"
        f"{extra}"
        f"[heat_api]\nbind_host = 127.0.0.1\nbind_port = {port}\nworkers = {api_workers}\n"
        f"[heat_api_cfn]\nbind_host = 127.0.0.1\nbind_port = {free_port()}\n"
        "[paste_deploy]\nflavor = noauth\n"
    )
    return conf


def _spawn(tmp: Path, name: str, module: str, conf: Path) -> subprocess.Popen[bytes]:
    with (tmp / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", module, "--config-file", str(conf)], stdout=log, stderr=log
        )


def start_all(tmp: Path, port: int, args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    conf = _conf(
        tmp, port, f"num_engine_workers = 1\n[database]\nconnection = sqlite:///{tmp}/e.sqlite\n"
    )
    return [_spawn(tmp, "heat-all", "ember.cmd.all", conf)]


def start_split(tmp: Path, port: int, args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    name = f"ember_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.mysql, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    admin.dispose()
    args.scratch_database = name
    url = sa.make_url(args.mysql).set(database=name, query={"charset": "utf8"})
    conf = _conf(
        tmp,
        port,
        f"num_engine_workers = {args.engine_workers}\n"
        f"transport_url = {args.transport_url}\n"
        f"[database]\nconnection = {url.render_as_string(hide_password=False)}\n",
        api_workers=args.api_workers,
    )
    subprocess.run(
        [sys.executable, "-m", "ember.cmd.manage", "--config-file", str(conf), "db_sync"],
        check=True,
        capture_output=True,
    )
    return [
        _spawn(tmp, "heat-engine", "ember.cmd.engine", conf),
        _spawn(tmp, "heat-api", "ember.cmd.api", conf),
    ]


def drop_scratch(args: argparse.Namespace) -> None:
    name = getattr(args, "scratch_database", None)
    if name:
        admin = sa.create_engine(args.mysql, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def wait_healthy(url: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a service process exited; see its log")
        try:
            if requests.get(f"{url}/healthcheck", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not become healthy")


def populate(base: str, count: int) -> str:
    session = requests.Session()
    ids = []
    for i in range(count):
        resp = session.post(f"{base}/stacks", json={"stack_name": f"s{i}", "template": TEMPLATE})
        resp.raise_for_status()
        ids.append(resp.json()["stack"]["id"])
    while True:
        listed = session.get(f"{base}/stacks").json()["stacks"]
        if len(listed) == count and all(s["stack_status"] == "CREATE_COMPLETE" for s in listed):
            break
        time.sleep(0.2)
    return f"/stacks/s0/{ids[0]}"


def load(
    url: str,
    clients: int,
    seconds: float,
    session: Callable[[int], Any] = lambda _client: requests.Session(),
) -> dict[str, Any]:
    """``GET url`` by ``clients`` threads for ``seconds``; ``session(n)`` makes client n's
    HTTP session (anything with ``get`` answering a ``status_code``)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(client: int) -> None:
        nonlocal errors
        mine, failed = [], 0
        http = session(client)
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            resp = http.get(url)
            mine.append(time.perf_counter() - t0)
            failed += resp.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
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
    parser.add_argument("--deployment", choices=("all", "split"), default="all")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--stacks", type=int, default=100)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--engine-workers", type=int, default=1)
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--transport-url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    start = start_all if args.deployment == "all" else start_split
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        procs = start(Path(tmp), port, args)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", procs)
            base = f"http://127.0.0.1:{port}/v1/bench"
            show = populate(base, args.stacks)
            results = []
            for name, path in (("GET /stacks", "/stacks"), ("stack show", show)):
                for clients in (1, 8):
                    row = {"case": name, "clients": clients}
                    row.update(load(base + path, clients, args.seconds))
                    results.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            drop_scratch(args)
    deployment = (
        "heat-all (SQLite, in-process messaging)"
        if args.deployment == "all"
        else f"heat-api x{args.api_workers} + heat-engine x{args.engine_workers}, RabbitMQ, MariaDB"
    )
    report = {
        "benchmark": "heat-api throughput, noauth",
        "deployment": deployment,
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
