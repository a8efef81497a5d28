"""Reading ``heat.conf`` (``--config-file``, repeatable, and ``--config-dir``) into Settings.

The options are those of the table in ``ember.common.settings.Settings``: registered here
with oslo.config, read back into a ``Settings``, and listed by ``list_opts`` for
``oslo-config-generator``. Options keep Heat's names, groups and defaults, so an
operator's existing file works unchanged; options Ember does not know are ignored, as
oslo.config always does. Without any file Ember runs self-contained: a SQLite file in the
current directory and the in-process transport.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg
from oslo_log import log

from ember.common.options import DEFAULT_GROUP, Opt, field_values, opts
from ember.common.settings import Settings, legacy_rabbit_url
from ember.db.engine import Timeouts

PROJECT = "heat"


class ConfigError(Exception):
    """The configuration files are missing or hold a value of the wrong kind."""


_OSLO_TYPES: dict[str, type[cfg.Opt]] = {
    "str": cfg.StrOpt,
    "int": cfg.IntOpt,
    "float": cfg.FloatOpt,
    "bool": cfg.BoolOpt,
    "list": cfg.ListOpt,
    "port": cfg.PortOpt,
    "host": cfg.HostAddressOpt,
}


def _oslo_opt(opt: Opt) -> cfg.Opt:
    """The oslo.config option the table entry ``opt`` describes."""
    default = list(opt.default) if opt.kind == "list" and opt.default is not None else opt.default
    details: dict[str, Any] = {
        "min": opt.min,
        "max": opt.max,
        "choices": list(opt.choices) if opt.choices else None,
        "short": opt.short,
        "sample_default": opt.sample_default,
        "deprecated_opts": _deprecated(opt),
        "deprecated_reason": opt.deprecated_reason,
    }
    # Only what the entry sets: not every option class takes min, max or choices.
    kwargs = {key: value for key, value in details.items() if value is not None}
    return _OSLO_TYPES[opt.kind](
        opt.name,
        default=default,
        help=opt.help,
        secret=opt.secret,
        deprecated_for_removal=opt.deprecated_for_removal,
        **kwargs,
    )


def _deprecated(opt: Opt) -> list[cfg.DeprecatedOpt] | None:
    # Named even when only the group changed, so the sample shows the old spelling.
    if opt.deprecated_name is None and opt.deprecated_group is None:
        return None
    return [cfg.DeprecatedOpt(opt.deprecated_name or opt.name, group=opt.deprecated_group)]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Every heat.conf option Ember reads, by group: the ``oslo.config.opts`` entry point
    behind ``oslo-config-generator --namespace heat``."""
    groups: dict[str, list[cfg.Opt]] = {}
    for opt in opts(Settings):
        if (opt.group, opt.name) in _logging_opts():
            continue  # documented with the rest of oslo.log's, in its namespace
        groups.setdefault(opt.group, []).append(_oslo_opt(opt))
    return list(groups.items())


def _logging_opts() -> set[tuple[str, str]]:
    """oslo.log's options that Settings reads too (``debug``: it also sets the level of
    heat-manage, which logs to the terminal). oslo.log's are all in ``[DEFAULT]``."""
    conf = cfg.ConfigOpts()
    log.register_options(conf)
    return {(DEFAULT_GROUP, name) for name in conf}


def _register(conf: cfg.ConfigOpts) -> None:
    for opt in opts(Settings):
        group = None if opt.group == DEFAULT_GROUP else opt.group
        if opt.cli:
            conf.register_cli_opt(_oslo_opt(opt), group=group)
        else:
            conf.register_opt(_oslo_opt(opt), group=group)


def _read(conf: cfg.ConfigOpts, opt: Opt) -> Any:
    section = conf if opt.group == DEFAULT_GROUP else conf[opt.group]
    value = section[opt.name]
    # Settings is frozen through and through: lists become tuples.
    return tuple(value) if opt.kind == "list" and value is not None else value


def config_args(argv: Sequence[str]) -> list[str]:
    """The arguments of ``argv`` that oslo.config reads, in their order."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--config-file", dest="args", action=_Keep)
    parser.add_argument("--config-dir", dest="args", action=_Keep)
    for opt in opts(Settings):
        if opt.cli:
            _add_cli(parser, opt)
    known, _rest = parser.parse_known_args(list(argv))
    return known.args or []


def _add_cli(parser: argparse.ArgumentParser, opt: Opt) -> None:
    # The flags oslo.config gives a command-line option: --name (and -short), and
    # --noname for a boolean, which takes no value.
    flags = [f"--{opt.name}", *([f"-{opt.short}"] if opt.short else [])]
    if opt.kind != "bool":
        parser.add_argument(*flags, dest="args", action=_Keep)
        return
    parser.add_argument(*flags, dest="args", action=_Keep, nargs=0)
    parser.add_argument(f"--no{opt.name}", dest="args", action=_Keep, nargs=0)


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
    # None lets oslo.config search Heat's places; an empty list searches none.
    defaults: list[str] | None = None if search_default_files else []
    try:
        args = config_args(argv)
        conf(
            args=args,
            project=PROJECT,
            prog=prog,
            default_config_files=defaults,
            default_config_dirs=defaults,
        )
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
    return Settings(**field_values(Settings, lambda opt: _read(conf, opt)))


def rabbit_url(group: cfg.ConfigOpts.GroupAttr) -> str | None:
    """The ``transport_url`` equivalent to the legacy ``rabbit_*`` options, if any is set."""
    return legacy_rabbit_url(group)


def database_timeouts(settings: Settings) -> Timeouts:
    """How long database calls may wait, from ``[database]``."""
    return Timeouts(
        connect=settings.database_connect_timeout,
        statement=settings.database_statement_timeout,
        pool=settings.database_pool_timeout,
    )
