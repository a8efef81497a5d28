"""CloudFormation intrinsic functions (also offered by HOT 2013-05-23)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ember.common import errors
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
from ember.template.functions.hot_refs import GetAtt
from ember.template.functions.hot_strings import join_counted, replace_all, split_counted

NO_VALUE = "AWS::NoValue"


class Ref(Function):
    """A function for resolving parameters or resource references."""

    __slots__ = ("is_parameter", "unknown")

    def __init__(self, name: str, args: Any, path: tuple[Any, ...]) -> None:
        super().__init__(name, args, path)
        self.is_parameter = False
        # Neither a parameter nor a resource of the template: as in Heat, a reference to a
        # parameter that is not there.
        self.unknown = False

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, str):
            raise FunctionError(f'Argument to "{self.name}" must be a parameter or resource name.')
        # A parameter wins over a resource of the same name, as in Heat.
        self.is_parameter = self.args in ctx.parameter_names or self.args == NO_VALUE
        self.unknown = (
            not self.is_parameter
            and ctx.resource_names is not None
            and self.args not in ctx.resource_names
        )

    def dependencies(self) -> Iterator[str]:
        if not self.is_parameter and not self.unknown and isinstance(self.args, str):
            yield self.args

    def validate(self, ctx: ValidationContext) -> None:
        if self.is_parameter or (self.args in ctx.resources and not self.unknown):
            return
        # In an output, the output carries the error when it is shown, as in Heat.
        if not ctx.outputs:
            ctx.diags.add(
                self.error_path(),
                f'The specified reference "{self.args}" (in {self.name}) is incorrect.',
                errors.InvalidTemplateReference,
            )

    def result(self, ctx: ResolveContext) -> Any:
        if self.args == NO_VALUE:
            return OMIT
        if self.unknown:
            raise FunctionError(f"The Parameter ({self.args}) was not provided.")
        if self.is_parameter:
            return ctx.parameters[self.args]
        return ctx.resources.reference(self.args)


class CfnGetAtt(GetAtt):
    """A function for resolving resource attributes."""

    def _parts(self) -> tuple[Any, Any, list[Any]]:
        args = self.args
        if isinstance(args, str) and "." in args:  # the AWS short form "Res.Attr"
            resource, attribute = args.split(".", 1)
            return resource, attribute, []
        if not isinstance(args, list) or len(args) != 2:
            raise FunctionError(
                f'Arguments to "{self.name}" must be of the form [resource_name, attribute]'
            )
        return args[0], args[1], []


class CfnJoin(Function):
    """A function for joining strings."""

    amplifies = True

    def check(self, ctx: ParseContext) -> None:
        args = args_list(self, 2)
        if not isinstance(args[0], (str, Function)):
            raise FunctionError(f'Delimiter for "{self.name}" must be a string.')

    def result(self, ctx: ResolveContext) -> Any:
        delim, items = resolve(self.args, ctx)
        if not isinstance(delim, str):
            raise FunctionError(f'Delimiter for "{self.name}" must be a string.')
        if items is None:
            return ""
        if not isinstance(items, list):
            raise FunctionError(f'"{self.name}" must operate on a list, not {type_name(items)}')
        out = []
        for item in items:
            if item is None:
                item = ""
            if not isinstance(item, str):
                raise FunctionError(f"Items to join must be strings, not {type_name(item)}")
            out.append(item)
        return join_counted(delim, out, ctx.budget.tally())


class Select(Function):
    """A function for selecting an item from a list or map."""

    def check(self, ctx: ParseContext) -> None:
        args_list(self, 2)

    def result(self, ctx: ResolveContext) -> Any:
        index, collection = resolve(self.args, ctx)
        if collection == "":  # what other functions give while a value is not yet known
            return ""
        if isinstance(collection, str):  # may be serialised JSON
            try:
                collection = json.loads(collection)
            except ValueError as exc:
                raise FunctionError(f'"{self.name}": {exc}') from None
        if collection is None:
            return ""
        if isinstance(collection, dict):
            if not isinstance(index, str):
                raise FunctionError(
                    f'"{self.name}" index must be a string when selecting from a map'
                )
            return collection.get(index, "")
        if isinstance(collection, list):
            try:
                position = int(index)
            except (TypeError, ValueError, OverflowError):
                raise FunctionError(f'"{self.name}" index must be an integer for a list') from None
            return collection[position] if 0 <= position < len(collection) else ""
        raise FunctionError(
            f'"{self.name}" must select from a list or map, not {type_name(collection)}'
        )


class Split(Function):
    """A function for splitting strings."""

    amplifies = True

    def check(self, ctx: ParseContext) -> None:
        args_list(self, 2)

    def result(self, ctx: ResolveContext) -> Any:
        delim, text = resolve(self.args, ctx)
        if not isinstance(delim, str) or not delim:
            raise FunctionError(f'Delimiter for "{self.name}" must be a non-empty string.')
        if not isinstance(text, str):
            raise FunctionError(f'"{self.name}" can only split a string, not {type_name(text)}')
        return split_counted(text, delim, ctx.budget.tally())


class CfnReplace(Function):
    """A function for performing string substitutions."""

    amplifies = True

    def check(self, ctx: ParseContext) -> None:
        args = args_list(self, 2)
        if not isinstance(args[0], (dict, Function)):
            raise FunctionError(f'The first argument to "{self.name}" must be a map.')

    def result(self, ctx: ResolveContext) -> Any:
        mapping, text = resolve(self.args, ctx)
        if not isinstance(mapping, dict):
            raise FunctionError(f'The first argument to "{self.name}" must be a map.')
        if not isinstance(text, str):
            raise FunctionError(f'The second argument to "{self.name}" must be a string.')
        values = {}
        for key, value in mapping.items():
            if value is None:
                value = ""
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise FunctionError(f'"{self.name}" values must be strings or numbers')
            values[str(key)] = str(value)
        return replace_all(text, values, ctx.budget.tally())


class Base64(Function):
    """A placeholder function for converting to base64."""

    def result(self, ctx: ResolveContext) -> Any:
        value = resolve(self.args, ctx)
        if not isinstance(value, str):
            raise FunctionError(f'"{self.name}" argument must be a string, not {type_name(value)}')
        return value


class GetAZs(Function):
    """A function for retrieving the availability zones."""

    def result(self, ctx: ResolveContext) -> Any:
        resolve(self.args, ctx)
        return list(ctx.availability_zones)


class FindInMap(Function):
    """A function for resolving keys in the template mappings."""

    def check(self, ctx: ParseContext) -> None:
        args_list(self, 3)

    def validate(self, ctx: ValidationContext) -> None:
        name = self.args[0] if isinstance(self.args, list) and self.args else None
        if isinstance(name, str) and name not in ctx.mappings:
            ctx.diags.add(self.error_path(), f'The mapping "{name}" is not defined in Mappings.')

    def result(self, ctx: ResolveContext) -> Any:
        name, top, second = resolve(self.args, ctx)
        try:
            return ctx.mappings[name][top][second]
        except (KeyError, TypeError):
            raise FunctionError(
                f'"{self.name}" could not find [{name}, {top}, {second}] in Mappings'
            ) from None


# ".member.N.Key", with or without a prefix before it, as the AWS query API writes lists
# ("Parameters.member.1.ParameterKey").
_MEMBER = re.compile(r"^(?:.*\.)?member\.(\d+)\.(.+)$")


class MemberListToMap(Function):
    """A function to convert lists with enumerated keys and values to mapping."""

    def check(self, ctx: ParseContext) -> None:
        args = args_list(self, 3)
        if not isinstance(args[0], (str, Function)) or not isinstance(args[1], (str, Function)):
            raise FunctionError(f'Key and value names of "{self.name}" must be strings.')

    def result(self, ctx: ResolveContext) -> Any:
        key_name, value_name, members = resolve(self.args, ctx)
        if not isinstance(members, list):
            raise FunctionError(f'The third argument to "{self.name}" must be a list.')
        entries: dict[str, dict[str, str]] = {}
        for member in members:
            if not isinstance(member, str) or "=" not in member:
                raise FunctionError(f'Items of "{self.name}" must look like ".member.N.Key=value"')
            path, value = member.split("=", 1)
            match = _MEMBER.match(path)
            if match is None:
                raise FunctionError(f'Items of "{self.name}" must look like ".member.N.Key=value"')
            entries.setdefault(match.group(1), {})[match.group(2)] = value
        out = {}
        for entry in entries.values():
            if key_name in entry and value_name in entry:
                out[entry[key_name]] = entry[value_name]
        return out


class CfnResourceFacade(Function):
    """A function for retrieving data in a parent provider template."""

    KEYS = {
        "Metadata": "metadata",
        "DeletionPolicy": "deletion_policy",
        "UpdatePolicy": "update_policy",
    }

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, str) or self.args not in self.KEYS:
            raise FunctionError(
                f'Incorrect arguments to "{self.name}" should be: {", ".join(self.KEYS)}'
            )

    def result(self, ctx: ResolveContext) -> Any:
        if ctx.facade is None:
            raise FunctionError(f'"{self.name}" is only available in a nested stack.')
        return ctx.facade.get(self.KEYS[self.args])
