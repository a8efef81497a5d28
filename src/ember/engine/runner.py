"""Running one node: resolve the resource's properties, plan what to do, call its plugin,
and report the outcome (which may be to park until something happens)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.failures import Failure
from ember.common.states import CLEANUP, Action, Status
from ember.common.timeutils import utcnow
from ember.db.database import Database
from ember.db.events import node_event
from ember.db.records import ClaimedNode, NodeKey, ResourceWrite, Wait, hook_key
from ember.db.unit import UnitOfWork
from ember.engine import outcomes
from ember.engine.batcher import Batcher
from ember.engine.definitions import DefinitionCache
from ember.engine.outcomes import Outcome, shown_action
from ember.engine.plan import (
    Capabilities,
    Change,
    Plan,
    Stored,
    Wanted,
    changed_properties,
    plan,
    replacement,
)
from ember.engine.planner import HELD, LEFTOVER
from ember.engine.plugins import PluginRegistry
from ember.engine.resource import (
    ATTRIBUTE_DEFAULT,
    ATTRIBUTE_ERRORS,
    Parked,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    StackServices,
    UpdateReplace,
    is_closed,
    shown_attributes,
)
from ember.engine.signal_access import SignalCredentials
from ember.template import (
    FunctionError,
    Limits,
    PropertyError,
    StackDefinition,
    apply_schema,
    resolve,
)

LOG = logging.getLogger(__name__)
EXTERNAL_KEY = "external_id"
HOOK_KEY = "hook:"
# Node data of a one-resource update started for a scaling adjustment.
ADJUST_KEY = "adjust"
WAITING, CLEARED = "waiting", "cleared"
REPLACING, ACTED = "replacing", "acted"
# Changes a parked node resumes as decided (a replacement resumes as REPLACING).
RESUMABLE = (Change.CREATE, Change.UPDATE, Change.REPAIR)


class PeerResources:
    """The template layer's ResourceResolver over what the claim loaded."""

    def __init__(self, peers: Mapping[str, tuple[Any, dict[str, Any]]]) -> None:
        self.peers = peers

    def reference(self, name: str) -> Any:
        return self.peers.get(name, (None, {}))[0]

    def attribute(self, name: str, attribute: str) -> Any:
        values = self.peers.get(name, (None, {}))[1]
        failed = values.get(ATTRIBUTE_ERRORS) or {}
        if attribute in failed:
            raise FunctionError(f"Error in {name} output {attribute}: {failed[attribute]}")
        if attribute in values or attribute == "show":
            return values.get(attribute)
        if is_closed(values, attribute):
            raise FunctionError(f"The Referenced Attribute ({name} {attribute}) is incorrect.")
        return values.get(ATTRIBUTE_DEFAULT)

    def all_attributes(self, name: str) -> dict[str, Any]:
        return shown_attributes(self.peers.get(name, (None, {}))[1])


class NestedStackFailed(ResourceFailure):
    """A nested stack failed; ``failure`` says where inside it, as data."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def failure_of(exc: BaseException, name: str) -> Failure:
    """A handler's error as the failure of resource ``name`` (a nested stack's failure
    keeps where inside the nested stack it happened)."""
    if isinstance(exc, NestedStackFailed):
        return exc.failure.under(name)
    if isinstance(exc, ResourceFailure):
        kind = exc.error_type or type(exc).__name__
    elif isinstance(exc, errors.EmberError):
        kind = exc.type_name
    else:
        kind = type(exc).__name__
    message = exc.message if isinstance(exc, errors.EmberError) else str(exc)
    return Failure(kind, ("resources", name), message)


def signal_text(details: Any) -> str:
    """Heat's description of a signal whose handler said nothing about it."""
    if details is None:
        return "No signal details provided"
    if isinstance(details, str):
        return details
    if isinstance(details, dict) and all(k in details for k in ("previous", "current", "reason")):
        return (
            f"alarm state changed from {details['previous']} to {details['current']} "
            f"({details['reason']})"
        )
    return "Unknown"


