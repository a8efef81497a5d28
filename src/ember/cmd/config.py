"""Reading ``heat.conf`` (``--config-file``, repeatable, and ``--config-dir``) into Settings.

Options keep Heat's names, groups and defaults, so an operator's existing file works
unchanged; options Ember does not know are ignored, as oslo.config always does. Without
any file Ember runs self-contained: a SQLite file in the current directory and the
in-process transport.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from oslo_config import cfg

from ember.common.settings import Listener, Settings

PROJECT = "heat"
DEFAULT_VHOST = "/"


class ConfigError(Exception):
    """The configuration files are missing or hold a value of the wrong kind."""


def _default_opts() -> list[cfg.Opt]:
    return [
        cfg.StrOpt("sql_connection", secret=True, deprecated_for_removal=True),
        cfg.StrOpt("transport_url", secret=True),
        cfg.StrOpt("host", default=socket.gethostname()),
        cfg.StrOpt("region_name_for_services"),
        cfg.IntOpt("num_engine_workers", min=1),
        cfg.IntOpt("max_resources_per_stack", default=1000),
        cfg.IntOpt("max_template_size", default=524_288),
        cfg.IntOpt("max_nested_stack_depth", default=5),
        cfg.IntOpt("max_stacks_per_tenant", default=512),
        cfg.IntOpt("max_json_body_size", default=1_048_576),
        cfg.IntOpt("max_events_per_stack", default=1000),
        cfg.IntOpt("event_purge_batch_size", default=200, min=1),
        cfg.IntOpt("max_snapshots_per_stack", default=32),
        cfg.IntOpt("max_software_configs_per_tenant", default=4096),
        cfg.IntOpt("max_software_deployments_per_tenant", default=4096),
        cfg.IntOpt("stack_action_timeout", default=3600),
        cfg.IntOpt("engine_life_check_timeout", default=2),
        cfg.IntOpt("rpc_response_timeout", default=60),
        cfg.IntOpt("periodic_interval", default=60),
        cfg.BoolOpt("enable_stack_abandon", default=False),
        cfg.BoolOpt("enable_stack_adopt", default=False),
        # Ember's own: serve the noauth flavor on a non-loopback address anyway.
        cfg.BoolOpt("allow_noauth_remote", default=False),
        cfg.ListOpt("hidden_stack_tags", default=["data-processing-cluster"]),
    ]


def _rabbit_opts() -> list[cfg.Opt]:
    # The legacy broker options lived in [DEFAULT] before [oslo_messaging_rabbit].
    legacy = "DEFAULT"
    return [
        cfg.StrOpt("rabbit_host", deprecated_group=legacy),
        cfg.PortOpt("rabbit_port", deprecated_group=legacy),
        cfg.ListOpt("rabbit_hosts", deprecated_group=legacy),
        cfg.StrOpt("rabbit_userid", deprecated_group=legacy),
        cfg.StrOpt("rabbit_password", secret=True, deprecated_group=legacy),
        cfg.StrOpt("rabbit_virtual_host", deprecated_group=legacy),
        cfg.FloatOpt("kombu_reconnect_delay", default=1.0, deprecated_group=legacy),
        cfg.StrOpt(
            "kombu_failover_strategy",
            default="round-robin",
            choices=["round-robin", "shuffle"],
        ),
    ]


def _listener_opts(port: int, workers: int) -> list[cfg.Opt]:
    # Heat binds 0.0.0.0; Ember listens on loopback unless told otherwise.
    return [
        cfg.HostAddressOpt("bind_host", default="127.0.0.1"),
        cfg.PortOpt("bind_port", default=port),
        cfg.IntOpt("workers", default=workers, min=0),
    ]


def _register(conf: cfg.ConfigOpts) -> None:
    conf.register_cli_opt(cfg.BoolOpt("debug", short="d", default=False))
    conf.register_opts(_default_opts())
    conf.register_opts([cfg.StrOpt("connection", secret=True)], group="database")
    conf.register_opts(_rabbit_opts(), group="oslo_messaging_rabbit")
    conf.register_opts(_listener_opts(8004, 0), group="heat_api")
    conf.register_opts(_listener_opts(8000, 1), group="heat_api_cfn")
    conf.register_opts([cfg.StrOpt("flavor")], group="paste_deploy")
    conf.register_opts([cfg.StrOpt("heat_revision", default="unknown")], group="revision")


def config_args(argv: Sequence[str]) -> list[str]:
    """The arguments of ``argv`` that oslo.config reads, in their order."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--config-file", dest="args", action=_Keep)
    parser.add_argument("--config-dir", dest="args", action=_Keep)
    parser.add_argument("-d", "--debug", dest="args", action=_Keep, nargs=0)
    parser.add_argument("--nodebug", dest="args", action=_Keep, nargs=0)
    known, _rest = parser.parse_known_args(list(argv))
    return known.args or []


