"""heat.conf options, read with Heat's names and defaults, legacy spellings included."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from oslo_config import cfg

from ember.cmd.config import ConfigError, config_args, load_settings
from ember.common.settings import Listener, Settings

CORES = os.cpu_count() or 1


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, *extra: str) -> Settings:
    conf = write(tmp_path / "heat.conf", text)
    return load_settings(["--config-file", str(conf), *extra], search_default_files=False)


def test_without_a_file_ember_runs_self_contained() -> None:
    settings = load_settings([], search_default_files=False)
    assert settings.database_url == "sqlite:///ember.sqlite"
    assert settings.transport_url == "inproc://"


def test_an_empty_file_gives_heats_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, "[DEFAULT]\n")
    assert settings.database_url == "sqlite:///ember.sqlite"
    assert settings.transport_url == "inproc://"
    assert settings.host == socket.gethostname()
    assert settings.heat_api == Listener("127.0.0.1", 8004, CORES)
    assert settings.heat_api_cfn == Listener("127.0.0.1", 8000, 1)
    assert settings.num_engine_workers == max(4, CORES)
    assert settings.paste_flavor is None
    assert settings.region_name == "RegionOne"
    assert settings.hidden_stack_tags == ("data-processing-cluster",)
    assert settings.kombu_reconnect_delay == 1.0
    assert settings.kombu_failover_strategy == "round-robin"
    assert settings.heat_revision == "unknown"
    assert settings.debug is False
    assert (
        settings.max_resources_per_stack,
        settings.max_template_size,
        settings.max_nested_stack_depth,
        settings.max_stacks_per_tenant,
        settings.max_json_body_size,
        settings.max_events_per_stack,
        settings.event_purge_batch_size,
        settings.max_snapshots_per_stack,
        settings.stack_action_timeout,
        settings.engine_life_check_timeout,
        settings.rpc_response_timeout,
        settings.periodic_interval,
        settings.enable_stack_abandon,
        settings.enable_stack_adopt,
    ) == (1000, 524288, 5, 512, 1048576, 1000, 200, 32, 3600, 2, 60, 60, False, False)


EVERY_OPTION = """
    [DEFAULT]
    transport_url = rabbit://ember:pw@mq1:5672,ember:pw@mq2:5672/heat
    host = engine-7
    region_name_for_services = RegionTwo
    num_engine_workers = 6
    max_resources_per_stack = -1
    max_template_size = 1000
    max_nested_stack_depth = 7
    max_stacks_per_tenant = 100000
    max_json_body_size = 8388608
    max_events_per_stack = 50
    event_purge_batch_size = 10
    max_snapshots_per_stack = 3
    stack_action_timeout = 120
    engine_life_check_timeout = 9
    rpc_response_timeout = 600
    periodic_interval = 15
    enable_stack_abandon = true
    enable_stack_adopt = True
    hidden_stack_tags = hide_me,me_too
    debug = true

    [database]
    connection = mysql+pymysql://root:admin@10.0.0.1/heat?charset=utf8

    [oslo_messaging_rabbit]
    kombu_reconnect_delay = 2.5
    kombu_failover_strategy = shuffle

    [heat_api]
    bind_host = 0.0.0.0
    bind_port = 18004
    workers = 3

    [heat_api_cfn]
    bind_host = 10.1.2.3
    bind_port = 18000
    workers = 2

    [paste_deploy]
    flavor = noauth

    [revision]
    heat_revision = 2025.2-ember