class NodeRunner:
    """Runs claimed nodes; each call returns the node's ``Outcome``."""

    def __init__(
        self,
        engine_id: str,
        db: Database,
        definitions: DefinitionCache,
        plugins: PluginRegistry,
        services: StackServices | None = None,
        signals: SignalCredentials | None = None,
    ) -> None:
        self.engine_id = engine_id
        self.db = db
        self.definitions = definitions
        self.plugins = plugins
        self.services = services
        self.signals = signals
        self._starts: Batcher[ClaimedNode, None] = Batcher(db, _mark_started, engine_id)
        self._replacements: Batcher[tuple[ClaimedNode, str, str], Any] = Batcher(
            db, _begin_replacements
        )

    async def __call__(self, node: ClaimedNode) -> Outcome:
        if node.cancelled:
            stopped = _stopped_waiting(node)
            if stopped is not None:
                return stopped
            return Outcome(node, success=False, reason=f"{shown_action(node)} cancelled")
        remaining = None
        if node.deadline is not None and node.action != Action.SIGNAL:
            remaining = (node.deadline - utcnow()).total_seconds()
            if remaining <= 0:
                stopped = _stopped_waiting(node)
                if stopped is not None:
                    stopped.timed_out = True
                    return stopped
                return self._timed_out(node)
        try:
            if remaining is None:
                return await self._run(node)
            return await asyncio.wait_for(self._run(node), remaining)
        except TimeoutError:
            return self._timed_out(node)
        except errors.DatabaseUnavailable:
            raise  # not the resource's failure: the node is run again (see NodeWorker)
        except (ResourceFailure, errors.EmberError, PropertyError, UpdateReplace) as exc:
            return self._failed(node, exc)

    @staticmethod
    def _failed(node: ClaimedNode, exc: BaseException) -> Outcome:
        failure = failure_of(exc, node.resource_name)
        return Outcome(node, success=False, reason=failure.reason(), failure=failure)

    def _class_name(self, node: ClaimedNode) -> str:
        """Heat names a resource in messages by its plugin class (``TestResource``)."""
        plugin = self.plugins.get(node.resource_type)
        return plugin.__name__ if plugin is not None else node.resource_type

    def _timed_out(self, node: ClaimedNode) -> Outcome:
        reason = (
            f"{node.action} aborted (Task {node.action.lower()} from {self._class_name(node)} "
            f'"{node.resource_name}" Stack "{node.stack_name}" [{node.stack_id}] Timed out)'
        )
        return Outcome(node, success=False, reason=reason, timed_out=True)

    def _plugin_class(
        self, defn: StackDefinition | None, node: ClaimedNode, *, stored: bool = False
    ) -> type[ResourcePlugin]:
        """The plugin for the type in the definition (or, with ``stored``, for the type the
        resource was made as), through the environment's registry."""
        type_name = node.resource_type
        if defn is not None and (stored or node.resource_name in defn.resources):
            if not stored:
                type_name = defn.resources[node.resource_name].type
            resolved = defn.environment.registry.resolve(type_name, node.resource_name)
            type_name = "OS::Heat::TemplateResource" if resolved.is_template else resolved.name
        plugin = self.plugins.get(type_name)
        if plugin is None:
            raise ResourceFailure(f"The Resource Type ({type_name}) could not be found.")
        return plugin

    async def _give_signal_access(
        self, plugin_cls: type[ResourcePlugin], ctx: ResourceContext
    ) -> None:
        if plugin_cls.signal_credential and self.signals is not None:
            ctx.signal_access = await self.signals.access_for(ctx)

    def _context(
        self, node: ClaimedNode, defn: StackDefinition | None, properties: dict[str, Any]
    ) -> ResourceContext:
        ctx = ResourceContext(
            name=node.resource_name,
            type=node.resource_type,
            stack_id=node.stack_id,
            stack_name=node.stack_name,
            project_id=node.project_id,
            uuid=node.resource_uuid,
            properties=properties,
            physical_id=node.physical_id,
            data={k: v for k, v in node.data.items() if not k.startswith(HOOK_KEY)},
            old_properties=node.properties,
            nested_depth=node.nested_depth,
            files=defn.template.files if defn else {},
            environment=defn.environment.to_dict() if defn else {},
            services=self.services,
            resource_id=node.resource_id,
            signals=node.signals,
            adjustment=node.node_data.get(ADJUST_KEY),
            limits=defn.limits if defn else Limits(),
        )
        resource_id = node.resource_id

        async def save(c: ResourceContext) -> None:
            await self.db.run(_checkpoint, resource_id, c.physical_id, c.data)

        ctx.checkpointer = save
        return ctx

    def _parked(
        self, node: ClaimedNode, ctx: ResourceContext, wait: Wait, replacement_id: int | None = None
    ) -> Outcome:
        """Wait for ``wait`` (and at the latest until the operation's deadline)."""
        at = wait.at
        if node.deadline is not None and (at is None or node.deadline < at):
            at = node.deadline
        return Outcome(
            node,
            success=True,
            park=Wait(wait.key, at, wait.seen),
            physical_id=ctx.physical_id,
            data=ctx.data,
            replacement_id=replacement_id,
        )

    # Breakpoints ----------------------------------------------------------------------------

    def _hook(self, node: ClaimedNode, defn: StackDefinition, when: str) -> tuple[str, str] | None:
        """The breakpoint set for this node's action, as (hook, its state) or None."""
        action = shown_action(node)
        if action not in (Action.CREATE, Action.UPDATE, Action.DELETE):
            return None
        hook = f"{when}-{action.lower()}"
        if hook not in defn.environment.registry.hooks(node.resource_name):
            return None
        return hook, node.data.get(HOOK_KEY + hook, "")

    def _pause(self, node: ClaimedNode, hook: str, state: str) -> Outcome:
        """Park at a breakpoint until it is cleared (shown once, when first reached)."""
        first = state != WAITING
        action = shown_action(node)
        return Outcome(
            node,
            success=True,
            # At the latest until the operation's deadline, when the node times out.
            park=Wait(hook_key(node.resource_id, hook), node.deadline),
            data={HOOK_KEY + hook: WAITING} if first else {},
            paused=f"{action} paused until Hook {hook} is cleared" if first else None,
        )

    # Running ----------------------------------------------------------------------------------

    async def _run(self, node: ClaimedNode) -> Outcome:
        defn = await self.definitions.get(node.stack_id, node.raw_template_id)
        if node.action == Action.SIGNAL:
            return await self._signal(node, defn)
        forget: list[str] = []
        if node.progress == ACTED:
            # Done before parking at the post- hook: only the hook remains.
            post = self._hook(node, defn, "post")
            if post is not None and post[1] != CLEARED:
                return self._pause(node, *post)
            return Outcome(
                node, success=True, silent=True, forget=(HOOK_KEY + post[0],) if post else ()
            )
        pre = self._hook(node, defn, "pre")
        if pre is not None:
            if pre[1] != CLEARED:
                return self._pause(node, *pre)
            forget.append(HOOK_KEY + pre[0])
        if node.node_data.get(HELD) and not _shows_started(node):
            # Not shown started when claimed, in case it paused: it acts now.
            await self._starts.submit(node)
        outcome = await self._act(node, defn)
        if outcome.park is None:
            # A node that parks (for its nested stack, say) comes back through here: the
            # cleared hook is forgotten only once the action is over.
            outcome.forget = (*outcome.forget, *forget)
        if outcome.success and outcome.park is None and not outcome.silent:
            post = self._hook(node, defn, "post")
            if post is not None and post[1] != CLEARED:
                paused = self._pause(node, *post)
                outcome.park, outcome.paused, outcome.acted = paused.park, paused.paused, True
                outcome.data = {**outcome.data, **paused.data}
        return outcome

    async def _act(self, node: ClaimedNode, defn: StackDefinition) -> Outcome:
        if node.action in (Action.DELETE, CLEANUP):
            return await self._delete(node, defn)
        rd = defn.resources.get(node.resource_name)
        if rd is None:
            raise ResourceFailure(f"Resource {node.resource_name} is not in the template")
        plugin_cls = self._plugin_class(defn, node)
        if node.action == Action.CHECK:
            unchecked = _unchecked(node, plugin_cls)
            if unchecked is not None:
                return unchecked
        rctx = defn.resolve_context(PeerResources(node.peers))
        path = ("resources", node.resource_name, "properties")
        if rd.amplifying:
            # Within its budget, but maybe a while: the loop goes on serving meanwhile.
            resolved = await asyncio.to_thread(rd.resolved_properties, rctx)
        else:
            resolved = rd.resolved_properties(rctx)
        properties = (
            resolved
            if plugin_cls.any_properties
            else apply_schema(plugin_cls.properties_schema, resolved, path)
        )
        metadata = rd.resolved_metadata(rctx)
        ctx = self._context(node, defn, properties)
        ctx.type = rd.type  # what is being made: the definition's type, not the stored one
        ctx.metadata = metadata
        ctx.update_policy = rd.resolved_update_policy(rctx)
        ctx.deletion_policy = rd.deletion_policy
        await self._give_signal_access(plugin_cls, ctx)
        if node.action == Action.UPDATE:
            return await self._update(node, plugin_cls, ctx, defn)
        plugin = plugin_cls(ctx)
        if node.action == Action.ADOPT:
            adopt = node.node_data.get("adopt") or {}
            if plugin_cls.adopts_nested:
                # Made, its nested stack adopted from the resource's own adopt data.
                ctx.adopt = {"resources": dict(adopt.get("resources") or {})}
                return await self._call(node, plugin, plugin.create(), properties)
            ctx.physical_id = adopt.get("resource_id") or ctx.physical_id
            ctx.data.update(adopt.get("resource_data") or {})
            return self._success(node, plugin, properties, metadata)
        if node.action == Action.CREATE:
            restore = node.node_data.get("restore")
            if restore:
                ctx.data.update(restore.get("resource_data") or {})
            if rd.external_id is not None:
                # An existing resource is taken over: nothing is created (or deleted later).
                external = resolve(rd.external_id, rctx)
                ctx.physical_id = str(external)
                ctx.data[EXTERNAL_KEY] = str(external)
                return await self._call(node, plugin, plugin.check(), properties)
        handler = {
            Action.CREATE: plugin.create,
            Action.SUSPEND: plugin.suspend,
            Action.RESUME: plugin.resume,
            Action.CHECK: plugin.check,
        }.get(Action(node.action))
        if handler is None:
            raise ResourceFailure(f"Unsupported action {node.action}")
        return await self._call(node, plugin, handler(), properties)

    async def _call(
        self,
        node: ClaimedNode,
        plugin: ResourcePlugin,
        handler: Any,
        properties: dict[str, Any],
        replacement_id: int | None = None,
    ) -> Outcome:
        """Await a handler: its success, or its parking."""
        try:
            await handler
        except Parked as parked:
            return self._parked(node, plugin.ctx, parked.wait, replacement_id)
        return self._success(
            node, plugin, properties, plugin.ctx.metadata, replacement_id=replacement_id
        )

    def _success(
        self,
        node: ClaimedNode,
        plugin: ResourcePlugin,
        properties: dict[str, Any],
        metadata: dict[str, Any] | None,
        *,
        replacement_id: int | None = None,
    ) -> Outcome:
        ctx = plugin.ctx
        return Outcome(
            node,
            success=True,
            physical_id=ctx.physical_id,
            data=ctx.data,
            properties=properties,
            attributes=plugin.attributes(),
            reference_id=plugin.reference_id(),
            metadata=metadata,
            replacement_id=replacement_id,
        )

    # Update ------------------------------------------------------------------------------------

    def _capabilities(
        self, plugin: ResourcePlugin, defn: StackDefinition, node: ClaimedNode
    ) -> Capabilities:
        return Capabilities(
            update_failed_in_place=plugin.update_failed_in_place,
            replaces_on=plugin.needs_replace,
            definition_changed=plugin.definition_changed(),
            restricted=defn.environment.registry.restricted_actions(node.resource_name),
        )

    async def _stored(self, node: ClaimedNode, defn: StackDefinition) -> Stored:
        return Stored(
            action=node.resource_action,
            status=node.resource_status,
            physical_id=node.physical_id,
            properties=node.properties,
            plugin_type=await self._stored_type(defn, node),
            needs_replace=node.needs_replace,
            data={k: v for k, v in node.data.items() if not k.startswith(HOOK_KEY)},
        )

    async def _update(
        self,
        node: ClaimedNode,
        plugin_cls: type[ResourcePlugin],
        ctx: ResourceContext,
        defn: StackDefinition,
    ) -> Outcome:
        plugin = plugin_cls(ctx)
        new_type = defn.resources[node.resource_name].type
        if node.progress == REPLACING:
            # A replacement begun before (then parked, or its engine died) goes on.
            return await self._replace(node, plugin_cls, ctx, new_type)
        if node.progress is None:
            refused = self._external_id_change(node, defn)
            if refused is not None:
                return refused
        restore = (node.node_data.get("restore") or {}).get("resource_data")
        wanted = Wanted(ctx.properties, plugin_cls.type_name, restore)
        capabilities = self._capabilities(plugin, defn, node)
        if node.progress in RESUMABLE:
            # Decided before the node parked (or its engine died): the same change goes
            # on, whatever starting it did to the stored state.
            decided = Plan(
                Change(node.progress), changed_properties(node.properties or {}, wanted.properties)
            )
        else:
            decided = plan(await self._stored(node, defn), wanted, capabilities)
            if decided.change in RESUMABLE:
                node.progress = decided.change
        renamed = new_type if new_type != node.resource_type else None
        if decided.change == Change.NONE:
            return Outcome(node, success=True, silent=True, resource_type=renamed)
        if decided.change == Change.CREATE:
            await self._starts.submit(node)
            return await self._call(node, plugin, plugin.create(), ctx.properties)
        if decided.change in (Change.UPDATE, Change.REPAIR):
            await self._starts.submit(node)
            try:
                updated = await self._call(
                    node, plugin, plugin.update(decided.changed), ctx.properties
                )
                updated.resource_type = renamed
                return updated
            except UpdateReplace:
                decided = replacement(capabilities, decided.changed)
        if decided.change == Change.RESTRICTED:
            return self._restricted(node, decided.refused or "update")
        return await self._replace(node, plugin_cls, ctx, new_type)

    @staticmethod
    def _external_id_change(node: ClaimedNode, defn: StackDefinition) -> Outcome | None:
        """Heat's NotSupported: an update may not add, change or drop a resource's
        external_id; the update fails and the resource keeps its state."""
        rd = defn.resources[node.resource_name]
        wanted = None if rd.external_id is None else resolve(rd.external_id, defn.resolve_context())
        if (None if wanted is None else str(wanted)) == node.data.get(EXTERNAL_KEY):
            return None
        message = (
            f"Update to property external_id of {node.resource_name} ({node.resource_type}) "
            "is not supported."
        )
        return Outcome(
            node,
            success=False,
            keep_state=True,
            reason=message,
            stack_reason=f"NotSupported: resources.{node.resource_name}: {message}",
        )

    @staticmethod
    def _restricted(node: ClaimedNode, action: str) -> Outcome:
        """Heat's ResourceActionRestricted: the update fails, the resource keeps its state."""
        return Outcome(
            node,
            success=False,
            keep_state=True,
            reason=f"{action} is restricted for resource.",
            stack_reason=f"ResourceActionRestricted: resources.{node.resource_name}: "
            f"{action} is restricted for resource.",
        )

    async def _made_with(self, defn: StackDefinition, node: ClaimedNode) -> StackDefinition:
        """The definition the stored resource was last made or updated with (its type is
        resolved through that one's registry, which a later template may not have)."""
        if node.template_id is not None and node.template_id != node.raw_template_id:
            # Its template gone, the current registry is all there is.
            with contextlib.suppress(errors.EntityNotFound):
                return await self.definitions.get(node.stack_id, node.template_id)
        return defn

    async def _stored_type(self, defn: StackDefinition, node: ClaimedNode) -> str:
        """The plugin type of the stored resource, through the registry of the template it
        was made with: template resources and aliases compare by what they resolve to, not
        by the name written, so a mapping the update changes makes a new resource."""
        try:
            return self._plugin_class(
                await self._made_with(defn, node), node, stored=True
            ).type_name
        except ResourceFailure:
            return node.resource_type

    async def _replace(
        self,
        node: ClaimedNode,
        plugin_cls: type[ResourcePlugin],
        ctx: ResourceContext,
        new_type: str,
    ) -> Outcome:
        reason = (
            f'The Resource {self._class_name(node)} "{node.resource_name}" '
            f'[{node.physical_id}] Stack "{node.stack_name}" [{node.stack_id}] '
            "requires replacement."
        )
        new_id, new_uuid, physical_id, data = await self._replacements.submit(
            (node, reason, new_type)
        )
        node.progress = REPLACING
        ctx.uuid, ctx.physical_id, ctx.data, ctx.old_properties = new_uuid, physical_id, data, None
        ctx.resource_id = new_id
        restore = (node.node_data.get("restore") or {}).get("resource_data")
        if restore and physical_id is None:
            ctx.data.update(restore)

        async def save(c: ResourceContext) -> None:
            await self.db.run(_checkpoint, new_id, c.physical_id, c.data)

        ctx.checkpointer = save
        await self._give_signal_access(plugin_cls, ctx)  # the replacement's own
        plugin = plugin_cls(ctx)
        try:
            return await self._call(node, plugin, plugin.create(), ctx.properties, new_id)
        except errors.DatabaseUnavailable:
            raise
        except (ResourceFailure, errors.EmberError, PropertyError) as exc:
            # The original stays the stack's resource (so a rollback keeps it); what the
            # failed replacement made is removed.
            with contextlib.suppress(Exception):
                await plugin.delete()
            failed = self._failed(node, exc)
            failed.replacement_id, failed.physical_id = new_id, ctx.physical_id or ""
            return failed

    # Delete -----------------------------------------------------------------------------------

    async def _delete(self, node: ClaimedNode, defn: StackDefinition) -> Outcome:
        if node.action == CLEANUP and node.replaced_by is None:
            # A row left over by an earlier operation goes unless the update went on with it
            # (then it is current now); the current row goes only once replaced.
            leftover = node.node_data.get(LEFTOVER)
            if not leftover or await self.db.run(_is_current, node.resource_id):
                return Outcome(node, success=True, silent=True)
        if node.action == CLEANUP:
            await self._starts.submit(node)
        policy = node.node_data.get("deletion_policy", "Delete")
        created = node.physical_id is not None or node.data
        if created and policy != "Retain" and EXTERNAL_KEY not in node.data:
            plugin_cls = self.plugins.get(node.resource_type)
            if plugin_cls is None:
                made_with = await self._made_with(defn, node)
                plugin_cls = self._plugin_class(made_with, node, stored=True)
            ctx = self._context(node, None, node.properties or {})
            plugin = plugin_cls(ctx)
            try:
                await plugin.delete()
            except Parked as parked:
                return self._parked(node, ctx, parked.wait)
        return Outcome(node, success=True, remove=True)

    # Signals -----------------------------------------------------------------------------------

    async def _signal(self, node: ClaimedNode, defn: StackDefinition) -> Outcome:
        """Run a signal's handler, after whatever the resource was doing (the lock)."""
        plugin_cls = self._plugin_class(defn, node, stored=True)
        if not plugin_cls.signal_supported:
            raise errors.ResourceActionNotSupported(action="signal")
        ctx = self._context(node, defn, dict(node.properties or {}))
        # The attributes recorded after the signal are built from the credential too.
        await self._give_signal_access(plugin_cls, ctx)
        # A handler may add to what its signallers read back (a wait condition handle).
        stored_metadata = dict(node.metadata or {})
        ctx.metadata = dict(stored_metadata)
        plugin = plugin_cls(ctx)
        details = node.node_data.get("details")
        try:
            said = await plugin.signal(details)
        except Parked:
            raise ResourceFailure("A signal handler cannot wait") from None
        return Outcome(
            node,
            success=True,
            reason=f"Signal: {said}" if said else signal_text(details),
            physical_id=ctx.physical_id,
            data=ctx.data,
            attributes=plugin.attributes(),
            reference_id=plugin.reference_id(),
            metadata=ctx.metadata if ctx.metadata != stored_metadata else None,
        )


