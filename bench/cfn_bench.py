"""heat-api-cfn against heat-api: the same reads through the CloudFormation Query API and the
REST API, with 1 and 8 concurrent clients.

    python bench/cfn_bench.py [--deployment all|split] [--stacks 20] [--seconds 3]
                              [--rounds 3] [--output FILE]

Cases (``--stacks`` stacks of one RandomString made through the REST API in one project):

- ``cfn DescribeStacks one``: ``DescribeStacks`` with ``StackName`` (one stack, by name);
- ``cfn DescribeStacks all``: ``DescribeStacks`` without a name (every stack, one page);
- ``cfn ListStacks``;
- ``rest GET /stacks`` and ``rest stack show`` (``GET /stacks/<name>/<id>``).

Each client is a thread with its own keep-alive ``httpx`` client. A CFN request is signed
with botocore's ``SigV4Auth`` for every request, as boto3 does; the signing is timed apart
(``sign_median_ms``) and left out of ``median_ms``/``p95_ms``, which time the HTTP exchange
only. ``rps`` is what the clients achieved, signing included (the load generator shares the
machine's cores with the service); ``rps_unsigned`` takes each client's signing time out of
the elapsed time. The cases alternate, ``--rounds`` rounds of ``--seconds`` each, so a
drift of the machine spreads over all of them.

``all`` runs one ``heat-all`` (SQLite, in-process messaging); ``split`` runs ``heat-api``,
``heat-api-cfn`` and ``heat-engine`` over RabbitMQ with MariaDB, as ``api_bench.py`` does.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# Run as a script, this file's directory is on the path: the deployments come from there.
from api_bench import (
    _spawn,
    drop_scratch,
    free_port,
    populate,
    start_all,
    start_split,
    wait_healthy,
)
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PROJECT = "bench"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
# CFN case and the REST case it is compared with.
PAIRS = (
    ("cfn DescribeStacks one", "rest stack show"),
    ("cfn ListStacks", "rest GET /stacks"),
    ("cfn DescribeStacks all", "rest GET /stacks"),
)


@dataclass
class Case:
    """One kind of request: how a client makes it (a method, URL, headers and body, and
    the seconds spent signing it)."""

    name: str
    make: Callable[[], tuple[str, str, dict[str, str], bytes | None, float]]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    signing: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    unsigned_elapsed: float = 0.0


def cfn_case(name: str, url: str, keys: dict[str, str], params: dict[str, str]) -> Case:
    credentials = Credentials(keys["access"], keys["secret"])

    def make() -> tuple[str, str, dict[str, str], bytes | None, float]:
        t0 = time.perf_counter()
        request = AWSRequest(
            "POST", url, data={**params, "Version": "2010-05-15"}, headers={"Content-Type": FORM}
        )
        SigV4Auth(credentials, "cloudformation", "RegionOne").add_auth(request)
        prepared = request.prepare()
        spent = time.perf_counter() - t0
        return "POST", prepared.url, dict(prepared.headers), prepared.body, spent

    return Case(name, make)


def rest_case(name: str, url: str) -> Case:
    return Case(name, lambda: ("GET", url, {}, None, 0.0))


def load(case: Case, clients: int, seconds: float, tally: Tally) -> None:
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    unsigned: list[float] = []

    def worker() -> None:
        mine, signing, failed = [], [], 0
        started = time.perf_counter()
        with httpx.Client(timeout=30.0) as client:
            while time.monotonic() < stop:
                method, url, headers, body, spent = case.make()
                t0 = time.perf_counter()
                resp = client.request(method, url, headers=headers, content=body)
                mine.append(time.perf_counter() - t0)
                signing.append(spent)
                failed += resp.status_code != 200
        total = time.perf_counter() - started
        with lock:
            tally.latencies.extend(mine)
            tally.signing.extend(signing)
            tally.errors += failed
            unsigned.append(total - sum(signing))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.elapsed += time.monotonic() - start
    tally.unsigned_elapsed += statistics.mean(unsigned)


def summary(case: str, clients: int, tally: Tally) -> dict[str, Any]:
    latencies = sorted(tally.latencies)
    row: dict[str, Any] = {
        "case": case,
        "clients": clients,
        "requests": len(latencies),
        "errors": tally.errors,
        "rps": round(len(latencies) / tally.elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
    }
    if any(tally.signing):
        row["sign_median_ms"] = round(statistics.median(tally.signing) * 1000, 3)
        row["rps_unsigned"] = round(len(latencies) / tally.unsigned_elapsed, 1)
    return row


def key_pair(conf: Path) -> dict[str, str]:
    command = [sys.executable, "-m", "ember.cmd.manage", "--config-file", str(conf)]
    command += ["ec2-credentials", "create", "--project", PROJECT, "--user", "bencher"]
    done = subprocess.run(
        [*command, "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    keys: dict[str, str] = json.loads(done.stdout)
    return keys


def ratios(rows: list[dict[str, Any]], stacks: int) -> list[dict[str, Any]]:
    """Per pair and client count: CFN's time per request over REST's, by throughput and by
    median latency (1.0: as fast; the aim is at most 1.5). DescribeStacks without a name
    shows every stack in full, which the REST API does only with one show per stack: its
    time is also given over that of ``stacks`` REST shows (``vs_rest_shows``)."""
    by = {(r["case"], r["clients"]): r for r in rows}
    out = []
    for cfn, rest in PAIRS:
        for clients in sorted({r["clients"] for r in rows}):
            c, r = by[(cfn, clients)], by[(rest, clients)]
            out.append(
                {
                    "cfn": cfn,
                    "rest": rest,
                    "clients": clients,
                    "time_per_request": round(r["rps"] / c["rps"], 2),
                    "time_per_request_unsigned": round(r["rps"] / c["rps_unsigned"], 2),
                    "median_latency": round(c["median_ms"] / r["median_ms"], 2),
                }
            )
            if cfn == "cfn DescribeStacks all":
                shows = by[("rest stack show", clients)]["rps"]
                out[-1]["vs_rest_shows"] = round(shows / (stacks * c["rps"]), 2)
    return out


@contextlib.contextmanager
def both_apis(args: argparse.Namespace) -> Iterator[tuple[int, int, Path]]:
    """The deployment ``args`` name, with heat-api-cfn, once both APIs answer: (heat-api's
    port, heat-api-cfn's, the heat.conf); stopped (its scratch database dropped) after."""
    start = start_all if args.deployment == "all" else start_split
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        procs = start(Path(tmp), port, args)
        conf = Path(tmp) / "heat.conf"
        if args.deployment == "split":
            procs.append(_spawn(Path(tmp), "heat-api-cfn", "ember.cmd.api_cfn", conf))
        parsed = configparser.ConfigParser()
        parsed.read(conf)
        cfn_port = parsed.getint("heat_api_cfn", "bind_port")
        try:
            wait_healthy(f"http://127.0.0.1:{port}", procs)
            wait_healthy(f"http://127.0.0.1:{cfn_port}", procs)
            yield port, cfn_port, conf
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            drop_scratch(args)


def deployment_name(args: argparse.Namespace) -> str:
    if args.deployment == "all":
        return "heat-all (SQLite, in-process messaging)"
    return (
        f"heat-api x{args.api_workers} + heat-api-cfn x1 + "
        f"heat-engine x{args.engine_workers}, RabbitMQ, MariaDB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployment", choices=("all", "split"), default="all")
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stacks", type=int, default=20)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--engine-workers", type=int, default=1)
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--transport-url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    with both_apis(args) as (port, cfn_port, conf):
        rest = f"http://127.0.0.1:{port}/v1/{PROJECT}"
        show = populate(rest, args.stacks)
        keys = key_pair(conf)
        cfn = f"http://127.0.0.1:{cfn_port}/v1/"
        cases = [
            cfn_case(
                "cfn DescribeStacks one",
                cfn,
                keys,
                {"Action": "DescribeStacks"} | {"StackName": "s0"},
            ),
            cfn_case("cfn DescribeStacks all", cfn, keys, {"Action": "DescribeStacks"}),
            cfn_case("cfn ListStacks", cfn, keys, {"Action": "ListStacks"}),
            rest_case("rest GET /stacks", rest + "/stacks"),
            rest_case("rest stack show", rest + show),
        ]
        tallies = {(c.name, n): Tally() for c in cases for n in args.clients}
        for round_ in range(args.rounds):
            for case in cases:
                for clients in args.clients:
                    load(case, clients, args.seconds, tallies[(case.name, clients)])
            print(f"round {round_ + 1} of {args.rounds} done", flush=True)
        rows = [summary(name, n, t) for (name, n), t in tallies.items()]
        for row in rows:
            print(json.dumps(row), flush=True)
    deployment = deployment_name(args)
    report = {
        "benchmark": "heat-api-cfn against heat-api, same reads",
        "deployment": deployment,
        "stacks": args.stacks,
        "seconds_per_case_per_round": args.seconds,
        "rounds": args.rounds,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "results": rows,
        "cfn_over_rest": ratios(rows, args.stacks),
    }
    for line in report["cfn_over_rest"]:
        print(json.dumps(line))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
