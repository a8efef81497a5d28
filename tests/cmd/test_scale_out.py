"""``heat-manage scale-out``, run as an operator runs it, on the guide's sample: the files it
writes, and what it refuses. (The files at work, behind HAProxy: tests/deploy.)"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAT_MANAGE = Path(sys.executable).parent / "heat-manage"
# Machine A's heat.conf in the guide's sample ("The original file from A looks like").
CONTROLLER = """[DEFAULT]
# the controller's own
sql_connection = mysql+pymysql://root:admin@127.0.0.1/heat?charset=utf8
rabbit_host = localhost
auth_encryption_key = 0123456789abcdef0123456789abcdef

[heat_api]
bind_port = 8004
bind_host = 10.0.0.1

[heat_api_cfn]
bind_port = 8000
bind_host = 10.0.0.1
"""
SAMPLE = ROOT / "etc" / "heat" / "apis-proxy.conf.sample"
SAMPLE_SOCKET = "/run/haproxy/heat-apis.sock"


def scale_out(
    tmp_path: Path, *args: str, conf: str = CONTROLLER
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "heat.conf"
    path.write_text(conf, encoding="utf-8")
    argv = [str(HEAT_MANAGE), "--config-file", str(path), "scale-out", *args]
    return subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )


def written(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    done = scale_out(tmp_path, "--output", str(out), *args)
    assert done.returncode == 0, done.stderr
    return out


def read(path: Path) -> configparser.ConfigParser:
    # [DEFAULT] as a section of its own, not inherited by the others.
    parser = configparser.ConfigParser(interpolation=None, default_section="-")
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_the_copy_for_b_is_the_guides(tmp_path: Path) -> None:
    """ "After the changes for B, it looks like": the database and broker at A's address,
    both APIs bound to B; nothing else changed (comments kept), plus the URLs signals use,
    which must name the proxy rather than B."""
    out = written(tmp_path, "--host", "10.0.0.2", "--host", "10.0.0.3")
    text = (out / "10.0.0.2" / "heat-api-1.conf").read_text(encoding="utf-8")
    assert "# the controller's own" in text
    conf = read(out / "10.0.0.2" / "heat-api-1.conf")
    assert dict(conf["DEFAULT"]) == {
        "sql_connection": "mysql+pymysql://root:admin@10.0.0.1/heat?charset=utf8",
        "rabbit_host": "10.0.0.1",
        "auth_encryption_key": "0123456789abcdef0123456789abcdef",
        "heat_waitcondition_server_url": "http://10.0.0.1:8000/v1/waitcondition",
        "heat_metadata_server_url": "http://10.0.0.1:8000",
        "heat_watch_server_url": "http://10.0.0.1:8004/v1",
    }
    assert dict(conf["heat_api"]) == {"bind_port": "8004", "bind_host": "10.0.0.2"}
    assert dict(conf["heat_api_cfn"]) == {"bind_port": "8000", "bind_host": "10.0.0.2"}
    # Each engine's copy names its host, as the services list shows it.
    engine = read(out / "10.0.0.3" / "heat-engine-2.conf")
    assert engine["DEFAULT"]["host"] == "10.0.0.3"
    # Copies hold the database password: their owner's only.
    assert (out / "10.0.0.2" / "heat-api-1.conf").stat().st_mode & 0o077 == 0


def test_several_processes_of_a_kind_on_a_host_count_ports_up(tmp_path: Path) -> None:
    out = written(
        tmp_path, "--host", "10.0.0.2:apis=2,cfn-apis=2,engines=3", "--engine-workers", "4"
    )
    names = sorted(p.name for p in (out / "10.0.0.2").glob("*.conf"))
    assert names == [
        "heat-api-1.conf",
        "heat-api-2.conf",
        "heat-api-cfn-1.conf",
        "heat-api-cfn-2.conf",
        "heat-engine-1.conf",
        "heat-engine-2.conf",
        "heat-engine-3.conf",
    ]
    assert read(out / "10.0.0.2" / "heat-api-2.conf")["heat_api"]["bind_port"] == "8005"
    assert read(out / "10.0.0.2" / "heat-api-cfn-2.conf")["heat_api_cfn"]["bind_port"] == "8001"
    assert read(out / "10.0.0.2" / "heat-engine-3.conf")["DEFAULT"]["num_engine_workers"] == "4"
    proxy = (out / "10.0.0.1" / "apis-proxy.conf").read_text(encoding="utf-8")
    assert "server rest-server-2 10.0.0.2:8005 check inter 2s" in proxy
    assert "server cfn-server-2 10.0.0.2:8001 check inter 2s" in proxy


def test_engines_of_a_host_serve_their_metrics_on_ports_of_their_own(tmp_path: Path) -> None:
    """With the controller's [heat_engine] metrics_bind_port set, each engine of a host
    serves its metrics on its host's address, one port up from the one before."""
    conf = CONTROLLER + "\n[heat_engine]\nmetrics_bind_port = 9190\n"
    path = tmp_path / "heat.conf"
    path.write_text(conf, encoding="utf-8")
    out = tmp_path / "out"
    argv = [str(HEAT_MANAGE), "--config-file", str(path), "scale-out", "--output", str(out)]
    argv += ["--host", "10.0.0.2:engines=2", "--host", "10.0.0.3:engines=1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    served = {
        (host, n): dict(read(out / host / f"heat-engine-{n}.conf")["heat_engine"])
        for host, n in (("10.0.0.2", 1), ("10.0.0.2", 2), ("10.0.0.3", 1))
    }
    assert served == {
        ("10.0.0.2", 1): {"metrics_bind_port": "9190", "metrics_bind_host": "10.0.0.2"},
        ("10.0.0.2", 2): {"metrics_bind_port": "9191", "metrics_bind_host": "10.0.0.2"},
        ("10.0.0.3", 1): {"metrics_bind_port": "9190", "metrics_bind_host": "10.0.0.3"},
    }
    # A metrics port that an API of the host would take is refused.
    clash = scale_out(
        tmp_path,
        "--output",
        str(tmp_path / "clash"),
        "--host",
        "10.0.0.2:engines=2",
        conf=CONTROLLER + "\n[heat_engine]\nmetrics_bind_port = 7999\n",
    )
    assert clash.returncode == 1
    assert "metrics_bind_port" in clash.stderr and "8000" in clash.stderr, clash.stderr


