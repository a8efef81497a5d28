"""``heat-manage scale-out``: the operator guide's "Scaling a Deployment", written out.

From the controller's ``heat.conf`` (the one ``--config-file`` names) and the hosts that
run the services, it writes what the guide has the operator write by hand:

- per host, one copy of ``heat.conf`` per process, differing only where the guide says:
  ``[heat_api]``/``[heat_api_cfn]`` ``bind_host``/``bind_port``, loopback addresses in the
  database and broker options turned into the controller's address, and (engines) ``host``
  so that the services list tells the hosts apart;
- ``apis-proxy.conf`` for HAProxy on the controller, listening where the controller's
  APIs listened, as the guide's sample does, with a health check on each server;
- per host, ``start.sh``/``stop.sh`` and systemd units running ``python bin/heat-api
  --config-file=...`` and the others.

Nothing is started; the files are written under ``--output``, one directory per host.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from configupdater import ConfigUpdater

from ember.common.settings import Settings

COMMAND = "scale-out"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
# Options naming the database or the broker, by section: their loopback hosts become the
# controller's address in every copy (the guide: "update the loopback addresses found at
# the sql_connection and rabbit_host properties").
URL_OPTIONS = {
    "DEFAULT": ("sql_connection", "transport_url"),
    "database": ("connection", "slave_connection"),
}
HOST_OPTIONS = {
    "DEFAULT": ("rabbit_host", "rabbit_hosts"),
    "oslo_messaging_rabbit": ("rabbit_host", "rabbit_hosts"),
}
KINDS = ("heat-api", "heat-api-cfn", "heat-engine")


class ScaleOutError(ValueError):
    """A plan that cannot be written: said in one line."""


@dataclass(frozen=True)
class HostSpec:
    """What one host runs: its address and how many processes of each kind."""

    address: str
    apis: int
    cfn_apis: int
    engines: int


@dataclass(frozen=True)
class Instance:
    """One process of one host: its kind, number on the host, and port (an API's, or the
    port an engine serves its metrics on)."""

    kind: str
    number: int
    host: str
    port: int | None

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.number}"


@dataclass(frozen=True)
class Plan:
    controller: str
    rest_proxy: tuple[str, int]
    cfn_proxy: tuple[str, int]
    hosts: tuple[HostSpec, ...]
    api_port: int
    cfn_port: int
    engine_workers: int | None
    api_workers: int | None
    python: str
    bin_dir: str
    check_interval: str
    stats_socket: Path | None = None
    # The controller's [heat_engine] metrics_bind_port: the first engine of a host serves
    # its metrics there, the next one port up (engines of one host cannot share a port).
    engine_metrics_port: int | None = None

    def instances(self, host: HostSpec) -> list[Instance]:
        made = [
            Instance("heat-api", n + 1, host.address, self.api_port + n) for n in range(host.apis)
        ]
        made += [
            Instance("heat-api-cfn", n + 1, host.address, self.cfn_port + n)
            for n in range(host.cfn_apis)
        ]
        metrics = self.engine_metrics_port
        made += [
            Instance("heat-engine", n + 1, host.address, metrics + n if metrics else None)
            for n in range(host.engines)
        ]
        return made


# Arguments ------------------------------------------------------------------------------------


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = commands.add_parser(
        COMMAND,
        parents=[common],
        help="write the per-process heat.conf copies, apis-proxy.conf and start scripts of a "
        "scaled-out deployment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        action="append",
        required=True,
        dest="hosts",
        metavar="ADDRESS[:apis=N,cfn-apis=N,engines=N]",
        help="a host that runs services, with its own counts if they differ from the "
        "defaults; repeat for each host",
    )
    parser.add_argument(
        "--controller",
        help="the address the hosts reach the database, RabbitMQ and HAProxy at (default: "
        "the controller's [heat_api] bind_host)",
    )
    parser.add_argument("--apis", type=_count, default=1, help="heat-api processes per host")
    parser.add_argument(
        "--cfn-apis", type=_count, default=1, help="heat-api-cfn processes per host"
    )
    parser.add_argument("--engines", type=_count, default=2, help="heat-engine processes per host")
    parser.add_argument(
        "--engine-workers",
        type=_positive,
        help="num_engine_workers of each heat-engine (default: the controller's)",
    )
    parser.add_argument(
        "--api-workers",
        type=_count,
        help="[heat_api] and [heat_api_cfn] workers of each API (default: the controller's)",
    )
    parser.add_argument(
        "--api-port",
        type=_port,
        help="the first heat-api port on a host (default: the controller's [heat_api] "
        "bind_port); further ones count up",
    )
    parser.add_argument(
        "--cfn-port",
        type=_port,
        help="the first heat-api-cfn port on a host (default: the controller's "
        "[heat_api_cfn] bind_port)",
    )
    parser.add_argument(
        "--check-interval",
        default="2s",
        help="how often HAProxy checks each API (HAProxy's time format; default: 2s)",
    )
    parser.add_argument(
        "--stats-socket",
        type=Path,
        help="HAProxy's stats socket (default: haproxy.sock beside apis-proxy.conf)",
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter the scripts run bin/ with"
    )
    parser.add_argument(
        "--bin-dir",
        default=str(Path(sys.argv[0]).resolve().parent),
        help="the directory holding heat-api, heat-api-cfn and heat-engine on the hosts "
        "(default: this heat-manage's)",
    )
    parser.add_argument(
        "--output", required=True, type=Path, help="where to write; one directory per host"
    )


def _count(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not at least 1")
    return value


def _port(text: str) -> int:
    value = _integer(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def parse_host(text: str, apis: int, cfn_apis: int, engines: int) -> HostSpec:
    """``ADDRESS`` or ``ADDRESS:apis=N,cfn-apis=N,engines=N`` (any of the counts)."""
    address, _, counts = text.partition(":") if "[" not in text else _bracketed(text)
    address = address.strip()
    if not address:
        raise ScaleOutError(f"--host {text!r}: no address")
    given = {"apis": apis, "cfn-apis": cfn_apis, "engines": engines}
    for item in filter(None, counts.split(",")):
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in given:
            raise ScaleOutError(
                f"--host {text!r}: {item!r} is not one of apis=N, cfn-apis=N, engines=N"
            )
        try:
            number = int(value)
        except ValueError:
            number = -1
        if number < 0:
            raise ScaleOutError(f"--host {text!r}: {key.strip()} must be a whole number")
        given[key.strip()] = number
    return HostSpec(address, given["apis"], given["cfn-apis"], given["engines"])


def _bracketed(text: str) -> tuple[str, str, str]:
    """An IPv6 address in brackets: ``[fd00::2]:engines=4``."""
    inside, _, rest = text[1:].partition("]")
    return inside, ":", rest.removeprefix(":")


# The plan -------------------------------------------------------------------------------------


def make_plan(settings: Settings, args: argparse.Namespace) -> Plan:
    rest = (settings.heat_api.bind_host, settings.heat_api.bind_port)
    cfn = (settings.heat_api_cfn.bind_host, settings.heat_api_cfn.bind_port)
    controller = args.controller or rest[0]
    if _is_wildcard(controller):
        raise ScaleOutError(
            f"the controller's [heat_api] bind_host is {controller!r}, which the hosts cannot "
            "reach it at: pass --controller ADDRESS"
        )
    hosts = tuple(parse_host(h, args.apis, args.cfn_apis, args.engines) for h in args.hosts)
    seen: set[str] = set()
    for host in hosts:
        if host.address in seen:
            raise ScaleOutError(f"--host {host.address} is given twice")
        seen.add(host.address)
    if not any(h.apis for h in hosts) or not any(h.cfn_apis for h in hosts):
        raise ScaleOutError("HAProxy needs at least one heat-api and one heat-api-cfn to send to")
    if not any(h.engines for h in hosts):
        raise ScaleOutError("no host runs a heat-engine")
    plan = Plan(
        controller=controller,
        rest_proxy=rest,
        cfn_proxy=cfn,
        hosts=hosts,
        api_port=args.api_port or rest[1],
        cfn_port=args.cfn_port or cfn[1],
        engine_workers=args.engine_workers,
        api_workers=args.api_workers,
        python=args.python,
        bin_dir=args.bin_dir,
        check_interval=args.check_interval,
        stats_socket=args.stats_socket,
        engine_metrics_port=settings.engine_metrics.bind_port if settings.engine_metrics else None,
    )
    _check_ports(plan)
    return plan


def _is_wildcard(address: str) -> bool:
    return address in ("", "0.0.0.0", "::")


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def _check_ports(plan: Plan) -> None:
    """No two processes of a host on one port, and none where HAProxy listens."""
    proxy = {plan.rest_proxy, plan.cfn_proxy}
    for host in plan.hosts:
        taken: dict[int, str] = {}
        for instance in plan.instances(host):
            if instance.port is None:
                continue
            if instance.port in taken:
                raise ScaleOutError(
                    f"on {host.address}, {instance.name} and {taken[instance.port]} would both "
                    f"listen on port {instance.port}: pass --api-port or --cfn-port, or "
                    "change [heat_engine] metrics_bind_port"
                )
            taken[instance.port] = instance.name
            for address, port in proxy:
                if port == instance.port and (
                    _same_address(address, host.address) or _is_wildcard(address)
                ):
                    raise ScaleOutError(
                        f"{instance.name} on {host.address}:{port} would take HAProxy's "
                        f"address: pass --api-port or --cfn-port"
                    )


# heat.conf copies ----------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _netloc_host(netloc: str, controller: str) -> str:
    """``user:pass@host:port`` with a loopback host replaced by the controller's."""
    credentials, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    if host and not _is_loopback(host):
        return netloc
    shown = f"[{controller}]" if ":" in controller else controller
    return f"{credentials}{at}{shown}{':' + port if port else ''}"


