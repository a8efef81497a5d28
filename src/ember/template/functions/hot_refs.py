"""HOT functions that read parameters, resources, files and the parent resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ember.template.diagnostics import format_path
from ember.template.functions.base import (
    Function,
    FunctionError,
    ParseContext,
    ResolveContext,
    ValidationContext,
    reference_error,
    resolve,
)

# A nested stack's resources, as the attributes of the resource that owns the stack (a
# template resource or a group): ``resource.<name>`` is the nested resource's reference,
# ``resource.<name>.<attribute>`` its attribute.
MEMBER_PREFIX = "resource."


def member_of(attribute: str) -> str | None:
    """``resource.<name>`` of an attribute that reads a nested resource, else None."""
    if not attribute.startswith(MEMBER_PREFIX):
        return None
    parts = attribute.split(".", 2)
    return f"{parts[0]}.{parts[1]}" if len(parts) > 1 and parts[1] else None


def select_path(value: Any, path: list[Any], *, missing: Any) -> Any:
    """Follow map keys and list indices into ``value``; ``missing`` when the path fails."""
    for key in path:
        try:
            if isinstance(value, dict):
                value = value[key]
            elif isinstance(value, (list, str)):
                # A string is a sequence of characters to Heat's path lookups too.
                value = value[int(key)]
            else:
                return missing
        except (KeyError, IndexError, ValueError, TypeError, OverflowError):
            return missing
    return value


class GetParam(Function):
    """A function for resolving parameter references."""

    def _parts(self) -> tuple[Any, list[Any]]:
        if isinstance(self.args, str):
            return self.args, []
        if isinstance(self.args, list) and self.args:
            return self.args[0], self.args[1:]
        raise FunctionError(f'Function "{self.name}" must be a string or a non-empty list.')

    def check(self, ctx: ParseContext) -> None:
        name, _ = self._parts()
        if not isinstance(name, str):
            raise FunctionError(f'The parameter name given to "{self.name}" must be a string.')

    def validate(self, ctx: ValidationContext) -> None:
        name, _ = self._parts()
        if isinstance(name, str) and name not in ctx.parameters and not ctx.outputs:
            message = f"The Parameter ({name}) was not defined in template."
            if "properties" in self.path:
                # Heat's words for it, which clients look for.
                where = format_path(self.path)
                message = f"Property error: : {where}: : The Parameter ({name}) was not provided."
            ctx.diags.add(self.error_path(), message)

    def result(self, ctx: ResolveContext) -> Any:
        name, path = self._parts()
        if name not in ctx.parameters:
            raise FunctionError(f"The Parameter ({name}) was not provided.")
        value = ctx.parameters[name]
        if not path:
            return value
        return select_path(value, [resolve(p, ctx) for p in path], missing="")


class GetResource(Function):
    """A function for resolving resource references."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, str):
            raise FunctionError(f'Argument to "{self.name}" must be a resource name.')

    def dependencies(self) -> Iterator[str]:
        if isinstance(self.args, str):
            yield self.args

    def validate(self, ctx: ValidationContext) -> None:
        if self.args not in ctx.resources:
            ctx.diags.add(
                self.error_path(),
                f'The specified reference "{self.args}" (in {self.name}) is incorrect.',
                reference_error(ctx),
            )

    def result(self, ctx: ResolveContext) -> Any:
        return ctx.resources.reference(self.args)


class GetAtt(Function):
    """A function for resolving resource attributes."""

    # Versions differ: 2013-05-23 wants a literal attribute name; 2015-10-15 allows
    # the resource name alone, meaning every attribute.
    literal_attribute = False
    allow_all_attributes = False

    def _parts(self) -> tuple[Any, Any, list[Any]]:
        args = self.args
        minimum = 1 if self.allow_all_attributes else 2
        if not isinstance(args, list) or len(args) < minimum:
            want = "[resource_name] or " if self.allow_all_attributes else ""
            raise FunctionError(
                f'Arguments to "{self.name}" must be a list of the form '
                f"{want}[resource_name, attribute, (path), ...]"
            )
        return args[0], (args[1] if len(args) > 1 else None), args[2:]

    def check(self, ctx: ParseContext) -> None:
        resource, attribute, _ = self._parts()
        if not isinstance(resource, str):
            raise FunctionError(f'The resource name given to "{self.name}" must be a string.')
        if self.literal_attribute and not isinstance(attribute, str):
            raise FunctionError(f'The attribute name given to "{self.name}" must be a string.')
        if isinstance(attribute, (dict, list, int, float, bool)) and not isinstance(
            attribute, Function
        ):
            raise FunctionError(f'The attribute name given to "{self.name}" must be a string.')

    def dependencies(self) -> Iterator[str]:
        resource, _, _ = self._parts()
        yield resource
        yield from super().dependencies()

    def validate(self, ctx: ValidationContext) -> None:
        resource, attribute, _ = self._parts()
        if resource not in ctx.resources:
            ctx.diags.add(
                self.error_path(),
                f'The specified reference "{resource}" (in {self.name}) is incorrect.',
                reference_error(ctx),
            )
            return
        if isinstance(attribute, str):
            allowed = ctx.attributes_of(resource)
            if (
                allowed is not None
                and attribute not in allowed
                and member_of(attribute) not in allowed
            ):
                ctx.diags.add(
                    self.error_path(),
                    f"The Referenced Attribute ({resource} {attribute}) is incorrect.",
                )

    def result(self, ctx: ResolveContext) -> Any:
        resource, attribute, path = self._parts()
        if attribute is None:
            return ctx.resources.all_attributes(resource)
        attribute = resolve(attribute, ctx)
        if not isinstance(attribute, str):
            raise FunctionError("Attribute name must be a string.")
        if path and member_of(attribute) == attribute:
            # As in Heat, [owner, resource.<name>, attribute, ...] reads that attribute of
            # the nested resource, not a path into its reference.
            attribute, path = f"{attribute}.{resolve(path[0], ctx)}", path[1:]
        value = ctx.resources.attribute(resource, attribute)
        if not path:
            return value
        return select_path(value, [resolve(p, ctx) for p in path], missing=None)


class GetAttThenSelect(GetAtt):
    """A function for resolving resource attributes."""

    literal_attribute = True


class GetAttAllAttributes(GetAtt):
    """A function for resolving resource attributes."""

    allow_all_attributes = True


class GetFile(Function):
    """A function for including a file inline."""

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, str):
            raise FunctionError(f'Argument to "{self.name}" must be a string.')

    def validate(self, ctx: ValidationContext) -> None:
        if self.args not in ctx.files:
            ctx.diags.add(
                self.error_path(),
                f'No content found in the "files" section for {self.name} path: {self.args}',
            )

    def result(self, ctx: ResolveContext) -> Any:
        # Only the request's files map is read, never the server's disk.
        try:
            return ctx.files[self.args]
        except KeyError:
            raise FunctionError(
                f'No content found in the "files" section for {self.name} path: {self.args}'
            ) from None


class ResourceFacade(Function):
    """A function for retrieving data in a parent provider template."""

    KEYS = ("metadata", "deletion_policy", "update_policy")

    def check(self, ctx: ParseContext) -> None:
        if self.args not in self.KEYS:
            raise FunctionError(
                f'Incorrect arguments to "{self.name}" should be: '
                f"{self.name}: {'|'.join(self.KEYS)}"
            )

    def result(self, ctx: ResolveContext) -> Any:
        if ctx.facade is None:
            raise FunctionError(f'"{self.name}" is only available in a nested stack.')
        return ctx.facade.get(self.args)
