"""Previews: what a create would make and what an update would change, without acting.
An update's preview asks the same plan (``engine.plan``) the update itself runs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.common.states import Action, Status
from ember.common.timeutils import isotime, utcnow
from ember.db.database import Database
from ember.db.models import Resource, Stack
from ember.db.unit import UnitOfWork
from ember.engine.caller import Caller
from ember.engine.ops.stacks import StackOps
from ember.engine.plan import PREVIEW, Capabilities, Stored, Wanted, plan
from ember.engine.plugins import PluginRegistry
from ember.engine.resource import ResourceContext, ResourceFailure, ResourcePlugin
from ember.engine.runner import PeerResources
from ember.engine.stack_requests import build_request, check_stack_name
from ember.resources.stack_resource import StackResource
from ember.rpc.api import Ctx, JSONMap
from ember.template import (
    PropertyError,
    ResolveContext,
    StackDefinition,
    StackIdentity,
    apply_schema,
    define,
)


def _resource_preview(
    defn: StackDefinition,
    name: str,
    stack_name: str,
    stack_id: str,
    required_by: list[str],
    properties: Any,
) -> dict[str, Any]:
    rd = defn.resources[name]
    return {
        "resource_name": name,
        "logical_resource_id": name,
        "resource_type": rd.type,
        "resource_action": Action.INIT,
        "resource_status": Status.COMPLETE,
        "resource_status_reason": "",
        "physical_resource_id": "",
        "description": rd.description,
        "required_by": required_by,
        "properties": properties,
        "metadata": {},
        "resource_identity": {
            "stack_name": stack_name,
            "stack_id": stack_id,
            "tenant": defn.identity.project_id or "",
            "path": f"/resources/{name}",
        },
        "stack_identity": {
            "stack_name": stack_name,
            "stack_id": stack_id,
            "tenant": defn.identity.project_id or "",
            "path": "",
        },
        "stack_name": stack_name,
        # Nothing exists yet: Heat shows no times.
        "creation_time": None,
        "updated_time": None,
    }


def _required_by(defn: StackDefinition) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n: [] for n in defn.resources}
    for name, rd in defn.resources.items():
        for dep in rd.requires:
            if dep in out:
                out[dep].append(name)
    return out


class PreviewOps:
    def __init__(
        self, settings: Settings, db: Database, plugins: PluginRegistry, stacks: StackOps
    ) -> None:
        self.settings = settings
        self.db = db
        self.plugins = plugins
        self.stacks = stacks

    def _resolved(
        self, defn: StackDefinition, name: str, rctx: ResolveContext
    ) -> tuple[type[ResourcePlugin] | None, dict[str, Any] | None]:
        """(plugin class, schema-applied properties or None when they cannot be known).
        One ``rctx`` serves a whole preview, so one budget bounds what it computes."""
        rd = defn.resources[name]
        plugin = self.plugins.resolved(defn.environment.registry, rd.type, name)
        try:
            props = rd.resolved_properties(rctx)
            if plugin is not None and not plugin.any_properties:
                props = apply_schema(plugin.properties_schema, props)
            return plugin, props
        except (errors.EmberError, PropertyError):
            return plugin, None

    async def _resolved_all(
        self, defn: StackDefinition, peers: Mapping[str, Any]
    ) -> dict[str, tuple[type[ResourcePlugin] | None, dict[str, Any] | None]]:
        """``_resolved`` of every resource, within one budget; in a thread when that may
        take a while, so that the event loop goes on serving."""
        rctx = defn.resolve_context(PeerResources(peers))

        def every() -> dict[str, tuple[type[ResourcePlugin] | None, dict[str, Any] | None]]:
            return {name: self._resolved(defn, name, rctx) for name in defn.resources}

        if any(rd.amplifying for rd in defn.resources.values()):
            return await asyncio.to_thread(every)
        return every()

    async def preview_stack(
        self,
        ctx: Ctx,
        stack_name: str,
        template: Any,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
    ) -> JSONMap:
        caller = Caller.from_ctx(ctx)
        check_stack_name(stack_name)
        stack_id = "None"
        identity = StackIdentity(stack_name, stack_id, caller.project_id, self.settings.region_name)
        request = await build_request(
            self.settings,
            self.plugins,
            identity=identity,
            template=template,
            parameters=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
        )
        defn = request.defn
        caller.check_types(self.stacks.policy, (rd.type for rd in defn.resources.values()))
        resources = await self._previews(defn, stack_name, stack_id, None)
        args = dict(args or {})
        return {
            "id": stack_id,
            "stack_name": stack_name,
            "description": defn.description,
            "template_description": defn.description,
            "parameters": defn.parameters.shown(),
            "timeout_mins": args.get("timeout_mins"),
            "disable_rollback": bool(args.get("disable_rollback", True)),
            "capabilities": [],
            "notification_topics": [],
            "stack_owner": caller.username,
            "creation_time": isotime(utcnow()),
            "updated_time": None,
            "deletion_time": None,
            "parent": None,
            "stack_user_project_id": caller.project_id,
            "tags": [],
            "resources": resources,
        }

    async def _previews(
        self, defn: StackDefinition, stack_name: str, stack_id: str, parent: str | None
    ) -> list[Any]:
        """Each resource of ``defn`` as a create would make it; a template resource as the
        list of its nested stack's (named ``<stack>-<resource>``, as Heat names it there),
        each with its ``parent_resource``."""
        required_by = _required_by(defn)
        resolved = await self._resolved_all(defn, {})
        out: list[Any] = []
        for name in defn.resources:
            plugin, props = resolved[name]
            nested = self._nested_definition(defn, name, stack_name, props)
            if nested is not None:
                out.append(await self._previews(nested, f"{stack_name}-{name}", stack_id, name))
                continue
            entry = _resource_preview(defn, name, stack_name, stack_id, required_by[name], props)
            entry["attributes"] = dict.fromkeys(sorted(plugin.attribute_names()) if plugin else ())
            if parent is not None:
                entry["parent_resource"] = parent
            out.append(entry)
        return out

    def _nested_definition(
        self, defn: StackDefinition, name: str, stack_name: str, props: dict[str, Any] | None
    ) -> StackDefinition | None:
        """The nested stack a template resource would make, given its properties (None: not
        a template resource, or its template is not known)."""
        checked = defn.nested.get(name)
        resolved = defn.resource_types.get(name)
        if checked is None or resolved is None:
            return None
        parameters = {k: v for k, v in (props or {}).items() if v is not None}
        environment = defn.environment.for_template_resource(resolved.chain[0], name)
        return define(
            checked.template,
            environment.with_parameters(parameters),
            identity=StackIdentity(
                f"{stack_name}-{name}",
                defn.identity.stack_id,
                defn.identity.project_id,
                defn.identity.region,
            ),
            catalog=self.plugins,
            require_parameters=False,
            limits=defn.limits,
        )

    async def preview_update_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        template: Any = None,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
        stack_id: str | None = None,
    ) -> JSONMap:
        """What an update would do to each resource. With ``args["show_nested"]``, the
        resources of the nested stacks too, each naming its ``parent_resource``."""
        caller = Caller.from_ctx(ctx)
        args = dict(args or {})
        show_nested = bool(args.pop("show_nested", False))
        stack = await self.stacks.find(caller, stack_identity, stack_id)
        _, request = await self.stacks.update_request(
            stack, args, template, params, files, environment, environment_files
        )
        changes: dict[str, list[dict[str, Any]]] = {
            "added": [],
            "deleted": [],
            "replaced": [],
            "unchanged": [],
            "updated": [],
        }
        await self._changes(caller, stack, request.defn, changes, show_nested, None)
        return {"resource_changes": changes}

    async def _changes(
        self,
        caller: Caller,
        stack: Stack,
        defn: StackDefinition,
        changes: dict[str, list[dict[str, Any]]],
        show_nested: bool,
        parent: str | None,
    ) -> None:
        """Add what updating ``stack`` to ``defn`` would do to ``changes``."""
        rows, peers, data = await self.db.read(_current, stack.id)
        by_name = {r.name: r for r in rows}
        required_by = _required_by(defn)
        resolved = await self._resolved_all(defn, peers)
        for name in defn.resources:
            plugin, props = resolved[name]
            view = _resource_preview(defn, name, stack.name, stack.id, required_by[name], props)
            if parent is not None:
                view["parent_resource"] = parent
            row = by_name.get(name)
            if row is None:
                changes["added"].append(view)
                continue
            view.update(
                resource_action=row.action,
                resource_status=row.status,
                physical_resource_id=row.physical_resource_id or "",
                creation_time=isotime(row.created_at),
                updated_time=isotime(row.updated_at or row.created_at),
            )
            kind, instance = self._change_kind(row, plugin, props, defn, data.get(row.id, {}))
            if isinstance(instance, StackResource) and kind == "unchanged":
                # As in Heat: a nested stack is always updated; its resources decide.
                kind = "updated"
            changes[kind].append(view)
            if not (show_nested and row.physical_resource_id):
                continue
            if kind == "updated" and isinstance(instance, StackResource):
                await self._nested_changes(caller, instance, row, changes)
            elif kind == "replaced":
                stored = self.plugins.resolved(defn.environment.registry, row.type, row.name)
                if _owns_stack(stored):
                    await self._nested_deleted(caller, row.physical_resource_id, changes, name)
        for row in rows:
            if row.name in defn.resources:
                continue
            changes["deleted"].append(_deleted_view(row, stack, parent))
            stored = self.plugins.resolved(defn.environment.registry, row.type, row.name)
            if show_nested and row.physical_resource_id and _owns_stack(stored):
                await self._nested_deleted(caller, row.physical_resource_id, changes, row.name)

    async def _nested_changes(
        self,
        caller: Caller,
        owner: StackResource,
        row: Resource,
        changes: dict[str, list[dict[str, Any]]],
    ) -> None:
        """What updating ``row``'s nested stack to what ``owner`` would make of it does."""
        try:
            spec = owner.child_spec()
            nested = await self.stacks.find(caller, str(row.physical_resource_id))
        except (ResourceFailure, errors.EntityNotFound):
            return  # the update itself would say why
        _, request = await self.stacks.update_request(
            nested,
            {},
            spec.template,
            dict(spec.parameters),
            dict(spec.files),
            spec.environment,
            None,
        )
        await self._changes(caller, nested, request.defn, changes, True, row.name)

    async def _nested_deleted(
        self, caller: Caller, stack_id: str, changes: dict[str, list[dict[str, Any]]], parent: str
    ) -> None:
        """Every resource of a nested stack the update would delete, its nested ones too."""
        try:
            nested = await self.stacks.find(caller, stack_id)
        except errors.EntityNotFound:
            return
        defn = await self.stacks.definitions.get(nested.id, nested.raw_template_id)
        rows, _, _ = await self.db.read(_current, nested.id)
        for row in rows:
            changes["deleted"].append(_deleted_view(row, nested, parent))
            stored = self.plugins.resolved(defn.environment.registry, row.type, row.name)
            if row.physical_resource_id and _owns_stack(stored):
                await self._nested_deleted(caller, row.physical_resource_id, changes, row.name)

    def _change_kind(
        self,
        row: Resource,
        plugin: type[ResourcePlugin] | None,
        props: dict[str, Any] | None,
        defn: StackDefinition,
        data: Mapping[str, str],
    ) -> tuple[str, ResourcePlugin | None]:
        """What the update would do to ``row``, in the preview's words, and the resource
        as it would be (None when that cannot be known yet)."""
        if plugin is None or props is None:
            return "updated", None  # what it would become cannot be known yet
        stored_plugin = self.plugins.resolved(defn.environment.registry, row.type, row.name)
        ctx = ResourceContext(
            name=row.name,
            type=defn.resources[row.name].type,
            stack_id=row.stack_id,
            stack_name=defn.identity.stack_name or "",
            project_id=defn.identity.project_id or "",
            uuid=str(uuid.uuid4()),
            properties=props,
            physical_id=row.physical_resource_id,
            data={k: v for k, v in data.items() if not k.startswith("hook:")},
            files=defn.template.files,
            environment=defn.environment.to_dict(),
        )
        instance = plugin(ctx)
        decided = plan(
            Stored(
                action=row.action,
                status=row.status,
                physical_id=row.physical_resource_id,
                properties=row.properties,
                plugin_type=stored_plugin.type_name if stored_plugin else row.type,
                needs_replace=row.needs_replace,
                data=ctx.data,
            ),
            Wanted(props, plugin.type_name),
            Capabilities(
                update_failed_in_place=plugin.update_failed_in_place,
                replaces_on=instance.needs_replace,
                definition_changed=instance.definition_changed(),
                restricted=defn.environment.registry.restricted_actions(row.name),
            ),
        )
        return PREVIEW[decided.change], instance


def _owns_stack(plugin: type[ResourcePlugin] | None) -> bool:
    return plugin is not None and issubclass(plugin, StackResource)


def _deleted_view(row: Resource, stack: Stack, parent: str | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "resource_name": row.name,
        "resource_type": row.type,
        "resource_action": row.action,
        "resource_status": row.status,
        "physical_resource_id": row.physical_resource_id or "",
        "resource_identity": {
            "stack_name": stack.name,
            "stack_id": stack.id,
            "path": f"/resources/{row.name}",
        },
        "stack_identity": {"stack_name": stack.name, "stack_id": stack.id},
    }
    if parent is not None:
        view["parent_resource"] = parent
    return view


def _current(
    uow: UnitOfWork, stack_id: str
) -> tuple[list[Resource], dict[str, Any], dict[int, dict[str, str]]]:
    rows = uow.resources.live(stack_id)
    return rows, uow.resources.peers_of(stack_id), uow.resources.data_of([r.id for r in rows])
