"""Heat's own conformance suites against Ember: the heat-tempest-plugin API (gabbi) and
functional tests and openstack-heat's ``heat_integrationtests`` functional tests, run with
stestr from a virtualenv of their own, against a real Keystone and heat-all on loopback.

Writes per-suite counts, durations and failing test ids to ``--output`` and exits 1 if a
test that ``exclude.txt`` does not exclude fails (0 with ``--report-only``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.api import keystone_service as ks
from tests.api.conftest import HeatServer

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
EXCLUDE = HERE / "exclude.txt"
DEFAULT_VENV = ROOT / ".conformance" / "venv"
DEFAULT_WORK = ROOT / ".conformance" / "work"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "conformance.json"
PACKAGES = ("tempest", "heat-tempest-plugin", "openstack-heat", "stestr")


@dataclass(frozen=True)
class Suite:
    name: str
    test_path: str  # relative to the conformance virtualenv's site-packages
    # gabbi's steps in one YAML file build on each other: one worker runs them in order.
    serial: bool = False
    # Tests stestr keeps on one worker: by class for the plugin, as its own stestr config
    # does; Heat's config groups none of its functional tests.
    group_regex: str | None = None


BY_CLASS = r"([^\.]*\.)*"
SUITES = (
    Suite("api", "heat_tempest_plugin/tests/api", serial=True),
    Suite("plugin-functional", "heat_tempest_plugin/tests/functional", group_regex=BY_CLASS),
    Suite("heat-functional", "heat_integrationtests/functional"),
)


@dataclass
class Result:
    listed: int = 0
    excluded: int = 0
    run: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    duration_seconds: float = 0.0
    timed_out: bool = False
    # heat-all's exit status if it ended during the suite (every later test then fails).
    heat_exited: int | None = None
    failing: list[str] = field(default_factory=list)


def exclusions(path: Path) -> list[tuple[re.Pattern[str], str]]:
    """``exclude.txt``: a regex per line, ``# reason`` after it (stestr's own format)."""
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        regex, _, reason = line.partition("#")
        if regex.strip():
            rules.append((re.compile(regex.strip()), reason.strip()))
    return rules


def site_packages(venv: Path) -> Path:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def versions(venv: Path) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, *PACKAGES],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def write_heat_conf(workdir: Path, keystone: ks.Keystone) -> Path:
    """heat.conf as the tests' own Keystone deployment has it, with abandon and adopt on
    as in Heat's CI."""
    return ks.write_heat_conf(
        workdir, keystone, {"enable_stack_abandon": "true", "enable_stack_adopt": "true"}
    )


def start_heat(workdir: Path, keystone: ks.Keystone) -> HeatServer:
    conf = write_heat_conf(workdir, keystone)
    log = workdir / "heat-all.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.serve", "--config-file", str(conf)],
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    server = HeatServer(keystone.heat_port, process, log, workdir)
    try:
        ks.wait_ready(f"{server.url}/healthcheck", process, "heat-all", log)
    except BaseException:
        ks.stop(process, "heat-all", log)
        raise
    return server


