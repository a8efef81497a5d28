"""A Query API request's parameters: the query string and a form-encoded body, as the
AWS SDKs send them (``Parameters.member.1.ParameterKey=...``).

Everything is checked before an action sees it: text must be UTF-8 once percent-decoded, a
name may not be given twice with different values, there are at most ``MAX_FIELDS``
fields, and member lists are indexed ``1, 2, ...`` (gaps allowed, no zero, sign or
leading zeros). A refusal is an ``AwsError`` naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ember.api.cfn import faults

# More than any action takes: 200 parameters of three fields each, 50 tags of two, and the rest.
MAX_FIELDS = 1000
MAX_NAME = 256
MAX_MEMBERS = 1000
MEMBER = re.compile(r"^(?P<list>[A-Za-z]+)\.member\.(?P<index>[^.]*)(?:\.(?P<field>[A-Za-z]+))?$")
INDEX = re.compile(r"^[1-9][0-9]{0,3}$")
TRUE = ("true", "1")
FALSE = ("false", "0")


def parse_pairs(text: bytes | str, what: str) -> list[tuple[str, str]]:
    """``name=value&...`` decoded strictly: bad UTF-8 or too many fields is refused."""
    try:
        raw = text.decode("utf-8") if isinstance(text, bytes) else text
        return parse_qsl(
            raw,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise faults.MalformedQueryString(f"The {what} is not valid UTF-8.") from None
    except ValueError:
        raise faults.MalformedQueryString(
            f"The {what} has more than {MAX_FIELDS} parameters."
        ) from None


@dataclass(frozen=True)
class Query:
    """The parameters of one request, by name, each given once."""

    params: Mapping[str, str]

    @classmethod
    def of(cls, *sources: Sequence[tuple[str, str]]) -> Query:
        params: dict[str, str] = {}
        for pairs in sources:
            for name, value in pairs:
                if len(name) > MAX_NAME or not name.isprintable():
                    raise faults.InvalidQueryParameter(
                        f"Parameter name {name[:64]!r} is not valid."
                    )
                if name in params and params[name] != value:
                    raise faults.InvalidQueryParameter(
                        f"The parameter {name} was given more than once."
                    )
                params[name] = value
        if len(params) > MAX_FIELDS:
            raise faults.MalformedQueryString(f"More than {MAX_FIELDS} parameters.")
        return cls(params)

    def get(self, name: str) -> str | None:
        return self.params.get(name)

    def required(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise faults.MissingParameter(f"The request must contain the parameter {name}")
        return value

    def flag(self, name: str) -> bool | None:
        value = self.params.get(name)
        if value is None:
            return None
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise faults.ValidationError(
            f"Invalid value {value[:64]!r} for {name}: must be true or false."
        )

    def integer(self, name: str, low: int, high: int) -> int | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not re.fullmatch(r"[0-9]{1,10}", value) or not low <= int(value) <= high:
            raise faults.ValidationError(
                f"Invalid value {value[:64]!r} for {name}: must be an integer from {low} to {high}."
            )
        return int(value)

    def _indexed(self, name: str) -> list[tuple[int, str | None, str, str]]:
        """``(index, field, key, value)`` of every ``name.member.N[.F]`` parameter."""
        out = []
        for key, value in self.params.items():
            if not key.startswith(name + "."):
                continue
            match = MEMBER.match(key)
            if match is None or match["list"] != name:
                raise faults.InvalidQueryParameter(f"Parameter {key[:64]!r} is not valid.")
            if not INDEX.match(match["index"]) or int(match["index"]) > MAX_MEMBERS:
                raise faults.InvalidQueryParameter(
                    f"Parameter {key[:64]!r}: a member index is a number from 1 to {MAX_MEMBERS}."
                )
            out.append((int(match["index"]), match["field"], key, value))
        return sorted(out)

    def strings(self, name: str) -> list[str]:
        """The list ``name.member.N``, in index order."""
        values = []
        for _, field, key, value in self._indexed(name):
            if field is not None:
                raise faults.InvalidQueryParameter(f"Parameter {key[:64]!r} is not valid.")
            values.append(value)
        return values

    def maps(self, name: str, fields: Sequence[str]) -> list[dict[str, str]]:
        """The list of maps ``name.member.N.F`` (F one of ``fields``), in index order."""
        found: dict[int, dict[str, str]] = {}
        for index, field, key, value in self._indexed(name):
            if field is None or field not in fields:
                raise faults.InvalidQueryParameter(
                    f"Parameter {key[:64]!r}: a member of {name} has the fields "
                    f"{', '.join(fields)}."
                )
            found.setdefault(index, {})[field] = value
        return [found[i] for i in sorted(found)]
