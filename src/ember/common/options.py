"""The heat.conf table: each ``Settings`` field says where its value comes from.

A field is declared with one of three helpers, which keep the answer in the field's
``dataclasses.field`` metadata, so the dataclass itself is the table:

* ``option(default, Opt(...))``: the value of one heat.conf option, with the field's
  name and default;
* ``derived(function, Opt(...), ...)``: several options combined by one named function,
  whose answer for the options' defaults is the field's default;
* ``internal(default, why)``: an Ember knob that heat.conf does not set.

Only the standard library here: ``ember.cmd.config`` turns each ``Opt`` into an
oslo.config option and reads the values back through ``field_values``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")

# The oslo.config option classes Ember uses: StrOpt, IntOpt, FloatOpt, BoolOpt, ListOpt
# (read back as a tuple), PortOpt, HostAddressOpt.
Kind = Literal["str", "int", "float", "bool", "list", "port", "host"]
# Option values by option name, as a derivation function receives them.
Values = Mapping[str, Any]

DEFAULT_GROUP = "DEFAULT"
_KEY = "ember.option"


@dataclass(frozen=True)
class Opt:
    """One heat.conf option, described as oslo.config registers it."""

    kind: Kind
    help: str
    # Empty for ``option()``: the field's own name.
    name: str = ""
    group: str = DEFAULT_GROUP
    # Only for the sources of ``derived()``; ``option()`` takes the field's default.
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    secret: bool = False
    # Also a command-line option (``--name``, ``-short``, ``--noname`` for booleans).
    cli: bool = False
    short: str | None = None
    # Shown in the sample instead of a default that depends on the machine.
    sample_default: str | None = None
    deprecated_name: str | None = None
    deprecated_group: str | None = None
    deprecated_for_removal: bool = False
    deprecated_reason: str | None = None


@dataclass(frozen=True)
class Direct:
    """The field holds the value of ``opt``."""

    opt: Opt


@dataclass(frozen=True)
class Derived:
    """The field holds ``derive`` of the values of ``sources``, keyed by option name."""

    sources: tuple[Opt, ...]
    derive: Callable[[Values], Any]


@dataclass(frozen=True)
class Internal:
    """The field is no heat.conf option; ``why`` says what sets it instead."""

    why: str


Source = Direct | Derived | Internal


def option(default: T, opt: Opt) -> T:
    """A field that is one heat.conf option, named like the field unless ``opt.name`` says."""
    if opt.default is not None:
        raise ValueError(f"{opt.name or 'option'}: the field's default is the option's default")
    return dataclasses.field(default=default, metadata={_KEY: Direct(opt)})


def derived(derive: Callable[[Values], T], *sources: Opt) -> T:
    """A field computed by ``derive`` from ``sources``; its default follows from theirs."""
    names = [opt.name for opt in sources]
    if "" in names or len(set(names)) != len(names):
        raise ValueError(f"{derive.__name__}: every source needs its own name")
    default = derive({opt.name: opt.default for opt in sources})
    return dataclasses.field(default=default, metadata={_KEY: Derived(sources, derive)})


def internal(default: T, why: str, *, compare: bool = True) -> T:
    """A field no heat.conf option sets (``why`` says what does)."""
    return dataclasses.field(default=default, compare=compare, metadata={_KEY: Internal(why)})


def source(field: dataclasses.Field[Any]) -> Source:
    """Where ``field`` comes from; a field declared without a helper is an error."""
    found = field.metadata.get(_KEY)
    if not isinstance(found, Direct | Derived | Internal):
        raise TypeError(f"{field.name} is declared with neither option(), derived() nor internal()")
    if isinstance(found, Direct):
        # Resolve the name and default the helper left to the field.
        opt = dataclasses.replace(found.opt, name=found.opt.name or field.name)
        return Direct(dataclasses.replace(opt, default=field.default))
    return found


def sources(cls: type[Any]) -> Iterator[tuple[dataclasses.Field[Any], Source]]:
    """Every field of the dataclass ``cls`` with its source, in declaration order."""
    for field in dataclasses.fields(cls):
        yield field, source(field)


def opts(cls: type[Any]) -> Iterator[Opt]:
    """Every heat.conf option the fields of ``cls`` read, in declaration order."""
    for _field, found in sources(cls):
        if isinstance(found, Direct):
            yield found.opt
        elif isinstance(found, Derived):
            yield from found.sources


def field_values(cls: type[Any], read: Callable[[Opt], Any]) -> dict[str, Any]:
    """Keyword arguments for ``cls``: each option-backed field from ``read``; internal
    fields are left to their defaults."""
    values: dict[str, Any] = {}
    for field, found in sources(cls):
        if isinstance(found, Direct):
            values[field.name] = read(found.opt)
        elif isinstance(found, Derived):
            values[field.name] = found.derive({opt.name: read(opt) for opt in found.sources})
    return values
