"""After a signal is handled: the template metadata of the stack's other resources that
keep theirs as resolved (template resources) is resolved again, as Heat's signal handling
does (``metadata_update``), so that metadata reading a scaled group's members, say, shows
the group as the signal left it."""

from __future__ import annotations

from ember.common.states import Action
from ember.db.database import Database
from ember.db.records import ResourceWrite
from ember.db.unit import UnitOfWork
from ember.engine.definitions import DefinitionCache
from ember.engine.plugins import PluginRegistry
from ember.engine.runner import PeerResources
from ember.template import FunctionError, StackDefinition

# Resources not (or no longer) made keep the metadata they had.
_SKIPPED = (Action.INIT, Action.DELETE)


async def refresh_metadata(
    db: Database, definitions: DefinitionCache, plugins: PluginRegistry, stack_id: str
) -> int:
    """Resolve again the metadata of ``stack_id``'s resources whose type refreshes it;
    how many changed."""
    template_id = await db.read(_template_of, stack_id)
    if template_id is None:
        return 0
    defn = await definitions.get(stack_id, template_id)
    return await db.run(_refresh, defn, plugins, stack_id)


def _template_of(uow: UnitOfWork, stack_id: str) -> int | None:
    stack = uow.stacks.get(stack_id)
    if stack is None or stack.deleted_at is not None:
        return None
    return stack.raw_template_id


def _refresh(uow: UnitOfWork, defn: StackDefinition, plugins: PluginRegistry, stack_id: str) -> int:
    rows = [
        r
        for r in uow.resources.live(stack_id)
        if r.action not in _SKIPPED and r.name in defn.resources and defn.resources[r.name].metadata
    ]
    if not rows:
        return 0
    rctx = defn.resolve_context(PeerResources(uow.resources.peers_of(stack_id)))
    writes = []
    for row in rows:
        plugin = plugins.resolved(defn.environment.registry, row.type, row.name)
        if plugin is None or not plugin.refreshes_metadata:
            continue
        try:
            metadata = defn.resources[row.name].resolved_metadata(rctx)
        except FunctionError:
            continue  # what it reads is not there now: it keeps what it had
        if metadata != (row.metadata_ or {}):
            writes.append(ResourceWrite(row.id, {"metadata_": metadata}))
    uow.resources.write(writes)
    return len(writes)