def localize_url(url: str, controller: str) -> str:
    """A database or broker URL whose loopback hosts (each of a comma-separated list, as
    ``transport_url`` has) are the controller's address instead."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        raise ScaleOutError(
            f"{url!r} is a SQLite file, which only one host can use: engines on several "
            "hosts need a database server (MySQL, MariaDB, PostgreSQL)"
        )
    netloc = ",".join(_netloc_host(n, controller) for n in parts.netloc.split(","))
    return urlunsplit(parts._replace(netloc=netloc))


def _localize_hosts(value: str, controller: str) -> str:
    return ",".join(_netloc_host(h.strip(), controller) for h in value.split(","))


def heat_conf_copy(original: str, plan: Plan, instance: Instance) -> str:
    """The controller's ``heat.conf`` as ``instance`` reads it: the same file, comments and
    all, with the guide's changes."""
    conf = ConfigUpdater(strict=False)
    conf.read_string(original)
    changes: dict[tuple[str, str], str] = {}
    for section, names in URL_OPTIONS.items():
        for name in names:
            value = _value(conf, section, name)
            if value:
                changes[(section, name)] = localize_url(value, plan.controller)
    for section, names in HOST_OPTIONS.items():
        for name in names:
            value = _value(conf, section, name)
            if value:
                changes[(section, name)] = _localize_hosts(value, plan.controller)
    # Both API sections name this host, as in the guide's copy for B; an API's own
    # section has its own port.
    for section, kind, first in (
        ("heat_api", "heat-api", plan.api_port),
        ("heat_api_cfn", "heat-api-cfn", plan.cfn_port),
    ):
        changes[(section, "bind_host")] = instance.host
        changes[(section, "bind_port")] = str(
            instance.port if instance.kind == kind and instance.port else first
        )
        if plan.api_workers is not None and instance.kind == kind:
            changes[(section, "workers")] = str(plan.api_workers)
    if instance.kind == "heat-engine":
        changes[("DEFAULT", "host")] = instance.host
        if plan.engine_workers is not None:
            changes[("DEFAULT", "num_engine_workers")] = str(plan.engine_workers)
        if instance.port is not None:
            changes[("heat_engine", "metrics_bind_host")] = instance.host
            changes[("heat_engine", "metrics_bind_port")] = str(instance.port)
    # What signals and metadata go to: the proxy, never one instance's own address.
    cfn_url = _http_url(plan.cfn_proxy, plan.controller)
    rest_url = _http_url(plan.rest_proxy, plan.controller)
    defaults = {
        "heat_waitcondition_server_url": f"{cfn_url}/v1/waitcondition",
        "heat_metadata_server_url": cfn_url,
        "heat_watch_server_url": f"{rest_url}/v1",
    }
    for name, value in defaults.items():
        if not _value(conf, "DEFAULT", name):
            changes[("DEFAULT", name)] = value
    for (section, name), value in changes.items():
        _set(conf, section, name, value)
    return str(conf)


