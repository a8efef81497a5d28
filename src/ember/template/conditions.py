"""The ``conditions`` section: each named condition evaluated once, lazily, with loops
between conditions reported instead of recursing forever."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ember.template.diagnostics import Diagnostics, Path
from ember.template.functions.base import (
    Function,
    FunctionError,
    ParseContext,
    ResolutionError,
    ResolveContext,
    functions_in,
    parse,
    resolve,
)
from ember.template.functions.budget import Budget
from ember.template.versions import TemplateVersion


class Conditions(Mapping[str, bool]):
    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        version: TemplateVersion,
        parameters: Mapping[str, Any],
        mappings: Mapping[str, Any],
        section_key: str,
        diags: Diagnostics,
        budget: Budget | None = None,
    ) -> None:
        self._version = version
        self._diags = diags
        self._section = section_key
        self._parse_ctx = ParseContext(
            functions=version.condition_functions,
            diags=diags,
            parameter_names=frozenset(parameters),
        )
        self._parsed = {
            str(name): parse(value, self._parse_ctx, (section_key, str(name)))
            for name, value in raw.items()
        }
        self._values: dict[str, bool] = {}
        self._active: list[str] = []
        self._ctx = ResolveContext(
            parameters=parameters, mappings=mappings, conditions=self, budget=budget or Budget()
        )

    def __getitem__(self, name: str) -> bool:
        if name in self._values:
            return self._values[name]
        if name not in self._parsed:
            raise KeyError(name)
        if name in self._active:
            loop = " -> ".join([*self._active[self._active.index(name) :], name])
            raise FunctionError(f"Circular definition for condition: {loop}")
        self._active.append(name)
        try:
            value = self._truth(self._parsed[name])
        finally:
            self._active.pop()
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed)

    def __len__(self) -> int:
        return len(self._parsed)

    def _truth(self, parsed: Any) -> bool:
        if isinstance(parsed, bool):
            return parsed
        if isinstance(parsed, str):
            if parsed not in self._parsed:
                raise FunctionError(f'Invalid condition name "{parsed}"')
            return self[parsed]
        if isinstance(parsed, Function):
            value = resolve(parsed, self._ctx)
            if isinstance(value, bool):
                return value
            raise FunctionError(f"A condition must be a boolean, not {value!r}")
        raise FunctionError(
            "A condition must be a boolean, a condition function or the name of a condition"
        )

    def evaluate_all(self) -> None:
        """Evaluate every condition, recording problems instead of raising."""
        for name in self._parsed:
            try:
                self[name]
            except ResolutionError as exc:
                self._diags.add(exc.path, exc.detail)
                self._values[name] = False
            except FunctionError as exc:
                self._diags.add((self._section, name), str(exc))
                self._values[name] = False

    def evaluate(self, raw: Any, path: Path) -> bool:
        """The truth of a condition reference written outside the conditions section."""
        if isinstance(raw, (dict, list)):
            raw = parse(raw, self._parse_ctx, path)
        try:
            return self._truth(raw)
        except ResolutionError as exc:
            raise FunctionError(exc.detail) from None

    def evaluate_argument(self, arg: Any, path: Path = ()) -> bool | None:
        """For ``if`` while parsing: a function's own argument is already parsed; an inline
        condition function (a map) is parsed here with the condition functions."""
        if (
            isinstance(arg, Function)
            and type(arg) not in self._version.condition_functions.values()
        ):
            return None  # e.g. get_attr: cannot be known before resources exist
        if isinstance(arg, dict):
            allowed = tuple(self._version.condition_functions.values())
            for fn in functions_in(arg):  # parsed already, with the resource functions
                if not isinstance(fn, allowed):
                    raise FunctionError(f'The function "{fn.name}" is invalid in this context')
        return self.evaluate(arg, path)

    def evaluated(self) -> dict[str, bool]:
        """The truth of every condition evaluated so far (all of them after
        ``evaluate_all``, failures as False)."""
        return dict(self._values)