def test_start_script_and_units_run_the_guides_commands(tmp_path: Path) -> None:
    bin_dir = str(ROOT / "bin")
    out = written(
        tmp_path, "--host", "10.0.0.2", "--bin-dir", bin_dir, "--python", "/usr/bin/python3"
    )
    host = out / "10.0.0.2"
    lines = [
        shlex.split(line)
        for line in (host / "start.sh").read_text(encoding="utf-8").splitlines()
        if line.startswith("start ")
    ]
    assert [words[1] for words in lines] == [
        "heat-api-1",
        "heat-api-cfn-1",
        "heat-engine-1",
        "heat-engine-2",
    ]
    for words in lines:
        kind = words[1].rsplit("-", 1)[0]
        # python bin/heat-api --config-file=<its own copy>
        assert words[2:] == [
            "/usr/bin/python3",
            f"{bin_dir}/{kind}",
            f"--config-file={host / (words[1] + '.conf')}",
        ]
        unit = (host / "systemd" / f"ember-{words[1]}.service").read_text(encoding="utf-8")
        assert f"ExecStart={shlex.join(words[2:])}\n" in unit
    shell = shutil.which("sh")
    assert shell is not None
    for script in ("start.sh", "stop.sh"):
        assert (host / script).stat().st_mode & 0o111
        check = subprocess.run([shell, "-n", str(host / script)], capture_output=True, check=False)
        assert check.returncode == 0, check.stderr


def test_the_sample_apis_proxy_conf_is_what_the_command_writes(tmp_path: Path) -> None:
    """etc/heat/apis-proxy.conf.sample: the guide's three machines, written by the command;
    and HAProxy takes it."""
    out = written(
        tmp_path, "--host", "10.0.0.2", "--host", "10.0.0.3", "--stats-socket", SAMPLE_SOCKET
    )
    made = (out / "10.0.0.1" / "apis-proxy.conf").read_text(encoding="utf-8")
    assert SAMPLE.read_text(encoding="utf-8") == made, (
        "etc/heat/apis-proxy.conf.sample is out of date: write it again with heat-manage "
        "--config-file <this module's CONTROLLER> scale-out --host 10.0.0.2 --host 10.0.0.3 "
        f"--stats-socket {SAMPLE_SOCKET} --output OUT (OUT/10.0.0.1/apis-proxy.conf)"
    )
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.fail("haproxy is not installed (.ci/run installs it)")
    check = subprocess.run(
        [haproxy, "-c", "-f", str(SAMPLE)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("args", "conf", "said"),
    [
        (["--host", "10.0.0.2", "--host", "10.0.0.2"], CONTROLLER, "is given twice"),
        (["--host", "10.0.0.2:apis=0"], CONTROLLER, "at least one heat-api"),
        (["--host", "10.0.0.2:engines=0"], CONTROLLER, "no host runs a heat-engine"),
        (["--host", "10.0.0.2:cfn-apis=5"], CONTROLLER, "would both listen on port 8004"),
        (["--host", "10.0.0.1"], CONTROLLER, "would take HAProxy's address"),
        (["--host", "10.0.0.2:workers=3"], CONTROLLER, "is not one of apis=N"),
        (["--host", "10.0.0.2:apis=x"], CONTROLLER, "apis must be a whole number"),
        (
            ["--host", "10.0.0.2"],
            CONTROLLER.replace("bind_host = 10.0.0.1", "bind_host = 0.0.0.0"),
            "pass --controller",
        ),
        (
            ["--host", "10.0.0.2"],
            CONTROLLER.replace(
                "mysql+pymysql://root:admin@127.0.0.1/heat?charset=utf8", "sqlite:////tmp/h.db"
            ),
            "only one host can use",
        ),
    ],
)
def test_plans_that_cannot_work_are_refused_in_one_line(
    tmp_path: Path, args: list[str], conf: str, said: str
) -> None:
    out = tmp_path / "out"
    done = scale_out(tmp_path, "--output", str(out), *args, conf=conf)
    assert done.returncode == 1, done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("heat-manage:")]
    assert len(errors) == 1 and said in errors[0], done.stderr
    assert not out.exists()  # nothing half-written


def test_a_second_config_file_is_refused(tmp_path: Path) -> None:
    extra = tmp_path / "extra.conf"
    extra.write_text("[DEFAULT]\n", encoding="utf-8")
    done = scale_out(tmp_path, "--config-file", str(extra), "--host", "10.0.0.2", "--output", "o")
    assert done.returncode == 1
    assert "exactly one --config-file" in done.stderr
