"""What an action is handed: the request's parameters, who is calling, and the way to the
engine; and the translations every action shares (ARNs, times, engine errors)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from ember.api.cfn import faults
from ember.api.cfn.query import Query
from ember.api.rest.context import RequestContext
from ember.common import errors
from ember.common.settings import Settings
from ember.rpc.api import Ctx
from ember.rpc.client import EngineClient

# Fetches the template a ``TemplateURL`` names (``templates.TemplateFetcher``).
Fetch = Callable[[str], Awaitable[str]]


@dataclass(frozen=True)
class ActionCall:
    """One authenticated request to one action."""

    query: Query
    context: RequestContext
    engine: EngineClient
    settings: Settings
    fetch: Fetch

    @property
    def ctx(self) -> Ctx:
        return cast(Ctx, self.context.rpc(request_id=self.context.request_id))

    async def ask(self, operation: Awaitable[Any]) -> Any:
        return await ask(operation)


async def ask(operation: Awaitable[Any]) -> Any:
    """The engine's answer, its errors as AWS's (an unexpected one propagates)."""
    try:
        return await operation
    except errors.EntityNotFound as exc:
        if exc.kwargs.get("entity") == "Stack":
            raise faults.ValidationError(
                f"Stack with id {exc.kwargs.get('name')} does not exist"
            ) from None
        raise faults.ValidationError(exc.message) from None
    except Exception as exc:
        translated = faults.from_engine(exc)
        if translated is None:
            raise
        raise translated from None


def stack_arn(project_id: str, stack_name: str, stack_id: str) -> str:
    """Heat's stack ARN (name and id quoted)."""
    return (
        f"arn:openstack:heat::{quote(project_id, safe='')}:stacks/"
        f"{quote(stack_name, safe='')}/{quote(stack_id, safe='')}"
    )


def arn_of(view: Mapping[str, Any], project_id: str) -> str:
    return stack_arn(project_id, str(view["stack_name"]), str(view["id"]))


def status_pair(status: str) -> tuple[str, str]:
    action, _, state = status.partition("_")
    return action, state
