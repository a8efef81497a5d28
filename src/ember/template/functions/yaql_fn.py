"""The ``yaql`` function, evaluated by the yaql library with bounded work and memory.

yaql's own limits (``[yaql] limit_iterators`` and ``memory_quota``, as in Heat) bound the
collections an expression makes, not the work it does: ``range(0, 100000000).len()`` makes
none and takes many seconds. So an evaluation is also held to ``MAX_YAQL_STEPS`` lines of
Python run by yaql (counted by a trace function while it runs, so the same expression always
stops at the same point). Work done inside one call into C (a regular expression that
backtracks) is not counted.
"""

from __future__ import annotations

import collections.abc
import functools
import sys
from types import FrameType
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
from ember.template.functions.budget import TooLarge


# yaql has no type hints: these say what this module relies on.
class _Statement(Protocol):
    """A parsed expression."""

    def evaluate(self, data: collections.abc.Mapping[str, Any], context: object) -> Any: ...


class _Engine(Protocol):
    """Parses an expression, raising ``YaqlException`` when it is not valid yaql."""

    def __call__(self, expression: str) -> _Statement: ...


# A few tenths of a second of yaql's work; a pipeline of a few operations over a hundred
# elements needs a fraction of it.
MAX_YAQL_STEPS = 1_000_000


class _OutOfSteps(BaseException):
    """Raised into yaql's code by the step counter; a BaseException so that no ``except
    Exception`` of the library swallows it."""


class _Context(Protocol):
    def create_child_context(self) -> object: ...


@functools.cache
def _root_context() -> _Context:
    """yaql's standard library, made once (it takes tens of milliseconds)."""
    context: _Context = yaql.create_context()
    return context


def _evaluate(statement: _Statement, data: Any, steps: int) -> Any:
    """``statement`` on ``data``, raising ``_OutOfSteps`` once yaql has run ``steps`` lines."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        if count > steps:
            raise _OutOfSteps
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        return statement.evaluate({"data": data}, _root_context().create_child_context())
    finally:
        sys.settrace(previous)


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
            value = _evaluate(statement, args.get("data", {}), MAX_YAQL_STEPS)
        except _OutOfSteps:
            raise TooLarge(
                f"The expression would take more than {MAX_YAQL_STEPS} steps to compute."
            ) from None
        except MemoryError:
            raise FunctionError("The expression used too much memory.") from None
        except yaql_exc.CollectionTooLargeException:
            raise TooLarge(
                f"The expression would pass the limit of {ctx.yaql_limit_iterators} elements "
                "in a collection ([yaql] limit_iterators)."
            ) from None
        except yaql_exc.MemoryQuotaExceededException:
            raise TooLarge(
                f"The expression would pass the limit of {ctx.yaql_memory_quota} bytes "
                "([yaql] memory_quota)."
            ) from None
        except Exception as exc:  # yaql's library raises anything: re.error, ZeroDivisionError...
            raise FunctionError(f"{type(exc).__name__}: {exc}") from None
        return _plain(value)