"""


def test_every_option_is_read(tmp_path: Path) -> None:
    settings = load(tmp_path, EVERY_OPTION)
    assert settings == Settings(
        database_url="mysql+pymysql://root:admin@10.0.0.1/heat?charset=utf8",
        transport_url="rabbit://ember:pw@mq1:5672,ember:pw@mq2:5672/heat",
        kombu_reconnect_delay=2.5,
        kombu_failover_strategy="shuffle",
        host="engine-7",
        heat_api=Listener("0.0.0.0", 18004, 3),
        heat_api_cfn=Listener("10.1.2.3", 18000, 2),
        paste_flavor="noauth",
        region_name="RegionTwo",
        num_engine_workers=6,
        max_resources_per_stack=-1,
        max_template_size=1000,
        max_nested_stack_depth=7,
        max_stacks_per_tenant=100000,
        max_json_body_size=8388608,
        max_events_per_stack=50,
        event_purge_batch_size=10,
        max_snapshots_per_stack=3,
        stack_action_timeout=120,
        engine_life_check_timeout=9,
        rpc_response_timeout=600,
        periodic_interval=15,
        enable_stack_abandon=True,
        enable_stack_adopt=True,
        hidden_stack_tags=("hide_me", "me_too"),
        heat_revision="2025.2-ember",
        debug=True,
    )


def test_legacy_sql_connection_is_used_when_database_connection_is_absent(
    tmp_path: Path,
) -> None:
    settings = load(tmp_path, "[DEFAULT]\nsql_connection = postgresql://heat@db/heat\n")
    assert settings.database_url == "postgresql://heat@db/heat"


def test_database_connection_wins_over_legacy_sql_connection(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [DEFAULT]
        sql_connection = postgresql://legacy@db/heat
        [database]
        connection = mysql://new@db/heat
        """,
    )
    assert settings.database_url == "mysql://new@db/heat"


LEGACY_RABBIT = """
    rabbit_host = mq.example
    rabbit_port = 5673
    rabbit_userid = heat
    rabbit_password = s3cret
    rabbit_virtual_host = openstack
"""


@pytest.mark.parametrize("section", ["DEFAULT", "oslo_messaging_rabbit"])
def test_legacy_rabbit_options_become_a_transport_url(tmp_path: Path, section: str) -> None:
    settings = load(tmp_path, f"[{section}]\n" + textwrap.dedent(LEGACY_RABBIT))
    assert settings.transport_url == "rabbit://heat:s3cret@mq.example:5673/openstack"


def test_oslo_messaging_rabbit_wins_over_default(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [DEFAULT]
        rabbit_host = old.example
        rabbit_userid = old
        kombu_reconnect_delay = 9
        [oslo_messaging_rabbit]
        rabbit_host = new.example
        kombu_reconnect_delay = 3
        """,
    )
    assert settings.transport_url == "rabbit://old:guest@new.example:5672/"
    assert settings.kombu_reconnect_delay == 3.0


def test_legacy_kombu_reconnect_delay_in_default(tmp_path: Path) -> None:
    settings = load(tmp_path, "[DEFAULT]\nkombu_reconnect_delay = 4.5\n")
    assert settings.kombu_reconnect_delay == 4.5
    assert settings.transport_url == "inproc://"


def test_any_one_rabbit_option_selects_rabbit_with_heats_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, "[DEFAULT]\nrabbit_password = pw\n")
    assert settings.transport_url == "rabbit://guest:pw@localhost:5672/"


def test_rabbit_hosts_list_every_broker(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [oslo_messaging_rabbit]
        rabbit_hosts = mq1:5671, mq2, 10.0.0.3:5670, fe80::1, [fd00::2]:5677
        rabbit_port = 5999
        rabbit_userid = u
        rabbit_password = p
        """,
    )
    assert settings.transport_url == (
        "rabbit://u:p@mq1:5671,u:p@mq2:5999,u:p@10.0.0.3:5670,u:p@[fe80::1]:5999,"
        "u:p@[fd00::2]:5677/"
    )


def test_rabbit_credentials_and_vhost_are_escaped(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [DEFAULT]
        rabbit_userid = heat@svc
        rabbit_password = p@ss/w:rd
        rabbit_virtual_host = /heat
        """,
    )
    assert settings.transport_url == "rabbit://heat%40svc:p%40ss%2Fw%3Ard@localhost:5672/%2Fheat"


def test_transport_url_wins_over_legacy_rabbit_options(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [DEFAULT]
        transport_url = rabbit://a:b@mq:5672/
        rabbit_host = other
        """,
    )
    assert settings.transport_url == "rabbit://a:b@mq:5672/"