# Units of work -------------------------------------------------------------------------------


def _is_current(uow: UnitOfWork, resource_id: int) -> bool:
    return uow.resources.is_current(resource_id)


def _checkpoint(
    uow: UnitOfWork, resource_id: int, physical_id: str | None, data: dict[str, str]
) -> None:
    uow.resources.checkpoint(resource_id, physical_id, data)


def _stopped_waiting(node: ClaimedNode) -> Outcome | None:
    """A node stopped (timed out or cancelled) while paused at a pre- hook has not acted:
    as in Heat, its resource keeps its state, the hook is cleared and the failure is an
    event of that state. None for a node not paused so."""
    waiting = tuple(
        key
        for key, value in node.data.items()
        if key.startswith(HOOK_KEY + "pre-") and value == WAITING
    )
    if not waiting or node.progress is not None or _shows_started(node):
        return None
    return Outcome(
        node,
        success=False,
        reason="Failure occurred while waiting.",
        keep_state=True,
        event_state=(node.resource_action, node.resource_status),
        forget=waiting,
    )


def _shows_started(node: ClaimedNode) -> bool:
    """Its resource already shows the node's action in progress (a node run again)."""
    return node.resource_action == shown_action(node) and node.resource_status == Status.IN_PROGRESS


def _mark_started(uow: UnitOfWork, nodes: list[ClaimedNode], engine_id: str) -> list[None]:
    """Nodes that start late and turned out to act show it (once)."""
    fresh = [n for n in nodes if not _shows_started(n)]
    writes, events = outcomes.started_late(fresh, engine_id)
    uow.resources.write(writes)
    uow.events.add(events)
    # The change decided is kept with the node: a node run again goes on with it.
    decided: dict[str, list[NodeKey]] = {}
    for node in nodes:
        if node.progress is not None:
            decided.setdefault(node.progress, []).append(node.key)
    for progress, keys in decided.items():
        uow.traversals.set_progress(keys, progress)
    return [None] * len(nodes)


