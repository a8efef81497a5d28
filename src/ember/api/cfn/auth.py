"""Who signed a CloudFormation request: the parts of a request its signature covers, the
identity a valid signature proves, and what checks one.

Two authenticators implement ``Authenticator``: the key pairs Ember stores
(``stored_keys``, every flavor but ``keystone``) and Keystone's ``/v3/ec2tokens``
(``keystone_ec2``). Both take the same ``SignedRequest``, whose ``credentials`` are the
document Keystone's ec2tokens takes, so a request is checked the same way either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SignedRequest:
    """A request's signature and what it signs.

    ``credentials``: ``{access, signature, host, verb, path, params, headers, body_hash}``
    as Keystone's ``/v3/ec2tokens`` takes it (``params`` without ``Signature``).
    ``version``: the signature version, ``"2"`` or ``"4"``.
    """

    access: str
    signature: str
    version: str
    credentials: dict[str, Any]


@dataclass(frozen=True)
class Identity:
    """The owner of the key pair that signed a request."""

    project_id: str
    user_id: str
    username: str
    roles: tuple[str, ...]
    # A resource's signal credential: the one resource (row id) and stack it reaches.
    signal_resource_id: int | None = None
    signal_stack_id: str | None = None


class Authenticator(Protocol):
    """Checks a signed request; raises an ``AwsError`` (``InvalidClientTokenId``,
    ``SignatureDoesNotMatch``, ``AccessDenied``, ``ServiceUnavailable``) when it cannot
    say who signed it."""

    async def authenticate(self, signed: SignedRequest) -> Identity: ...

    async def aclose(self) -> None:
        """Release what it holds (connections) when the process stops."""