def _http_url(bind: tuple[str, int], controller: str) -> str:
    host = controller if _is_wildcard(bind[0]) or _is_loopback(bind[0]) else bind[0]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{bind[1]}"


def _value(conf: ConfigUpdater, section: str, name: str) -> str | None:
    # configupdater keeps [DEFAULT] as a section like any other.
    if not conf.has_section(section) or not conf.has_option(section, name):
        return None
    value = conf.get(section, name).value
    return value.strip() if value else None


def _set(conf: ConfigUpdater, section: str, name: str, value: str) -> None:
    if not conf.has_section(section):
        if section == "DEFAULT" and conf.sections():
            conf[conf.sections()[0]].add_before.section(section)
        else:
            conf.add_section(section)
    conf[section][name] = value


# Scripts, units and the proxy -----------------------------------------------------------------


def command_line(plan: Plan, conf: Path, kind: str) -> list[str]:
    """``python bin/heat-api --config-file=...``, as the guide runs each process."""
    return [plan.python, str(Path(plan.bin_dir) / kind), f"--config-file={conf}"]


START_HEADER = """#!/bin/sh
# {summary}, as heat-manage scale-out wrote it.
# Each process logs to logs/<name>.log and its pid is kept in run/<name>.pid; stop.sh
# stops them. Every line after "start() ..." is one process: its name, then its command.
set -eu
cd "$(dirname "$0")"
mkdir -p logs run
start() {{
    name=$1; shift
    setsid "$@" >> "logs/$name.log" 2>&1 < /dev/null &
    echo $! > "run/$name.pid"
}}
"""

