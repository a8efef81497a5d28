"""HOT functions that build and transform lists and maps."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from ember.template.functions.base import (
    Function,
    FunctionError,
    ParseContext,
    ResolveContext,
    args_list,
    resolve,
    type_name,
)
from ember.template.functions.budget import Tally


def _substitute(template: Any, replacements: list[tuple[str, Any]], tally: Tally) -> Any:
    """Put each placeholder's value into keys and values of a resolved template; what the
    replacements add to strings is counted on ``tally`` before it is made."""
    if isinstance(template, str):
        for key, value in replacements:
            if template == key:
                return value  # a whole-value placeholder keeps the value's type
        for key, value in replacements:
            count = template.count(key)
            if count:
                if isinstance(value, (dict, list)):
                    tally.add(value)
                    value = json.dumps(value)
                text = "" if value is None else str(value)
                tally.grow(chars=count * (len(text) - len(key)))
                template = template.replace(key, text)
        return template
    if isinstance(template, dict):
        return {
            _substitute(k, replacements, tally): _substitute(v, replacements, tally)
            for k, v in template.items()
        }
    if isinstance(template, list):
        return [_substitute(v, replacements, tally) for v in template]
    return template


class _Seen:
    """Membership in O(1) for hashable values, by comparison for the others; the
    comparisons are counted on ``tally`` before they are made."""

    def __init__(self, values: Iterable[Any], tally: Tally) -> None:
        self.hashable: set[Any] = set()
        self.others: list[Any] = []
        self.tally = tally
        for value in values:
            self.add(value)

    def add(self, value: Any) -> None:
        if isinstance(value, Hashable):
            self.hashable.add(value)
        else:
            self.others.append(value)

    def __contains__(self, value: Any) -> bool:
        if isinstance(value, Hashable):
            # 1 == 1.0 == True in a set as in a list, so hashing agrees with ``in``.
            return value in self.hashable
        self.tally.grow(len(self.others))
        return value in self.others


class Repeat(Function):
    """A function for iterating over a list of items."""

    amplifies = True

    # From 2016-10-14 a for_each value may be a map, iterating its keys.
    maps_allowed = False
    # From 2017-09-01 ``permutations: false`` walks the lists side by side.
    permutations_allowed = False

    def check(self, ctx: ParseContext) -> None:
        args = self.args
        if isinstance(args, Function):
            return
        allowed = {"for_each", "template"} | (
            {"permutations"} if self.permutations_allowed else set()
        )
        if not isinstance(args, dict) or not {"for_each", "template"} <= set(args):
            raise FunctionError(
                f'"{self.name}" syntax should be {{"{self.name}": '
                '{"for_each": {<var>: <list>}, "template": <value>}}'
            )
        unknown = sorted(str(k) for k in set(args) - allowed)
        if unknown:
            raise FunctionError(f'Unknown arguments to "{self.name}": {", ".join(unknown)}')
        for_each = args["for_each"]
        if not isinstance(for_each, (dict, Function)) or (
            isinstance(for_each, dict) and not for_each
        ):
            raise FunctionError(
                f'The "for_each" argument to "{self.name}" must be a non-empty map.'
            )
        if isinstance(for_each, dict):
            for key, value in for_each.items():
                if not isinstance(key, str):
                    raise FunctionError(f'"{self.name}" placeholders must be strings.')
                if not self._iterable_ok(value, literal=True):
                    raise FunctionError(
                        f'The values of the "for_each" argument to "{self.name}" must be lists'
                        + (" or maps" if self.maps_allowed else "")
                    )
        perms = args.get("permutations", True)
        if not isinstance(perms, (bool, Function)):
            raise FunctionError(f'"permutations" of "{self.name}" must be a boolean.')

    def _iterable_ok(self, value: Any, *, literal: bool = False) -> bool:
        if literal and isinstance(value, Function):
            return True
        return isinstance(value, list) or (self.maps_allowed and isinstance(value, dict))

    def result(self, ctx: ResolveContext) -> Any:
        args = self.args if isinstance(self.args, dict) else resolve(self.args, ctx)
        if not isinstance(args, dict):
            raise FunctionError(f'Arguments to "{self.name}" must be a map.')
        for_each = resolve(args.get("for_each"), ctx)
        if not isinstance(for_each, dict) or not for_each:
            raise FunctionError(
                f'The "for_each" argument to "{self.name}" must be a non-empty map.'
            )
        keys = list(for_each)
        lists = []
        for key in keys:
            value = for_each[key]
            if not self._iterable_ok(value):
                raise FunctionError(
                    f'The value of "{key}" in "for_each" must be a list'
                    + (" or map" if self.maps_allowed else "")
                    + f", not {type_name(value)}"
                )
            lists.append(list(value))
        permutations = resolve(args.get("permutations", True), ctx)
        if not isinstance(permutations, bool):
            raise FunctionError(f'"permutations" of "{self.name}" must be a boolean.')
        combos: Iterator[tuple[Any, ...]]
        if permutations:
            combos = itertools.product(*lists)
        else:
            if any(isinstance(for_each[key], dict) for key in keys):
                raise FunctionError(
                    f'The values of the "for_each" argument to "{self.name}" must be lists '
                    "when permutations is false."
                )
            if len({len(lst) for lst in lists}) > 1:
                raise FunctionError(
                    f'Each "for_each" list of "{self.name}" must have the same length '
                    "when permutations is false."
                )
            combos = zip(*lists, strict=True)
        # Refused before anything is made: every combination is at least one item.
        count = math.prod(map(len, lists)) if permutations else len(lists[0])
        ctx.budget.need(items=count)
        template = resolve(args.get("template"), ctx)
        tally = ctx.budget.tally()
        out = []
        for combo in combos:
            item = _substitute(template, list(zip(keys, combo, strict=True)), tally)
            tally.add(item)
            out.append(item)
        return out


class RepeatWithMaps(Repeat):
    """A function for iterating over a list of items."""

    maps_allowed = True


class RepeatWithPermutations(RepeatWithMaps):
    """A function for iterating over a list of items."""

    permutations_allowed = True


class MapMerge(Function):
    """A function for merging maps."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, (list, Function)):
            raise FunctionError(f'Arguments to "{self.name}" must be a list of maps.')

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list):
            raise FunctionError(f'Arguments to "{self.name}" must be a list of maps.')
        merged: dict[Any, Any] = {}
        for item in args:
            if item is None:
                continue
            if not isinstance(item, dict):
                raise FunctionError(f"Items to merge must be maps, not {type_name(item)}")
            merged.update(item)
        return merged