def test_unknown_options_and_sections_are_ignored(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [DEFAULT]
        auth_encryption_key = 0123456789abcdef0123456789abcdef
        convergence_engine = true
        max_template_size = 77
        [database]
        max_pool_size = 20
        [keystone_authtoken]
        auth_url = http://keystone:5000
        [oslo_policy]
        enforce_scope = false
        """,
    )
    assert settings.max_template_size == 77


def test_later_files_override_earlier_ones(tmp_path: Path) -> None:
    first = write(tmp_path / "a.conf", "[DEFAULT]\nhost = a\nperiodic_interval = 5\n")
    second = write(tmp_path / "b.conf", "[DEFAULT]\nhost = b\n")
    settings = load_settings(
        ["--config-file", str(first), "--config-file", str(second)], search_default_files=False
    )
    assert (settings.host, settings.periodic_interval) == ("b", 5)


def test_config_dir_files_are_read(tmp_path: Path) -> None:
    main = write(tmp_path / "heat.conf", "[DEFAULT]\nhost = main\nperiodic_interval = 5\n")
    write(tmp_path / "heat.conf.d" / "10-host.conf", "[DEFAULT]\nhost = from-dir\n")
    write(tmp_path / "heat.conf.d" / "ignored.txt", "[DEFAULT]\nhost = not-a-conf\n")
    settings = load_settings(
        ["--config-file", str(main), "--config-dir", str(tmp_path / "heat.conf.d")],
        search_default_files=False,
    )
    assert (settings.host, settings.periodic_interval) == ("from-dir", 5)


def test_heats_default_locations_are_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / ".heat" / "heat.conf", "[DEFAULT]\nhost = from-home\n")
    assert load_settings([]).host == "from-home"


def test_debug_on_the_command_line(tmp_path: Path) -> None:
    assert load(tmp_path, "[DEFAULT]\n", "--debug").debug is True
    assert load(tmp_path, "[DEFAULT]\ndebug = true\n", "--nodebug").debug is False


def test_other_arguments_are_left_alone() -> None:
    argv = ["purge_deleted", "-g", "hours", "--config-file", "a.conf", "-p", "x", "-d", "7"]
    assert config_args(argv) == ["--config-file", "a.conf", "-d"]
    assert config_args(["--config-dir=/etc/heat/d", "db_sync"]) == [
        "--config-dir",
        "/etc/heat/d",
    ]


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.conf"):
        load_settings(["--config-file", str(tmp_path / "nope.conf")])


@pytest.mark.parametrize(
    "text",
    [
        "[DEFAULT]\nmax_template_size = big\n",
        "[heat_api]\nbind_port = 70000\n",
        "[oslo_messaging_rabbit]\nkombu_failover_strategy = random\n",
        "[DEFAULT]\nevent_purge_batch_size = 0\n",
    ],
)
def test_bad_values_are_errors(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load(tmp_path, text)


def test_the_global_oslo_config_is_untouched(tmp_path: Path) -> None:
    load(tmp_path, EVERY_OPTION)
    assert "max_template_size" not in cfg.CONF
    assert "database" not in cfg.CONF


def test_importing_reads_nothing(tmp_path: Path) -> None:
    write(tmp_path / ".heat" / "heat.conf", "[DEFAULT]\nhost = =broken\n[\n")
    code = "import ember.cmd.config, ember.cmd.manage; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok")


def test_allow_noauth_remote(tmp_path: Path) -> None:
    conf = tmp_path / "heat.conf"
    conf.write_text("[DEFAULT]\nallow_noauth_remote = true\n")
    assert (
        load_settings(["--config-file", str(conf)], search_default_files=False).allow_noauth_remote
        is True
    )
    assert load_settings([], search_default_files=False).allow_noauth_remote is False
