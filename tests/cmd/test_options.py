"""The one table of heat.conf options: Settings, the oslo.config registrations and the
sample heat.conf are all generated from it, so none can drift from another."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg
from oslo_log import log

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

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "etc" / "heat" / "heat.conf.sample"
GENERATOR_CONF = ROOT / "etc" / "heat" / "heat-config-generator.conf"
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
    """The default of every registered option, by (group, name), lists as tuples: the heat
    namespace's, and those of oslo.log's that Settings reads too (the sample lists them
    with oslo.log's)."""
    found = {
        (group, opt.dest): tuple(opt.default) if isinstance(opt.default, list) else opt.default
        for group, group_opts in list_opts()
        for opt in group_opts
    }
    logging = cfg.ConfigOpts()
    log.register_options(logging)
    logging([], default_config_files=[], default_config_dirs=[])
    for opt in opts(Settings):
        if opt.group == "DEFAULT" and opt.name in logging:
            assert ("DEFAULT", opt.name) not in found, f"{opt.name} is listed twice"
            found["DEFAULT", opt.name] = logging[opt.name]
    return found


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


def generate(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "heat.conf.sample"
    generator = Path(sys.executable).with_name("oslo-config-generator")
    done = subprocess.run(
        [str(generator), *args, "--output-file", str(out)],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8")


def test_the_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    generated = generate(tmp_path, "--config-file", str(GENERATOR_CONF))
    assert generated == SAMPLE.read_text(encoding="utf-8"), (
        "etc/heat/heat.conf.sample is stale: run "
        "oslo-config-generator --config-file etc/heat/heat-config-generator.conf"
    )


def test_the_heat_namespace_lists_every_option(tmp_path: Path) -> None:
    generated = generate(tmp_path, "--namespace", "heat", "--namespace", "oslo.log")
    for opt in opts(Settings):
        assert f"[{opt.group}]" in generated, opt.group
        # An empty default is written "#name =", with nothing after it.
        assert re.search(rf"\n#{re.escape(opt.name)} =( |\n)", generated), opt.name


def test_the_sample_shows_the_options_operators_look_for() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    for text in (
        "#max_resources_per_stack = 1000",
        "[heat_api]",
        "#bind_port = 8004",
        "[oslo_messaging_rabbit]",
        "# Deprecated group/name - [DEFAULT]/rabbit_host",
        "[keystone_authtoken]",
        "#hidden_stack_tags = data-processing-cluster",
        "#host = <Hostname>",
        "[oslo_policy]",
        "#enforce_new_defaults = true",
        "#policy_file = policy.yaml",
    ):
        assert text in sample, text