class MapReplace(Function):
    """A function for performing substitutions on maps."""

    def check(self, ctx: ParseContext) -> None:
        if isinstance(self.args, Function):
            return
        args = args_list(self, 2)
        repl = args[1]
        if isinstance(repl, dict):
            unknown = sorted(str(k) for k in repl if k not in ("keys", "values"))
            if unknown:
                raise FunctionError(
                    f'Incorrect arguments to "{self.name}": unknown key(s) {", ".join(unknown)}; '
                    'expected "keys" and/or "values"'
                )
        elif not isinstance(repl, Function):
            raise FunctionError(f'The second argument to "{self.name}" must be a map.')

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list) or len(args) != 2:
            raise FunctionError(f'Arguments to "{self.name}" must be a list of 2 items.')
        in_map, repl = args
        if not isinstance(in_map, dict):
            raise FunctionError(f'The first argument to "{self.name}" must be a map.')
        if not isinstance(repl, dict):
            raise FunctionError(f'The second argument to "{self.name}" must be a map.')
        keys, values = repl.get("keys") or {}, repl.get("values") or {}
        if not isinstance(keys, dict) or not isinstance(values, dict):
            raise FunctionError(f'"keys" and "values" of "{self.name}" must be maps.')
        out: dict[Any, Any] = {}
        for k, v in in_map.items():
            key = keys.get(k, k)
            if key != k and key in in_map:
                raise FunctionError(f"key replacement {key} collides with a key in the input map")
            if key in out:
                raise FunctionError(f"key replacement {key} collides with a key in the output map")
            try:
                out[key] = values.get(v, v)
            except TypeError:  # unhashable values are never replaced
                out[key] = v
        return out


class Filter(Function):
    """A function for filtering out values from lists."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, Function):
            args_list(self, 2)

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list) or len(args) != 2:
            raise FunctionError(f'Arguments to "{self.name}" must be a list of 2 items.')
        remove, sequence = args
        if remove is None:
            remove = []
        if not isinstance(remove, list) or not isinstance(sequence, list):
            raise FunctionError(f'Both arguments to "{self.name}" must be lists.')
        removed = _Seen(remove, ctx.budget.tally())
        return [item for item in sequence if item not in removed]


class ListConcat(Function):
    """A function for extending lists."""

    amplifies = True

    unique = False

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, (list, Function)):
            raise FunctionError(f'Arguments to "{self.name}" must be a list of lists.')

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list):
            raise FunctionError(f'Arguments to "{self.name}" must be a list of lists.')
        for item in args:
            if item is not None and not isinstance(item, list):
                raise FunctionError(f"Items to concatenate must be lists, not {type_name(item)}")
        lists = [item for item in args if item is not None]
        ctx.budget.need(items=sum(map(len, lists)))
        out: list[Any] = []
        seen = _Seen((), ctx.budget.tally())
        for value in itertools.chain.from_iterable(lists):
            if not self.unique:
                out.append(value)
            elif value not in seen:
                seen.add(value)
                out.append(value)
        return out


class ListConcatUnique(ListConcat):
    """A function for extending lists with unique items."""

    unique = True


class Contains(Function):
    """A function for checking whether specific value is in sequence."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, Function):
            args_list(self, 2)

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list) or len(args) != 2:
            raise FunctionError(f'Arguments to "{self.name}" must be a list of 2 items.')
        value, sequence = args
        if not isinstance(sequence, (list, str, dict)):
            raise FunctionError(f'"{self.name}" needs a list, map or string to look in.')
        try:
            return value in sequence
        except TypeError:
            return False
