"""The config types built on the software-config store: OS::Heat::StructuredConfig,
CloudConfig, MultipartMime and SoftwareComponent. Each stores a config (its physical id)
and shows what it stored as its ``config`` attribute."""

from __future__ import annotations

import email
from typing import Any

import yaml

from tests.engine.conftest import EngineEnv
from tests.resources.helpers import hot, outputs, physical_ids


async def stored(env: EngineEnv, stack: str, name: str) -> dict[str, Any]:
    config_id = (await physical_ids(env, stack))[name]
    return await env.client.show_software_config(env.ctx, config_id)


async def test_structured_config_stores_a_map(env: EngineEnv) -> None:
    body = {"config": {"port": {"get_input": "port"}, "hosts": ["a", "b"]}}
    template = hot(
        {
            "sc": {
                "type": "OS::Heat::StructuredConfig",
                "properties": {**body, "group": "ansible", "inputs": [{"name": "port"}]},
            }
        },
        outputs={"config": {"get_attr": ["sc", "config"]}},
    )
    stack = await env.create("structured", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["config"] == body["config"]
    shown = await stored(env, "structured", "sc")
    assert shown["config"] == body["config"]
    assert shown["group"] == "ansible"
    assert [i["name"] for i in shown["inputs"]] == ["port"]


async def test_cloud_config_is_cloud_config_yaml(env: EngineEnv) -> None:
    cloud = {"packages": ["nginx"], "runcmd": [["systemctl", "start", "nginx"]]}
    template = hot(
        {"cc": {"type": "OS::Heat::CloudConfig", "properties": {"cloud_config": cloud}}},
        outputs={"config": {"get_attr": ["cc", "config"]}},
    )
    stack = await env.create("cloud", template)
    text = outputs(stack)["config"]
    assert text.startswith("#cloud-config\n")
    assert yaml.safe_load(text) == cloud
    shown = await stored(env, "cloud", "cc")
    assert shown["config"] == text
    assert shown["group"] == "Heat::Ungrouped"


async def test_multipart_mime_joins_inline_and_referenced_parts(env: EngineEnv) -> None:
    template = hot(
        {
            "script": {
                "type": "OS::Heat::SoftwareConfig",
                "properties": {"config": "#!/bin/sh\necho from-a-config\n"},
            },
            "mime": {
                "type": "OS::Heat::MultipartMime",
                "properties": {
                    "parts": [
                        {"config": {"get_resource": "script"}, "subtype": "x-shellscript"},
                        {"config": "#cloud-config\npackages: [git]\n", "filename": "cloud.cfg"},
                    ]
                },
            },
        },
        outputs={"config": {"get_attr": ["mime", "config"]}},
    )
    stack = await env.create("mime", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    text = outputs(stack)["config"]
    message = email.message_from_string(text)
    assert message.is_multipart()
    parts = message.get_payload()
    assert isinstance(parts, list)
    assert [p.get_content_type() for p in parts] == ["text/x-shellscript", "text/cloud"]
    assert parts[0].get_payload() == "#!/bin/sh\necho from-a-config\n"
    assert parts[1].get_filename() == "cloud.cfg"
    assert "packages: [git]" in parts[1].get_payload()
    assert (await stored(env, "mime", "mime"))["config"] == text


async def test_multipart_of_a_multipart_adds_its_parts(env: EngineEnv) -> None:
    inner = {
        "type": "OS::Heat::MultipartMime",
        "properties": {"parts": [{"config": "one", "subtype": "plain"}, {"config": "two"}]},
    }
    outer = {
        "type": "OS::Heat::MultipartMime",
        "properties": {
            "parts": [{"config": {"get_resource": "inner"}, "type": "multipart"}, {"config": "3"}]
        },
    }
    stack = await env.create(
        "nested-mime",
        hot({"inner": inner, "outer": outer}, outputs={"c": {"get_attr": ["outer", "config"]}}),
    )
    parts = email.message_from_string(outputs(stack)["c"]).get_payload()
    assert isinstance(parts, list)
    assert [p.get_payload() for p in parts] == ["one", "two", "3"]


async def test_software_component_stores_configs_per_action(env: EngineEnv) -> None:
    configs = [
        {"actions": ["CREATE"], "config": "install", "tool": "script"},
        {"actions": ["DELETE", "UPDATE"], "config": "reconfigure", "tool": "script"},
    ]
    template = hot(
        {"comp": {"type": "OS::Heat::SoftwareComponent", "properties": {"configs": configs}}},
        outputs={
            "config": {"get_attr": ["comp", "config"]},
            "configs": {"get_attr": ["comp", "configs"]},
        },
    )
    stack = await env.create("component", template)
    assert outputs(stack) == {"config": {"configs": configs}, "configs": configs}
    shown = await stored(env, "component", "comp")
    assert shown["group"] == "component"
    assert shown["config"] == {"configs": configs}


async def test_software_component_refuses_two_configs_for_one_action(env: EngineEnv) -> None:
    configs = [
        {"actions": ["CREATE"], "config": "a", "tool": "script"},
        {"actions": ["CREATE", "UPDATE"], "config": "b", "tool": "script"},
    ]
    stack = await env.create(
        "twice",
        hot({"comp": {"type": "OS::Heat::SoftwareComponent", "properties": {"configs": configs}}}),
    )
    assert stack["stack_status"] == "CREATE_FAILED"
    assert (
        'Defining more than one configuration for the same action in SoftwareComponent "comp" '
        "is not allowed." in stack["stack_status_reason"]
    )


async def test_config_resources_go_with_their_stack(env: EngineEnv) -> None:
    template = hot({"cc": {"type": "OS::Heat::CloudConfig", "properties": {"cloud_config": {}}}})
    await env.create("gone", template)
    config_id = (await physical_ids(env, "gone"))["cc"]
    stack_id = (await env.client.show_stack(env.ctx, "gone", resolve_outputs=False))["id"]
    await env.client.delete_stack(env.ctx, "gone")
    await env.wait(stack_id, "DELETE")
    listed = await env.client.list_software_configs(env.ctx)
    assert config_id not in {c["id"] for c in listed}
