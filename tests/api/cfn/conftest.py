"""A real heat-all serving the CloudFormation API, key pairs made with ``heat-manage``, and
the AWS clients that drive it (boto3; the AWS CLI in ``test_aws_cli``).

- ``cfn_service``: heat-all (noauth flavor, so signatures are checked against the key
  pairs Ember stores) started once per session with ``[heat_api_cfn] page_size = 3`` and
  one allowed ``template_url_hosts`` entry: ``template_hosts.allowed``;
- ``template_hosts``: two local HTTP servers holding templates, the one heat-api-cfn may
  fetch from and another it must not;
- ``key_pair``: a key pair of the module's own project (``project``);
- ``cf``: boto3's ``cloudformation`` client signing with ``key_pair``.

With ``CI=true`` a missing client fails the tests instead of skipping them.
"""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import (
    HeatServer,
    free_port,
    legacy_client,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import FINAL, need, wait_until
from tests.deploy.conftest import Launcher

VENV_BIN = Path(sys.executable).parent
REGION = "RegionOne"
PAGE_SIZE = 3
# Waiters poll each second; a stack of these tests finishes within a few.
# Each second, for as long as a busy machine may need (the waiter stops at the state).
WAIT = {"Delay": 1, "MaxAttempts": 300}


@dataclass(frozen=True)
class KeyPair:
    """What ``heat-manage ec2-credentials create --format json`` prints."""

    access: str
    secret: str
    project_id: str
    user_id: str


def make_key_pair(
    conf: Path, project: str, user: str, roles: tuple[str, ...] = (), cwd: Path | None = None
) -> KeyPair:
    """A key pair made by the real ``heat-manage`` on the database of ``conf``."""
    argv = [str(VENV_BIN / "heat-manage"), "--config-file", str(conf), "ec2-credentials"]
    argv += ["create", "--project", project, "--user", user, "--format", "json"]
    for role in roles:
        argv += ["--role", role]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, cwd=cwd)
    assert done.returncode == 0, f"{argv} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    made = json.loads(done.stdout)
    assert made["project_id"] == project and made["user_id"] == user, made
    return KeyPair(made["access"], made["secret"], made["project_id"], made["user_id"])


def boto3_client(endpoint: str, key: KeyPair, **config: Any) -> Any:
    """boto3's ``cloudformation`` client on ``endpoint``, signing with ``key``; ``config``
    goes to botocore's ``Config`` (no retries unless given: an error is seen at once)."""
    boto3 = need("boto3")
    botocore_config = need("botocore.config")
    options: dict[str, Any] = {"retries": {"max_attempts": 1, "mode": "standard"}}
    options.update(config)
    return boto3.session.Session().client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key.access,
        aws_secret_access_key=key.secret,
        config=botocore_config.Config(**options),
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not the tests' output."""


class TemplateHost:
    """A local HTTP server (in a thread) serving the files of ``root``."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        handler = functools.partial(_Quiet, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def put(self, name: str, text: str) -> str:
        """Serve ``text`` as ``name``; its URL."""
        (self.root / name).write_text(text, encoding="utf-8")
        return f"http://{self.host}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@dataclass(frozen=True)
class TemplateHosts:
    allowed: TemplateHost
    other: TemplateHost


@pytest.fixture(scope="session")
def template_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateHosts]:
    root = tmp_path_factory.mktemp("templates")
    allowed, other = TemplateHost(root / "allowed"), TemplateHost(root / "other")
    try:
        yield TemplateHosts(allowed, other)
    finally:
        allowed.close()
        other.close()


@dataclass
class CfnService:
    """heat-all with its CloudFormation API on ``cfn_port``."""

    server: HeatServer
    cfn_port: int
    conf: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.cfn_port}/v1/"

    def key_pair(self, project: str, user: str, roles: tuple[str, ...] = ()) -> KeyPair:
        return make_key_pair(self.conf, project, user, roles, cwd=self.server.workdir)

    def client(self, key: KeyPair, **config: Any) -> Any:
        return boto3_client(self.endpoint, key, **config)

    def heat(self, project: str) -> Any:
        """python-heatclient on the REST API of the same heat-all, in ``project``."""
        return legacy_client(self.server.endpoint(project))


@pytest.fixture(scope="session")
def cfn_service(
    tmp_path_factory: pytest.TempPathFactory, template_hosts: TemplateHosts
) -> Iterator[CfnService]:
    need("httpx")
    need("boto3")
    workdir = tmp_path_factory.mktemp("heat-all-cfn")
    port, cfn_port = free_port(), free_port()
    conf = write_heat_conf(
        workdir,
        port,
        cfn_port=cfn_port,
        heat_api_cfn=(
            f"page_size = {PAGE_SIZE}\ntemplate_url_hosts = {template_hosts.allowed.host}\n"
        ),
    )
    server = start_heat_all(workdir, conf, port)
    try:
        yield CfnService(server, cfn_port, conf)
    finally:
        stop_heat_all(server)


@pytest.fixture(scope="module")
def key_pair(cfn_service: CfnService, project: str) -> KeyPair:
    return cfn_service.key_pair(project, f"{project}-user")


@pytest.fixture(scope="module")
def cf(cfn_service: CfnService, key_pair: KeyPair) -> Any:
    return cfn_service.client(key_pair)


# Waiting ------------------------------------------------------------------------------------


def wait_for(cf: Any, waiter: str, stack: str) -> None:
    """One of boto3's waiters (``stack_create_complete``, ...), polling each second."""
    cf.get_waiter(waiter).wait(StackName=stack, WaiterConfig=WAIT)


def described(cf: Any, stack: str) -> dict[str, Any]:
    found: dict[str, Any] = cf.describe_stacks(StackName=stack)["Stacks"][0]
    return found


def wait_finished(cf: Any, stack: str, action: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll DescribeStacks until the stack's ``action`` has finished; the stack then."""
    found: dict[str, Any] = wait_until(
        lambda: described(cf, stack),
        lambda s: s["StackStatus"].startswith(action + "_") and s["StackStatus"].endswith(FINAL),
        timeout,
        f"{stack} to finish {action}",
    )
    return found


def recent(when: datetime, started: datetime) -> bool:
    """``when`` (timezone-aware, as botocore parses it) lies between ``started`` (less a
    second: the server's clock may round) and now."""
    now = datetime.now(when.tzinfo)
    return when.tzinfo is not None and started.timestamp() - 1 <= when.timestamp() <= (
        now.timestamp() + 1
    )


def all_pages(paginator: Any, key: str, **args: Any) -> tuple[list[Any], int]:
    """Every item of a boto3 paginator's pages, and how many pages there were."""
    pages = list(paginator.paginate(**args))
    return [item for page in pages for item in page[key]], len(pages)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report ends with what the services it used logged: heat-all, or the
    processes of a ``Launcher``."""
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, CfnService):
                report.sections.append(("heat-all log", value.server.output()[-20000:]))
            elif isinstance(value, Launcher):
                report.sections.append(("processes' logs", value.logs()[-40000:]))
    return report
