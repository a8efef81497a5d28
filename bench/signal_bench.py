"""Signals from outside: many wait conditions signalled at once, and a group scaled by its
policy's pre-signed ``alarm_url``.

    python bench/signal_bench.py [--deployment all|split] [--waits 100] [--members 100]
                                 [--rounds 3] [--output FILE]

Cases, each ``--rounds`` times on a fresh stack:

- ``waits``: a stack of ``--waits`` ``OS::Heat::WaitConditionHandle``/``WaitCondition``
  pairs. Once every wait is parked, every handle is signalled at once over heat-api with
  its own token (one concurrent HTTP client per handle); timed from the last signal's
  answer to the stack's ``CREATE_COMPLETE`` (``last_signal_to_complete_ms``), and the
  signals themselves (``signalling_ms``: first sent to last answered);
- ``scale``: an ``OS::Heat::AutoScalingGroup`` of ``OS::Heat::None`` members, 0 to
  ``--members`` (an ``exact_capacity`` policy) and back to 0 (another), each by one POST to
  the policy's ``alarm_url`` (heat-api-cfn, pre-signed); timed from the POST to the group's
  ``current_size`` reaching the size with the group's update complete.

``all`` runs one ``heat-all`` (SQLite, in-process messaging); ``split`` runs ``heat-api``,
``heat-api-cfn`` and ``heat-engine`` over RabbitMQ with MariaDB, as ``api_bench.py`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

# Run as a script, this file's directory is on the path: the deployments come from there.
from cfn_bench import both_apis, deployment_name

PROJECT = "bench"
POLL = 0.005
TIMEOUT = 600.0


def waits_template(count: int) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for i in range(count):
        resources[f"h{i}"] = {"type": "OS::Heat::WaitConditionHandle"}
        resources[f"w{i}"] = {
            "type": "OS::Heat::WaitCondition",
            "properties": {"handle": {"get_resource": f"h{i}"}, "timeout": 3600},
        }
    return {"heat_template_version": "2016-10-14", "resources": resources}


SCALE_TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "parameters": {"max": {"type": "number"}},
    "resources": {
        "group": {
            "type": "OS::Heat::AutoScalingGroup",
            "properties": {
                "min_size": 0,
                "max_size": {"get_param": "max"},
                "desired_capacity": 0,
                "cooldown": 0,
                "resource": {"type": "OS::Heat::None"},
            },
        },
        "up": {
            "type": "OS::Heat::ScalingPolicy",
            "properties": {
                "auto_scaling_group_id": {"get_resource": "group"},
                "adjustment_type": "exact_capacity",
                "scaling_adjustment": {"get_param": "max"},
                "cooldown": 0,
            },
        },
        "down": {
            "type": "OS::Heat::ScalingPolicy",
            "properties": {
                "auto_scaling_group_id": {"get_resource": "group"},
                "adjustment_type": "exact_capacity",
                "scaling_adjustment": 0,
                "cooldown": 0,
            },
        },
    },
}


class Rest:
    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.Client(timeout=60.0)

    def create(self, name: str, template: dict[str, Any], **params: Any) -> str:
        body = {"stack_name": name, "template": template, "parameters": params}
        answer = self.client.post(f"{self.base}/stacks", json=body)
        answer.raise_for_status()
        return f"{name}/{answer.json()['stack']['id']}"

    def stack(self, path: str) -> dict[str, Any]:
        answer = self.client.get(f"{self.base}/stacks/{path}")
        answer.raise_for_status()
        stack: dict[str, Any] = answer.json()["stack"]
        return stack

    def resource(self, path: str, name: str) -> dict[str, Any]:
        answer = self.client.get(f"{self.base}/stacks/{path}/resources/{name}")
        answer.raise_for_status()
        resource: dict[str, Any] = answer.json()["resource"]
        return resource

    def resources(self, path: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"{self.base}/stacks/{path}/resources")
        answer.raise_for_status()
        listed: list[dict[str, Any]] = answer.json()["resources"]
        return listed

    def delete(self, path: str) -> None:
        self.client.delete(f"{self.base}/stacks/{path}")
        until(lambda: self._gone(path), "the delete")

    def _gone(self, path: str) -> bool:
        answer = self.client.get(f"{self.base}/stacks/{path}")
        return answer.status_code == 404 or answer.json()["stack"]["stack_status"].startswith(
            "DELETE_COMPLETE"
        )


def until(probe: Any, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(POLL)
    raise SystemExit(f"timed out waiting for {what}")


async def signal_all(tokens: list[tuple[str, str]]) -> tuple[float, float]:
    """Signal every (endpoint, token) at once; (first sent, last answered) on the clock."""
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:

        async def one(endpoint: str, token: str) -> float:
            answer = await client.post(
                endpoint,
                headers={"X-Auth-Token": token, "Content-Type": "application/json"},
                content=b'{"status": "SUCCESS"}',
            )
            answer.raise_for_status()
            return time.perf_counter()

        start = time.perf_counter()
        ends = await asyncio.gather(*(one(e, t) for e, t in tokens))
    return start, max(ends)


def waits_round(rest: Rest, count: int, index: int) -> dict[str, Any]:
    path = rest.create(f"waits-{index}", waits_template(count))
    until(
        lambda: (
            sum(
                1
                for r in rest.resources(path)
                if r["resource_name"].startswith("w")
                and r["resource_status"] == "CREATE_IN_PROGRESS"
            )
            == count
        ),
        "every wait to park",
    )
    tokens = []
    for i in range(count):
        attrs = rest.resource(path, f"h{i}")["attributes"]
        tokens.append((attrs["endpoint"], attrs["token"]))
    start, last = asyncio.run(signal_all(tokens))
    status = until(
        lambda: (s := rest.stack(path)["stack_status"]) != "CREATE_IN_PROGRESS" and s,
        "the create",
    )
    done = time.perf_counter()
    if status != "CREATE_COMPLETE":
        raise SystemExit(f"the waits stack ended {status}")
    rest.delete(path)
    return {
        "signalling_ms": round((last - start) * 1000, 1),
        "last_signal_to_complete_ms": round((done - last) * 1000, 1),
    }


def scale_round(rest: Rest, members: int, index: int) -> dict[str, Any]:
    path = rest.create(f"scale-{index}", SCALE_TEMPLATE, max=members)
    until(lambda: rest.stack(path)["stack_status"] == "CREATE_COMPLETE", "the group")
    urls = {p: rest.resource(path, p)["attributes"]["alarm_url"] for p in ("up", "down")}
    timings = {}
    with httpx.Client(timeout=60.0) as client:
        for policy, size in (("up", members), ("down", 0)):
            start = time.perf_counter()
            client.post(urls[policy]).raise_for_status()

            def reached(size: int = size) -> bool:
                group = rest.resource(path, "group")
                return bool(
                    group["attributes"].get("current_size") == size
                    and group["resource_status"].endswith("_COMPLETE")
                )

            until(reached, f"the group at {size}")
            timings[f"scale_{policy}_ms"] = round((time.perf_counter() - start) * 1000, 1)
    rest.delete(path)
    return timings


def median_of(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rows), 1) for key in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployment", choices=("all", "split"), default="all")
    parser.add_argument("--waits", type=int, default=100)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=["waits", "scale"])
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--engine-workers", type=int, default=1)
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--transport-url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with both_apis(args) as (port, _, _):
        rest = Rest(f"http://127.0.0.1:{port}/v1/{PROJECT}")
        if "waits" in args.cases:
            rows = [waits_round(rest, args.waits, i) for i in range(args.rounds)]
            results["waits"] = {"waits": args.waits, "rounds": rows, "median": median_of(rows)}
            print(json.dumps(results["waits"]), flush=True)
        if "scale" in args.cases:
            rows = [scale_round(rest, args.members, i) for i in range(args.rounds)]
            results["scale"] = {"members": args.members, "rounds": rows, "median": median_of(rows)}
            print(json.dumps(results["scale"]), flush=True)
    deployment = deployment_name(args)
    report = {
        "benchmark": "signals from outside: wait conditions and scaling by alarm_url",
        "deployment": deployment,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        **results,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
