"""The typed engine client: one method per engine operation.

The APIs talk to engines only through this class. Arguments and results are JSON; a
``ctx`` dict carries the caller (``project_id``, ``username``, ``is_admin``, ...).
"""

from __future__ import annotations

from typing import Any

from ember.rpc.transport import Transport

ENGINE_TOPIC = "engine.rpc"
Ctx = dict[str, Any]


class EngineClient:
    def __init__(self, transport: Transport, timeout: float = 60.0) -> None:
        self.transport = transport
        self.timeout = timeout

    async def _call(self, method: str, **kwargs: Any) -> Any:
        return await self.transport.call(ENGINE_TOPIC, method, kwargs, self.timeout)

    # Stacks
    async def create_stack(
        self,
        ctx: Ctx,
        stack_name: str,
        template: Any,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "create_stack",
            ctx=ctx,
            stack_name=stack_name,
            template=template,
            params=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            args=args,
        )

    async def preview_stack(
        self,
        ctx: Ctx,
        stack_name: str,
        template: Any,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "preview_stack",
            ctx=ctx,
            stack_name=stack_name,
            template=template,
            params=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            args=args,
        )

    async def update_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        template: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: dict[str, Any] | None = None,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "update_stack",
            ctx=ctx,
            stack_identity=stack_identity,
            template=template,
            params=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            args=args,
            stack_id=stack_id,
        )

    async def preview_update_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        template: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: dict[str, Any] | None = None,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "preview_update_stack",
            ctx=ctx,
            stack_identity=stack_identity,
            template=template,
            params=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            args=args,
            stack_id=stack_id,
        )

    async def delete_stack(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> None:
        await self._call("delete_stack", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id)

    async def identify_stack(self, ctx: Ctx, stack_identity: str) -> dict[str, Any]:
        return await self._call("identify_stack", ctx=ctx, stack_identity=stack_identity)

    async def show_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        resolve_outputs: bool = True,
    ) -> dict[str, Any]:
        return await self._call(
            "show_stack",
            ctx=ctx,
            stack_identity=stack_identity,
            stack_id=stack_id,
            resolve_outputs=resolve_outputs,
        )

    async def list_stacks(self, ctx: Ctx, **filters: Any) -> list[dict[str, Any]]:
        return await self._call("list_stacks", ctx=ctx, **filters)

    async def get_template(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "get_template", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id
        )

    async def stack_action(
        self, ctx: Ctx, stack_identity: str, action: str, stack_id: str | None = None
    ) -> None:
        """suspend, resume, check, cancel_update or cancel_without_rollback."""
        await self._call(
            "stack_action", ctx=ctx, stack_identity=stack_identity, action=action, stack_id=stack_id
        )

    # Resources and events
    async def list_resources(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        with_detail: bool = False,
        nested_depth: int = 0,
        filters: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return await self._call(
            "list_resources",
            ctx=ctx,
            stack_identity=stack_identity,
            stack_id=stack_id,
            with_detail=with_detail,
            nested_depth=nested_depth,
            filters=filters,
        )

    async def show_resource(
        self, ctx: Ctx, stack_identity: str, resource_name: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "show_resource",
            ctx=ctx,
            stack_identity=stack_identity,
            resource_name=resource_name,
            stack_id=stack_id,
        )

    async def signal_resource(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        details: Any = None,
        stack_id: str | None = None,
    ) -> None:
        await self._call(
            "signal_resource",
            ctx=ctx,
            stack_identity=stack_identity,
            resource_name=resource_name,
            details=details,
            stack_id=stack_id,
        )

    async def mark_unhealthy(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        mark_unhealthy: bool,
        reason: str = "",
        stack_id: str | None = None,
    ) -> None:
        await self._call(
            "mark_unhealthy",
            ctx=ctx,
            stack_identity=stack_identity,
            resource_name=resource_name,
            mark_unhealthy=mark_unhealthy,
            reason=reason,
            stack_id=stack_id,
        )

    async def list_events(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """``params``: filters, limit, marker, sort_keys, sort_dir, nested_depth."""
        return await self._call(
            "list_events", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id, **params
        )

    async def show_event(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        event_id: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "show_event",
            ctx=ctx,
            stack_identity=stack_identity,
            resource_name=resource_name,
            event_id=event_id,
            stack_id=stack_id,
        )

    async def resource_metadata(
        self, ctx: Ctx, stack_identity: str, resource_name: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "resource_metadata",
            ctx=ctx,
            stack_identity=stack_identity,
            resource_name=resource_name,
            stack_id=stack_id,
        )

    # Stack parts
    async def count_and_list_stacks(self, ctx: Ctx, **params: Any) -> dict[str, Any]:
        """``{"stacks": [...], "count"?: n}`` with filters, sorting and pagination."""
        return await self._call("count_and_list_stacks", ctx=ctx, **params)

    async def get_environment(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "get_environment", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id
        )

    async def get_files(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "get_files", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id
        )

    async def list_outputs(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._call(
            "list_outputs", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id
        )

    async def show_output(
        self, ctx: Ctx, stack_identity: str, output_key: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "show_output",
            ctx=ctx,
            stack_identity=stack_identity,
            output_key=output_key,
            stack_id=stack_id,
        )

    # Templates and types
    async def validate_template(
        self,
        ctx: Ctx,
        template: Any,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        show_nested: bool = False,
        ignore_errors: list[str] | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "validate_template",
            ctx=ctx,
            template=template,
            params=params,
            files=files,
            environment=environment,
            environment_files=environment_files,
            show_nested=show_nested,
            ignore_errors=ignore_errors,
        )

    async def list_resource_types(
        self,
        ctx: Ctx,
        name: str | None = None,
        support_status: str | None = None,
        version: str | None = None,
        with_description: bool = False,
    ) -> list[Any]:
        return await self._call(
            "list_resource_types",
            ctx=ctx,
            name=name,
            support_status=support_status,
            version=version,
            with_description=with_description,
        )

    async def resource_schema(
        self, ctx: Ctx, type_name: str, with_description: bool = False
    ) -> dict[str, Any]:
        return await self._call(
            "resource_schema", ctx=ctx, type_name=type_name, with_description=with_description
        )

    async def generate_template(
        self, ctx: Ctx, type_name: str, template_type: str = "cfn"
    ) -> dict[str, Any]:
        return await self._call(
            "generate_template", ctx=ctx, type_name=type_name, template_type=template_type
        )

    async def list_template_versions(self, ctx: Ctx) -> list[dict[str, Any]]:
        return await self._call("list_template_versions", ctx=ctx)

    async def list_template_functions(
        self, ctx: Ctx, template_version: str, with_condition_func: bool = False
    ) -> list[dict[str, str]]:
        return await self._call(
            "list_template_functions",
            ctx=ctx,
            template_version=template_version,
            with_condition_func=with_condition_func,
        )

    # Abandon, adopt, snapshots
    async def abandon_stack(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None, abandon: bool = True
    ) -> dict[str, Any]:
        return await self._call(
            "abandon_stack",
            ctx=ctx,
            stack_identity=stack_identity,
            stack_id=stack_id,
            abandon=abandon,
        )

    async def snapshot_stack(
        self, ctx: Ctx, stack_identity: str, name: str | None = None, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "snapshot_stack", ctx=ctx, stack_identity=stack_identity, name=name, stack_id=stack_id
        )

    async def list_snapshots(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._call(
            "list_snapshots", ctx=ctx, stack_identity=stack_identity, stack_id=stack_id
        )

    async def show_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> dict[str, Any]:
        return await self._call(
            "show_snapshot",
            ctx=ctx,
            stack_identity=stack_identity,
            snapshot_id=snapshot_id,
            stack_id=stack_id,
        )

    async def delete_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> None:
        await self._call(
            "delete_snapshot",
            ctx=ctx,
            stack_identity=stack_identity,
            snapshot_id=snapshot_id,
            stack_id=stack_id,
        )

    async def restore_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> None:
        await self._call(
            "restore_snapshot",
            ctx=ctx,
            stack_identity=stack_identity,
            snapshot_id=snapshot_id,
            stack_id=stack_id,
        )

    # Software configs and deployments
    async def create_software_config(
        self,
        ctx: Ctx,
        name: str | None = None,
        group: str | None = None,
        config: Any = None,
        inputs: list[Any] | None = None,
        outputs: list[Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._call(
            "create_software_config",
            ctx=ctx,
            name=name,
            group=group,
            config=config,
            inputs=inputs,
            outputs=outputs,
            options=options,
        )

    async def list_software_configs(
        self,
        ctx: Ctx,
        limit: int | None = None,
        marker: str | None = None,
        global_tenant: bool = False,
    ) -> list[dict[str, Any]]:
        return await self._call(
            "list_software_configs",
            ctx=ctx,
            limit=limit,
            marker=marker,
            global_tenant=global_tenant,
        )

    async def show_software_config(self, ctx: Ctx, config_id: str) -> dict[str, Any]:
        return await self._call("show_software_config", ctx=ctx, config_id=config_id)

    async def delete_software_config(self, ctx: Ctx, config_id: str) -> None:
        await self._call("delete_software_config", ctx=ctx, config_id=config_id)

    async def create_software_deployment(
        self,
        ctx: Ctx,
        server_id: str,
        config_id: str,
        input_values: dict[str, Any] | None = None,
        action: str | None = None,
        status: str | None = None,
        status_reason: str | None = None,
        stack_user_project_id: str | None = None,
    ) -> dict[str, Any]:
        """``action`` defaults to INIT and ``status`` to COMPLETE."""
        return await self._call(
            "create_software_deployment",
            ctx=ctx,
            server_id=server_id,
            config_id=config_id,
            input_values=input_values,
            action=action,
            status=status,
            status_reason=status_reason,
            stack_user_project_id=stack_user_project_id,
        )

    async def list_software_deployments(
        self, ctx: Ctx, server_id: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._call("list_software_deployments", ctx=ctx, server_id=server_id)

    async def metadata_software_deployments(self, ctx: Ctx, server_id: str) -> list[dict[str, Any]]:
        """The configs deployed to a server, sorted by name, inputs carrying their values."""
        return await self._call("metadata_software_deployments", ctx=ctx, server_id=server_id)

    async def show_software_deployment(self, ctx: Ctx, deployment_id: str) -> dict[str, Any]:
        return await self._call("show_software_deployment", ctx=ctx, deployment_id=deployment_id)

    async def update_software_deployment(
        self,
        ctx: Ctx,
        deployment_id: str,
        config_id: str | None = None,
        input_values: dict[str, Any] | None = None,
        output_values: dict[str, Any] | None = None,
        action: str | None = None,
        status: str | None = None,
        status_reason: str | None = None,
    ) -> dict[str, Any]:
        """Only the arguments that are not None are applied."""
        return await self._call(
            "update_software_deployment",
            ctx=ctx,
            deployment_id=deployment_id,
            config_id=config_id,
            input_values=input_values,
            output_values=output_values,
            action=action,
            status=status,
            status_reason=status_reason,
        )

    async def delete_software_deployment(self, ctx: Ctx, deployment_id: str) -> None:
        await self._call("delete_software_deployment", ctx=ctx, deployment_id=deployment_id)

    # Service
    async def health(self, timeout: float = 5.0) -> bool:
        """Whether an engine answers and reaches the database."""
        try:
            return bool(await self.transport.call(ENGINE_TOPIC, "health", {}, timeout))
        except Exception:
            return False

    async def list_services(self, ctx: Ctx) -> list[dict[str, Any]]:
        return await self._call("list_services", ctx=ctx)
