"""How soon a CLI that waits for a create notices it is done: from the stack's last event
(its CREATE_COMPLETE, as the service stamped it in the database) to the CLI's exit.

    python bench/cli_bench.py [--reps 5] [--output FILE]

``ember stack create --follow`` (it reads the event stream) beside
``openstack stack create --wait`` (heatclient polls), each creating the same stack of 10
RandomStrings on one ``heat-all`` (SQLite), one after the other, ``--reps`` times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# Run as a script, this file's directory is on the path.
from api_bench import free_port, start_all, wait_healthy

BIN = Path(sys.executable).parent
TEMPLATE = "heat_template_version: 2016-10-14\nresources:\n" + "".join(
    f"  r{i}:\n    type: OS::Heat::RandomString\n" for i in range(10)
)
EVENT = sa.table(
    "event",
    sa.column("stack_id"),
    sa.column("resource_name"),
    sa.column("created_at", sa.DateTime()),
    sa.column("id"),
)
STACK = sa.table("stack", sa.column("id"), sa.column("name"))


def commands(template: Path, name: str) -> dict[str, list[str]]:
    return {
        "ember stack create --follow": [
            str(BIN / "ember"),
            "stack",
            "create",
            "-t",
            str(template),
            name,
            "--follow",
        ],
        "openstack stack create --wait": [
            str(BIN / "openstack"),
            "stack",
            "create",
            "-t",
            str(template),
            name,
            "--wait",
        ],
    }


def last_event_at(db: sa.Engine, name: str) -> dt.datetime:
    with db.connect() as conn:
        stack_id = conn.execute(sa.select(STACK.c.id).where(STACK.c.name == name)).scalar_one()
        return conn.execute(
            sa.select(EVENT.c.created_at)
            .where(EVENT.c.stack_id == stack_id)
            .order_by(EVENT.c.id.desc())
            .limit(1)
        ).scalar_one()


def run_once(argv: list[str], env: dict[str, str], db: sa.Engine, name: str) -> dict[str, float]:
    begun = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    exited = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    elapsed = time.monotonic() - begun
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}")
    lag = (exited - last_event_at(db, name)).total_seconds()
    return {"total_s": elapsed, "after_last_event_s": lag}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ember-cli-bench-"))
    port = free_port()
    procs = start_all(tmp, port, args)
    results: dict[str, Any] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, procs)
        db = sa.create_engine(f"sqlite:///{tmp}/e.sqlite")
        template = tmp / "ten.yaml"
        template.write_text(TEMPLATE, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_AUTH_TYPE="none", OS_ENDPOINT=f"{url}/v1/bench")
        runs: dict[str, list[dict[str, float]]] = {}
        for rep in range(args.reps):
            for index, (label, argv) in enumerate(commands(template, "").items()):
                name = f"r{rep}-{index}"
                argv = [*argv[:-2], name, argv[-1]]
                runs.setdefault(label, []).append(run_once(argv, env, db, name))
        for label, samples in runs.items():
            results[label] = {
                key: round(statistics.median(s[key] for s in samples), 3)
                for key in ("total_s", "after_last_event_s")
            }
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
    report = {
        "benchmark": "from a stack's last event to the waiting CLI's exit (median)",
        "deployment": "heat-all (SQLite, in-process messaging)",
        "reps": args.reps,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "results": results,
    }
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
