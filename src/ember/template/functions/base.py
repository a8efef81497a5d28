"""The machinery shared by every intrinsic function.

A template snippet is parsed once into plain data with ``Function`` objects where a
function is called. A function can say which resources it depends on (``dependencies``)
without computing anything, check its references statically (``validate``), and compute its
value (``result``) against a ``ResolveContext`` that the engine supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ember.common import errors
from ember.template.diagnostics import Diagnostics, Path, format_path
from ember.template.functions.budget import Budget, TooLarge


class FunctionError(ValueError):
    """A function was called wrongly; the caller adds the path."""


class ResolutionError(errors.StackValidationFailed):
    """A function failed while computing its value; names where it is."""

    def __init__(self, path: Path, name: str, message: str) -> None:
        self.path = (*path, name)
        self.detail = message
        super().__init__(f"{format_path(self.path)}: {message}")


class ResultTooLarge(ResolutionError):
    """A function would have made more than its evaluation's ``Budget`` allows."""


class _Omit:
    """Marks a value removed by a two-argument ``if``: its container drops it."""

    _instance: ClassVar[_Omit | None] = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()


class ResourceResolver(Protocol):
    """How functions see resources; the engine implements it."""

    def reference(self, name: str) -> Any:
        """The reference id of a resource (``get_resource``/``Ref``)."""

    def attribute(self, name: str, attribute: str) -> Any:
        """One attribute's value."""

    def all_attributes(self, name: str) -> dict[str, Any]:
        """Every attribute of a resource (``get_attr`` with only a resource name)."""


class NoResources:
    """A resolver for contexts without resources (parameters, conditions, previews)."""

    def reference(self, name: str) -> Any:
        return None

    def attribute(self, name: str, attribute: str) -> Any:
        return None

    def all_attributes(self, name: str) -> dict[str, Any]:
        return {}


@dataclass(slots=True)
class ResolveContext:
    parameters: Mapping[str, Any] = field(default_factory=dict)
    resources: ResourceResolver = field(default_factory=NoResources)
    files: Mapping[str, str] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    facade: Mapping[str, Any] | None = None
    availability_zones: Sequence[str] = ("nova",)
    yaql_limit_iterators: int = 200
    yaql_memory_quota: int = 10_000
    # What the functions of this evaluation may still make; shared by everything resolved
    # with this context.
    budget: Budget = field(default_factory=Budget)


@dataclass(slots=True)
class ValidationContext:
    """What static checks may know: the names in the template and the types' attributes."""

    resources: Mapping[str, Any]
    parameters: frozenset[str]
    files: Mapping[str, str]
    mappings: Mapping[str, Any]
    # Allowed attribute names of a resource, or None when any name is allowed.
    attributes_of: Callable[[str], frozenset[str] | None]
    diags: Diagnostics
    conditions: frozenset[str] = frozenset()
    nested: bool = False
    # Checking outputs: an output that cannot be resolved carries its error when it is,
    # so a parameter the template does not declare is not refused up front.
    outputs: bool = False


def reference_error(ctx: ValidationContext) -> type[errors.InvalidRequest]:
    """The error a reference to no resource is: in a resource, Heat's own
    InvalidTemplateReference; in an output, a validation failure as Heat's."""
    return errors.StackValidationFailed if ctx.outputs else errors.InvalidTemplateReference


@dataclass(slots=True)
class ParseContext:
    functions: Mapping[str, type[Function]]
    diags: Diagnostics
    parameter_names: frozenset[str] = frozenset()
    # Every resource the template names (None: not known here, as in conditions).
    resource_names: frozenset[str] | None = None
    # Evaluates a condition argument while parsing so ``if`` can pick its branch; returns
    # None when the value cannot be known yet.
    evaluate_condition: Callable[[Any, Path], bool | None] | None = None


class Function:
    """Base of every intrinsic function. The first docstring line is its API description."""

    __slots__ = ("args", "name", "path")

    # The result may be far larger than the arguments (``repeat``, the joins, splits and
    # replacements): validation computes what it can of such calls, to refuse now what
    # would be too large when computed for real.
    amplifies: ClassVar[bool] = False

    def __init__(self, name: str, args: Any, path: Path) -> None:
        self.name = name
        self.args = args
        self.path = path

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def check(self, ctx: ParseContext) -> None:
        """Check the shape of the arguments; raise ``FunctionError``."""

    def expand(self, ctx: ParseContext) -> Any:
        """Replace this call while parsing (macros); the default keeps it."""
        return self

    def dependencies(self) -> Iterator[str]:
        yield from dependencies(self.args)

    def validate(self, ctx: ValidationContext) -> None:
        """Check references statically; add problems to ``ctx.diags``."""

    def result(self, ctx: ResolveContext) -> Any:
        raise NotImplementedError

    def error_path(self) -> Path:
        return (*self.path, self.name)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.name == other.name and self.args == other.args

    def __hash__(self) -> int:
        return hash((type(self), self.name))

    def __repr__(self) -> str:
        return f"{{{self.name!r}: {self.args!r}}}"

    def to_snippet(self) -> Any:
        return {self.name: to_snippet(self.args)}


