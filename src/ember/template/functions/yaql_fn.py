"""The ``yaql`` function, evaluated by the yaql library with bounded work and memory."""

from __future__ import annotations

import collections.abc
import functools
from typing import Any, Protocol

import yaql
from yaql.language import exceptions as yaql_exc

from ember.template.functions.base import (
    Function,
    FunctionError,
    ParseContext,
    ResolveContext,
    resolve,
)


# yaql has no type hints: these say what this module relies on.
class _Statement(Protocol):
    """A parsed expression."""

    def evaluate(self, data: collections.abc.Mapping[str, Any], context: object) -> Any: ...


class _Engine(Protocol):
    """Parses an expression, raising ``YaqlException`` when it is not valid yaql."""

    def __call__(self, expression: str) -> _Statement: ...


@functools.cache
def _engine(limit_iterators: int, memory_quota: int) -> _Engine:
    engine: _Engine = yaql.factory.YaqlFactory().create(
        options={"yaql.limitIterators": limit_iterators, "yaql.memoryQuota": memory_quota}
    )
    return engine


def _plain(value: Any) -> Any:
    """yaql answers with sets, tuples and frozen maps; templates want lists and maps."""
    if isinstance(value, collections.abc.Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


class Yaql(Function):
    """A function for executing a yaql expression."""

    amplifies = True

    def check(self, ctx: ParseContext) -> None:
        args = self.args
        if isinstance(args, Function):
            return
        if not isinstance(args, dict) or "expression" not in args:
            raise FunctionError(
                f'"{self.name}" syntax should be {{"{self.name}": '
                '{"expression": <string>, "data": <value>}}'
            )
        unknown = sorted(str(k) for k in args if k not in ("expression", "data"))
        if unknown:
            raise FunctionError(f'Unknown arguments to "{self.name}": {", ".join(unknown)}')
        expression = args["expression"]
        if isinstance(expression, str):
            self._parse(expression, 200, 10_000)
        elif not isinstance(expression, Function):
            raise FunctionError(f'The "expression" of "{self.name}" must be a string.')

    def _parse(self, expression: str, limit: int, quota: int) -> _Statement:
        try:
            return _engine(limit, quota)(expression)
        except yaql_exc.YaqlException as exc:
            raise FunctionError(f"Bad expression {exc}") from None

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, dict) or not isinstance(args.get("expression"), str):
            raise FunctionError(f'The "expression" of "{self.name}" must be a string.')
        statement = self._parse(args["expression"], ctx.yaql_limit_iterators, ctx.yaql_memory_quota)
        try:
            value = statement.evaluate({"data": args.get("data", {})}, yaql.create_context())
        except MemoryError:
            raise FunctionError("The expression used too much memory.") from None
        except Exception as exc:  # yaql's library raises anything: re.error, ZeroDivisionError...
            raise FunctionError(f"{type(exc).__name__}: {exc}") from None
        return _plain(value)
