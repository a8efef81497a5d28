"""``NextToken``: where the next page of a listing starts, opaque to the client.

A token holds the action and stack it continues and the engine's keyset marker (the id of
the last item shown), as URL-safe base64 JSON. A token that does not decode, or belongs to
another listing, is refused rather than read as the start.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from ember.api.cfn import faults

MAX_TOKEN = 1024


def token(action: str, scope: str, marker: str) -> str:
    raw = orjson.dumps({"a": action, "s": scope, "m": marker})
    return base64.urlsafe_b64encode(raw).decode("ascii")


def marker(value: str | None, action: str, scope: str) -> str | None:
    """The marker a ``NextToken`` carries (None: the first page)."""
    if value is None:
        return None
    try:
        if len(value) > MAX_TOKEN:
            raise ValueError(value)
        data = orjson.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise faults.ValidationError("The NextToken is not valid.") from None
    if (
        not isinstance(data, dict)
        or data.get("a") != action
        or data.get("s") != scope
        or not isinstance(data.get("m"), str)
    ):
        raise faults.ValidationError("The NextToken is not valid for this request.")
    found: str = data["m"]
    return found
