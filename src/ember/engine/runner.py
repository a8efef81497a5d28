"""Running one node: resolve the resource's properties, call its plugin, report the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.timeutils import utcnow
from ember.engine import store_stacks
from ember.engine.batcher import Batcher
from ember.engine.database import Database
from ember.engine.definitions import DefinitionCache
from ember.engine.plugins import PluginRegistry
from ember.engine.records import ClaimedNode, Outcome
from ember.engine.resource import (
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    StackServices,
    UpdateReplace,
)
from ember.engine.states import Action, Status
from ember.template import PropertyError, StackDefinition, apply_schema, resolve

LOG = logging.getLogger(__name__)
CLEANUP = "CLEANUP"
EXTERNAL_KEY = "external_id"
HOOK_POLL_SECONDS = 0.2


class PeerResources:
    """The template layer's ResourceResolver over what the claim loaded."""

    def __init__(self, peers: Mapping[str, tuple[Any, dict[str, Any]]]) -> None:
        self.peers = peers

    def reference(self, name: str) -> Any:
        return self.peers.get(name, (None, {}))[0]

    def attribute(self, name: str, attribute: str) -> Any:
        return self.peers.get(name, (None, {}))[1].get(attribute)

    def all_attributes(self, name: str) -> dict[str, Any]:
        return dict(self.peers.get(name, (None, {}))[1])


def heat_path(parts: list[str]) -> str:
    """Heat's way of writing a path: ``resources.group.resources[0]``."""
    out = ""
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def failure_reason(exc: BaseException, name: str) -> str:
    kind = getattr(exc, "error_type", None) or type(exc).__name__
    message = exc.message if isinstance(exc, errors.EmberError) else str(exc)
    # A nested stack's failure says where in the nested stack it happened.
    inner = getattr(exc, "nested_path", "") or ""
    parts = ["resources", name]
    parts += [index or part for index, part in _PATH_PART.findall(inner)]
    return f"{kind}: {heat_path(parts)}: {message}"