STOP_SCRIPT = """#!/bin/sh
# Stops what start.sh started: SIGTERM, then each process lets its work finish.
set -u
cd "$(dirname "$0")"
for pidfile in run/*.pid; do
    [ -e "$pidfile" ] || continue
    kill -TERM "$(cat "$pidfile")" 2> /dev/null || true
    rm -f "$pidfile"
done
"""

UNIT = """[Unit]
Description=Ember {kind} {number} on {host}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={command}
KillMode=mixed
TimeoutStopSec=60
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def start_script(plan: Plan, host: HostSpec, confs: dict[str, Path]) -> str:
    summary = (
        f"Ember on {host.address}: {host.apis} heat-api, {host.cfn_apis} heat-api-cfn, "
        f"{host.engines} heat-engine"
    )
    lines = [START_HEADER.format(summary=summary)]
    for instance in plan.instances(host):
        argv = command_line(plan, confs[instance.name], instance.kind)
        lines.append(f"start {instance.name} {shlex.join(argv)}\n")
    return "".join(lines)


def unit(plan: Plan, instance: Instance, conf: Path) -> str:
    return UNIT.format(
        kind=instance.kind,
        number=instance.number,
        host=instance.host,
        command=shlex.join(command_line(plan, conf, instance.kind)),
    )


PROXY_HEADER = """# HAProxy in front of Ember's APIs, as heat-manage scale-out wrote it:
#     haproxy -f apis-proxy.conf
# It listens where the controller's heat-api and heat-api-cfn listened (stop those first:
# pkill heat-api; pkill heat-api-cfn). "check" makes HAProxy ask each server OPTIONS /
# every {interval} and stop sending to one that does not answer; "option redispatch" with
# "retries 3" sends a request whose server is down to another. Each server's state:
#     echo "show stat" | socat stdio {socket}
global
    daemon
    maxconn 4000
    stats socket {socket} mode 600 level user

