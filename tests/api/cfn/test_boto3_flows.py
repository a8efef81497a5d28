"""boto3's ``cloudformation`` client against a real heat-all: the flows a CloudFormation
user runs (create, describe, update, delete with boto3's waiters; listings over several
pages with its paginators; resources, events and templates; cancelling an update;
idempotent retries with ``ClientRequestToken``; ``TemplateURL``; capabilities)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.cfn import templates
from tests.api.cfn.conftest import (
    PAGE_SIZE,
    CfnService,
    KeyPair,
    TemplateHosts,
    all_pages,
    described,
    recent,
    wait_finished,
    wait_for,
)
from tests.api.helpers import UUID, need, wait_until

botocore_exceptions = need("botocore.exceptions")
ClientError = botocore_exceptions.ClientError


def error_code(exc: Any) -> str:
    return str(exc.value.response["Error"]["Code"])


def arn_pattern(project: str, name: str) -> str:
    return rf"^arn:openstack:heat::{re.escape(project)}:stacks/{re.escape(name)}/{UUID}$"


def params(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def as_map(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return {item[key]: item.get(value) for item in items}


def stack_events(cf: Any, stack: str) -> list[dict[str, Any]]:
    events, _ = all_pages(cf.get_paginator("describe_stack_events"), "StackEvents", StackName=stack)
    return events


def check_created(stack: dict[str, Any], arn: str, started: datetime) -> str:
    """Check the stack MAIN made as ``test_create_describe_update_delete`` asked; its
    random string."""
    assert stack["StackId"] == arn
    assert stack["StackName"] == "life"
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Description"] == "boto3 flows"
    assert as_map(stack["Parameters"], "ParameterKey", "ParameterValue") == {
        "Len": "8",
        "Word": "hi",
    }
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    assert set(outputs) == {"Out", "W"}
    assert len(outputs["Out"]["OutputValue"]) == 8
    assert outputs["Out"]["Description"] == "the string"
    assert outputs["W"]["OutputValue"] == "hi"
    # botocore reads only a lowercase "true" as True.
    assert stack["DisableRollback"] is True
    assert stack["TimeoutInMinutes"] == 7
    assert recent(stack["CreationTime"], started), stack["CreationTime"]
    assert "LastUpdatedTime" not in stack
    assert sorted(stack["Tags"], key=lambda t: t["Key"]) == [
        {"Key": "team", "Value": "blue"},
        {"Key": "tier", "Value": "web"},
    ]
    return str(outputs["Out"]["OutputValue"])


def test_create_describe_update_delete(cf: Any, key_pair: KeyPair) -> None:
    started = datetime.now(UTC)
    made = cf.create_stack(
        StackName="life",
        TemplateBody=templates.MAIN,
        Parameters=params(Word="hi"),
        Tags=[{"Key": "team", "Value": "blue"}, {"Key": "tier", "Value": "web"}],
        TimeoutInMinutes=7,
        DisableRollback=True,
    )
    arn = made["StackId"]
    assert re.match(arn_pattern(key_pair.project_id, "life"), arn), arn
    wait_for(cf, "stack_create_complete", "life")
    first_string = check_created(described(cf, "life"), arn, started)
    assert described(cf, arn)["StackName"] == "life"

    # The same template, one parameter kept and the other changed.
    updating = datetime.now(UTC)
    again = cf.update_stack(
        StackName="life",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": "Word", "UsePreviousValue": True},
            {"ParameterKey": "Len", "ParameterValue": "12"},
        ],
    )
    assert again["StackId"] == arn
    wait_for(cf, "stack_update_complete", "life")
    stack = described(cf, "life")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert as_map(stack["Parameters"], "ParameterKey", "ParameterValue") == {
        "Len": "12",
        "Word": "hi",
    }
    outputs = as_map(stack["Outputs"], "OutputKey", "OutputValue")
    assert len(outputs["Out"]) == 12
    assert outputs["W"] == "hi"
    assert recent(stack["LastUpdatedTime"], updating), stack["LastUpdatedTime"]
    assert stack["TimeoutInMinutes"] == 7 and stack["DisableRollback"] is True
    assert len(stack["Tags"]) == 2, "an update without Tags keeps the stack's"

    # A new template, both parameters kept.
    cf.update_stack(
        StackName=arn,
        TemplateBody=templates.MAIN_MORE,
        Parameters=[
            {"ParameterKey": "Word", "UsePreviousValue": True},
            {"ParameterKey": "Len", "UsePreviousValue": True},
        ],
    )
    wait_for(cf, "stack_update_complete", "life")
    stack = described(cf, "life")
    assert as_map(stack["Parameters"], "ParameterKey", "ParameterValue") == {
        "Len": "12",
        "Word": "hi",
    }
    outputs = as_map(stack["Outputs"], "OutputKey", "OutputValue")
    assert outputs["Named"] == "life"
    assert len(outputs["Out"]) == 12 and outputs["Out"] != first_string
    resources = cf.describe_stack_resources(StackName="life")["StackResources"]
    assert sorted(r["LogicalResourceId"] for r in resources) == ["N", "R", "V"]

    # The template as given, which boto3 decodes into a dict.
    body = cf.get_template(StackName="life", TemplateStage="Original")["TemplateBody"]
    assert isinstance(body, dict)
    assert set(body["Resources"]) == {"R", "V", "N"}
    assert body["Description"] == "boto3 flows"

    assert cf.delete_stack(StackName="life")["ResponseMetadata"]["HTTPStatusCode"] == 200
    wait_for(cf, "stack_delete_complete", "life")
    gone = described(cf, arn)
    assert gone["StackStatus"] == "DELETE_COMPLETE"
    assert recent(gone["DeletionTime"], started)
    with pytest.raises(ClientError) as exc:
        cf.describe_stacks(StackName="life")
    assert error_code(exc) == "ValidationError"
    assert exc.value.response["Error"]["Message"] == "Stack with id life does not exist"
    # Deleting what is gone succeeds, as CloudFormation's does.
    cf.delete_stack(StackName="life")
    cf.delete_stack(StackName=arn)


def test_rollback_is_on_and_no_timeout_unless_asked(cf: Any) -> None:
    cf.create_stack(StackName="plain", TemplateBody=templates.NONE)
    wait_for(cf, "stack_create_complete", "plain")

    stack = described(cf, "plain")
    assert stack["DisableRollback"] is False
    assert "TimeoutInMinutes" not in stack
    assert stack["Tags"] == [] and stack["Parameters"] == [] and stack["Outputs"] == []


def test_resources_and_events_over_pages(cf: Any, cfn_service: CfnService, project: str) -> None:
    arn = cf.create_stack(StackName="many", TemplateBody=templates.MANY)["StackId"]
    wait_for(cf, "stack_create_complete", "many")
    heat = cfn_service.heat(project)

    summaries, pages = all_pages(
        cf.get_paginator("list_stack_resources"), "StackResourceSummaries", StackName="many"
    )
    assert pages == 2
    assert [s["LogicalResourceId"] for s in summaries] == ["a", "b", "c", "d", "e", "rand"]
    assert {s["ResourceStatus"] for s in summaries} == {"CREATE_COMPLETE"}
    assert {s["ResourceType"] for s in summaries} == {"OS::Heat::None", "OS::Heat::RandomString"}
    physical = {r.resource_name: r.physical_resource_id for r in heat.resources.list("many")}
    assert {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries} == physical

    detail = cf.describe_stack_resource(StackName="many", LogicalResourceId="rand")[
        "StackResourceDetail"
    ]
    assert detail["StackId"] == arn
    assert detail["LogicalResourceId"] == "rand"
    assert detail["PhysicalResourceId"] == physical["rand"]
    assert detail["ResourceType"] == "OS::Heat::RandomString"
    assert detail["ResourceStatus"] == "CREATE_COMPLETE"
    assert detail["Metadata"] == "{}"
    assert isinstance(detail["LastUpdatedTimestamp"], datetime)

    everything = cf.describe_stack_resources(StackName="many")["StackResources"]
    assert sorted(r["LogicalResourceId"] for r in everything) == sorted(physical)
    one = cf.describe_stack_resources(StackName=arn, LogicalResourceId="c")["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in one] == [
        ("c", physical["c"])
    ]

    events, pages = all_pages(
        cf.get_paginator("describe_stack_events"), "StackEvents", StackName="many"
    )
    # The stack's own two events and two for each of its six resources, newest first: in the
    # order the REST API lists them newest first, each once.
    assert len(events) == 14
    assert pages == -(-14 // PAGE_SIZE)
    ids = [e["EventId"] for e in events]
    assert len(set(ids)) == 14
    assert ids == [e.id for e in heat.events.list("many", sort_dir="desc")]
    stamps = [e["Timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    newest, oldest = events[0], events[-1]
    assert (newest["LogicalResourceId"], newest["ResourceStatus"]) == ("many", "CREATE_COMPLETE")
    assert (oldest["LogicalResourceId"], oldest["ResourceStatus"]) == ("many", "CREATE_IN_PROGRESS")
    assert newest["ResourceType"] == "AWS::CloudFormation::Stack"
    assert newest["PhysicalResourceId"] == newest["StackId"] == arn


def test_stack_listings_over_pages(cfn_service: CfnService) -> None:
    # A project of its own, so that the listings hold exactly these stacks.
    cf = cfn_service.client(cfn_service.key_pair("boto3-pages", "pager"))
    started = datetime.now(UTC)
    names = [f"page-{i}" for i in range(7)]
    for name in names:
        cf.create_stack(StackName=name, TemplateBody=templates.NONE)
    for name in names:
        wait_for(cf, "stack_create_complete", name)
    heat = cfn_service.heat("boto3-pages")
    order = [s.stack_name for s in heat.stacks.list()]
    assert sorted(order) == names

    summaries, pages = all_pages(cf.get_paginator("list_stacks"), "StackSummaries")
    assert pages == 3
    assert [s["StackName"] for s in summaries] == order
    assert {s["StackStatus"] for s in summaries} == {"CREATE_COMPLETE"}
    assert all(recent(s["CreationTime"], started) for s in summaries)

    stacks, pages = all_pages(cf.get_paginator("describe_stacks"), "Stacks")
    assert pages == 3
    assert [s["StackName"] for s in stacks] == order
    assert [s["StackId"] for s in stacks] == [s["StackId"] for s in summaries]

    # A page's token still leads on once the stack that page ended with is deleted.
    first = cf.describe_stacks()
    [*_, last] = first["Stacks"]
    assert last["StackName"] == order[PAGE_SIZE - 1]
    cf.delete_stack(StackName=last["StackName"])
    wait_for(cf, "stack_delete_complete", last["StackId"])
    second = cf.describe_stacks(NextToken=first["NextToken"])
    assert [s["StackName"] for s in second["Stacks"]] == order[PAGE_SIZE : 2 * PAGE_SIZE]
    listed = cf.list_stacks()
    assert [s["StackName"] for s in listed["StackSummaries"]] == order[:PAGE_SIZE]
    gone = last["StackName"]
    left = [n for n in order if n != gone]

    # Deleted stacks stay in ListStacks (not DescribeStacks); the filter picks by status.
    summaries, _ = all_pages(cf.get_paginator("list_stacks"), "StackSummaries")
    assert [s["StackName"] for s in summaries] == order
    assert {s["StackName"]: s["StackStatus"] for s in summaries}[gone] == "DELETE_COMPLETE"
    kept, pages = all_pages(
        cf.get_paginator("list_stacks"), "StackSummaries", StackStatusFilter=["CREATE_COMPLETE"]
    )
    assert [s["StackName"] for s in kept] == left
    assert pages == 2
    stacks, _ = all_pages(cf.get_paginator("describe_stacks"), "Stacks")
    assert [s["StackName"] for s in stacks] == left


def test_templates_validated_summarised_and_priced(cf: Any) -> None:
    valid = cf.validate_template(TemplateBody=templates.MAIN)
    assert valid["Description"] == "boto3 flows"
    assert {p["ParameterKey"]: p for p in valid["Parameters"]} == {
        "Len": {
            "ParameterKey": "Len",
            "DefaultValue": "8",
            "NoEcho": False,
            "Description": "how long the string is",
        },
        "Word": {"ParameterKey": "Word", "NoEcho": False},
    }
    assert valid["Capabilities"] == []

    with pytest.raises(ClientError) as exc:
        cf.validate_template(TemplateBody=templates.BROKEN)
    assert error_code(exc) == "ValidationError"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as exc:
        cf.validate_template(TemplateBody=templates.UNKNOWN_TYPE)
    assert error_code(exc) == "ValidationError"
    assert "OS::No::Such" in exc.value.response["Error"]["Message"]

    summary = cf.get_template_summary(TemplateBody=templates.MAIN)
    assert summary["Description"] == "boto3 flows"
    assert summary["Version"] == "2010-09-09"
    assert sorted(summary["ResourceTypes"]) == ["OS::Heat::RandomString", "OS::Heat::Value"]
    kinds = {p["ParameterKey"]: p["ParameterType"] for p in summary["Parameters"]}
    assert kinds == {"Len": "Number", "Word": "String"}

    cost = cf.estimate_template_cost(TemplateBody=templates.MAIN, Parameters=params(Word="priced"))
    assert cost["Url"].startswith("http")
    with pytest.raises(ClientError) as exc:
        cf.estimate_template_cost(TemplateBody=templates.BROKEN)
    assert error_code(exc) == "ValidationError"


def test_summary_of_a_stack(cf: Any) -> None:
    cf.create_stack(StackName="summed", TemplateBody=templates.MAIN, Parameters=params(Word="x"))
    wait_for(cf, "stack_create_complete", "summed")

    summary = cf.get_template_summary(StackName="summed")
    assert sorted(summary["ResourceTypes"]) == ["OS::Heat::RandomString", "OS::Heat::Value"]
    assert summary["Description"] == "boto3 flows"


def test_cancel_an_update_rolls_it_back(cf: Any) -> None:
    cf.create_stack(StackName="slow", TemplateBody=templates.SLOW_UPDATE)
    wait_for(cf, "stack_create_complete", "slow")
    cf.update_stack(StackName="slow", UsePreviousTemplate=True, Parameters=params(secs="60"))
    wait_until(
        lambda: described(cf, "slow")["StackStatus"],
        lambda status: status == "UPDATE_IN_PROGRESS",
        what="the update to start",
    )

    cf.cancel_update_stack(StackName="slow")
    stack = wait_finished(cf, "slow", "UPDATE_ROLLBACK")

    # Heat's ROLLBACK_COMPLETE of an update, in CloudFormation's words.
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", stack.get("StackStatusReason")
    assert as_map(stack["Parameters"], "ParameterKey", "ParameterValue") == {"secs": "0"}
    reasons = [e.get("ResourceStatusReason") for e in stack_events(cf, "slow")]
    assert "Stack UPDATE cancelled" in reasons
    assert reasons[0] == "Stack ROLLBACK completed successfully"
    # Nothing is being updated any more: there is nothing to cancel.
    with pytest.raises(ClientError) as exc:
        cf.cancel_update_stack(StackName="slow")
    assert error_code(exc) == "ValidationError"


def count(events: list[dict[str, Any]], logical: str, status: str) -> int:
    return sum(
        1 for e in events if e["LogicalResourceId"] == logical and e["ResourceStatus"] == status
    )


def test_client_request_token_makes_retries_harmless(cf: Any) -> None:
    first = cf.create_stack(
        StackName="once", TemplateBody=templates.SLOW_DELETE, ClientRequestToken="tok-create-1"
    )
    again = cf.create_stack(
        StackName="once", TemplateBody=templates.SLOW_DELETE, ClientRequestToken="tok-create-1"
    )
    assert again["StackId"] == first["StackId"]
    with pytest.raises(ClientError) as exc:
        cf.create_stack(
            StackName="other", TemplateBody=templates.NONE, ClientRequestToken="tok-create-1"
        )
    assert error_code(exc) == "TokenAlreadyExistsException"
    wait_for(cf, "stack_create_complete", "once")
    listed = [
        s["StackName"]
        for s in cf.get_paginator("list_stacks").paginate().build_full_result()["StackSummaries"]
    ]
    assert listed.count("once") == 1 and "other" not in listed

    update = {
        "StackName": "once",
        "UsePreviousTemplate": True,
        "Parameters": params(word="two"),
        "ClientRequestToken": "tok-update-1",
    }
    cf.update_stack(**update)
    wait_for(cf, "stack_update_complete", "once")
    updated = described(cf, "once")
    cf.update_stack(**update)
    # The retry started nothing: no new update, no new events.
    assert described(cf, "once")["LastUpdatedTime"] == updated["LastUpdatedTime"]
    assert described(cf, "once")["StackStatus"] == "UPDATE_COMPLETE"
    events = stack_events(cf, "once")
    assert count(events, "once", "UPDATE_IN_PROGRESS") == 1
    assert count(events, "val", "UPDATE_COMPLETE") == 1

    # The delete waits two seconds: its retry comes while it runs.
    arn = first["StackId"]
    cf.delete_stack(StackName="once", ClientRequestToken="tok-delete-1")
    assert described(cf, arn)["StackStatus"] == "DELETE_IN_PROGRESS"
    cf.delete_stack(StackName="once", ClientRequestToken="tok-delete-1")
    wait_for(cf, "stack_delete_complete", arn)
    cf.delete_stack(StackName=arn, ClientRequestToken="tok-delete-1")
    events = stack_events(cf, arn)
    assert count(events, "once", "DELETE_IN_PROGRESS") == 1
    assert count(events, "once", "DELETE_COMPLETE") == 1
    assert count(events, "wait", "DELETE_COMPLETE") == 1


def test_template_url_only_from_allowed_hosts(cf: Any, template_hosts: TemplateHosts) -> None:
    url = template_hosts.allowed.put("none.yaml", templates.NONE)
    assert cf.validate_template(TemplateURL=url)["Description"] == "a placeholder"
    cf.create_stack(StackName="fetched", TemplateURL=url)
    wait_for(cf, "stack_create_complete", "fetched")
    assert described(cf, "fetched")["Description"] == "a placeholder"
    cf.update_stack(
        StackName="fetched", TemplateURL=template_hosts.allowed.put("m.yaml", templates.MANY)
    )
    wait_for(cf, "stack_update_complete", "fetched")
    assert described(cf, "fetched")["Description"] == "six resources"

    refused = [
        template_hosts.other.put("none.yaml", templates.NONE),  # another port
        f"http://localhost:{template_hosts.allowed.port}/none.yaml",  # another host name
        f"file://{template_hosts.allowed.root / 'none.yaml'}",
        "file:///etc/passwd",
        f"http://{template_hosts.allowed.host}/missing.yaml",  # allowed, but not there
    ]
    for bad in refused:
        with pytest.raises(ClientError) as exc:
            cf.create_stack(StackName="not-fetched", TemplateURL=bad)
        assert error_code(exc) == "ValidationError", bad
        assert "TemplateURL" in exc.value.response["Error"]["Message"], bad
        with pytest.raises(ClientError) as exc:
            cf.validate_template(TemplateURL=bad)
        assert error_code(exc) == "ValidationError", bad
    with pytest.raises(ClientError) as exc:
        cf.describe_stacks(StackName="not-fetched")
    assert error_code(exc) == "ValidationError"


def test_iam_resources_need_capabilities(cf: Any) -> None:
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="iam", TemplateBody=templates.IAM)
    assert error_code(exc) == "InsufficientCapabilitiesException"
    assert "CAPABILITY_IAM" in exc.value.response["Error"]["Message"]
    # A named IAM identity needs CAPABILITY_NAMED_IAM: CAPABILITY_IAM is not enough.
    named = templates.IAM + "    Properties: {UserName: alice}\n"
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="iam", TemplateBody=named, Capabilities=["CAPABILITY_IAM"])
    assert error_code(exc) == "InsufficientCapabilitiesException"
    assert "CAPABILITY_NAMED_IAM" in exc.value.response["Error"]["Message"]
    # Acknowledged, the template gets as far as its resources (which this service has none
    # of: it makes no IAM users).
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="iam", TemplateBody=named, Capabilities=["CAPABILITY_NAMED_IAM"])
    assert error_code(exc) == "ValidationError"
    assert "AWS::IAM::User" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="iam", TemplateBody=templates.NONE, Capabilities=["CAPABILITY_X"])
    assert error_code(exc) == "ValidationError"
    with pytest.raises(ClientError) as exc:
        cf.describe_stacks(StackName="iam")
    assert error_code(exc) == "ValidationError"


FAILING_UPDATE = """\
heat_template_version: 2018-08-31
parameters:
  fail: {type: boolean, default: false}