class _Keep(argparse.Action):
    """Collects options and their values in one list, in command-line order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        kept = [*(getattr(namespace, self.dest) or []), option_string]
        if isinstance(values, str):
            kept.append(values)
        setattr(namespace, self.dest, kept)


def load_settings(
    argv: Sequence[str] = (), *, prog: str = PROJECT, search_default_files: bool = True
) -> Settings:
    """Settings from the config files named in ``argv`` (other arguments are ignored).

    With no ``--config-file``, oslo.config looks where Heat does (``~/.heat/heat.conf``,
    ``~/heat.conf``, ``/etc/heat/heat.conf``, ``/etc/heat.conf`` and ``heat.conf.d``
    directories) unless ``search_default_files`` is false.
    """
    conf = cfg.ConfigOpts()
    _register(conf)
    defaults: dict[str, list[str]] = (
        {} if search_default_files else {"default_config_files": [], "default_config_dirs": []}
    )
    try:
        args = config_args(argv)
        conf(args=args, project=PROJECT, prog=prog, **defaults)
        return dataclasses.replace(_settings(conf), config_args=config_sources(conf, args))
    except cfg.Error as exc:
        raise ConfigError(str(exc)) from exc
    finally:
        conf.reset()


def config_sources(conf: cfg.ConfigOpts, args: Sequence[str]) -> tuple[str, ...]:
    """``--config-file``/``--config-dir`` arguments that read what ``conf`` read, in the same
    order: the default files and directories it searched, then those named in ``args``."""
    sources: list[str] = []
    if "--config-file" not in args:
        for path in conf.default_config_files:
            sources += ["--config-file", path]
    if "--config-dir" not in args:
        for path in conf.default_config_dirs:
            if os.path.isdir(path):
                sources += ["--config-dir", path]
    flags = iter(args)
    for flag in flags:
        if flag in ("--config-file", "--config-dir"):
            sources += [flag, next(flags)]
    return tuple(sources)


def _settings(conf: cfg.ConfigOpts) -> Settings:
    cores = os.cpu_count() or 1
    base = Settings()
    return Settings(
        database_url=conf.database.connection or conf.sql_connection or base.database_url,
        transport_url=conf.transport_url or rabbit_url(conf.oslo_messaging_rabbit) or "inproc://",
        kombu_reconnect_delay=conf.oslo_messaging_rabbit.kombu_reconnect_delay,
        kombu_failover_strategy=conf.oslo_messaging_rabbit.kombu_failover_strategy,
        host=conf.host,
        heat_api=_listener(conf.heat_api, cores),
        heat_api_cfn=_listener(conf.heat_api_cfn, cores),
        paste_flavor=conf.paste_deploy.flavor,
        region_name=conf.region_name_for_services or base.region_name,
        # Heat: one engine process per core, at least four.
        num_engine_workers=conf.num_engine_workers or max(4, cores),
        max_resources_per_stack=conf.max_resources_per_stack,
        max_template_size=conf.max_template_size,
        max_nested_stack_depth=conf.max_nested_stack_depth,
        max_stacks_per_tenant=conf.max_stacks_per_tenant,
        max_json_body_size=conf.max_json_body_size,
        max_events_per_stack=conf.max_events_per_stack,
        event_purge_batch_size=conf.event_purge_batch_size,
        max_snapshots_per_stack=conf.max_snapshots_per_stack,
        max_software_configs_per_tenant=conf.max_software_configs_per_tenant,
        max_software_deployments_per_tenant=conf.max_software_deployments_per_tenant,
        stack_action_timeout=conf.stack_action_timeout,
        engine_life_check_timeout=conf.engine_life_check_timeout,
        rpc_response_timeout=conf.rpc_response_timeout,
        periodic_interval=conf.periodic_interval,
        enable_stack_abandon=conf.enable_stack_abandon,
        enable_stack_adopt=conf.enable_stack_adopt,
        allow_noauth_remote=conf.allow_noauth_remote,
        hidden_stack_tags=tuple(conf.hidden_stack_tags),
        heat_revision=conf.revision.heat_revision,
        debug=conf.debug,
    )


def _listener(group: cfg.ConfigOpts.GroupAttr, cores: int) -> Listener:
    # workers = 0 means one per core, as in Heat.
    return Listener(group.bind_host, group.bind_port, group.workers or cores)


def rabbit_url(group: cfg.ConfigOpts.GroupAttr) -> str | None:
    """The ``transport_url`` equivalent to the legacy ``rabbit_*`` options, if any is set."""
    legacy = (
        group.rabbit_host,
        group.rabbit_port,
        group.rabbit_hosts,
        group.rabbit_userid,
        group.rabbit_password,
        group.rabbit_virtual_host,
    )
    if all(value is None for value in legacy):
        return None
    port = group.rabbit_port or 5672
    hosts = group.rabbit_hosts or [group.rabbit_host or "localhost"]
    user = quote(group.rabbit_userid or "guest", safe="")
    password = quote(group.rabbit_password or "guest", safe="")
    netlocs = ",".join(f"{user}:{password}@{_host_port(h.strip(), port)}" for h in hosts)
    vhost = group.rabbit_virtual_host or DEFAULT_VHOST
    path = "" if vhost == DEFAULT_VHOST else quote(vhost, safe="")
    return f"rabbit://{netlocs}/{path}"


def _host_port(host: str, port: int) -> str:
    if host.startswith("["):  # [v6]:port or [v6]
        return host if "]:" in host else f"{host}:{port}"
    if host.count(":") > 1:  # a bare IPv6 address
        return f"[{host}]:{port}"
    return host if ":" in host else f"{host}:{port}"
