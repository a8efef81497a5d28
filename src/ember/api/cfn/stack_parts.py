"""What is inside a stack: DescribeStackEvents, DescribeStackResource,
DescribeStackResources and ListStackResources."""

from __future__ import annotations

from typing import Any

import orjson

from ember.api.cfn import faults, paging
from ember.api.cfn.call import ActionCall, stack_arn

# Heat's type for the events of a stack itself, and CloudFormation's name for it.
HEAT_STACK_TYPE = "OS::Heat::Stack"
CFN_STACK_TYPE = "AWS::CloudFormation::Stack"


def _resource_type(kind: str | None) -> str | None:
    return CFN_STACK_TYPE if kind == HEAT_STACK_TYPE else kind


def _event_shape(event: dict[str, Any], project_id: str) -> dict[str, Any]:
    properties = event.get("resource_properties")
    arn = stack_arn(project_id, event["stack_name"], event["stack_id"])
    is_stack = event.get("resource_type") == HEAT_STACK_TYPE
    return {
        "StackId": arn,
        "EventId": event["id"],
        "StackName": event["stack_name"],
        "LogicalResourceId": event.get("logical_resource_id"),
        "PhysicalResourceId": arn if is_stack else (event.get("physical_resource_id") or None),
        "ResourceType": _resource_type(event.get("resource_type")),
        "Timestamp": event.get("event_time"),
        "ResourceStatus": event.get("resource_status"),
        "ResourceStatusReason": event.get("resource_status_reason") or None,
        "ResourceProperties": orjson.dumps(properties).decode("utf-8") if properties else None,
    }


async def describe_stack_events(call: ActionCall) -> dict[str, Any]:
    name = call.query.required("StackName")
    page = call.settings.cfn_page_size
    marker = paging.marker(call.query.get("NextToken"), "DescribeStackEvents", name)
    # Newest first, as CloudFormation lists them.
    events = await call.ask(
        call.engine.list_events(
            call.ctx, name, limit=page + 1, marker=marker, sort_dir="desc", with_detail=True
        )
    )
    out: dict[str, Any] = {
        "StackEvents": [_event_shape(e, call.context.project_id) for e in events[:page]]
    }
    if len(events) > page:
        out["NextToken"] = paging.token("DescribeStackEvents", name, events[page - 1]["id"])
    return out


def _resource_shape(res: dict[str, Any], project_id: str) -> dict[str, Any]:
    return {
        "StackId": stack_arn(project_id, res["stack_name"], res["stack_id"]),
        "StackName": res["stack_name"],
        "LogicalResourceId": res["logical_resource_id"],
        "PhysicalResourceId": res.get("physical_resource_id") or None,
        "ResourceType": _resource_type(res.get("resource_type")),
        "ResourceStatus": res.get("resource_status"),
        "ResourceStatusReason": res.get("resource_status_reason") or None,
        "Description": res.get("description") or None,
    }


async def describe_stack_resource(call: ActionCall) -> dict[str, Any]:
    name = call.query.required("StackName")
    logical = call.query.required("LogicalResourceId")
    resource = await call.ask(call.engine.show_resource(call.ctx, name, logical))
    metadata = await call.ask(call.engine.resource_metadata(call.ctx, name, logical))
    detail = _resource_shape(resource, call.context.project_id)
    detail["LastUpdatedTimestamp"] = resource.get("updated_time")
    detail["Metadata"] = orjson.dumps(metadata or {}).decode("utf-8")
    return {"StackResourceDetail": detail}


async def describe_stack_resources(call: ActionCall) -> dict[str, Any]:
    name = call.query.get("StackName")
    physical = call.query.get("PhysicalResourceId")
    if name and physical:
        raise faults.ValidationError("Specify either StackName or PhysicalResourceId, not both.")
    logical = call.query.get("LogicalResourceId")
    if not name:
        if not physical:
            raise faults.ValidationError(
                "Either StackName or PhysicalResourceId must be specified."
            )
        # The stack that holds it; its resources are then listed as for a StackName.
        found = await call.ask(call.engine.find_physical_resource(call.ctx, physical))
        name = stack_arn(found["project_id"], found["stack_name"], found["stack_id"])
    filters = {"name": [logical]} if logical else None
    resources = await call.ask(
        call.engine.list_resources(call.ctx, name, with_detail=True, filters=filters)
    )
    shapes = []
    for res in resources:
        shape = _resource_shape(res, call.context.project_id)
        shape["Timestamp"] = res.get("updated_time")
        shapes.append(shape)
    return {"StackResources": shapes}


async def list_stack_resources(call: ActionCall) -> dict[str, Any]:
    name = call.query.required("StackName")
    page = call.settings.cfn_page_size
    start = paging.marker(call.query.get("NextToken"), "ListStackResources", name)
    resources = await call.ask(call.engine.list_resources(call.ctx, name))
    resources.sort(key=lambda r: r["logical_resource_id"])
    if start is not None:
        resources = [r for r in resources if r["logical_resource_id"] > start]
    summaries = []
    for res in resources[:page]:
        summaries.append(
            {
                "LogicalResourceId": res["logical_resource_id"],
                "PhysicalResourceId": res.get("physical_resource_id") or None,
                "ResourceType": _resource_type(res.get("resource_type")),
                "LastUpdatedTimestamp": res.get("updated_time"),
                "ResourceStatus": res.get("resource_status"),
                "ResourceStatusReason": res.get("resource_status_reason") or None,
            }
        )
    out: dict[str, Any] = {"StackResourceSummaries": summaries}
    if len(resources) > page:
        out["NextToken"] = paging.token(
            "ListStackResources", name, resources[page - 1]["logical_resource_id"]
        )
    return out