def write_tempest_conf(workdir: Path, keystone: ks.Keystone, build_timeout: int) -> Path:
    """tempest.conf's ``[heat_plugin]`` for the demo member and the bootstrap admin, every
    service but Heat (and Keystone) marked absent. The image and flavor are names only:
    the scaling group tests pass them through to a provider template standing in for
    AWS::EC2::Instance, and every test that would boot a server with them is excluded."""
    demo, admin = keystone.accounts["demo"], keystone.accounts["admin"]
    absent = (
        "nova",
        "neutron",
        "cinder",
        "glance",
        "swift",
        "zaqar",
        "aodh",
        "barbican",
        "manila",
        "octavia",
        "designate",
        "mistral",
        "sahara",
        "trove",
        "magnum",
        "senlin",
    )
    conf = workdir / "tempest.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"log_dir = {workdir}\n"
        "log_file = tempest.log\n"
        "[oslo_concurrency]\n"
        f"lock_path = {workdir / 'locks'}\n"
        "[identity]\n"
        f"uri_v3 = {keystone.url}\n"
        "auth_version = v3\n"
        "region = RegionOne\n"
        "[service_available]\n"
        "heat = true\n"
        "keystone = true\n"
        + "".join(f"{name} = false\n" for name in absent)
        + "[heat_features_enabled]\n"
        "stack_cancel = true\n"
        "multi_cloud = false\n"
        "[heat_plugin]\n"
        f"auth_url = {keystone.url}\n"
        "auth_version = 3\n"
        f"username = {demo.username}\n"
        f"password = {demo.password}\n"
        f"project_name = {demo.project_name}\n"
        f"admin_username = {admin.username}\n"
        f"admin_password = {admin.password}\n"
        f"admin_project_name = {admin.project_name}\n"
        f"user_domain_name = {ks.DOMAIN}\n"
        f"project_domain_name = {ks.DOMAIN}\n"
        "region = RegionOne\n"
        "endpoint_type = public\n"
        "image_ref = conformance-image\n"
        "minimal_image_ref = conformance-image\n"
        # Two flavors, as a cloud has: the update policy tests change one for the other.
        "instance_type = conformance-flavor\n"
        "minimal_instance_type = conformance-flavor-minimal\n"
        # heat.conf's hidden_stack_tags default, as in Ember.
        "hidden_stack_tag = data-processing-cluster\n"
        # The option is whole seconds; 1 is the shortest poll it allows.
        "build_interval = 1\n"
        f"build_timeout = {build_timeout}\n"
        "convergence_engine_enabled = true\n"
        "skip_scenario_tests = true\n"
        "skip_functional_tests = false\n",
        encoding="utf-8",
    )
    return conf


def heat_manage_on_path(workdir: Path, conf: Path) -> Path:
    """A ``heat-manage`` for the tests that run it on the service's host (as Heat's CI
    does, where it reads /etc/heat/heat.conf): Ember's, with this run's heat.conf."""
    bindir = workdir / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "heat-manage"
    real = Path(sys.executable).parent / "heat-manage"
    script.write_text(f'#!/bin/sh\nexec "{real}" --config-file "{conf}" "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return bindir


def stestr(venv: Path, suite: Suite, sp: Path, *args: str) -> list[str]:
    return [
        str(venv / "bin" / "stestr"),
        "--test-path",
        str(sp / suite.test_path),
        "--top-dir",
        str(sp),
        *(["--group-regex", suite.group_regex] if suite.group_regex else []),
        *args,
    ]


def parse_csv(stream: str) -> dict[str, str]:
    """subunit2csv's rows: the last status of each test id."""
    statuses: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(stream)):
        statuses[row["test"]] = row["status"]
    return statuses


