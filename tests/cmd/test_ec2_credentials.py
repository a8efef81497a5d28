"""heat-manage ec2-credentials, run as an operator runs it: a real process, a real
heat.conf, the database it names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ember.common import crypt
from ember.common.errors import DecryptionFailed
from ember.common.settings import HEAT_DEFAULT_ENCRYPTION_KEY
from ember.db import migration
from ember.db.engine import create_engine
from ember.db.models import Ec2Credential
from ember.db.session import session_scope
from ember.db.unit import UnitOfWork
from tests.cmd.test_manage import heat_conf, run

KEY = "an operator's own key, 32 chars!"
HEX32 = re.compile(r"[0-9a-f]{32}")
ROOT = Path(__file__).resolve().parents[2]


def conf_with_key(tmp_path: Path, url: str, key: str | None = KEY) -> Path:
    path = heat_conf(tmp_path, url)
    if key is not None:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("[DEFAULT]\n", f"[DEFAULT]\nauth_encryption_key = {key}\n"))
    return path


def stored(url: str, access: str) -> Ec2Credential | None:
    engine = create_engine(url)
    try:
        with session_scope(engine, readonly=True) as session:
            return UnitOfWork(session).ec2_credentials.by_access(access)
    finally:
        engine.dispose()


def manage(tmp_path: Path, conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, "--config-file", str(conf), "ec2-credentials", *args)


def create_json(tmp_path: Path, conf: Path, *args: str) -> dict[str, str]:
    done = manage(tmp_path, conf, "create", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    pair: dict[str, str] = json.loads(done.stdout)
    return pair


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'heat.sqlite'}"
    migration.db_sync(url)
    return url


def test_create_list_delete(tmp_path: Path, database_url: str) -> None:
    conf = conf_with_key(tmp_path, database_url)

    created = manage(
        tmp_path, conf, "create", "--project", "p1", "--user", "u1", "--format", "json"
    )

    assert created.returncode == 0, created.stderr
    assert "warning" not in created.stderr
    pair = json.loads(created.stdout)
    assert set(pair) == {"access", "secret", "project_id", "user_id"}
    assert (pair["project_id"], pair["user_id"]) == ("p1", "u1")
    assert HEX32.fullmatch(pair["access"]) and HEX32.fullmatch(pair["secret"])
    assert pair["access"] != pair["secret"]
    row = stored(database_url, pair["access"])
    assert row is not None
    assert pair["secret"] not in row.secret
    assert crypt.decrypt(row.secret, KEY) == pair["secret"]
    assert (row.user_name, row.roles) == ("u1", ["member"])

    listed = manage(tmp_path, conf, "list", "--project", "p1", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "access": pair["access"],
            "project_id": "p1",
            "user_id": "u1",
            "user_name": "u1",
            "roles": ["member"],
            "created_at": row.created_at.isoformat(),
        }
    ]

    deleted = manage(tmp_path, conf, "delete", "--project", "p1", pair["access"])
    assert deleted.returncode == 0, deleted.stderr
    assert stored(database_url, pair["access"]) is None
    assert (
        json.loads(manage(tmp_path, conf, "list", "--project", "p1", "--format", "json").stdout)
        == []
    )


def test_create_prints_a_table_with_the_name_and_roles_given(
    tmp_path: Path, sqlite_url: str
) -> None:
    conf = conf_with_key(tmp_path, sqlite_url)
    done = manage(
        tmp_path,
        conf,
        "create",
        "--project",
        "p1",
        "--user",
        "u1",
        "--user-name",
        "alice",
        "--role",
        "heat_stack_owner",
        "--role",
        "reader",
        "--role",
        "reader",
    )
    assert done.returncode == 0, done.stderr

    fields = dict(re.findall(r"^\| (\w+) +\| (\S+) +\|$", done.stdout, re.MULTILINE))

    assert fields["Field"] == "Value"
    assert fields["project_id"] == "p1"
    assert fields["user_name"] == "alice"
    assert fields["roles"] == "heat_stack_owner,reader"
    row = stored(sqlite_url, fields["access"])
    assert row is not None
    assert row.roles == ["heat_stack_owner", "reader"]
    assert row.user_name == "alice"
    assert crypt.decrypt(row.secret, KEY) == fields["secret"]


def test_the_default_key_is_warned_of_and_used(tmp_path: Path, sqlite_url: str) -> None:
    conf = conf_with_key(tmp_path, sqlite_url, key=None)
    done = manage(tmp_path, conf, "create", "--project", "p1", "--user", "u1", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "auth_encryption_key" in done.stderr and "warning" in done.stderr
    pair = json.loads(done.stdout)  # the warning is not on stdout
    row = stored(sqlite_url, pair["access"])
    assert row is not None
    assert crypt.decrypt(row.secret, HEAT_DEFAULT_ENCRYPTION_KEY) == pair["secret"]
    with pytest.raises(DecryptionFailed):
        crypt.decrypt(row.secret, KEY)


def test_list_shows_owners_never_secrets(tmp_path: Path, sqlite_url: str) -> None:
    conf = conf_with_key(tmp_path, sqlite_url)
    mine = create_json(tmp_path, conf, "--project", "p1", "--user", "u1")
    colleague = create_json(tmp_path, conf, "--project", "p1", "--user", "u2")
    elsewhere = create_json(tmp_path, conf, "--project", "p2", "--user", "u1")
    encrypted = [stored(sqlite_url, p["access"]) for p in (mine, colleague, elsewhere)]

    table = manage(tmp_path, conf, "list", "--project", "p1")
    by_user = manage(tmp_path, conf, "list", "--project", "p1", "--user", "u2", "--format", "json")

    assert table.returncode == 0 and by_user.returncode == 0
    assert mine["access"] in table.stdout and colleague["access"] in table.stdout
    assert elsewhere["access"] not in table.stdout
    assert [r["access"] for r in json.loads(by_user.stdout)] == [colleague["access"]]
    for output in (table.stdout + table.stderr, by_user.stdout + by_user.stderr):
        for pair, row in zip((mine, colleague, elsewhere), encrypted, strict=True):
            assert row is not None
            assert pair["secret"] not in output
            assert row.secret not in output
        assert "secret" not in output


def test_delete_is_within_the_project_and_unknown_keys_fail(
    tmp_path: Path, sqlite_url: str
) -> None:
    conf = conf_with_key(tmp_path, sqlite_url)
    pair = create_json(tmp_path, conf, "--project", "p1", "--user", "u1")

    other_project = manage(tmp_path, conf, "delete", "--project", "p2", pair["access"])
    unknown = manage(tmp_path, conf, "delete", "--project", "p1", "f" * 32)

    assert other_project.returncode == 1
    assert pair["access"] in other_project.stderr and "p2" in other_project.stderr
    assert unknown.returncode == 1
    assert "f" * 32 in unknown.stderr
    assert stored(sqlite_url, pair["access"]) is not None


def test_an_unmigrated_database_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    conf = conf_with_key(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite'}")
    done = manage(tmp_path, conf, "create", "--project", "p1", "--user", "u1")
    assert done.returncode == 1
    assert "heat-manage: error:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["create", "--user", "u1"],
        ["create", "--project", "p1"],
        ["list"],
        ["delete", "--project", "p1"],
        ["list", "--project", "p1", "--format", "yaml"],
        [],
    ],
)
def test_missing_or_bad_arguments_are_usage_errors(
    tmp_path: Path, sqlite_url: str, args: list[str]
) -> None:
    conf = conf_with_key(tmp_path, sqlite_url)
    done = manage(tmp_path, conf, *args)
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_the_checkout_script_runs_it(tmp_path: Path, sqlite_url: str) -> None:
    conf = conf_with_key(tmp_path, sqlite_url)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "heat-manage"),
            "--config-file",
            str(conf),
            "ec2-credentials",
            "create",
            "--project",
            "p1",
            "--user",
            "u1",
            "--format",
            "json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert stored(sqlite_url, json.loads(done.stdout)["access"]) is not None
