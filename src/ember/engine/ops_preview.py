"""Previews: what a create would make and what an update would change, without acting."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ember.common import errors
from ember.common.timeutils import isotime, utcnow
from ember.engine import store_reads
from ember.engine.resource import ResourceContext
from ember.engine.runner import PeerResources
from ember.engine.stack_requests import build_request, check_stack_name
from ember.engine.states import Action, Status
from ember.template import PropertyError, StackDefinition, StackIdentity, apply_schema

if TYPE_CHECKING:
    from ember.engine.service import EngineService


def _resource_preview(
    defn: StackDefinition,
    name: str,
    stack_name: str,
    stack_id: str,
    required_by: list[str],
    properties: Any,
) -> dict[str, Any]:
    rd = defn.resources[name]
    now = isotime(utcnow())
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
        "creation_time": now,
        "updated_time": now,
    }


def _required_by(defn: StackDefinition) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n: [] for n in defn.resources}
    for name, rd in defn.resources.items():
        for dep in rd.requires:
            if dep in out:
                out[dep].append(name)
    return out


class PreviewOps:
    """Mixed into EngineService."""

    def _resolved(
        self: EngineService, defn: StackDefinition, name: str, peers: Mapping[str, Any]
    ) -> tuple[Any, dict[str, Any] | None]:
        """(plugin class, schema-applied properties or None when they cannot be known)."""
        rd = defn.resources[name]
        resolved = defn.environment.registry.resolve(rd.type, name)
        plugin = self.plugins.get(
            "OS::Heat::TemplateResource" if resolved.is_template else resolved.name
        )
        try:
            props = rd.resolved_properties(defn.resolve_context(PeerResources(peers)))
            if plugin is not None and not getattr(plugin, "any_properties", False):
                props = apply_schema(plugin.properties_schema, props)
            return plugin, props
        except (errors.EmberError, PropertyError):
            return plugin, None

    async def preview_stack(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_name: str,
        template: Any,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        check_stack_name(stack_name)
        stack_id = "None"
        identity = StackIdentity(
            stack_name, stack_id, str(ctx["project_id"]), self.settings.region_name
        )
        request = build_request(
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
        required_by = _required_by(defn)
        resources = []
        for name in defn.resources:
            _, props = self._resolved(defn, name, {})
            entry: Any = _resource_preview(
                defn, name, stack_name, stack_id, required_by[name], props
            )
            nested = defn.nested.get(name)
            if nested is not None:
                entry = [
                    _resource_preview(nested, n, stack_name, stack_id, [], None)
                    for n in nested.resources
                ]
            resources.append(entry)
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
            "stack_owner": ctx.get("username"),
            "creation_time": isotime(utcnow()),
            "updated_time": None,
            "deletion_time": None,
            "parent": None,
            "stack_user_project_id": ctx["project_id"],
            "tags": [],
            "resources": resources,
        }

    async def preview_update_stack(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        template: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: Mapping[str, Any] | None = None,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        project = str(ctx["project_id"])
        stack = await self.db.run(store_reads.find_stack, project, stack_identity, stack_id)
        _, request = await self._update_request(
            stack, dict(args or {}), template, params, files, environment, environment_files
        )
        defn = request.defn
        rows = await self.db.run(store_reads.current_resources, stack.id)
        rows = [r for r in rows if r.replaced_by is None]
        peers = await self.db.run(store_reads.peers_of, stack.id)
        by_name = {r.name: r for r in rows}
        changes: dict[str, list[dict[str, Any]]] = {
            "added": [],
            "deleted": [],
            "replaced": [],
            "unchanged": [],
            "updated": [],
        }
        required_by = _required_by(defn)
        for name in defn.resources:
            plugin, props = self._resolved(defn, name, peers)
            view = _resource_preview(defn, name, stack.name, stack.id, required_by[name], props)
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
            changes[self._change_kind(row, plugin, props, defn.resources[name].type)].append(view)
        for row in rows:
            if row.name not in defn.resources:
                changes["deleted"].append(
                    {
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
                )
        return {"resource_changes": changes}

    @staticmethod
    def _change_kind(row: Any, plugin: Any, props: dict[str, Any] | None, new_type: str) -> str:
        if row.type != new_type or row.status == Status.FAILED or row.needs_replace:
            return "replaced"
        if props is None or plugin is None:
            return "updated"
        old = row.properties or {}
        changed = {k: props.get(k) for k in set(old) | set(props) if old.get(k) != props.get(k)}
        if not changed:
            return "unchanged"
        ctx = ResourceContext(
            name=row.name,
            type=row.type,
            stack_id=row.stack_id,
            stack_name="",
            project_id="",
            uuid=str(uuid.uuid4()),
            properties=props,
        )
        return "replaced" if plugin(ctx).needs_replace(changed) else "updated"
