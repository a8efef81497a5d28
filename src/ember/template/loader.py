"""Safe loading of templates and environments from YAML or JSON text.

YAML is read with the C parser when available. Dates stay strings (``2016-10-14`` is a
version, not a ``datetime``), and documents are refused when they are too large, nest too
deeply, or use aliases to expand far beyond their text (the "billion laughs").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from ember.common import errors, nesting

DEFAULT_MAX_SIZE = 524_288
MAX_DEPTH = nesting.MAX_DEPTH
# How many nodes a document may expand to through aliases, per byte of text. Honest
# documents expand at most a few times; bombs expand by orders of magnitude.
MAX_EXPANSION_PER_BYTE = 4
MIN_EXPANSION_BUDGET = 10_000

if TYPE_CHECKING:
    # The C loader, present when PyYAML is built with libyaml, offers the same composer
    # and safe-constructor methods as the pure-Python one, which is all this module uses.
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """Safe loader that keeps timestamps as strings and accepts ``str`` keys only as-is."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class TemplateLoadError(errors.InvalidRequest):
    msg_fmt = "%(message)s"
    # Heat's API parses the template itself and answers a plain bad request.
    shown_as = "HTTPBadRequest"


def _check_nodes(root: yaml.Node, budget: int) -> None:
    """Refuse deep nesting and alias bombs, without building the document."""
    expanded: dict[int, int] = {}
    # Iterative post-order walk: (node, depth, children_done)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise TemplateLoadError(f"Document is nested more than {MAX_DEPTH} levels deep.")
        ident = id(node)
        if done:
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(expanded[id(k)] + expanded[id(v)] for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total = 1 + sum(expanded[id(v)] for v in node.value)
            else:
                total = 1
            if total > budget:
                raise TemplateLoadError("Document expands to too many nodes through YAML aliases.")
            expanded[ident] = total
            continue
        if ident in expanded:
            continue
        if isinstance(node, yaml.ScalarNode):
            expanded[ident] = 1
            continue
        expanded[ident] = 0  # marks "in progress": a recursive alias reaches it again
        stack.append((node, depth, True))
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        for child in children:
            if id(child) in expanded and expanded[id(child)] == 0:
                raise TemplateLoadError("Document contains a recursive YAML alias.")
            stack.append((child, depth + 1, False))


def parse_text(text: str | bytes, *, what: str = "template", max_size: int | None = None) -> Any:
    """Load YAML or JSON text into plain Python data, refusing anything unsafe."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateLoadError(f"The {what} is not valid UTF-8 text.") from exc
    if not isinstance(text, str):  # e.g. a JSON list where a document was expected
        raise TemplateLoadError(f"The {what} is not a JSON object or YAML mapping.")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from a JSON "\ud800" escape
        raise TemplateLoadError(f"The {what} is not valid UTF-8 text.") from exc
    if max_size is not None and size > max_size:
        raise errors.RequestLimitExceeded(
            f"{what.capitalize()} size ({size} bytes) exceeds maximum "
            f"allowed size ({max_size} bytes)."
        )
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except RecursionError as exc:
            raise TemplateLoadError(
                f"Document is nested more than {MAX_DEPTH} levels deep."
            ) from exc
        except ValueError:
            data = _load_yaml(text, what)  # JSON-looking YAML flow mappings are valid too
        else:
            if nesting.nested_deeper_than(data, MAX_DEPTH):
                raise TemplateLoadError(f"Document is nested more than {MAX_DEPTH} levels deep.")
        return data
    return _load_yaml(text, what)


def _load_yaml(text: str, what: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # only anchored documents can hold aliases
            _check_nodes(node, max(MIN_EXPANSION_BUDGET, MAX_EXPANSION_PER_BYTE * len(text)))
        data = _build(loader, node, 1, what)
    except yaml.YAMLError as exc:
        raise TemplateLoadError(f"Error parsing {what}: {exc}") from exc
    except RecursionError as exc:
        raise TemplateLoadError(f"Document is nested more than {MAX_DEPTH} levels deep.") from exc
    except (TypeError, ValueError) as exc:  # e.g. unhashable mapping keys
        raise TemplateLoadError(f"Error parsing {what}: {exc}") from exc
    finally:
        loader.dispose()
    return data


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SCALARS = {
    "tag:yaml.org,2002:null": "construct_yaml_null",
    "tag:yaml.org,2002:bool": "construct_yaml_bool",
    "tag:yaml.org,2002:int": "construct_yaml_int",
    "tag:yaml.org,2002:float": "construct_yaml_float",
}


def _build(loader: _Loader, node: yaml.Node, depth: int, what: str) -> Any:
    """Build Python data from composed nodes: the common tags directly (much faster than
    PyYAML's generic constructor), anything else through the safe constructor itself, so
    the result is exactly what ``yaml.safe_load`` gives. Depth is checked on the way."""
    if depth > MAX_DEPTH:
        raise TemplateLoadError(f"Document is nested more than {MAX_DEPTH} levels deep.")
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag == _STR:
            return node.value
        method = _SCALARS.get(tag)
        if method is not None:
            return getattr(loader, method)(node)
    elif isinstance(node, yaml.SequenceNode) and tag == _SEQ:
        return [_build(loader, child, depth + 1, what) for child in node.value]
    elif isinstance(node, yaml.MappingNode) and tag == _MAP:
        if any(key.tag == _MERGE for key, _ in node.value):
            loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(loader, key_node, depth + 1, what)
            try:
                hash(key)
            except TypeError:
                raise TemplateLoadError(
                    f"Error parsing {what}: found an unhashable key "
                    f"at line {key_node.start_mark.line + 1}"
                ) from None
            out[key] = _build(loader, value_node, depth + 1, what)
        return out
    data = loader.construct_object(node, deep=True)
    if nesting.nested_deeper_than(data, MAX_DEPTH):
        raise TemplateLoadError(f"Document is nested more than {MAX_DEPTH} levels deep.")
    return data


def load_mapping(
    source: str | bytes | dict[str, Any], *, what: str = "template", max_size: int | None = None
) -> dict[str, Any]:
    """Load text (or take an already parsed object) that must be a mapping."""
    data = source if isinstance(source, dict) else parse_text(source, what=what, max_size=max_size)
    if what == "template" and not isinstance(data, dict):
        raise TemplateLoadError("The template is not a JSON object or YAML mapping.")
    if not isinstance(data, dict):
        raise TemplateLoadError(f"The {what} is not a JSON object or YAML mapping.")
    if isinstance(source, dict) and nesting.nested_deeper_than(data, MAX_DEPTH):
        raise TemplateLoadError(f"Document is nested more than {MAX_DEPTH} levels deep.")
    return data
