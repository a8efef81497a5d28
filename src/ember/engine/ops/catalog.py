"""What the engine knows without a stack: template validation, resource types and their
schemas, template versions and functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.engine import capabilities
from ember.engine.caller import Caller
from ember.engine.plugins import PluginRegistry
from ember.engine.resource import ResourcePlugin
from ember.engine.stack_requests import StackRequest, build_request
from ember.policy.enforcer import Enforcer
from ember.rpc.api import Ctx
from ember.template import StackIdentity, validate_response, versions

SUPPORT_STATUSES = ("UNKNOWN", "SUPPORTED", "DEPRECATED", "UNSUPPORTED", "HIDDEN")
_HOT_PARAM_TYPES = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "list": "comma_delimited_list",
    "map": "json",
    "any": "json",
}


class CatalogOps:
    def __init__(
        self, settings: Settings, plugins: PluginRegistry, policy: Enforcer | None = None
    ) -> None:
        self.settings = settings
        self.plugins = plugins
        self.policy = policy or Enforcer.from_config_args(settings.config_args)

    async def validate_template(
        self,
        ctx: Ctx,
        template: Any,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        show_nested: bool = False,
        ignore_errors: list[str] | None = None,
    ) -> dict[str, Any]:
        request = await self._checked(ctx, template, params, files, environment, environment_files)
        return validate_response(request.defn, show_nested=show_nested)

    async def summarize_template(
        self, ctx: Ctx, template: Any, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        request = await self._checked(ctx, template, params)
        doc = request.template.doc
        version_key = next(
            (k for k in ("heat_template_version", "AWSTemplateFormatVersion") if k in doc), None
        )
        summary = validate_response(request.defn, show_nested=False)
        summary.update(
            resource_types=sorted({rd.type for rd in request.defn.resources.values()}),
            version=str(doc[version_key]) if version_key else None,
            metadata=doc.get("Metadata"),
            capabilities=capabilities.required(doc),
        )
        return summary

    async def _checked(
        self,
        ctx: Ctx,
        template: Any,
        params: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
    ) -> StackRequest:
        """The template checked as a stack of the caller's project would be, its
        parameters not required (validation of a template, not of a stack)."""
        caller = Caller.from_ctx(ctx)
        identity = StackIdentity(None, None, caller.project_id, self.settings.region_name)
        return await build_request(
            self.settings,
            self.plugins,
            identity=identity,
            template=template,
            parameters=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            require_parameters=False,
        )

    def _plugin(self, type_name: str) -> type[ResourcePlugin]:
        plugin = self.plugins.get(type_name)
        if plugin is None:
            raise errors.EntityNotFound(entity="Resource Type", name=type_name)
        return plugin

    async def list_resource_types(
        self,
        ctx: Ctx,
        name: str | None = None,
        support_status: str | None = None,
        version: str | None = None,
        with_description: bool = False,
    ) -> list[Any]:
        if support_status is not None and support_status.upper() not in SUPPORT_STATUSES:
            raise errors.InvalidRequest(
                f'Invalid support status "{support_status}"; valid are '
                + ", ".join(SUPPORT_STATUSES)
            )
        try:
            pattern = re.compile(name) if name else None
        except re.error as exc:
            raise errors.InvalidRequest(f"Invalid name pattern {name!r}: {exc}") from None
        # As in Heat, the list leaves out the types the policy keeps from the caller.
        who = Caller.from_ctx(ctx).credentials
        out: list[Any] = []
        for type_name in self.plugins.names():
            plugin = self.plugins.get(type_name)
            if plugin is None or (pattern is not None and not pattern.search(type_name)):
                continue
            if not self.policy.allows_type(type_name, who):
                continue
            status = plugin.support_status.get("status", "SUPPORTED")
            if status == "HIDDEN" and (support_status or "").upper() != "HIDDEN":
                continue
            if support_status and status != support_status.upper():
                continue
            if version and plugin.support_status.get("version") != version:
                continue
            out.append(
                {"resource_type": type_name, "description": plugin.description}
                if with_description
                else type_name
            )
        return out

    async def resource_schema(
        self, ctx: Ctx, type_name: str, with_description: bool = False
    ) -> dict[str, Any]:
        plugin = self._plugin(type_name)
        Caller.from_ctx(ctx).check_types(self.policy, [type_name])
        attributes = {name: a.to_api() for name, a in plugin.attributes_schema.items()}
        attributes["show"] = {"description": "Detailed information about resource.", "type": "map"}
        out: dict[str, Any] = {
            "resource_type": type_name,
            "properties": {n: s.to_api() for n, s in plugin.properties_schema.items()},
            "attributes": attributes,
            "support_status": {
                "status": "SUPPORTED",
                "version": None,
                "message": None,
                "previous_status": None,
                **plugin.support_status,
            },
        }
        if with_description:
            out["description"] = plugin.description
        return out

    async def generate_template(
        self, ctx: Ctx, type_name: str, template_type: str = "cfn"
    ) -> dict[str, Any]:
        plugin = self._plugin(type_name)
        Caller.from_ctx(ctx).check_types(self.policy, [type_name])
        short = type_name.rsplit("::", 1)[-1]
        if template_type == "hot":
            return {
                "heat_template_version": "2016-10-14",
                "description": f"Initial template of {short}",
                "parameters": {
                    n: {"type": _HOT_PARAM_TYPES[s.type], "description": s.description}
                    for n, s in plugin.properties_schema.items()
                },
                "resources": {
                    short: {
                        "type": type_name,
                        "properties": {n: {"get_param": n} for n in plugin.properties_schema},
                    }
                },
                "outputs": {
                    n: {"description": a.description, "value": {"get_attr": [short, n]}}
                    for n, a in plugin.attributes_schema.items()
                },
            }
        if template_type != "cfn":
            raise errors.InvalidRequest(f"Template type is not supported: {template_type}")
        cfn_types = {
            "string": "String",
            "integer": "Number",
            "number": "Number",
            "boolean": "Boolean",
            "list": "CommaDelimitedList",
            "map": "Json",
            "any": "Json",
        }
        return {
            "HeatTemplateFormatVersion": "2012-12-12",
            "Description": f"Initial template of {short}",
            "Parameters": {
                n: {"Type": cfn_types[s.type], "Description": s.description}
                for n, s in plugin.properties_schema.items()
            },
            "Resources": {
                short: {
                    "Type": type_name,
                    "Properties": {n: {"Ref": n} for n in plugin.properties_schema},
                }
            },
            "Outputs": {
                n: {"Description": a.description, "Value": {"Fn::GetAtt": [short, n]}}
                for n, a in plugin.attributes_schema.items()
            },
        }

    async def list_template_versions(self, ctx: Ctx) -> list[dict[str, Any]]:
        return [
            {"version": v.name, "type": v.kind, "aliases": v.alias_names} for v in versions.VERSIONS
        ]

    async def list_template_functions(
        self,
        ctx: Ctx,
        template_version: str,
        with_condition_func: bool = False,
    ) -> list[dict[str, str]]:
        version = versions.by_name(template_version)
        return versions.function_descriptions(version, with_condition_func)
