"""heat-manage, run as operators run it: a real process reading a real heat.conf."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from ember.cmd import manage
from ember.common.timeutils import utcnow
from ember.db import migration
from ember.db.engine import create_engine
from tests.db.conftest import stack_ids, store_stack

HEAT_MANAGE = Path(sys.executable).parent / "heat-manage"


def heat_conf(tmp_path: Path, url: str, *, legacy: bool = False) -> Path:
    option = "[DEFAULT]\nsql_connection" if legacy else "[DEFAULT]\n[database]\nconnection"
    path = tmp_path / "heat.conf"
    path.write_text(
        f"{option} = {url}\n"
        "[paste_deploy]\nflavor = noauth\n"
        "[keystone_authtoken]\nauth_url = http://127.0.0.1:5000\n",
        encoding="utf-8",
    )
    return path


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEAT_MANAGE), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_script_is_installed() -> None:
    assert HEAT_MANAGE.is_file()


@pytest.mark.parametrize("legacy", [False, True], ids=["database", "sql_connection"])
def test_db_sync_then_db_version(tmp_path: Path, empty_database_url: str, legacy: bool) -> None:
    conf = heat_conf(tmp_path, empty_database_url, legacy=legacy)

    before = run(tmp_path, "--config-file", str(conf), "db_version")
    synced = run(tmp_path, "--config-file", str(conf), "db_sync")
    after = run(tmp_path, "db_version", "--config-file", str(conf))
    again = run(tmp_path, "--config-file", str(conf), "db_sync")

    assert (before.returncode, before.stdout.strip()) == (0, "None")
    assert synced.returncode == 0, synced.stderr
    assert (after.returncode, after.stdout.strip()) == (0, migration.head())
    assert again.returncode == 0, again.stderr
    assert migration.current(empty_database_url) == migration.head()


def test_db_sync_to_a_named_version(tmp_path: Path, empty_database_url: str) -> None:
    conf = heat_conf(tmp_path, empty_database_url)
    done = run(tmp_path, "--config-file", str(conf), "db_sync", migration.head())
    assert done.returncode == 0, done.stderr
    assert migration.current(empty_database_url) == migration.head()


def test_purge_deleted(tmp_path: Path, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        now = utcnow()
        old = store_stack(engine, deleted_at=now - dt.timedelta(hours=3))
        other_project = store_stack(
            engine, deleted_at=now - dt.timedelta(hours=3), project_id="other"
        )
        recent = store_stack(engine, deleted_at=now - dt.timedelta(minutes=10))
        live = store_stack(engine, deleted_at=None)
        conf = heat_conf(tmp_path, database_url)

        by_project = run(
            tmp_path, "--config-file", str(conf), "purge_deleted", "-g", "hours", "-p", "other", "1"
        )
        assert by_project.returncode == 0, by_project.stderr
        assert stack_ids(engine) == {old.id, recent.id, live.id}

        done = run(
            tmp_path, "--config-file", str(conf), "purge_deleted", "-g", "hours", "-b", "1", "2"
        )
        assert done.returncode == 0, done.stderr
        assert stack_ids(engine) == {recent.id, live.id}
        assert other_project.id not in stack_ids(engine)
    finally:
        engine.dispose()


def test_purge_deleted_defaults_to_ninety_days(tmp_path: Path, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        now = utcnow()
        ancient = store_stack(engine, deleted_at=now - dt.timedelta(days=91))
        month_old = store_stack(engine, deleted_at=now - dt.timedelta(days=30))
        conf = heat_conf(tmp_path, database_url)
        assert manage.main(["--config-file", str(conf), "purge_deleted"]) == 0
        ids = stack_ids(engine)
        assert ancient.id not in ids
        assert month_old.id in ids
    finally:
        engine.dispose()


def test_without_a_config_file_the_local_sqlite_file_is_used(tmp_path: Path) -> None:
    # HOME points at an empty directory, so none of Heat's default locations has a file.
    done = subprocess.run(
        [str(HEAT_MANAGE), "db_sync"],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ember.sqlite").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config-file", "missing.conf", "db_version"], "missing.conf"),
        (["purge_deleted", "--", "-1"], "non-negative"),
        (["purge_deleted", "-b", "0", "1"], "positive"),
        (["db_sync", "no-such-revision"], "no-such-revision"),
    ],
)
def test_errors_are_reported_with_a_failing_status(
    tmp_path: Path, args: list[str], message: str
) -> None:
    conf = heat_conf(tmp_path, f"sqlite:///{tmp_path / 'heat.sqlite'}")
    done = run(tmp_path, "--config-file", str(conf), *args)
    assert done.returncode == 1
    assert message in done.stderr


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        manage.main(["purge_deleted", "-g", "weeks"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        manage.main([])
    assert exited.value.code == 2


def test_help_names_every_command() -> None:
    done = subprocess.run(
        [str(HEAT_MANAGE), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    for command in ("db_sync", "db_version", "purge_deleted"):
        assert command in done.stdout
