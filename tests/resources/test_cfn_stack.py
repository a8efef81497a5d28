"""AWS::CloudFormation::Stack: a nested stack from a template in the request's files."""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import EngineEnv
from tests.resources.helpers import (
    delete,
    is_deleted,
    nested_id,
    outputs,
    physical_ids,
    resources,
    show,
    text,
    update,
)

URL = "https://example.com/templates/child.template"
CHILD = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Name": {"Type": "String"}, "Size": {"Type": "Number", "Default": "1"}},
    "Resources": {
        "Box": {"Type": "OS::Heat::TestResource", "Properties": {"value": {"Ref": "Name"}}}
    },
    "Outputs": {
        "Name": {"Value": {"Fn::GetAtt": ["Box", "output"]}},
        "Size": {"Value": {"Ref": "Size"}},
    },
}


def parent(url: str = URL, **params: Any) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Child": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": url,
                    "TimeoutInMinutes": 10,
                    "Parameters": {"Name": "first", **params},
                },
            }
        },
        "Outputs": {
            "Name": {"Value": {"Fn::GetAtt": ["Child", "Outputs.Name"]}},
            "Size": {"Value": {"Fn::GetAtt": ["Child", "Outputs.Size"]}},
            "Ref": {"Value": {"Ref": "Child"}},
        },
    }


async def test_create_with_parameters_and_outputs(env: EngineEnv) -> None:
    stack = await env.create("cfn", parent(Size="4"), files={URL: text(CHILD)})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    child = await nested_id(env, "cfn", "Child")
    nested = await show(env, child)
    out = outputs(stack)
    assert out["Name"] == "first"
    assert str(out["Size"]) == "4"
    # Ref is the nested stack's ARN
    assert out["Ref"] == f"arn:openstack:heat::demo:stacks/{nested['stack_name']}/{child}"
    assert nested["timeout_mins"] == 10
    assert nested["parent"] == stack["id"]
    assert set(await resources(env, child)) == {"Box"}


async def test_url_not_in_files_is_a_clear_error(env: EngineEnv) -> None:
    missing = "file:///etc/passwd"
    stack = await env.create("cfn", parent(url=missing), files={URL: text(CHILD)})
    assert stack["stack_status"] == "CREATE_FAILED"
    reason = stack["stack_status_reason"]
    assert f'Could not fetch remote template "{missing}"' in reason
    assert "not in the request's files" in reason
    assert "root:" not in reason


async def test_update_parameters_in_place(env: EngineEnv) -> None:
    files = {URL: text(CHILD)}
    await env.create("cfn", parent(), files=files)
    child = await nested_id(env, "cfn", "Child")
    box = (await physical_ids(env, child))["Box"]
    stack = await update(env, "cfn", parent(Name="second", Size="9"), files=files)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["Name"] == "second"
    assert str(outputs(stack)["Size"]) == "9"
    assert await nested_id(env, "cfn", "Child") == child
    assert (await physical_ids(env, child))["Box"] == box


async def test_update_template_url(env: EngineEnv) -> None:
    other = "https://example.com/templates/other.template"
    changed = {**CHILD, "Outputs": {**CHILD["Outputs"], "Name": {"Value": "fixed"}}}
    files = {URL: text(CHILD), other: text(changed)}
    await env.create("cfn", parent(), files=files)
    child = await nested_id(env, "cfn", "Child")
    stack = await update(env, "cfn", parent(url=other), files=files)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["Name"] == "fixed"
    assert await nested_id(env, "cfn", "Child") == child


async def test_failing_nested_resource(env: EngineEnv) -> None:
    failing = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Box": {"Type": "OS::Heat::TestResource", "Properties": {"fail": True}}},
    }
    template = parent()
    template["Resources"]["Child"]["Properties"]["Parameters"] = {}
    del template["Outputs"]
    stack = await env.create("cfn", template, files={URL: text(failing)})
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == (
        "Resource CREATE failed: ValueError: resources.Child.resources.Box: "
        "Test Resource failed Box"
    )


async def test_delete(env: EngineEnv) -> None:
    await env.create("cfn", parent(), files={URL: text(CHILD)})
    child = await nested_id(env, "cfn", "Child")
    stack = await delete(env, "cfn")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert await is_deleted(env, child)