resources:
  r:
    type: OS::Heat::TestResource
    properties: {fail: {get_param: fail}, value: {get_param: fail}}
"""


def test_a_failed_update_rolls_back_and_the_waiter_stops_there(cf: Any) -> None:
    """CloudFormation rolls a failed update back and calls it UPDATE_ROLLBACK_COMPLETE,
    where ``stack_update_complete`` gives up at once (Heat's ROLLBACK_COMPLETE would keep
    the waiter polling for its hour)."""
    botocore_exceptions = need("botocore.exceptions")
    cf.create_stack(StackName="falls", TemplateBody=FAILING_UPDATE)
    wait_for(cf, "stack_create_complete", "falls")
    cf.update_stack(StackName="falls", UsePreviousTemplate=True, Parameters=params(fail="true"))
    with pytest.raises(botocore_exceptions.WaiterError) as failed:
        cf.get_waiter("stack_update_complete").wait(
            StackName="falls", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    assert "UPDATE_ROLLBACK_COMPLETE" in str(failed.value) or "UPDATE_FAILED" in str(failed.value)
    stack = wait_finished(cf, "falls", "UPDATE_ROLLBACK")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert as_map(stack["Parameters"], "ParameterKey", "ParameterValue")["fail"].lower() == "false"
    # A create's rollback keeps Heat's and CloudFormation's common name.
    cf.create_stack(
        StackName="falls-at-once",
        TemplateBody=FAILING_UPDATE,
        Parameters=params(fail="true"),
    )
    created = wait_finished(cf, "falls-at-once", "ROLLBACK")
    assert created["StackStatus"] == "ROLLBACK_COMPLETE"