class Removed(Function):
    """A function removed from this template version."""

    def check(self, ctx: ParseContext) -> None:
        raise FunctionError(
            f"The function {self.name} is not supported in this version of the template."
        )


class Invalid(Function):
    """A call whose arguments were rejected while parsing (the problem is already recorded).

    It stands in for the call so that dependencies, validation and resolution never run the
    function's own code on arguments it refused; computing it reports the same problem.
    """

    __slots__ = ("error",)

    def __init__(self, name: str, args: Any, path: Path, error: str) -> None:
        super().__init__(name, args, path)
        self.error = error

    def result(self, ctx: ResolveContext) -> Any:
        raise FunctionError(self.error)


def parse(snippet: Any, ctx: ParseContext, path: Path = ()) -> Any:
    """Turn function calls in a snippet into ``Function`` objects, recording problems."""
    if isinstance(snippet, dict):
        if len(snippet) == 1:
            ((key, value),) = snippet.items()
            fn_class = ctx.functions.get(key) if isinstance(key, str) else None
            if fn_class is not None:
                args = parse(value, ctx, (*path, key))
                fn = fn_class(key, args, path)
                try:
                    fn.check(ctx)
                except FunctionError as exc:
                    ctx.diags.add((*path, key), str(exc))
                    return Invalid(key, args, path, str(exc))
                return fn.expand(ctx)
        # An item whose value a two-argument ``if`` removed is left out, as if not written.
        parsed = ((k, parse(v, ctx, (*path, k))) for k, v in snippet.items())
        return {k: v for k, v in parsed if v is not OMIT}
    if isinstance(snippet, list):
        items = (parse(v, ctx, (*path, i)) for i, v in enumerate(snippet))
        return [v for v in items if v is not OMIT]
    return snippet


def resolve(snippet: Any, ctx: ResolveContext) -> Any:
    """Compute the value of a parsed snippet."""
    if isinstance(snippet, Function):
        try:
            value = snippet.result(ctx)
            ctx.budget.charge(value)
            return value
        except TooLarge as exc:
            raise ResultTooLarge(snippet.path, snippet.name, str(exc)) from None
        except FunctionError as exc:
            raise ResolutionError(snippet.path, snippet.name, str(exc)) from None
        except (TypeError, KeyError, IndexError, AttributeError) as exc:
            raise ResolutionError(
                snippet.path, snippet.name, f"{type(exc).__name__}: {exc}"
            ) from None
    if isinstance(snippet, dict):
        out = {}
        for k, v in snippet.items():
            value = resolve(v, ctx)
            if value is not OMIT:
                out[k] = value
        return out
    if isinstance(snippet, list):
        return [value for value in (resolve(v, ctx) for v in snippet) if value is not OMIT]
    return snippet


def dependencies(snippet: Any) -> Iterator[str]:
    """Names of the resources a snippet refers to."""
    if isinstance(snippet, Function):
        yield from snippet.dependencies()
    elif isinstance(snippet, dict):
        for v in snippet.values():
            yield from dependencies(v)
    elif isinstance(snippet, list):
        for v in snippet:
            yield from dependencies(v)


def functions_in(snippet: Any) -> Iterator[Function]:
    """Every function call in a snippet, outermost first."""
    if isinstance(snippet, Function):
        yield snippet
        yield from functions_in(snippet.args)
    elif isinstance(snippet, dict):
        for v in snippet.values():
            yield from functions_in(v)
    elif isinstance(snippet, list):
        for v in snippet:
            yield from functions_in(v)


def validate(snippet: Any, ctx: ValidationContext) -> None:
    for fn in functions_in(snippet):
        fn.validate(ctx)


def amplifies(snippet: Any) -> bool:
    """True when a snippet calls a function whose result may be far larger than its
    arguments: computing it may take a while (within its budget)."""
    return any(fn.amplifies for fn in functions_in(snippet))


def is_static(snippet: Any) -> bool:
    """True when a snippet holds no function call."""
    return next(functions_in(snippet), None) is None


def to_snippet(value: Any) -> Any:
    """The template text form of a parsed snippet."""
    if isinstance(value, Function):
        return value.to_snippet()
    if isinstance(value, dict):
        return {k: to_snippet(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_snippet(v) for v in value]
    return value


def args_list(fn: Function, minimum: int, maximum: int | None = None) -> list[Any]:
    """The arguments as a list of a length within bounds, or a clear error."""
    args = fn.args
    maximum = minimum if maximum is None else maximum
    if not isinstance(args, list) or not minimum <= len(args) <= maximum:
        if minimum == maximum:
            want = f"a list of {minimum} items"
        else:
            want = f"a list of {minimum} to {maximum} items"
        raise FunctionError(f'Arguments to "{fn.name}" must be {want}.')
    return args


def type_name(value: Any) -> str:
    return {
        dict: "map",
        list: "list",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)
