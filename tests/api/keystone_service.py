"""A real Keystone (PyPI ``keystone``) on SQLite and loopback, for the ``keystone`` flavor
tests, and a heat-all that validates tokens against it.

Keystone is set up as an operator does: ``keystone-manage db_sync``, ``fernet_setup``,
``credential_setup`` and ``bootstrap``, then served by ``keystone_wsgi.py`` (the stdlib
WSGI server, one thread per request). Beside the bootstrap ``admin`` it holds:

- project ``service`` with user ``heat`` (role ``admin``): heat-all's ``[keystone_authtoken]``
  service user;
- project ``demo`` with user ``demo`` (role ``member``): a plain, non-admin caller;
- the ``orchestration`` service, its public endpoint ``.../v1/%(tenant_id)s`` on heat-all.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import HeatServer, free_port, require
from tests.api.helpers import need

BIN = Path(sys.executable).parent
KEYSTONE_MANAGE = BIN / "keystone-manage"
WSGI_SCRIPT = Path(__file__).with_name("keystone_wsgi.py")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
SETUP_TIMEOUT = 180.0
DOMAIN = "Default"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    project_name: str
    project_id: str = ""


@dataclass
class Keystone:
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    log: Path
    heat_port: int
    cfn_port: int
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def session(self, who: str) -> Any:
        """A keystoneauth1 session authenticated with ``who``'s password, project-scoped."""
        identity = need("keystoneauth1.identity.v3")
        session = need("keystoneauth1.session")
        account = self.accounts[who]
        auth = identity.Password(
            auth_url=self.url,
            username=account.username,
            password=account.password,
            project_name=account.project_name,
            user_domain_name=DOMAIN,
            project_domain_name=DOMAIN,
        )
        return session.Session(auth=auth)

    def token(self, who: str) -> str:
        return str(self.session(who).get_token())

    def project_id(self, who: str) -> str:
        return self.accounts[who].project_id

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def require_keystone() -> None:
    """Keystone and the clients must be installed: skip without them, fail under CI."""
    require(KEYSTONE_MANAGE.is_file(), f"keystone-manage ({KEYSTONE_MANAGE})")
    for module in ("keystone", "keystonemiddleware", "keystoneclient", "keystoneauth1"):
        require(importlib.util.find_spec(module) is not None, f"the {module} package")


def write_keystone_conf(workdir: Path) -> Path:
    conf = workdir / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\n"
        "debug = false\n"
        "[database]\n"
        f"connection = sqlite:///{workdir / 'keystone.sqlite'}\n"
        "[fernet_tokens]\n"
        f"key_repository = {workdir / 'fernet-keys'}\n"
        "[fernet_receipts]\n"
        f"key_repository = {workdir / 'fernet-receipts'}\n"
        "[credential]\n"
        f"key_repository = {workdir / 'credential-keys'}\n"
        "[identity]\n"
        # The fewest bcrypt rounds Keystone allows: every password check stays fast.
        "password_hash_rounds = 4\n",
        encoding="utf-8",
    )
    return conf


