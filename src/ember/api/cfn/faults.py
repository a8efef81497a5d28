"""AWS Query API errors: the code, HTTP status and fault type (Sender or Receiver) an AWS
client expects, and the engine's errors translated to them.

botocore raises ``ClientError`` with ``Error.Code`` from the ``ErrorResponse`` body, so the
code is what a CloudFormation user matches on; the status decides whether the SDK retries
(5xx, and ``Throttling``), so a refusal of the request is never a 5xx.
"""

from __future__ import annotations

from typing import ClassVar

from ember.common import errors
from ember.rpc import errors as rpc_errors


class AwsError(Exception):
    """One AWS error. Subclasses fix ``code`` and ``status``; the message is the caller's."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def fault_type(self) -> str:
        return "Sender" if self.status < 500 else "Receiver"


def _error(code: str, status: int) -> type[AwsError]:
    return type(code, (AwsError,), {"code": code, "status": status, "__doc__": f"AWS {code}."})


ValidationError = _error("ValidationError", 400)
AlreadyExistsException = _error("AlreadyExistsException", 400)
InsufficientCapabilitiesException = _error("InsufficientCapabilitiesException", 400)
TokenAlreadyExistsException = _error("TokenAlreadyExistsException", 400)
LimitExceededException = _error("LimitExceededException", 400)
MissingParameter = _error("MissingParameter", 400)
MissingAction = _error("MissingAction", 400)
InvalidAction = _error("InvalidAction", 400)
InvalidParameterValue = _error("InvalidParameterValue", 400)
InvalidParameterCombination = _error("InvalidParameterCombination", 400)
InvalidQueryParameter = _error("InvalidQueryParameter", 400)
MalformedQueryString = _error("MalformedQueryString", 400)
InvalidNextToken = _error("InvalidNextToken", 400)
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413)
IncompleteSignature = _error("IncompleteSignature", 400)
RequestExpired = _error("RequestExpired", 400)
SignatureDoesNotMatch = _error("SignatureDoesNotMatch", 403)
InvalidClientTokenId = _error("InvalidClientTokenId", 403)
MissingAuthenticationToken = _error("MissingAuthenticationToken", 403)
AccessDenied = _error("AccessDenied", 403)
Throttling = _error("Throttling", 400)
InternalFailure = _error("InternalFailure", 500)
ServiceUnavailable = _error("ServiceUnavailable", 503)
NotFound = _error("NotFound", 404)
MethodNotAllowed = _error("MethodNotAllowed", 405)


# The engine's errors (walking each class's MRO, nearest first) as AWS's.
_BY_ENGINE_ERROR: tuple[tuple[type[BaseException], type[AwsError]], ...] = (
    (errors.StackExists, AlreadyExistsException),
    (errors.IdempotencyKeyInUse, TokenAlreadyExistsException),
    (errors.InsufficientCapabilities, InsufficientCapabilitiesException),
    (errors.RequestLimitExceeded, LimitExceededException),
    (errors.EntityNotFound, ValidationError),
    (errors.ActionInProgress, ValidationError),
    (errors.Forbidden, AccessDenied),
    (errors.ServiceUnavailable, ServiceUnavailable),
    (rpc_errors.RPCTimeout, ServiceUnavailable),
    (errors.InvalidRequest, ValidationError),
)


def from_engine(exc: BaseException) -> AwsError | None:
    """The AWS error for an engine error whose text may be shown, or None (unexpected)."""
    if isinstance(exc, AwsError):
        return exc
    for cls in type(exc).__mro__:
        for known, aws in _BY_ENGINE_ERROR:
            if cls is known:
                if isinstance(exc, errors.EmberError) and not exc.safe:
                    return None
                return aws(exc.message if isinstance(exc, errors.EmberError) else str(exc))
    return None
