"""Stack actions: CreateStack, UpdateStack, DeleteStack, CancelUpdateStack, DescribeStacks,
ListStacks.

Heat's engine does the work; what is CloudFormation's here is the vocabulary (ARNs,
``OnFailure``, ``UsePreviousValue``, ``Tags`` as key/value pairs, ``ClientRequestToken``)
and the shapes botocore reads.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ember.api.cfn import faults, paging
from ember.api.cfn.call import ActionCall, arn_of
from ember.api.cfn.templates import template_of

# CloudFormation's own bounds.
MAX_PARAMETERS = 200
MAX_TAGS = 50
MAX_TIMEOUT_MINUTES = 43_200
TOKEN = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]{0,127}$")
ON_FAILURE = ("DO_NOTHING", "ROLLBACK", "DELETE")
STATUSES = tuple(
    f"{action}_{state}"
    for action in (
        "CREATE",
        "DELETE",
        "UPDATE",
        "ROLLBACK",
        "SUSPEND",
        "RESUME",
        "ADOPT",
        "SNAPSHOT",
        "CHECK",
        "RESTORE",
    )
    for state in ("IN_PROGRESS", "COMPLETE", "FAILED")
)
# Parameters of CloudFormation's that would promise what Ember does not do (protect
# resources, notify, assume a role): refused, never silently dropped.
UNSUPPORTED = (
    "StackPolicyBody",
    "StackPolicyURL",
    "StackPolicyDuringUpdateBody",
    "StackPolicyDuringUpdateURL",
    "RoleARN",
    "NotificationARNs.member.1",
    "ResourceTypes.member.1",
    "RollbackConfiguration.MonitoringTimeInMinutes",
    "RollbackConfiguration.RollbackTriggers.member.1.Arn",
    "RetainExceptOnCreate",
)


def _refuse_unsupported(call: ActionCall) -> None:
    for name in UNSUPPORTED:
        if call.query.get(name) is not None:
            shown = name.split(".member.")[0]
            raise faults.ValidationError(f"{shown} is not supported by this service.")
    if call.query.flag("EnableTerminationProtection"):
        raise faults.ValidationError(
            "EnableTerminationProtection is not supported by this service."
        )


def _token(call: ActionCall) -> str | None:
    value = call.query.get("ClientRequestToken")
    if value is None:
        return None
    if not TOKEN.match(value):
        raise faults.ValidationError(
            "ClientRequestToken must be 1 to 128 letters, digits and hyphens, beginning "
            "with a letter or digit."
        )
    return value


def _parameters(call: ActionCall, *, update: bool) -> tuple[dict[str, str], list[str]]:
    """The given parameter values, and the names whose previous values are kept."""
    members = call.query.maps(
        "Parameters", ("ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue")
    )
    if len(members) > MAX_PARAMETERS:
        raise faults.LimitExceededException(f"At most {MAX_PARAMETERS} parameters may be given.")
    values: dict[str, str] = {}
    previous: list[str] = []
    for member in members:
        key = member.get("ParameterKey")
        if not key:
            raise faults.ValidationError("Every member of Parameters needs a ParameterKey.")
        if key in values or key in previous:
            raise faults.ValidationError(f"Parameter {key} is given more than once.")
        keep = member.get("UsePreviousValue", "false").lower()
        if keep not in ("true", "false"):
            raise faults.ValidationError(
                f"Invalid UsePreviousValue for parameter {key}: must be true or false."
            )
        if keep == "true":
            if not update:
                raise faults.ValidationError(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue "
                    "as true for a parameter when creating a stack"
                )
            if "ParameterValue" in member:
                raise faults.InvalidParameterCombination(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue "
                    "as true and a non empty value for a parameter"
                )
            previous.append(key)
            continue
        if "ParameterValue" not in member:
            raise faults.ValidationError(
                f"Invalid input for parameter key {key}. Need to specify either "
                "usePreviousValue as true or a value for the parameter"
            )
        values[key] = member["ParameterValue"]
    return values, previous


def _tags(call: ActionCall) -> list[str] | None:
    members = call.query.maps("Tags", ("Key", "Value"))
    if not members:
        return None
    if len(members) > MAX_TAGS:
        raise faults.ValidationError(f"At most {MAX_TAGS} tags may be given.")
    tags = []
    for member in members:
        key, value = member.get("Key", ""), member.get("Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise faults.ValidationError(
                "A tag's Key is 1 to 128 characters, its Value at most 256."
            )
        if "," in key + value or "=" in key:
            raise faults.ValidationError(
                f"Tag {key[:64]!r}: a key holds no ',' or '=', a value no ','."
            )
        tags.append(f"{key}={value}" if value else key)
    return tags


def _capabilities(call: ActionCall) -> list[str]:
    return call.query.strings("Capabilities")


def _rollback(call: ActionCall, default: bool | None) -> bool | None:
    """``disable_rollback`` from ``DisableRollback`` / ``OnFailure`` (not both)."""
    disable = call.query.flag("DisableRollback")
    on_failure = call.query.get("OnFailure")
    if on_failure is not None:
        if disable is not None:
            raise faults.InvalidParameterCombination(
                "You cannot specify both DisableRollback and OnFailure."
            )
        if on_failure not in ON_FAILURE:
            raise faults.ValidationError(
                f"Invalid OnFailure {on_failure[:64]!r}: must be one of {', '.join(ON_FAILURE)}."
            )
        return on_failure == "DO_NOTHING"
    return disable if disable is not None else default


async def create_stack(call: ActionCall) -> dict[str, Any]:
    _refuse_unsupported(call)
    name = call.query.required("StackName")
    template = await template_of(call, allow_previous=False)
    params, _ = _parameters(call, update=False)
    args = _change_args(call, token_arg="idempotency_key")
    # CloudFormation rolls a failed create back unless told not to.
    args["disable_rollback"] = _rollback(call, False)
    timeout = call.query.integer("TimeoutInMinutes", 1, MAX_TIMEOUT_MINUTES)
    if timeout is not None:
        args["timeout_mins"] = timeout
    made = await call.ask(
        call.engine.create_stack(call.ctx, name, template, params=params, args=args)
    )
    return _stack_id(call, made)


async def update_stack(call: ActionCall) -> dict[str, Any]:
    _refuse_unsupported(call)
    name = call.query.required("StackName")
    template = await template_of(call, allow_previous=True)
    params, previous = _parameters(call, update=True)
    args = _change_args(call, token_arg="request_key")
    args["previous_parameters"] = previous
    if template is None:
        args["previous_template"] = True
    disable = _rollback(call, None)
    if disable is not None:
        args["disable_rollback"] = disable
    made = await call.ask(
        call.engine.update_stack(call.ctx, name, template, params=params, args=args)
    )
    return _stack_id(call, made)


def _change_args(call: ActionCall, *, token_arg: str) -> dict[str, Any]:
    """What a create and an update both take: capabilities, tags and the retry token."""
    args: dict[str, Any] = {"capabilities": _capabilities(call)}
    tags = _tags(call)
    if tags is not None:
        args["tags"] = tags
    token = _token(call)
    if token is not None:
        args[token_arg] = token
    return args


def _stack_id(call: ActionCall, made: dict[str, Any]) -> dict[str, Any]:
    stack = {"stack_name": made["stack_name"], "id": made["stack_id"]}
    return {"StackId": arn_of(stack, call.context.project_id)}


async def delete_stack(call: ActionCall) -> None:
    name = call.query.required("StackName")
    token = _token(call)
    try:
        await call.ask(call.engine.delete_stack(call.ctx, name, request_key=token))
    except faults.ValidationError as exc:
        # As CloudFormation: deleting a stack that is not there (any more) succeeds.
        if "does not exist" not in exc.message:
            raise


async def cancel_update_stack(call: ActionCall) -> None:
    name = call.query.required("StackName")
    _token(call)
    await call.ask(call.engine.stack_action(call.ctx, name, "cancel_update"))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode("utf-8")


def stack_shape(view: dict[str, Any], project_id: str) -> dict[str, Any]:
    """A stack as DescribeStacks shows it."""
    parameters = [
        {"ParameterKey": key, "ParameterValue": _value(value)}
        for key, value in (view.get("parameters") or {}).items()
        if "::" not in key  # Heat's pseudo parameters (AWS::StackName, OS::stack_id)
    ]
    outputs = []
    for output in view.get("outputs") or []:
        item = {
            "OutputKey": output.get("output_key"),
            "Description": output.get("description") or None,
        }
        if output.get("output_error") is None and output.get("output_value") is not None:
            item["OutputValue"] = _value(output["output_value"])
        outputs.append(item)
    tags = []
    for tag in view.get("tags") or []:
        key, _, value = str(tag).partition("=")
        tags.append({"Key": key, "Value": value})
    status = view.get("stack_status")
    if view.get("update_rollback"):
        # Heat's ROLLBACK_* of an update is CloudFormation's UPDATE_ROLLBACK_*, which the
        # SDKs' stack_update_complete waiter stops at.
        status = f"UPDATE_{status}"
    return {
        "StackId": arn_of(view, project_id),
        "StackName": view["stack_name"],
        "Description": view.get("description") or None,
        "Parameters": parameters,
        "CreationTime": view.get("creation_time"),
        "LastUpdatedTime": view.get("updated_time"),
        "DeletionTime": view.get("deletion_time"),
        "StackStatus": status,
        "StackStatusReason": view.get("stack_status_reason") or None,
        "DisableRollback": bool(view.get("disable_rollback")),
        "NotificationARNs": [],
        "TimeoutInMinutes": view.get("timeout_mins") or None,
        "Capabilities": [],
        "Outputs": outputs,
        "Tags": tags,
        "ParentId": None,
    }


async def describe_stacks(call: ActionCall) -> dict[str, Any]:
    name = call.query.get("StackName")
    if name:
        found = await call.ask(call.engine.show_stacks(call.ctx, [name]))
        if not found:
            raise faults.ValidationError(f"Stack with id {name} does not exist")
        return {"Stacks": [stack_shape(found[0], call.context.project_id)]}
    page = call.settings.cfn_page_size
    marker = paging.marker(call.query.get("NextToken"), "DescribeStacks", "")
    summaries = await call.ask(call.engine.list_stacks(call.ctx, limit=page + 1, marker=marker))
    shown = await call.ask(call.engine.show_stacks(call.ctx, [s["id"] for s in summaries[:page]]))
    out: dict[str, Any] = {"Stacks": [stack_shape(v, call.context.project_id) for v in shown]}
    if len(summaries) > page:
        out["NextToken"] = paging.token("DescribeStacks", "", summaries[page - 1]["id"])
    return out


def _summary(view: dict[str, Any], project_id: str) -> dict[str, Any]:
    return {
        "StackId": arn_of(view, project_id),
        "StackName": view["stack_name"],
        "TemplateDescription": view.get("description") or None,
        "CreationTime": view.get("creation_time"),
        "LastUpdatedTime": view.get("updated_time"),
        "DeletionTime": view.get("deletion_time"),
        "StackStatus": view.get("stack_status"),
        "StackStatusReason": view.get("stack_status_reason") or None,
    }


async def list_stacks(call: ActionCall) -> dict[str, Any]:
    statuses = call.query.strings("StackStatusFilter")
    for status in statuses:
        if status not in STATUSES:
            raise faults.ValidationError(
                f"Invalid StackStatusFilter {status[:64]!r}: must be one of {', '.join(STATUSES)}."
            )
    scope = ",".join(sorted(set(statuses)))
    page = call.settings.cfn_page_size
    marker = paging.marker(call.query.get("NextToken"), "ListStacks", scope)
    filters = {"stack_status": sorted(set(statuses))} if statuses else None
    summaries = await call.ask(
        call.engine.list_stacks(
            call.ctx, filters=filters, limit=page + 1, marker=marker, show_deleted=True
        )
    )
    out: dict[str, Any] = {
        "StackSummaries": [_summary(s, call.context.project_id) for s in summaries[:page]]
    }
    if len(summaries) > page:
        out["NextToken"] = paging.token("ListStacks", scope, summaries[page - 1]["id"])
    return out
