"""The one table of heat.conf options: Settings and the oslo.config registrations are both
generated from it, so neither can drift from the other."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ember.cmd.config import list_opts, load_settings
from ember.common.options import (
    Derived,
    Direct,
    Internal,
    Opt,
    derived,
    internal,
    option,
    opts,
    source,
    sources,
)
from ember.common.settings import Settings

FIELDS = [field.name for field in dataclasses.fields(Settings)]
OPTION_FIELDS = [
    field.name for field, found in sources(Settings) if not isinstance(found, Internal)
]
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "host": str,
    "int": int,
    "port": int,
    "float": (float, int),
    "bool": bool,
    "list": tuple,
}


def oslo_defaults() -> dict[tuple[str, str], Any]:
    """The default of every registered option, by (group, name), lists as tuples."""
    return {
        (group, opt.dest): tuple(opt.default) if isinstance(opt.default, list) else opt.default
        for group, group_opts in list_opts()
        for opt in group_opts
    }


def test_every_field_is_an_option_derived_from_options_or_marked_internal() -> None:
    kinds = {field.name: type(found) for field, found in sources(Settings)}
    assert set(kinds) == set(FIELDS)
    assert {name for name, kind in kinds.items() if kind is Internal} == {
        "config_args",
        "executor_batch_size",
        "heartbeat_interval",
    }
    for field, found in sources(Settings):
        if isinstance(found, Internal):
            assert found.why.strip(), field.name
        if isinstance(found, Derived):
            assert found.sources, field.name


def test_a_field_declared_without_the_table_helpers_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class Loose:
        knob: int = 3

    with pytest.raises(TypeError, match="knob"):
        source(dataclasses.fields(Loose)[0])


def test_a_default_is_written_once() -> None:
    with pytest.raises(ValueError, match="default"):
        option(1, Opt("int", "twice", default=2))
    with pytest.raises(ValueError, match="name"):
        derived(lambda values: 0, Opt("int", "unnamed"))


def test_internal_fields_keep_their_defaults_and_comparison() -> None:
    @dataclasses.dataclass(frozen=True)
    class Knobs:
        args: tuple[str, ...] = internal((), "filled in by the caller", compare=False)

    assert Knobs(("a",)) == Knobs() and Knobs().args == ()


@pytest.mark.parametrize("name", OPTION_FIELDS)
def test_an_empty_file_gives_the_settings_defaults(tmp_path: Path, name: str) -> None:
    conf = tmp_path / "heat.conf"
    conf.write_text("[DEFAULT]\n", encoding="utf-8")
    loaded = load_settings(["--config-file", str(conf)], search_default_files=False)
    assert getattr(loaded, name) == getattr(Settings(), name)


def test_no_file_at_all_gives_the_settings_defaults() -> None:
    assert load_settings([], search_default_files=False) == Settings()


def test_each_option_registers_with_its_fields_default() -> None:
    defaults = oslo_defaults()
    for field, found in sources(Settings):
        if isinstance(found, Direct):
            assert defaults[found.opt.group, found.opt.name] == field.default, field.name
        elif isinstance(found, Derived):
            values = {opt.name: defaults[opt.group, opt.name] for opt in found.sources}
            assert found.derive(values) == field.default, field.name


def test_option_defaults_have_the_fields_type() -> None:
    for field, found in sources(Settings):
        if isinstance(found, Direct) and found.opt.default is not None:
            assert isinstance(found.opt.default, PYTHON_TYPES[found.opt.kind]), field.name


def test_every_option_is_registered_once() -> None:
    table = [(opt.group, opt.name) for opt in opts(Settings)]
    assert len(table) == len(set(table))
    assert sorted(oslo_defaults()) == sorted(table)


def test_legacy_spellings_are_registered() -> None:
    registered = {(group, opt.dest): opt for group, group_opts in list_opts() for opt in group_opts}
    assert registered["DEFAULT", "sql_connection"].deprecated_for_removal
    for name in ("rabbit_host", "rabbit_port", "rabbit_password", "kombu_reconnect_delay"):
        old = registered["oslo_messaging_rabbit", name].deprecated_opts
        assert [(d.group, d.name) for d in old] == [("DEFAULT", name)]
    assert registered["oslo_messaging_rabbit", "rabbit_password"].secret
    assert registered["database", "connection"].secret
