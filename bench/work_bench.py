"""Stack work through the REST API: what a dependency hop costs, and many stacks at once.

    python bench/work_bench.py [--deployment all|split] [--reps 3] [--output FILE]

Cases, each timed from the POST until the stack shows ``CREATE_COMPLETE`` (polled every
50 ms, as Heat's own figures were taken, so up to 50 ms of each is the poll), and as the
service recorded it: from the first event to the last, read from the database
(``server_*``), which polling does not shift:

- ``chain``: 50 RandomStrings, each referring to the one before (50 hops in a row), on a
  fresh service;
- ``chain after history``: the same once ``--history`` more chains have been created and
  deleted in the same database, so a per-hop cost that grew with past work would show;
- ``20 x 50 at once``: 20 stacks of 50 independent RandomStrings POSTed together by 20
  client threads; the time until all are complete.

``all`` runs one ``heat-all`` (SQLite, in-process messaging); ``split`` runs ``heat-api``
and ``heat-engine`` over RabbitMQ with MariaDB (both must be running on 127.0.0.1), as
``api_bench.py`` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

# Run as a script, this file's directory is on the path: the deployments come from there.
from api_bench import drop_scratch, free_port, start_all, start_split, wait_healthy

POLL_S = 0.05
HOPS = 50
LAST_ID = [""]  # the stack create_and_wait last saw complete
EVENT = sa.table("event", sa.column("stack_id"), sa.column("created_at", sa.DateTime()))


def chain(count: int) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for i in range(count):
        props: dict[str, Any] = {"length": 16}
        if i:
            props["salt"] = {"get_attr": [f"r{i - 1}", "value"]}
        resources[f"r{i}"] = {"type": "OS::Heat::RandomString", "properties": props}
    return {"heat_template_version": "2018-08-31", "resources": resources}


def flat(count: int) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(count)},
    }


def server_span(database_url: str, stack_ids: list[str]) -> float:
    """Seconds from the stacks' first event to their last, as the service stamped them."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            low, high = conn.execute(
                sa.select(sa.func.min(EVENT.c.created_at), sa.func.max(EVENT.c.created_at)).where(
                    EVENT.c.stack_id.in_(stack_ids)
                )
            ).one()
    finally:
        engine.dispose()
    if isinstance(low, str):  # SQLite keeps times as text
        low, high = dt.datetime.fromisoformat(low), dt.datetime.fromisoformat(high)
    return float((high - low).total_seconds())


def create_and_wait(session: requests.Session, base: str, name: str, template: Any) -> float:
    started = time.perf_counter()
    resp = session.post(f"{base}/stacks", json={"stack_name": name, "template": template})
    resp.raise_for_status()
    stack_id = resp.json()["stack"]["id"]
    while True:
        shown = session.get(f"{base}/stacks/{name}/{stack_id}").json()["stack"]
        status = shown["stack_status"]
        if status != "CREATE_IN_PROGRESS":
            if status != "CREATE_COMPLETE":
                raise SystemExit(f"{name}: {status} {shown['stack_status_reason']}")
            LAST_ID[0] = stack_id
            return time.perf_counter() - started
        time.sleep(POLL_S)


def delete_and_wait(session: requests.Session, base: str, name: str) -> None:
    # By name and id: a DELETE of /stacks/<name> is redirected, and the redirect followed
    # as a GET.
    stack_id = session.get(f"{base}/stacks/{name}").json()["stack"]["id"]
    session.delete(f"{base}/stacks/{name}/{stack_id}").raise_for_status()
    while True:
        shown = session.get(f"{base}/stacks/{name}/{stack_id}")
        if shown.status_code == 404 or shown.json()["stack"]["stack_status"] == "DELETE_COMPLETE":
            return
        time.sleep(0.05)


def concurrent(base: str, stacks: int, size: int, tag: str) -> tuple[float, list[str]]:
    """Seconds until all of ``stacks`` stacks of ``size`` resources are complete, and
    their ids."""
    barrier = threading.Barrier(stacks + 1)
    times: list[float] = []
    ids: list[str] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        session = requests.Session()
        barrier.wait()
        try:
            create_and_wait(session, base, f"{tag}-{i}", flat(size))
            ids.append(session.get(f"{base}/stacks/{tag}-{i}").json()["stack"]["id"])
        except BaseException as exc:  # reported below
            errors.append(exc)
        times.append(time.perf_counter())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(stacks)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"concurrent creates failed: {errors[0]}")
    return max(times) - started, ids


def database_url(tmp: Path, args: argparse.Namespace) -> str:
    """Where the deployment keeps its state (as ``api_bench`` set it up)."""
    if args.deployment == "all":
        return f"sqlite:///{tmp}/e.sqlite"
    return str(sa.make_url(args.mysql).set(database=args.scratch_database))


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    start = start_all if args.deployment == "all" else start_split
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        procs = start(Path(tmp), port, args)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", procs)
            base = f"http://127.0.0.1:{port}/v1/bench"
            session = requests.Session()
            # One small stack first: imports, caches and connections are warm.
            create_and_wait(session, base, "warm", flat(1))
            url = database_url(Path(tmp), args)

            def chains(prefix: str) -> tuple[list[float], list[float]]:
                seen, spans = [], []
                for i in range(args.reps):
                    seen.append(create_and_wait(session, base, f"{prefix}{i}", chain(HOPS)))
                    spans.append(server_span(url, [LAST_ID[0]]))
                return seen, spans

            fresh = chains("c")
            for i in range(args.history):
                create_and_wait(session, base, f"h{i}", chain(HOPS))
                delete_and_wait(session, base, f"h{i}")
            later = chains("l")
            many: tuple[list[float], list[float]] = ([], [])
            for r in range(args.reps):
                took, ids = concurrent(base, 20, 50, f"m{r}")
                many[0].append(took)
                many[1].append(server_span(url, ids))
            for case, (times, spans) in (
                ("chain of 50", fresh),
                (f"chain of 50 after {args.history} more chains", later),
                ("20 x 50 at once", many),
            ):
                row: dict[str, Any] = {
                    "case": case,
                    "median_s": round(statistics.median(times), 4),
                    "min_s": round(min(times), 4),
                    "max_s": round(max(times), 4),
                }
                row["server_median_s"] = round(statistics.median(spans), 4)
                if case.startswith("chain"):
                    row["server_per_hop_ms"] = round(statistics.median(spans) / HOPS * 1000, 2)
                results.append(row)
                print(json.dumps(row), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            drop_scratch(args)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployment", choices=("all", "split"), default="all")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--history", type=int, default=20)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--engine-workers", type=int, default=1)
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--transport-url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results = run(args)
    deployment = (
        "heat-all (SQLite, in-process messaging, 1 engine worker)"
        if args.deployment == "all"
        else f"heat-api x{args.api_workers} + heat-engine x{args.engine_workers}, RabbitMQ, MariaDB"
    )
    report = {
        "benchmark": "stack work through the REST API",
        "deployment": deployment,
        "reps": args.reps,
        "poll_s": POLL_S,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "results": results,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
