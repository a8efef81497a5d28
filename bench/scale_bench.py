"""Scaled out as the operator guide says, measured through HAProxy: how stack throughput
grows with engine processes, and ``GET /stacks`` with API processes.

    python bench/scale_bench.py [--engines 1,2,4] [--stacks 50] [--seconds 10]
                                [--output FILE]

Every deployment is written by ``heat-manage scale-out`` from one controller ``heat.conf``
(MariaDB and RabbitMQ on 127.0.0.1, which must be running): hosts 127.0.0.2 and 127.0.0.3
run the ``heat-api`` and ``heat-engine`` processes (one engine worker each, so that an
engine process is one unit of work), HAProxy runs the written ``apis-proxy.conf``.

- ``stacks``: ``--stacks`` stacks of 20 RandomStrings, then as many of 20 TestResources
  that each wait 0.1 s, POSTed at once by as many client threads through HAProxy; the time
  from the first POST until every stack is CREATE_COMPLETE (polled every 0.1 s), with 1, 2
  and 4 engine processes (two heat-api processes throughout);
- ``list``: ``GET /stacks`` (20 stacks) for ``--seconds`` by 8 client threads, each from
  a source address of its own (HAProxy's ``balance source`` spreads sources, not
  requests), with 1 and 2 heat-api processes.

The clients share the machine's cores with every service process. Each run also records
the CPU seconds each component used (``/proc``) and how busy the machine was, and reads the
services' ``GET /metrics`` before and after a batch of stacks: the benchmark stops if the
APIs did not count one 201 per stack or the engines' finished nodes do not add up to 20 per
stack (each engine serves its metrics on the port ``heat-manage scale-out`` gave it).
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import sqlalchemy as sa

# Run as a script, this file's directory is on the path.
from accounting import Meter, moved, scrape
from api_bench import free_port, load

ROOT = Path(__file__).resolve().parent.parent
HOSTS = ("127.0.0.2", "127.0.0.3")
SOURCES = tuple(f"127.0.0.{n}" for n in (1, *range(4, 11)))
POLL_S = 0.1
STACKS_ROUTE = "/v1/{tenant_id}/stacks"


def strings(count: int) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(count)},
    }


def waits(count: int) -> dict[str, Any]:
    wait = {"type": "OS::Heat::TestResource", "properties": {"wait_secs": 0.1}}
    return {
        "heat_template_version": "2018-08-31",
        "resources": {f"t{i}": wait for i in range(count)},
    }


class Deployment:
    """One scale-out: its processes, HAProxy and database; stopped by ``close``."""

    def __init__(self, args: argparse.Namespace, apis: int, engines: int) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="ember-scale-"))
        self.database = f"ember_scale_{uuid.uuid4().hex[:8]}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.sessions: dict[str, list[int]] = {"heat-api": [], "heat-engine": [], "haproxy": []}
        self.api_urls: list[str] = []
        self.engine_urls: list[str] = []
        self.proxy_pidfile = self.tmp / "haproxy.pid"
        self.rest_port = free_port()
        self._create_database()
        conf = self._controller_conf()
        subprocess.run(
            [sys.executable, "-m", "ember.cmd.manage", "--config-file", str(conf), "db_sync"],
            check=True,
            capture_output=True,
        )
        counts = _spread(apis, engines)
        argv = [sys.executable, str(ROOT / "bin" / "heat-manage"), "--config-file", str(conf)]
        argv += ["scale-out", "--output", str(self.tmp / "out"), "--controller", "127.0.0.1"]
        argv += ["--engine-workers", "1", "--bin-dir", str(ROOT / "bin")]
        for host, (host_apis, host_engines) in zip(HOSTS, counts, strict=True):
            argv += ["--host", f"{host}:apis={host_apis},cfn-apis=1,engines={host_engines}"]
        subprocess.run(argv, check=True, capture_output=True)
        _reset_broker(args.transport_url)
        for host in HOSTS:
            for name, command in _lines(self.tmp / "out" / host / "start.sh"):
                if not name.startswith("heat-api-cfn"):  # the CFN API is not measured
                    self._spawn(f"{host}-{name}", command)
                    self._note_listener(host, name)
        proxy_conf = self.tmp / "out" / "127.0.0.1" / "apis-proxy.conf"
        subprocess.run(
            ["haproxy", "-f", str(proxy_conf), "-p", str(self.proxy_pidfile)],
            check=True,
            capture_output=True,
        )
        self.sessions["haproxy"] = _pids(self.proxy_pidfile)
        self.url = f"http://127.0.0.1:{self.rest_port}"
        self._wait_ready(apis, engines)

    def _create_database(self) -> None:
        admin = sa.create_engine(self.args.mysql, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4")
        admin.dispose()

    def _controller_conf(self) -> Path:
        url = sa.make_url(self.args.mysql).set(database=self.database, query={"charset": "utf8"})
        broker = sa.make_url(self.args.transport_url.replace("rabbit://", "amqp://"))
        conf = self.tmp / "heat.conf"
        conf.write_text(
            "[DEFAULT]\n"
            f"sql_connection = {url.render_as_string(hide_password=False)}\n"
            f"rabbit_host = {broker.host}\nrabbit_port = {broker.port or 5672}\n"
            f"rabbit_userid = {broker.username}\nrabbit_password = {broker.password}\n"
            "max_stacks_per_tenant = 100000\n"
            f"[heat_engine]\nmetrics_bind_port = {free_port()}\n"
            f"[heat_api]\nbind_host = 127.0.0.1\nbind_port = {self.rest_port}\nworkers = 1\n"
            f"[heat_api_cfn]\nbind_host = 127.0.0.1\nbind_port = {free_port()}\nworkers = 1\n"
            "[paste_deploy]\nflavor = noauth\n",
            encoding="utf-8",
        )
        return conf

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.tmp / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        self.processes.append(process)
        kind = "heat-engine" if "engine" in name else "heat-api"
        self.sessions[kind].append(process.pid)  # its own session: its workers' too

    def _note_listener(self, host: str, name: str) -> None:
        """Where the process ``name`` of ``host`` serves ``GET /metrics``, from its copy."""
        conf = configparser.ConfigParser(interpolation=None, strict=False)
        conf.read(self.tmp / "out" / host / f"{name}.conf")
        if name.startswith("heat-engine"):
            port = conf.get("heat_engine", "metrics_bind_port")
            self.engine_urls.append(f"http://{conf.get('heat_engine', 'metrics_bind_host')}:{port}")
        else:
            port = conf.get("heat_api", "bind_port")
            self.api_urls.append(f"http://{conf.get('heat_api', 'bind_host')}:{port}")

    def meter(self) -> Meter:
        return Meter(self.sessions, {"mariadb": "mariadbd", "rabbitmq": "beam.smp"})

    def _wait_ready(self, apis: int, engines: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise SystemExit(f"a service process exited; see the logs in {self.tmp}")
            consumers = asyncio.run(_consumers(self.args.transport_url))
            try:
                healthy = httpx.get(f"{self.url}/healthcheck", timeout=2).status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy and consumers == engines and self._servers_up() == apis:
                return
            time.sleep(0.2)
        raise SystemExit(f"the deployment did not come up; see the logs in {self.tmp}")

    def _servers_up(self) -> int:
        """heat-api servers HAProxy reports UP (``show stat`` on its stats socket)."""
        path = self.tmp / "out" / "127.0.0.1" / "haproxy.sock"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(str(path))
                conn.sendall(b"show stat\n")
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
        except OSError:
            return 0
        return sum(
            line.startswith("rest_api_proxy,rest-server") and ",UP," in line
            for line in data.decode().splitlines()
        )

    def close(self) -> None:
        for pid in _pids(self.proxy_pidfile):
            os.kill(pid, signal.SIGTERM)
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        admin = sa.create_engine(self.args.mysql, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.database}`")
        admin.dispose()


def _spread(apis: int, engines: int) -> list[tuple[int, int]]:
    """(apis, engines) of each host: B first, then C."""
    return [(apis - apis // 2, engines - engines // 2), (apis // 2, engines // 2)]


def _lines(script: Path) -> Iterator[tuple[str, list[str]]]:
    for text in script.read_text(encoding="utf-8").splitlines():
        if text.startswith("start "):
            words = shlex.split(text)
            yield words[1], words[2:]


def _pids(pidfile: Path) -> list[int]:
    try:
        return [int(p) for p in pidfile.read_text(encoding="ascii").split()]
    except (OSError, ValueError):
        return []


def _reset_broker(url: str) -> None:
    async def reset() -> None:
        connection = await aio_pika.connect(url.replace("rabbit://", "amqp://"))
        async with connection:
            channel = await connection.channel()
            for queue in ("engine", "engine.rpc"):
                await channel.queue_delete(queue)

    asyncio.run(reset())


async def _consumers(url: str) -> int:
    try:
        connection = await aio_pika.connect(url.replace("rabbit://", "amqp://"))
    except (OSError, aio_pika.exceptions.AMQPError):
        return -1
    async with connection:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue("engine", passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        return int(queue.declaration_result.consumer_count)


@contextmanager
def deployment(args: argparse.Namespace, apis: int, engines: int) -> Iterator[Deployment]:
    made = Deployment(args, apis, engines)
    try:
        yield made
    finally:
        made.close()


# Workloads ------------------------------------------------------------------------------------


def stacks_at_once(url: str, project: str, template: dict[str, Any], count: int) -> dict[str, Any]:
    base = f"{url}/v1/{project}"
    barrier = threading.Barrier(count)
    failures: list[str] = []

    def post(i: int) -> None:
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            resp = client.post(f"{base}/stacks", json={"stack_name": f"s{i}", "template": template})
            if resp.status_code != 201:
                failures.append(resp.text)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"creates failed: {failures[:3]}")
    with httpx.Client(timeout=60) as client:
        while True:
            listed = client.get(f"{base}/stacks").json()["stacks"]
            states = [s["stack_status"] for s in listed]
            if len(states) == count and all(s.endswith(("_COMPLETE", "_FAILED")) for s in states):
                break
            time.sleep(POLL_S)
    elapsed = time.monotonic() - begun
    if any(s != "CREATE_COMPLETE" for s in states):
        raise SystemExit(f"not every stack completed: {sorted(set(states))}")
    return {"seconds": round(elapsed, 2), "stacks_per_s": round(count / elapsed, 2)}


def counted_stacks(
    made: Deployment, project: str, resource_type: str, count: int
) -> dict[str, Any]:
    """``count`` stacks of 20 ``resource_type`` at once, with what they cost in CPU and what
    the services' own counters say they did; a counter that moved by anything but the work
    sent ends the benchmark."""
    template = strings(20) if resource_type == "OS::Heat::RandomString" else waits(20)
    engines_before = [scrape(u) for u in made.engine_urls]
    apis_before = [scrape(u) for u in made.api_urls]
    meter = made.meter()
    meter.start()
    row = stacks_at_once(made.url, project, template, count)
    row.update(meter.stop())
    engines_after = [scrape(u) for u in made.engine_urls]
    apis_after = [scrape(u) for u in made.api_urls]
    kind = {"resource_type": resource_type, "action": "CREATE"}
    nodes = [
        moved(b, a, "ember_nodes_finished_total", outcome="complete", **kind)
        for b, a in zip(engines_before, engines_after, strict=True)
    ]
    created = sum(
        moved(b, a, "ember_api_requests_total", route=STACKS_ROUTE, method="POST", status="201")
        for b, a in zip(apis_before, apis_after, strict=True)
    )
    failed = sum(
        moved(b, a, "ember_nodes_finished_total", outcome="failed")
        for b, a in zip(engines_before, engines_after, strict=True)
    )
    counted = {"creates_answered_201": created, "resources_created_by_engine": nodes}
    if created != count or sum(nodes) != 20 * count or failed:
        raise SystemExit(f"the metrics do not add up to the work sent: {counted}, {failed} failed")
    row["metrics"] = counted
    return row


def populate(url: str, project: str, count: int) -> None:
    stacks_at_once(url, project, strings(1), count)


def list_load(url: str, project: str, seconds: float) -> dict[str, Any]:
    def client(n: int) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=SOURCES[n])
        return httpx.Client(transport=transport, timeout=30)

    return load(f"{url}/v1/{project}/stacks", len(SOURCES), seconds, client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="1,2,4")
    parser.add_argument("--stacks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--transport-url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "stacks": {},
        "list": {},
    }
    for engines in (int(n) for n in args.engines.split(",")):
        with deployment(args, apis=2, engines=engines) as made:
            row = {
                "20 RandomStrings": counted_stacks(
                    made, "strings", "OS::Heat::RandomString", args.stacks
                ),
                "20 TestResources (0.1 s)": counted_stacks(
                    made, "waits", "OS::Heat::TestResource", args.stacks
                ),
            }
        results["stacks"][f"{engines} engine processes"] = row
        print(engines, "engines", json.dumps(row), flush=True)
    for apis in (1, 2):
        with deployment(args, apis=apis, engines=2) as made:
            populate(made.url, "list", 20)
            meter = made.meter()
            meter.start()
            row = list_load(made.url, "list", args.seconds)
            row.update(meter.stop())
        results["list"][f"{apis} heat-api processes"] = row
        print(apis, "apis", json.dumps(row), flush=True)
    text = json.dumps(results, indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
