"""Ember's error tree.

Every error a user can cause is an ``EmberError``. The API layers map errors to HTTP by
class (walking the MRO), and the class name is what Heat's fault body calls ``error.type``,
so names follow Heat's.

    EmberError
    ├── InvalidRequest                       400
    │   ├── RequestLimitExceeded
    │   ├── InvalidTemplateVersion
    │   ├── InvalidTemplateSection
    │   ├── InvalidEnvironment
    │   ├── StackValidationFailed            (carries diagnostics with paths)
    │   ├── UserParameterMissing
    │   ├── UnknownUserParameter
    │   ├── ImmutableParameterModified
    │   ├── InvalidTemplateReference
    │   ├── InvalidSchemaError
    │   ├── InvalidTemplateAttribute
    │   ├── CircularDependencyException
    │   ├── InvalidRestrictedAction
    │   ├── ResourceActionNotSupported
    │   ├── NotSupported
    │   └── InsufficientCapabilities     (CloudFormation's acknowledgements)
    ├── StackExists                          409
    ├── IdempotencyKeyInUse                  409
    ├── ActionInProgress                     409
    ├── Forbidden                            403 (policy refused the rule or type named)
    ├── EntityNotFound                       404
    ├── ServiceUnavailable                   503
    │   └── DatabaseUnavailable
    └── DecryptionFailed                     500 (auth_encryption_key differs, or damaged data)

An error crosses process boundaries (RPC, a nested stack's failure) as data: the name of
the nearest class in the wire registry (``ember.rpc.errors``), the name clients are shown,
the message and the keyword arguments it was made with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class EmberError(Exception):
    """Base of every error Ember reports to a user."""

    msg_fmt: ClassVar[str] = "An unknown error occurred."
    # Whether the message may be shown to the caller (an unexpected error shows its type
    # only, as Heat's fault body does).
    safe: ClassVar[bool] = True
    # The type clients are shown when it is not the class's own name.
    shown_as: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs if kwargs else self.msg_fmt
        self.message = message
        # The type clients are shown; a subclass rebuilt as its registered base keeps it.
        self.shown_type = self.shown_as or type(self).__name__
        super().__init__(message)

    @property
    def type_name(self) -> str:
        return self.shown_type


class InvalidRequest(EmberError):
    msg_fmt = "The request is invalid."
    # Every problem behind the error when template validation raised it (see
    # ``ember.template.diagnostics``); only set on such instances.
    diagnostics: tuple[object, ...]


class RequestLimitExceeded(InvalidRequest):
    msg_fmt = "Request limit exceeded: %(message)s"

    def __init__(self, message: str) -> None:
        super().__init__(self.msg_fmt % {"message": message})


class InvalidTemplateVersion(InvalidRequest):
    msg_fmt = "The template version is invalid: %(explanation)s"


class InvalidTemplateSection(InvalidRequest):
    msg_fmt = "The template section is invalid: %(section)s"


class InvalidEnvironment(InvalidRequest):
    msg_fmt = "The environment is invalid: %(explanation)s"
    # Heat's API reads the environment itself and answers a plain bad request.
    shown_as = "HTTPBadRequest"


class UserParameterMissing(InvalidRequest):
    msg_fmt = "The Parameter (%(key)s) was not provided."


class UnknownUserParameter(InvalidRequest):
    msg_fmt = "The Parameter (%(key)s) was not defined in template."


class ImmutableParameterModified(InvalidRequest):
    msg_fmt = "The following parameters are immutable and may not be updated: %(keys)s"


class InvalidTemplateReference(InvalidRequest):
    msg_fmt = 'The specified reference "%(resource)s" (in %(key)s) is incorrect.'


class InvalidSchemaError(InvalidRequest):
    """A parameter declared wrongly: an unknown type or key, a default its own
    constraints refuse."""

    msg_fmt = "%(message)s"


class InvalidTemplateAttribute(InvalidRequest):
    msg_fmt = "The Referenced Attribute (%(resource)s %(key)s) is incorrect."


class CircularDependencyException(InvalidRequest):
    msg_fmt = "Circular Dependency Found: %(cycle)s"


class InvalidRestrictedAction(InvalidRequest):
    """An action refused because of what depends on its target (a software config still
    used by a deployment)."""

    msg_fmt = "%(message)s"


class ResourceActionNotSupported(InvalidRequest):
    msg_fmt = "%(action)s is not supported for resource."


class NotSupported(InvalidRequest):
    msg_fmt = "%(feature)s is not supported."


class StackValidationFailed(InvalidRequest):
    """One or more template problems, each named by its path in the template.

    ``diagnostics`` keeps every problem found; ``message`` lists them one per line, which
    is what a client prints after ``ERROR:``.
    """

    msg_fmt = "%(message)s"

    def __init__(self, message: str | None = None, diagnostics: Sequence[object] = ()) -> None:
        self.diagnostics = tuple(diagnostics)
        if message is None:
            message = "\n".join(str(d) for d in self.diagnostics) or "Validation failed"
        super().__init__(message)


class InsufficientCapabilities(InvalidRequest):
    """A CloudFormation request did not acknowledge what its template needs."""

    msg_fmt = "Requires capabilities : [%(capabilities)s]"


class StackExists(EmberError):
    msg_fmt = "The Stack (%(stack_name)s) already exists."


class IdempotencyKeyInUse(EmberError):
    msg_fmt = (
        "The idempotency key %(key)s was given for the create of another stack (%(stack_name)s)."
    )


class ActionInProgress(EmberError):
    msg_fmt = "Stack %(stack_name)s already has an action (%(action)s) in progress."


class Forbidden(EmberError):
    """The policy does not let the caller do this (Heat's message names the rule)."""

    msg_fmt = "You are not authorized to use %(action)s."


class EntityNotFound(EmberError):
    msg_fmt = "The %(entity)s (%(name)s) could not be found."


class ServiceUnavailable(EmberError):
    """Something the request needs cannot be reached now; the same request may succeed
    later."""

    msg_fmt = "The service is unavailable; try again later."


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not be reached or did not answer in time (what it was doing is
    not said: that is for the logs)."""

    msg_fmt = "The database is unavailable; try again later."


class DecryptionFailed(EmberError):
    """A stored secret could not be decrypted: the configured ``auth_encryption_key`` is
    not the one it was encrypted with, or what is stored was damaged. A fault of the
    deployment, not of the caller: the message is for the logs."""

    msg_fmt = (
        "The stored secret could not be decrypted (wrong auth_encryption_key or damaged data)."
    )
    safe = False