def _manage(conf: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(KEYSTONE_MANAGE), "--config-file", str(conf), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> None:
    try:
        out, _ = process.communicate(timeout=SETUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    if process.returncode != 0:
        command = " ".join(str(a) for a in process.args[3:])  # type: ignore[index]
        pytest.fail(
            f"keystone-manage {command} exited {process.returncode}:\n{out[-5000:]}",
            pytrace=False,
        )


def setup_keystone(conf: Path, url: str, admin_password: str) -> None:
    """Schema, key repositories and the bootstrap admin, region and identity endpoints."""
    owner = ("--keystone-user", "root", "--keystone-group", "root")
    keys = [_manage(conf, "fernet_setup", *owner), _manage(conf, "credential_setup", *owner)]
    _finish(_manage(conf, "db_sync"))
    for process in keys:
        _finish(process)
    _finish(
        _manage(
            conf,
            "bootstrap",
            "--bootstrap-password",
            admin_password,
            "--bootstrap-admin-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-public-url",
            url,
            "--bootstrap-region-id",
            "RegionOne",
        )
    )


def _responds(url: str) -> bool:
    httpx = need("httpx")
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(url: str, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not _responds(url):
        output = log.read_text(encoding="utf-8", errors="replace")
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{output}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer at {url}:\n{output}", pytrace=False)
        time.sleep(0.2)


def start_keystone(workdir: Path) -> Keystone:
    require_keystone()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3/"
    admin = Account("admin", "admin-secret", "admin")
    conf = write_keystone_conf(workdir)
    setup_keystone(conf, url, admin.password)
    log = workdir / "keystone.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(WSGI_SCRIPT), str(conf), str(port)],
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    keystone = Keystone(port, process, workdir, log, heat_port=free_port(), cfn_port=free_port())
    try:
        wait_ready(url, process, "keystone", log)
        keystone.accounts["admin"] = admin
        populate(keystone)
    except BaseException:
        stop(process, "keystone", log)
        raise
    return keystone


def populate(keystone: Keystone) -> None:
    """The service and demo projects and users, and the orchestration catalog entry."""
    client = need("keystoneclient.v3.client")
    ks = client.Client(session=keystone.session("admin"))
    roles = {role.name: role for role in ks.roles.list()}
    admin_project = ks.projects.find(name="admin", domain_id="default")
    keystone.accounts["admin"] = Account("admin", "admin-secret", "admin", admin_project.id)
    for who, project_name, role in (("heat", "service", "admin"), ("demo", "demo", "member")):
        project = ks.projects.create(project_name, domain="default")
        password = f"{who}-secret"
        user = ks.users.create(who, domain="default", password=password, default_project=project)
        ks.roles.grant(roles[role], user=user, project=project)
        keystone.accounts[who] = Account(who, password, project_name, project.id)
    service = ks.services.create("heat", type="orchestration")
    ks.endpoints.create(
        service,
        f"http://127.0.0.1:{keystone.heat_port}/v1/%(tenant_id)s",
        interface="public",
        region="RegionOne",
    )


# An operator's grant: admins may list every project's stacks and configs.
GLOBAL_INDEX_FOR_ADMINS = (
    '"stacks:global_index": "rule:context_is_admin"\n'
    '"software_configs:global_index": "rule:context_is_admin"\n'
)


def write_heat_conf(
    workdir: Path, keystone: Keystone, defaults: Mapping[str, str] | None = None
) -> Path:
    """heat.conf as operators write it for Heat behind Keystone, with a policy file that
    lets admins list every project's stacks (Heat's default lets nobody); ``defaults``
    are more ``[DEFAULT]`` options."""
    heat = keystone.accounts["heat"]
    (workdir / "policy.yaml").write_text(GLOBAL_INDEX_FOR_ADMINS, encoding="utf-8")
    conf = workdir / "heat.conf"
    extra = "".join(f"{name} = {value}\n" for name, value in (defaults or {}).items())
    conf.write_text(
        "[DEFAULT]\n"
        "num_engine_workers = 1\n"
        f"{extra}"
        "[database]\n"
        f"connection = sqlite:///{workdir / 'ember.sqlite'}\n"
        "[heat_api]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {keystone.heat_port}\n"
        "[heat_api_cfn]\n"
        "bind_host = 127.0.0.1\n"
        f"bind_port = {keystone.cfn_port}\n"
        "[paste_deploy]\n"
        "flavor = keystone\n"
        "[keystone_authtoken]\n"
        f"www_authenticate_uri = {keystone.url}\n"
        f"auth_url = {keystone.url}\n"
        "auth_type = password\n"
        f"username = {heat.username}\n"
        f"password = {heat.password}\n"
        f"project_name = {heat.project_name}\n"
        f"user_domain_name = {DOMAIN}\n"
        f"project_domain_name = {DOMAIN}\n"
        "[oslo_policy]\n"
        "policy_file = policy.yaml\n",
        encoding="utf-8",
    )
    return conf


def start_heat(workdir: Path, keystone: Keystone) -> HeatServer:
    conf = write_heat_conf(workdir, keystone)
    log = workdir / "heat-all.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ember.cmd.all", "--config-file", str(conf)],
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = HeatServer(keystone.heat_port, process, log, workdir)
    try:
        wait_ready(f"{server.url}/healthcheck", process, "heat-all", log)
    except BaseException:
        stop(process, "heat-all", log)
        raise
    return server


def stop(process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    """SIGTERM, then SIGKILL if it does not go; a service that must be killed fails."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)
        output = log.read_text(encoding="utf-8", errors="replace")
        raise AssertionError(
            f"{what} did not stop on SIGTERM within {STOP_TIMEOUT}s:\n{output[-5000:]}"
        ) from None