class NodeRunner:
    def __init__(
        self,
        engine_id: str,
        db: Database,
        definitions: DefinitionCache,
        plugins: PluginRegistry,
        services: StackServices | None = None,
    ) -> None:
        self.engine_id = engine_id
        self.db = db
        self.definitions = definitions
        self.plugins = plugins
        self.services = services
        self._starts: Batcher[ClaimedNode, None] = Batcher(db, store_stacks.mark_started, engine_id)
        self._replacements: Batcher[tuple[ClaimedNode, str], Any] = Batcher(
            db, store_stacks.begin_replacements
        )

    async def __call__(self, node: ClaimedNode) -> Outcome:
        remaining = None
        if node.deadline is not None:
            remaining = (node.deadline - utcnow()).total_seconds()
            if remaining <= 0:
                return self._timed_out(node)
        try:
            if remaining is None:
                return await self._run(node)
            return await asyncio.wait_for(self._run(node), remaining)
        except TimeoutError:
            return self._timed_out(node)
        except (ResourceFailure, errors.EmberError, PropertyError, UpdateReplace) as exc:
            return Outcome(node, success=False, reason=failure_reason(exc, node.resource_name))

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
        if defn is not None and node.resource_name in defn.resources:
            if not stored:
                type_name = defn.resources[node.resource_name].type
            resolved = defn.environment.registry.resolve(type_name, node.resource_name)
            type_name = "OS::Heat::TemplateResource" if resolved.is_template else resolved.name
        plugin = self.plugins.get(type_name)
        if plugin is None:
            raise ResourceFailure(f"The Resource Type ({type_name}) could not be found.")
        return plugin

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
            data={k: v for k, v in node.data.items() if not k.startswith("hook:")},
            old_properties=node.properties,
            nested_depth=node.nested_depth,
            files=defn.template.files if defn else {},
            environment=defn.environment.to_dict() if defn else {},
            services=self.services,
        )
        resource_id = node.resource_id

        async def save(c: ResourceContext) -> None:
            await self.db.run(store_stacks.checkpoint, resource_id, c.physical_id, c.data)

        ctx._checkpoint = save
        return ctx

    async def _hook(self, node: ClaimedNode, defn: StackDefinition, when: str) -> None:
        """Wait at a pre-/post- breakpoint set in the environment until it is cleared."""
        action = Action.DELETE if node.action == CLEANUP else node.action
        hook = f"{when}-{action.lower()}"
        if hook not in defn.environment.registry.hooks(node.resource_name):
            return
        while await self.db.run(store_stacks.hook_wait, node, hook, action) == "waiting":
            await asyncio.sleep(HOOK_POLL_SECONDS)

    async def _run(self, node: ClaimedNode) -> Outcome:
        defn = await self.definitions.get(node.stack_id, node.raw_template_id)
        if node.action in (Action.CREATE, Action.UPDATE, Action.DELETE):
            await self._hook(node, defn, "pre")
        outcome = await self._act(node, defn)
        if (
            outcome.success
            and not outcome.silent
            and node.action in (Action.CREATE, Action.UPDATE, Action.DELETE)
        ):
            await self._hook(node, defn, "post")
        return outcome

    async def _act(self, node: ClaimedNode, defn: StackDefinition) -> Outcome:
        if node.action in (Action.DELETE, CLEANUP):
            return await self._delete(node)
        rd = defn.resources.get(node.resource_name)
        if rd is None:
            raise ResourceFailure(f"Resource {node.resource_name} is not in the template")
        plugin_cls = self._plugin_class(defn, node)
        rctx = defn.resolve_context(PeerResources(node.peers))
        path = ("resources", node.resource_name, "properties")
        properties = (
            apply_schema(plugin_cls.properties_schema, rd.resolved_properties(rctx), path)
            if not getattr(plugin_cls, "any_properties", False)
            else rd.resolved_properties(rctx)
        )
        metadata = rd.resolved_metadata(rctx)
        ctx = self._context(node, defn, properties)
        ctx.type = rd.type  # what is being made: the definition's type, not the stored one
        ctx.metadata = metadata
        ctx.update_policy = rd.resolved_update_policy(rctx)
        if node.action == Action.UPDATE:
            return await self._update(node, plugin_cls, ctx, defn)
        plugin = plugin_cls(ctx)
        if node.action == Action.ADOPT:
            adopt = node.node_data.get("adopt") or {}
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
                await plugin.check()
                return self._success(node, plugin, properties, metadata)
        handler = {
            Action.CREATE: plugin.create,
            Action.SUSPEND: plugin.suspend,
            Action.RESUME: plugin.resume,
            Action.CHECK: plugin.check,
        }.get(Action(node.action))
        if handler is None:
            raise ResourceFailure(f"Unsupported action {node.action}")
        await handler()
        return self._success(node, plugin, properties, metadata)

    def _success(
        self,
        node: ClaimedNode,
        plugin: ResourcePlugin,
        properties: dict[str, Any],
        metadata: dict[str, Any] | None,
        **extra: Any,
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
            **extra,
        )

    async def _update(
        self,
        node: ClaimedNode,
        plugin_cls: type[ResourcePlugin],
        ctx: ResourceContext,
        defn: StackDefinition,
    ) -> Outcome:
        old = node.properties or {}
        new = ctx.properties
        changed = {k: new.get(k) for k in set(old) | set(new) if old.get(k) != new.get(k)}
        never_created = node.resource_action == Action.INIT or (
            node.physical_id is None and node.resource_status != Status.COMPLETE
        )
        failed = node.resource_status == Status.FAILED
        # Types owning a nested stack bring a failed one up to date in place (as Heat's
        # StackResource does) instead of replacing it.
        repair = (
            failed
            and node.physical_id is not None
            and getattr(plugin_cls, "update_failed_in_place", False)
        )
        broken = (failed and not repair) or node.needs_replace
        restore = (node.node_data.get("restore") or {}).get("resource_data")
        if restore is not None and restore != {
            k: v for k, v in node.data.items() if not k.startswith("hook:")
        }:
            broken = True  # restoring a snapshot brings back the recorded resource
        type_changed = plugin_cls.type_name != self._stored_type(defn, node)
        plugin = plugin_cls(ctx)
        # What a nested stack is made of (template files, environment) can change while
        # the properties stay the same.
        definition_changed = getattr(plugin, "definition_changed", None)
        if (
            not changed
            and not broken
            and not repair
            and not type_changed
            and not never_created
            and not (definition_changed is not None and definition_changed())
        ):
            return Outcome(node, success=True, silent=True)
        restricted = defn.environment.registry.restricted_actions(node.resource_name)
        # A failed create recorded no properties, so which changed is unknown; repairing
        # applies them all to the nested stack.
        known = {} if repair and node.properties is None else changed
        replace = broken or type_changed or plugin.needs_replace(known)
        if never_created and node.physical_id is None:
            await self._starts.submit(node)
            await plugin.create()
            return self._success(node, plugin, new, ctx.metadata)
        if not replace:
            if "update" in restricted:
                return self._restricted(node, "update")
            await self._starts.submit(node)
            try:
                await plugin.update(changed)
                return self._success(node, plugin, new, ctx.metadata)
            except UpdateReplace:
                pass
        if "replace" in restricted:
            return self._restricted(node, "replace")
        return await self._replace(node, plugin_cls, ctx, defn.resources[node.resource_name].type)

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

    def _stored_type(self, defn: StackDefinition, node: ClaimedNode) -> str:
        """The plugin type of the stored resource, through the registry: template resources
        and aliases compare by what they resolve to, not by the name written."""
        try:
            return self._plugin_class(defn, node, stored=True).type_name
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
        ctx.uuid, ctx.physical_id, ctx.data, ctx.old_properties = new_uuid, physical_id, data, None
        restore = (node.node_data.get("restore") or {}).get("resource_data")
        if restore and physical_id is None:
            ctx.data.update(restore)

        async def save(c: ResourceContext) -> None:
            await self.db.run(store_stacks.checkpoint, new_id, c.physical_id, c.data)

        ctx._checkpoint = save
        plugin = plugin_cls(ctx)
        try:
            await plugin.create()
        except (ResourceFailure, errors.EmberError, PropertyError) as exc:
            # The original stays the stack's resource (so a rollback keeps it); what the
            # failed replacement made is removed.
            with contextlib.suppress(Exception):
                await plugin.delete()
            return Outcome(
                node,
                success=False,
                reason=failure_reason(exc, node.resource_name),
                replacement_id=new_id,
                physical_id=ctx.physical_id or "",
            )
        return self._success(node, plugin, ctx.properties, ctx.metadata, replacement_id=new_id)

    async def _delete(self, node: ClaimedNode) -> Outcome:
        if node.action == CLEANUP and node.replaced_by is None:
            return Outcome(node, success=True, silent=True)
        if node.action == CLEANUP:
            await self._starts.submit(node)
        policy = node.node_data.get("deletion_policy", "Delete")
        created = node.physical_id is not None or node.data
        if created and policy != "Retain" and EXTERNAL_KEY not in node.data:
            plugin_cls = self.plugins.get(node.resource_type)
            if plugin_cls is None:
                defn = await self.definitions.get(node.stack_id, node.raw_template_id)
                plugin_cls = self._plugin_class(defn, node, stored=True)
            ctx = self._context(node, None, node.properties or {})
            await plugin_cls(ctx).delete()
        return Outcome(node, success=True, remove=True)
