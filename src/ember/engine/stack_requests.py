"""Turning a create/update request into a checked stack definition."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ember.common import errors
from ember.common.settings import Settings
from ember.engine.capabilities import check as check_capabilities
from ember.engine.capabilities import check_known
from ember.engine.plugins import PluginRegistry
from ember.template import (
    Environment,
    Limits,
    StackDefinition,
    StackIdentity,
    Template,
    define,
    merge_environment_files,
)

STACK_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")


def check_stack_name(name: Any) -> str:
    if not isinstance(name, str) or not STACK_NAME.match(name):
        raise errors.StackValidationFailed(
            f'Invalid stack name {name} must contain only alphanumeric or "_-." characters, '
            "must start with alpha and must be 255 characters or less."
        )
    return name


def limits_of(settings: Settings) -> Limits:
    """The template layer's limits, from heat.conf."""
    return Limits(
        max_nested_depth=settings.max_nested_stack_depth,
        max_template_size=settings.max_template_size,
        max_resources=settings.max_resources_per_stack,
        max_result_items=settings.max_function_result_items,
        max_result_chars=settings.max_function_result_chars,
        yaql_limit_iterators=settings.yaql_limit_iterators,
        yaql_memory_quota=settings.yaql_memory_quota,
    )


@dataclass(frozen=True)
class StackRequest:
    template: Template
    environment: Environment
    defn: StackDefinition


async def build_request(
    settings: Settings,
    plugins: PluginRegistry,
    *,
    identity: StackIdentity,
    template: Any,
    parameters: Mapping[str, Any] | None,
    files: Mapping[str, Any] | None,
    environment: Any,
    environment_files: list[str] | None,
    require_parameters: bool = True,
    depth: int = 0,
    capabilities: list[str] | None = None,
) -> StackRequest:
    """``checked_request`` in a thread: validation computes what the template's functions
    make (yaql up to its step limit, the rest within the function budget), which must not
    hold the event loop while other requests wait. Bounded and pure, so the answer is the
    same wherever it runs."""
    return await asyncio.to_thread(
        checked_request,
        settings,
        plugins,
        identity=identity,
        template=template,
        parameters=parameters,
        files=files,
        environment=environment,
        environment_files=environment_files,
        require_parameters=require_parameters,
        depth=depth,
        capabilities=capabilities,
    )


def checked_request(
    settings: Settings,
    plugins: PluginRegistry,
    *,
    identity: StackIdentity,
    template: Any,
    parameters: Mapping[str, Any] | None,
    files: Mapping[str, Any] | None,
    environment: Any,
    environment_files: list[str] | None,
    require_parameters: bool = True,
    depth: int = 0,
    capabilities: list[str] | None = None,
) -> StackRequest:
    """Load, merge and check everything a request gives; raise with every problem found.
    ``capabilities``: what a CloudFormation caller acknowledged (None: not asked)."""
    files = {str(k): v if isinstance(v, str) else str(v) for k, v in (files or {}).items()}
    if template is None:
        raise errors.InvalidRequest("No template specified")
    tmpl = Template.load(template, files, max_size=settings.max_template_size)
    if capabilities is not None:
        # Before the types are looked up: an unacknowledged IAM resource is refused as
        # CloudFormation refuses it, whether or not this deployment has its type.
        check_capabilities(tmpl.doc, check_known(capabilities))
    if environment_files:
        param_types = {n: s.type for n, s in tmpl.parameter_schemas().items()}
        env = merge_environment_files(
            environment_files, files, param_types=param_types, max_size=settings.max_template_size
        )
    else:
        env = Environment.parse(environment, max_size=settings.max_json_body_size)
    env = env.with_parameters(parameters or {})
    defn = define(
        tmpl,
        env,
        identity=identity,
        catalog=plugins,
        require_parameters=require_parameters,
        depth=depth,
        limits=limits_of(settings),
    )
    defn.diags.raise_if_errors()
    return StackRequest(tmpl, env, defn)


def patched(
    current: StackDefinition,
    template: Any,
    params: Mapping[str, Any] | None,
    files: Mapping[str, Any] | None,
    environment: Any,
    clear_parameters: list[str] | None,
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A PATCH update (``existing``): the stored template, files and environment with the
    request's merged in, stored parameters kept unless cleared. Returns the template, files
    and environment to build the new definition from."""
    template = template if template is not None else current.template.doc
    merged_files = {**current.template.files, **(files or {})}
    env = current.environment.to_dict()
    user_params = dict(current.environment.parameters)
    for name in clear_parameters or []:
        user_params.pop(name, None)
    user_params.update(params or {})
    env["parameters"] = user_params
    if isinstance(environment, Mapping):
        for key in ("parameter_defaults", "resource_registry"):
            env.setdefault(key, {}).update(environment.get(key) or {})
        env["parameters"].update(environment.get("parameters") or {})
    declared = _declared_parameters(template, merged_files)
    if declared is not None:
        # As Heat: the values of parameters the new template no longer has are dropped.
        env["parameters"] = {k: v for k, v in env["parameters"].items() if k in declared}
    return template, merged_files, env


def _declared_parameters(template: Any, files: Mapping[str, Any]) -> set[str] | None:
    """The parameters a template declares; None when it does not load (the update's own
    checks then say why)."""
    try:
        return set(Template.load(template, files).parameter_schemas())
    except errors.EmberError:
        return None


def carried_over(
    current: StackDefinition,
    template: Any,
    params: Mapping[str, Any] | None,
    previous_parameters: list[str],
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A CloudFormation update: the given template (None: the stored one, with its files),
    the given parameters plus the stored values of ``previous_parameters``
    (``UsePreviousValue``); a parameter neither given nor carried over takes its default.
    The stored environment's registry and defaults are kept. Returns the template, files
    and environment to build the new definition from."""
    files: dict[str, Any] = {}
    if template is None:
        template = current.template.doc
        files = dict(current.template.files)
    stored = current.environment.parameters
    user_params = {name: stored[name] for name in previous_parameters if name in stored}
    user_params.update(params or {})
    env = current.environment.to_dict()
    env["parameters"] = user_params
    return template, files, env
