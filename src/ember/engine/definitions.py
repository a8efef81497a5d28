"""Stack definitions rebuilt from stored templates, cached by template (they never change)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ember.db.database import Database
from ember.db.unit import UnitOfWork
from ember.template import (
    Diagnostics,
    Environment,
    Limits,
    StackDefinition,
    StackIdentity,
    Template,
    build,
)


@dataclass(frozen=True)
class StoredTemplate:
    template: dict[str, Any]
    files: dict[str, Any]
    environment: dict[str, Any]
    stack_name: str
    stack_id: str
    project_id: str
    facade: dict[str, Any] | None = None


def load_stored(uow: UnitOfWork, stack_id: str, raw_template_id: int) -> StoredTemplate:
    raw = uow.stacks.template(raw_template_id)
    stack = uow.stacks.get(stack_id)
    assert stack is not None
    return StoredTemplate(
        raw.template,
        raw.files,
        raw.environment,
        stack.name,
        stack_id,
        stack.project_id,
        stack.facade,
    )


def environment_from_dict(data: dict[str, Any]) -> Environment:
    diags = Diagnostics()
    env = Environment.from_dict(data, diags)
    return env


def definition_from(
    stored: StoredTemplate, region: str, limits: Limits | None = None
) -> StackDefinition:
    template = Template(stored.template, stored.files)
    identity = StackIdentity(stored.stack_name, stored.stack_id, stored.project_id, region)
    defn = build(
        template,
        environment_from_dict(stored.environment),
        identity=identity,
        require_parameters=False,
        limits=limits,
    )
    defn.facade = stored.facade
    return defn


class DefinitionCache:
    """Definitions by (stack, template). Concurrent misses share one build."""

    def __init__(
        self, db: Database, region: str, size: int = 256, limits: Limits | None = None
    ) -> None:
        self.db = db
        self.region = region
        self.limits = limits
        self.size = size
        self._cache: OrderedDict[tuple[str, int], asyncio.Future[StackDefinition]] = OrderedDict()

    async def get(self, stack_id: str, raw_template_id: int) -> StackDefinition:
        key = (stack_id, raw_template_id)
        future = self._cache.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._cache[key] = future
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
            try:
                # On the writer: the engine's own reads must not queue behind the API's.
                stored = await self.db.run(load_stored, stack_id, raw_template_id)
                future.set_result(definition_from(stored, self.region, self.limits))
            except BaseException as exc:
                self._cache.pop(key, None)
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it themselves
                raise
        else:
            self._cache.move_to_end(key)
        return await asyncio.shield(future)