defaults
    log  global
    maxconn  8000
    option  redispatch
    retries  3
    timeout  http-request 10s
    timeout  queue 1m
    timeout  connect 10s
    timeout  client 1m
    timeout  server 1m
    timeout  check 10s
"""


def _bind(address: tuple[str, int]) -> str:
    host = address[0] or "0.0.0.0"
    return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"


def _listen(name: str, bind: tuple[str, int], servers: Iterable[Instance], interval: str) -> str:
    lines = [
        f"listen {name}",
        f"    bind {_bind(bind)}",
        "    balance  source",
        "    option  tcpka",
        "    option  httpchk",
    ]
    for index, instance in enumerate(servers, 1):
        prefix = "rest" if instance.kind == "heat-api" else "cfn"
        assert instance.port is not None
        lines.append(
            f"    server {prefix}-server-{index} {_bind((instance.host, instance.port))} "
            f"check inter {interval}"
        )
    return "\n".join(lines) + "\n"


def proxy_config(plan: Plan, stats_socket: Path) -> str:
    instances = [i for h in plan.hosts for i in plan.instances(h)]
    return "\n".join(
        [
            PROXY_HEADER.format(interval=plan.check_interval, socket=stats_socket),
            _listen(
                "rest_api_proxy",
                plan.rest_proxy,
                [i for i in instances if i.kind == "heat-api"],
                plan.check_interval,
            ),
            _listen(
                "cfn_api_proxy",
                plan.cfn_proxy,
                [i for i in instances if i.kind == "heat-api-cfn"],
                plan.check_interval,
            ),
        ]
    )


# Writing --------------------------------------------------------------------------------------


def write(plan: Plan, original: str, output: Path) -> list[Path]:
    """Every file of the plan under ``output``; the paths written. Each is made before
    any is written, so a plan refused on the way leaves nothing behind."""
    files: dict[Path, tuple[str, int]] = {}

    def put(path: Path, text: str, mode: int = 0o644) -> None:
        files[path] = (text, mode)

    output = output.resolve()
    proxy_dir = output / plan.controller
    stats = plan.stats_socket or proxy_dir / "haproxy.sock"
    put(proxy_dir / "apis-proxy.conf", proxy_config(plan, stats))
    for host in plan.hosts:
        directory = output / host.address
        confs: dict[str, Path] = {}
        for instance in plan.instances(host):
            conf = directory / f"{instance.name}.conf"
            # Copies hold the controller's secrets: readable by their owner only.
            put(conf, heat_conf_copy(original, plan, instance), 0o600)
            confs[instance.name] = conf
            put(
                directory / "systemd" / f"ember-{instance.name}.service",
                unit(plan, instance, conf),
            )
        put(directory / "start.sh", start_script(plan, host, confs), 0o755)
        put(directory / "stop.sh", STOP_SCRIPT, 0o755)
    for path, (text, mode) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
    return list(files)


def controller_file(settings: Settings) -> Path:
    """The one ``--config-file`` the copies are made from."""
    flags = settings.config_args[::2]
    files = [
        Path(value)
        for flag, value in zip(flags, settings.config_args[1::2], strict=True)
        if flag == "--config-file"
    ]
    if len(files) != 1 or "--config-dir" in flags:
        raise ScaleOutError(
            "scale-out copies one heat.conf: name exactly one --config-file and no --config-dir"
        )
    return files[0]


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        source = controller_file(settings)
        plan = make_plan(settings, args)
        written = write(plan, source.read_text(encoding="utf-8"), args.output)
    except (ScaleOutError, OSError) as exc:
        print(f"heat-manage: error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