def _begin_replacements(
    uow: UnitOfWork, items: list[tuple[ClaimedNode, str, str]]
) -> list[tuple[int, str, str | None, dict[str, str]]]:
    """The new rows that replace the nodes' resources (reused when resuming): the old row
    shows UPDATE_IN_PROGRESS then UPDATE_COMPLETE "requires replacement", the new one
    CREATE_IN_PROGRESS; the nodes remember that they are replacing."""
    nodes = [node for node, _, _ in items]
    rows, fresh = uow.resources.replacements(nodes, [kind for _, _, kind in items])
    fresh_ids = {n.resource_id for n in fresh}
    now = utcnow()
    writes, events = [], []
    for node, reason, _ in items:
        if node.resource_id not in fresh_ids:
            continue
        if not (
            node.resource_action == Action.UPDATE and node.resource_status == Status.IN_PROGRESS
        ):
            events.append(
                node_event(
                    node, Action.UPDATE, Status.IN_PROGRESS, "state changed", node.physical_id
                )
            )
        events.append(node_event(node, Action.UPDATE, Status.COMPLETE, reason, node.physical_id))
        events.append(node_event(node, Action.CREATE, Status.IN_PROGRESS, "state changed", None))
        writes.append(
            ResourceWrite(
                node.resource_id,
                {
                    "action": Action.UPDATE,
                    "status": Status.COMPLETE,
                    "status_reason": reason,
                    "updated_at": now,
                },
            )
        )
    uow.resources.write(writes)
    uow.events.add(events)
    uow.traversals.set_progress([n.key for n in nodes], REPLACING)
    made = [r.id for r in rows if r.physical_resource_id is not None]
    data = uow.resources.data_of(made)
    return [(r.id, r.uuid, r.physical_resource_id, data.get(r.id, {})) for r in rows]


def _unchecked(node: ClaimedNode, plugin_cls: type[ResourcePlugin]) -> Outcome | None:
    """Heat's answer to a check that does not look at anything (None: the check runs): a
    resource never made fails it if its type can check, and is left as it is if not; a
    type that cannot check is recorded as such."""
    never_made = (node.resource_action, node.resource_status) == (Action.INIT, Status.COMPLETE)
    if plugin_cls.check_supported:
        if never_made:
            return Outcome(
                node,
                success=False,
                reason=f"Can not check {node.resource_name}, resource not created yet.",
            )
        return None
    if never_made:
        return Outcome(node, success=True, silent=True)
    return Outcome(node, success=True, reason=f"CHECK not supported for {node.resource_type}")