def run_suite(
    suite: Suite,
    venv: Path,
    sp: Path,
    workdir: Path,
    env: dict[str, str],
    rules: list[tuple[re.Pattern[str], str]],
    concurrency: int,
    suite_timeout: float,
    filters: list[str],
) -> Result:
    result = Result()
    here = workdir / suite.name
    here.mkdir(parents=True, exist_ok=True)
    subprocess.run(stestr(venv, suite, sp, "init"), cwd=here, check=True, capture_output=True)
    listing = subprocess.run(
        stestr(venv, suite, sp, "list"),
        check=False,
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
    )
    if listing.returncode != 0:
        (here / "list.err").write_text(listing.stdout + listing.stderr, encoding="utf-8")
        result.failed = 1
        result.failing = [f"(listing {suite.test_path} failed: see {here / 'list.err'})"]
        return result
    ids = [line for line in listing.stdout.splitlines() if line.strip()]
    result.listed = len(ids)
    result.excluded = sum(1 for i in ids if any(r.search(i) for r, _ in rules))
    subunit = here / "results.subunit"
    workers = "1" if suite.serial else str(concurrency)
    command = stestr(
        venv,
        suite,
        sp,
        "run",
        "--subunit",
        "--exclude-list",
        str(EXCLUDE),
        "--concurrency",
        workers,
        *filters,
    )
    started = time.monotonic()
    with subunit.open("wb") as sink, (here / "stderr.log").open("wb") as errors:
        # A session of its own: a hung suite is stopped with every worker it started.
        process = subprocess.Popen(
            command, cwd=here, env=env, stdout=sink, stderr=errors, start_new_session=True
        )
        try:
            process.wait(suite_timeout)
        except subprocess.TimeoutExpired:
            result.timed_out = True
            os.killpg(process.pid, 15)
            process.wait(30)
    result.duration_seconds = round(time.monotonic() - started, 1)
    table = subprocess.run(
        [str(venv / "bin" / "subunit2csv"), "--no-passthrough"],
        input=subunit.read_bytes(),
        capture_output=True,
        # It exits 1 when the stream holds a failure: the rows are still all there.
        check=False,
    ).stdout.decode("utf-8", errors="replace")
    for test_id, status in sorted(parse_csv(table).items()):
        result.run += 1
        if status in ("success", "xfail"):
            result.passed += 1
        elif status == "skip":
            result.skipped += 1
        else:
            result.failed += 1
            result.failing.append(test_id)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--suite", action="append", choices=[s.name for s in SUITES])
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--test-timeout", type=int, default=300, help="seconds per test")
    parser.add_argument("--build-timeout", type=int, default=60, help="seconds per wait")
    parser.add_argument("--suite-timeout", type=float, default=1800.0, help="seconds a suite")
    parser.add_argument("--report-only", action="store_true", help="exit 0 despite failures")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        help="run only the tests matching this regex (stestr's filter; may repeat)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    venv: Path = args.venv.resolve()
    sp = site_packages(venv)
    rules = exclusions(EXCLUDE)
    workdir: Path = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    started = time.monotonic()
    keystone = ks.start_keystone(workdir)
    results: dict[str, Result] = {}
    setup_seconds: float | None = None
    try:
        heat = start_heat(workdir, keystone)
        try:
            conf = write_tempest_conf(workdir, keystone, args.build_timeout)
            bindir = heat_manage_on_path(workdir, workdir / "heat.conf")
            env = {
                **os.environ,
                "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
                "TEMPEST_CONFIG_DIR": str(conf.parent),
                "TEMPEST_CONFIG": conf.name,
                # Read by tempest's base test case (the plugin's tests) as a per-test limit.
                "OS_TEST_TIMEOUT": str(args.test_timeout),
            }
            for suite in SUITES:
                if args.suite and suite.name not in args.suite:
                    continue
                if setup_seconds is None:
                    setup_seconds = round(time.monotonic() - started, 1)
                print(f"conformance: {suite.name} ...", flush=True)
                result = run_suite(
                    suite,
                    venv,
                    sp,
                    workdir,
                    env,
                    rules,
                    args.concurrency,
                    args.suite_timeout,
                    args.filter,
                )
                results[suite.name] = result
                result.heat_exited = heat.process.poll()
                if result.heat_exited is not None:
                    # Recorded, then a fresh start on the same database for the next suite.
                    print(f"conformance: heat-all exited ({result.heat_exited})", flush=True)
                    heat = start_heat(workdir, keystone)
                print(f"conformance: {suite.name} {summary(results[suite.name])}", flush=True)
        finally:
            ks.stop(heat.process, "heat-all", heat.log)
    finally:
        ks.stop(keystone.process, "keystone", keystone.log)

    report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "packages": versions(venv),
        "settings": settings(args),
        # Keystone's set-up and heat-all's start, then the whole run with them.
        "setup_seconds": setup_seconds,
        "total_seconds": round(time.monotonic() - started, 1),
        "exclusions": [{"regex": r.pattern, "reason": reason} for r, reason in rules],
        "suites": {name: asdict(r) for name, r in results.items()},
    }
    # A filtered run is not the suites' figures: its report stays in the work directory.
    output: Path = workdir / "report.json" if args.filter else args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name, r in results.items():
        print(f"{name:18} {summary(r)}")
        for test_id in r.failing:
            print(f"    FAIL {test_id}")
    print(f"written to {output}")
    failed = sum(r.failed for r in results.values())
    return 0 if args.report_only or failed == 0 else 1


def settings(args: argparse.Namespace) -> dict[str, float]:
    return {
        "concurrency": args.concurrency,
        "test_timeout_seconds": args.test_timeout,
        "build_timeout_seconds": args.build_timeout,
        "build_interval_seconds": 1,
        "suite_timeout_seconds": args.suite_timeout,
    }


def summary(r: Result) -> str:
    return (
        f"run {r.run}, passed {r.passed}, failed {r.failed}, skipped {r.skipped}, "
        f"excluded {r.excluded}, {r.duration_seconds:.1f}s"
        + (" (timed out)" if r.timed_out else "")
    )


if __name__ == "__main__":
    sys.exit(main())
