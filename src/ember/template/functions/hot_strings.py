"""HOT functions that build and take apart strings."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib import parse as urlparse

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

# Algorithms hashlib guarantees everywhere; the shake family needs a length and is left out.
DIGEST_ALGORITHMS = tuple(sorted(a for a in hashlib.algorithms_guaranteed if "shake" not in a))


def _longest_first(keys: Any) -> list[str]:
    """Longest first; keys of equal length in lexical order, as Heat does."""
    return sorted(sorted(keys), key=len, reverse=True)


def replace_all(
    text: str, mapping: dict[str, str], tally: Tally, found: set[str] | None = None
) -> str:
    """Replace every key, longest first, never touching text a replacement inserted.

    ``found`` collects the keys that were actually replaced somewhere. What the replacements
    add is counted on ``tally`` before the text is made."""
    keys = _longest_first(mapping)
    tally.grow(1, len(text))

    def go(part: str, remaining: list[str]) -> str:
        if not remaining:
            return part
        key, rest = remaining[0], remaining[1:]
        count = part.count(key)
        if count == 0:
            return go(part, rest)
        if found is not None:
            found.add(key)
        tally.grow(chars=count * (len(mapping[key]) - len(key)))
        return mapping[key].join(go(piece, rest) for piece in part.split(key))

    return go(text, [k for k in keys if k])


def join_counted(delim: str, items: list[str], tally: Tally) -> str:
    """``delim.join(items)``, counted before it is made."""
    tally.grow(1, sum(map(len, items)) + len(delim) * max(len(items) - 1, 0))
    return delim.join(items)


def split_counted(text: str, delim: str, tally: Tally) -> list[str]:
    """``text.split(delim)``, its pieces counted before they are made."""
    tally.grow(text.count(delim) + 2, len(text))
    return text.split(delim)


class Replace(Function):
    """A function for performing string substitutions."""

    amplifies = True

    json_values = False
    strict = False
    very_strict = False

    def check(self, ctx: ParseContext) -> None:
        args = self.args
        if isinstance(args, Function):
            return
        if not isinstance(args, dict) or set(args) - {"template", "params"} or "params" not in args:
            raise FunctionError(
                f'"{self.name}" syntax should be {{"{self.name}": '
                '{"template": <string>, "params": <map>}}'
            )
        if "template" not in args:
            raise FunctionError(f'"{self.name}" is missing the "template" argument.')
        tmpl, params = args["template"], args["params"]
        if not isinstance(tmpl, (str, Function)):
            raise FunctionError(f'"template" parameter of "{self.name}" must be a string.')
        if not isinstance(params, (dict, Function)):
            raise FunctionError(f'"params" parameter of "{self.name}" must be a map.')

    def _value(self, key: str, value: Any, tally: Tally) -> str:
        if value is None:
            if self.very_strict:
                raise FunctionError(
                    f'"{self.name}" has an undefined or empty value for param {key}'
                )
            return ""
        if isinstance(value, (str, int, float)):  # bool too: Heat gives "True"/"False"
            text = str(value)
        elif self.json_values and isinstance(value, (dict, list)):
            if self.very_strict and not value:
                raise FunctionError(
                    f'"{self.name}" has an undefined or empty value for param {key}'
                )
            tally.add(value)
            text = json.dumps(value, sort_keys=True)
        else:
            allowed = (
                "strings, numbers, maps or lists" if self.json_values else "strings or numbers"
            )
            raise FunctionError(f'"{self.name}" params must be {allowed}, not {type_name(value)}')
        if self.very_strict and text == "":
            raise FunctionError(f'"{self.name}" has an undefined or empty value for param {key}')
        return text

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, dict):
            raise FunctionError(f'Arguments to "{self.name}" must be a map.')
        tmpl, params = args.get("template"), args.get("params")
        if not isinstance(tmpl, str):
            raise FunctionError(f'"template" parameter of "{self.name}" must be a string.')
        if not isinstance(params, dict):
            raise FunctionError(f'"params" parameter of "{self.name}" must be a map.')
        tally = ctx.budget.tally()
        mapping = {str(k): self._value(str(k), v, tally) for k, v in params.items()}
        found: set[str] = set()
        text = replace_all(tmpl, mapping, ctx.budget.tally(), found)
        if self.strict:
            missing = _longest_first(k for k in mapping if k not in found)
            if missing:
                raise FunctionError(
                    "The following params were not found in the template: " + ",".join(missing)
                )
        return text


class ReplaceJson(Replace):
    """A function for performing string substitutions."""

    json_values = True


class ReplaceStrict(ReplaceJson):
    """A function for performing string substitutions."""

    strict = True


class ReplaceVeryStrict(ReplaceStrict):
    """A function for performing string substitutions."""

    very_strict = True


class Join(Function):
    """A function for joining strings."""

    amplifies = True

    several_lists = False

    def check(self, ctx: ParseContext) -> None:
        if isinstance(self.args, Function):
            return
        maximum = None if self.several_lists else 2
        if (
            not isinstance(self.args, list)
            or len(self.args) < 2
            or (maximum is not None and len(self.args) > maximum)
        ):
            form = "[delimiter, list, ...]" if self.several_lists else "[delimiter, list]"
            raise FunctionError(f'Arguments to "{self.name}" must be of the form {form}')
        if not isinstance(self.args[0], (str, Function)):
            raise FunctionError(f'Delimiter for "{self.name}" must be a string.')

    def _item(self, item: Any, tally: Tally) -> str:
        if item is None:
            return ""
        if isinstance(item, str):
            return item
        if self.several_lists and isinstance(item, (dict, list)):
            tally.add(item)
            return json.dumps(item, sort_keys=True)
        want = "string, map or list" if self.several_lists else "strings"
        raise FunctionError(f"Items to join must be {want}, not {type_name(item)}")

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list) or len(args) < 2:
            raise FunctionError(f'Arguments to "{self.name}" must be a list.')
        delim, lists = args[0], args[1:]
        if not isinstance(delim, str):
            raise FunctionError(f'Delimiter for "{self.name}" must be a string.')
        items: list[str] = []
        serialised = ctx.budget.tally()
        for lst in lists:
            if lst is None:
                continue
            if not isinstance(lst, list):
                raise FunctionError(f'"{self.name}" must operate on a list, not {type_name(lst)}')
            items.extend(self._item(i, serialised) for i in lst)
        return join_counted(delim, items, ctx.budget.tally())


class JoinMultiple(Join):
    """A function for joining one or more lists of strings."""

    several_lists = True


class StrSplit(Function):
    """A function for splitting delimited strings into a list."""

    amplifies = True

    def check(self, ctx: ParseContext) -> None:
        if not isinstance(self.args, Function):
            args_list(self, 2, 3)

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, list) or not 2 <= len(args) <= 3:
            raise FunctionError(f'Arguments to "{self.name}" must be [delimiter, string, (index)]')
        delim, text = args[0], args[1]
        if not isinstance(delim, str) or not delim:
            raise FunctionError(f'Delimiter for "{self.name}" must be a non-empty string.')
        if not isinstance(text, str):
            raise FunctionError(f'"{self.name}" can only split a string, not {type_name(text)}')
        parts = split_counted(text, delim, ctx.budget.tally())
        if len(args) == 2:
            return parts
        try:
            index = int(args[2])
        except (TypeError, ValueError, OverflowError):
            raise FunctionError(f'Index to "{self.name}" must be an integer.') from None
        if not 0 <= index < len(parts):
            raise FunctionError(
                f'Incorrect index to "{self.name}" should be between 0 and {len(parts) - 1}'
            )
        return parts[index]


class Digest(Function):
    """A function for performing digest operations."""

    def check(self, ctx: ParseContext) -> None:
        args = args_list(self, 2)
        algorithm = args[0]
        if isinstance(algorithm, str) and algorithm.lower() not in DIGEST_ALGORITHMS:
            raise FunctionError(
                f'Algorithm must be one of {", ".join(DIGEST_ALGORITHMS)}, not "{algorithm}"'
            )

    def result(self, ctx: ResolveContext) -> Any:
        algorithm, value = resolve(self.args, ctx)
        if not isinstance(algorithm, str) or algorithm.lower() not in DIGEST_ALGORITHMS:
            raise FunctionError(f"Algorithm must be one of {', '.join(DIGEST_ALGORITHMS)}")
        if not isinstance(value, str):
            raise FunctionError(f'"{self.name}" can only hash a string, not {type_name(value)}')
        return hashlib.new(algorithm.lower(), value.encode("utf-8")).hexdigest()


class MakeURL(Function):
    """A function for building a URL from its parts."""

    KEYS = ("scheme", "username", "password", "host", "port", "path", "query", "fragment")

    def check(self, ctx: ParseContext) -> None:
        if isinstance(self.args, Function):
            return
        if not isinstance(self.args, dict):
            raise FunctionError(f'Arguments to "{self.name}" must be a map.')
        unknown = sorted(str(k) for k in self.args if k not in self.KEYS)
        if unknown:
            raise FunctionError(f'Unknown arguments to "{self.name}": {", ".join(unknown)}')
        port = self.args.get("port")
        if port is not None and port != "" and not isinstance(port, Function):
            self._port(port)  # a literal port is checked before anything is created, as in Heat

    @staticmethod
    def _port(port: Any) -> int:
        try:
            port_num = int(port)
        except (TypeError, ValueError, OverflowError):
            raise FunctionError(f'Invalid URL port "{port}"') from None
        if not 1 <= port_num <= 65535:
            raise FunctionError(f"Invalid URL port {port_num}")
        return port_num

    def result(self, ctx: ResolveContext) -> Any:
        args = resolve(self.args, ctx)
        if not isinstance(args, dict):
            raise FunctionError(f'Arguments to "{self.name}" must be a map.')

        def text(key: str) -> str:
            value = args.get(key)
            if value is None:
                return ""
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise FunctionError(f'"{key}" of "{self.name}" must be a string.')
            return str(value)

        scheme = text("scheme")
        if ":" in scheme:
            raise FunctionError('URL "scheme" should not contain ":"')
        netloc = ""
        username, password = text("username"), text("password")
        if username or password:
            netloc = urlparse.quote(username, safe="")
            if password:
                netloc += ":" + urlparse.quote(password, safe="")
            netloc += "@"
        host = text("host")
        if host.startswith("[") and host.endswith("]"):  # an IPv6 address already bracketed
            host = host[1:-1]
        host = urlparse.quote(host, safe=":")
        netloc += f"[{host}]" if ":" in host else host
        port = args.get("port")
        if port is not None and port != "":
            netloc += f":{self._port(port)}"
        query = args.get("query") or {}
        if not isinstance(query, dict):
            raise FunctionError(f'"query" of "{self.name}" must be a map.')
        return urlparse.urlunsplit(
            (
                scheme,
                netloc,
                urlparse.quote(text("path")),
                urlparse.urlencode(query).replace("%2F", "/"),
                urlparse.quote(text("fragment")),
            )
        )
