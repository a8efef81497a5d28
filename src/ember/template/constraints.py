"""Value constraints shared by parameters and resource properties.

Each constraint knows the value types it applies to and raises ``ConstraintError`` with
Heat's wording (or the template's ``description`` when it gives one).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

# A custom constraint checks a value and returns an error message, or None when valid.
CustomCheck = Callable[[Any], str | None]


class ConstraintError(ValueError):
    pass


def to_number(value: Any) -> int | float:
    """Heat's number rule: integers stay integers, anything else numeric is a float."""
    if isinstance(value, bool):
        raise ConstraintError(f"Value '{value}' is not a number.")
    if isinstance(value, (int, float)):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        pass
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConstraintError(f"Value '{value}' is not a number.") from None
    if not math.isfinite(number):
        raise ConstraintError(f"Value '{value}' is not a number.")
    return number


@dataclass(frozen=True)
class Constraint:
    description: str | None = field(default=None, kw_only=True)
    # Parameter types this constraint may be attached to.
    applies_to: ClassVar[frozenset[str]] = frozenset()

    def check(self, value: Any, custom: Mapping[str, CustomCheck] | None = None) -> None:
        # ``custom`` None means no checker is available (static validation): skip those.
        if custom is None and isinstance(self, CustomConstraint):
            return
        message = self._problem(value, custom or {})
        if message is not None:
            raise ConstraintError(self.description or message)

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The HOT form, as the resource type schema API shows it."""
        raise NotImplementedError


def _bounds(kind: str, low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"The {kind} must be in the range {low} to {high}."
    if low is not None:
        return f"The {kind} must be at least {low}."
    return f"The {kind} must be no greater than {high}."


@dataclass(frozen=True)
class Length(Constraint):
    # Bounds are whatever number the template wrote (``to_number`` keeps floats).
    min: int | float | None = None
    max: int | float | None = None
    applies_to = frozenset({"string", "comma_delimited_list", "json", "list", "map"})

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        try:
            size = len(value)
        except TypeError:
            return "The value has no length."
        if (self.min is not None and size < self.min) or (self.max is not None and size > self.max):
            return _bounds("length", self.min, self.max)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "length": {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
        }


@dataclass(frozen=True)
class Range(Constraint):
    min: int | float | None = None
    max: int | float | None = None
    applies_to = frozenset({"number", "integer"})

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        number = to_number(value)
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            return _bounds("value", self.min, self.max)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"range": {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}}


@dataclass(frozen=True)
class Modulo(Constraint):
    step: int | float = 1
    offset: int | float = 0
    applies_to = frozenset({"number", "integer"})

    def __post_init__(self) -> None:
        if self.step == 0:
            raise ConstraintError("step cannot be 0.")
        if abs(self.offset) >= abs(self.step):
            raise ConstraintError("offset must be smaller (by absolute value) than step.")
        if self.step * self.offset < 0:
            raise ConstraintError("step and offset must be both positive or both negative.")

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        number = to_number(value)
        if number % self.step != self.offset:
            return f"The value must be a multiple of {self.step} with an offset of {self.offset}."
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"modulo": {"step": self.step, "offset": self.offset}}


@dataclass(frozen=True)
class AllowedValues(Constraint):
    values: tuple[Any, ...] = ()
    applies_to = frozenset(
        {"string", "number", "comma_delimited_list", "boolean", "integer", "list"}
    )

    def _one(self, value: Any) -> bool:
        if isinstance(value, bool) or any(isinstance(v, bool) for v in self.values):
            return str(value).lower() in {str(v).lower() for v in self.values}
        if isinstance(value, (int, float)):
            numbers = set()
            for allowed in self.values:
                try:
                    numbers.add(to_number(allowed))
                except ConstraintError:
                    continue
            return value in numbers
        return str(value) in {str(v) for v in self.values}

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not self._one(item):
                return f'"{item}" is not an allowed value {list(self.values)}'
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"allowed_values": list(self.values)}


@dataclass(frozen=True)
class AllowedPattern(Constraint):
    pattern: str = ""
    # Compiled once by __post_init__; not an argument, and not part of equality or repr.
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    applies_to = frozenset({"string"})

    def __post_init__(self) -> None:
        try:
            with warnings.catch_warnings():  # e.g. FutureWarning "Possible nested set"
                warnings.simplefilter("ignore")
                object.__setattr__(self, "_regex", re.compile(self.pattern))
        except re.error as exc:
            raise ConstraintError(f'Invalid allowed_pattern "{self.pattern}": {exc}') from None

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        if not isinstance(value, str) or self._regex.fullmatch(value) is None:
            return f'"{value}" does not match pattern "{self.pattern}"'
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"allowed_pattern": self.pattern}


@dataclass(frozen=True)
class CustomConstraint(Constraint):
    name: str = ""
    applies_to = frozenset(
        {"string", "number", "comma_delimited_list", "json", "boolean", "integer", "list", "map"}
    )

    def _problem(self, value: Any, custom: Mapping[str, CustomCheck]) -> str | None:
        check = custom.get(self.name)
        if check is None:
            return f'"{value}" does not validate {self.name} (constraint not found)'
        problem = check(value)
        if problem is not None:
            return f'"{value}" does not validate {self.name}: {problem}'
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"custom_constraint": self.name}
