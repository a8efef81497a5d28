"""Condition functions (equals, not, and, or) and ``if``.

A condition argument is a boolean, a condition function, or the name of a condition in
the template's ``conditions`` section.
"""

from __future__ import annotations

from typing import Any

from ember.template.functions.base import (
    OMIT,
    Function,
    FunctionError,
    ParseContext,
    ResolveContext,
    ValidationContext,
    args_list,
    resolve,
    type_name,
)


def condition_value(value: Any, ctx: ResolveContext) -> bool:
    """The truth of one condition argument."""
    if isinstance(value, str):
        try:
            return ctx.conditions[value]
        except KeyError:
            raise FunctionError(f'Invalid condition name "{value}"') from None
    result = resolve(value, ctx)
    if not isinstance(result, bool):
        raise FunctionError(f"A condition must be a boolean, not {type_name(result)}")
    return result


class Equals(Function):
    """A function for comparing whether two values are equal."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, Function):
            args_list(self, 2)

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list) or len(args) != 2:
            raise FunctionError(f'Arguments to "{self.name}" must be a list of 2 items.')
        return args[0] == args[1]


class Not(Function):
    """A function that acts as a NOT operator on a condition."""

    def _arg(self) -> Any:
        # CloudFormation writes Fn::Not: [cond]; HOT writes not: cond.
        if self.name.startswith("Fn::"):
            if not isinstance(self.args, list) or len(self.args) != 1:
                raise FunctionError(f'Arguments to "{self.name}" must be a list of one condition.')
            return self.args[0]
        return self.args

    def check(self, ctx: ParseContext) -> None:
        arg = self._arg()
        if not isinstance(arg, (str, bool, Function)):
            raise FunctionError(
                f'Argument to "{self.name}" must be a condition name, boolean or '
                "condition function."
            )

    def result(self, ctx: ResolveContext) -> Any:
        return not condition_value(self._arg(), ctx)


class And(Function):
    """A function that acts as an AND operator on conditions."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, list) or len(self.args) < 2:
            raise FunctionError(
                f'Arguments to "{self.name}" must be a list of 2 or more conditions.'
            )
        for arg in self.args:
            if not isinstance(arg, (str, bool, Function)):
                raise FunctionError(
                    f'Each condition of "{self.name}" must be a condition name, boolean or '
                    "condition function."
                )

    def result(self, ctx: ResolveContext) -> Any:
        return all(condition_value(arg, ctx) for arg in self.args)


class Or(And):
    """A function that acts as an OR operator on conditions."""

    def result(self, ctx: ResolveContext) -> Any:
        return any(condition_value(arg, ctx) for arg in self.args)


class ConditionRef(Function):
    """A function for referencing a condition by name."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, str):
            raise FunctionError(f'Argument to "{self.name}" must be a condition name.')

    def result(self, ctx: ResolveContext) -> Any:
        return condition_value(self.args, ctx)


class If(Function):
    """A function to return corresponding value based on condition evaluation."""

    # From 2021-04-16 the false value may be left out: the enclosing item is removed.
    optional_false = False

    def check(self, ctx: ParseContext) -> None:
        args_list(self, 2 if self.optional_false else 3, 3)
        if not isinstance(self.args[0], (str, bool, Function, dict)):
            raise FunctionError(
                f'The condition of "{self.name}" must be a condition name, boolean or '
                "condition function."
            )

    def expand(self, ctx: ParseContext) -> Any:
        # Conditions are known before resources are parsed, so the unused branch (and its
        # references) disappears here, as in Heat.
        if ctx.evaluate_condition is None:
            return self
        try:
            chosen = ctx.evaluate_condition(self.args[0], (*self.error_path(), 0))
        except FunctionError as exc:
            ctx.diags.add(self.error_path(), str(exc))
            return self
        if chosen is None:
            return self
        return self._branch(chosen)

    def _branch(self, chosen: bool) -> Any:
        if chosen:
            return self.args[1]
        return self.args[2] if len(self.args) > 2 else OMIT

    def validate(self, ctx: ValidationContext) -> None:
        cond = self.args[0]
        if isinstance(cond, str) and cond not in ctx.conditions:
            ctx.diags.add(self.error_path(), f'Invalid condition name "{cond}"')

    def result(self, ctx: ResolveContext) -> Any:
        return resolve(self._branch(condition_value(self.args[0], ctx)), ctx)


class IfOptionalFalse(If):
    """A function to return corresponding value based on condition evaluation."""

    optional_false = True
