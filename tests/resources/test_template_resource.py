"""Template resources: a type that is a template file, or mapped to one in the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv
from tests.resources.helpers import (
    custom_env,
    delete,
    hot,
    is_deleted,
    nested_id,
    outputs,
    physical_ids,
    resources,
    show,
    stack_events,
    text,
    tres,
    update,
)

SERVER = hot(
    {"box": tres({"get_param": "name"})},
    parameters={
        "name": {"type": "string"},
        "size": {"type": "number", "default": 1},
    },
    outputs={
        "name": {"get_attr": ["box", "output"]},
        "size": {"get_param": "size"},
        "box_id": {"get_resource": "box"},
    },
)


def parent(**props: object) -> dict[str, object]:
    return hot(
        {"server": {"type": "server.yaml", "properties": {"name": "web", **props}}},
        outputs={
            "name": {"get_attr": ["server", "name"]},
            "size": {"get_attr": ["server", "size"]},
            "ref": {"get_resource": "server"},
            "stack_id": {"get_attr": ["server", "OS::stack_id"]},
        },
    )


async def test_create_passes_properties_and_exposes_outputs(env: EngineEnv) -> None:
    stack = await env.create("tr", parent(size=3), files={"server.yaml": text(SERVER)})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    child = await nested_id(env, "tr", "server")
    out = outputs(stack)
    assert out["name"] == "web"
    assert out["size"] == 3
    # As in Heat: get_resource gives the nested stack's ARN, OS::stack_id its id.
    nested = await show(env, child)
    assert out["ref"] == f"arn:openstack:heat::demo:stacks/{nested['stack_name']}/{child}"
    assert out["stack_id"] == child
    assert nested["stack_status"] == "CREATE_COMPLETE"
    assert nested["parent"] == stack["id"]
    assert set(await resources(env, child)) == {"box"}
    assert outputs(nested)["name"] == "web"


async def test_nested_resources_name_the_resource_their_stack_belongs_to(
    env: EngineEnv,
) -> None:
    await env.create("owned", parent(), files={"server.yaml": text(SERVER)})
    child = await nested_id(env, "owned", "server")
    # As in Heat: shown or listed from the nested stack itself, or listed from the top.
    shown = await env.client.show_resource(env.ctx, child, "box")
    assert shown["parent_resource"] == "server"
    assert (await resources(env, child))["box"]["parent_resource"] == "server"
    top = await env.client.list_resources(env.ctx, "owned", nested_depth=1)
    assert {r["resource_name"]: r.get("parent_resource") for r in top} == {
        "server": None,
        "box": "server",
    }


async def test_a_failed_nested_output_is_the_error_of_the_attribute(env: EngineEnv) -> None:
    child = hot(
        {"a": tres("a")},
        outputs={"good": {"get_attr": ["a", "output"]}, "bad": {"get_param": "foo"}},
    )
    template = hot(
        {"parent": {"type": "1.yaml"}},
        outputs={
            "good": {"get_attr": ["parent", "good"]},
            "bad": {"get_attr": ["parent", "bad"]},
        },
    )
    stack = await env.create("nested-error", template, files={"1.yaml": text(child)})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    by_key = {o["output_key"]: o for o in stack["outputs"]}
    assert by_key["good"]["output_value"] == "a"
    # Heat's words, which heat-tempest-plugin compares.
    assert by_key["bad"]["output_value"] is None
    assert by_key["bad"]["output_error"] == (
        "Error in parent output bad: The Parameter (foo) was not provided."
    )
    shown = await env.client.show_resource(env.ctx, "nested-error", "parent")
    assert set(shown["attributes"]) >= {"good", "bad"}
    assert all(not k.startswith("::") for k in shown["attributes"])


async def test_registry_mapping_to_a_template(env: EngineEnv) -> None:
    template = hot(
        {"server": {"type": "My::Server", "properties": {"name": "mapped"}}},
        outputs={"name": {"get_attr": ["server", "name"]}},
    )
    environment = {"resource_registry": {"My::Server": "server.yaml"}}
    stack = await env.create(
        "mapped", template, files={"server.yaml": text(SERVER)}, environment=environment
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["name"] == "mapped"
    assert (await resources(env, "mapped"))["server"]["resource_type"] == "My::Server"


async def test_update_property_updates_nested_stack_in_place(env: EngineEnv) -> None:
    files = {"server.yaml": text(SERVER)}
    await env.create("upd", parent(), files=files)
    child = await nested_id(env, "upd", "server")
    box = (await physical_ids(env, child))["box"]
    stack = await update(env, "upd", parent(name="db", size=5), files=files)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["name"] == "db"
    assert outputs(stack)["size"] == 5
    # the same nested stack, brought up to date; its TestResource updated in place
    assert await nested_id(env, "upd", "server") == child
    assert (await show(env, child))["stack_status"] == "UPDATE_COMPLETE"
    assert (await physical_ids(env, child))["box"] == box


async def test_unchanged_update_updates_the_nested_stack_whose_resources_stay(
    env: EngineEnv,
) -> None:
    """As in Heat: an update always reaches a nested stack, whose own resources decide
    whether they change (here none does)."""
    files = {"server.yaml": text(SERVER)}
    await env.create("same", parent(), files=files)
    child = await nested_id(env, "same", "server")
    box = (await physical_ids(env, child))["box"]
    stack = await update(env, "same", parent(), files=files)
    assert stack["stack_status"] == "UPDATE_COMPLETE"
    assert (await resources(env, "same"))["server"]["resource_status"] == "UPDATE_COMPLETE"
    assert await nested_id(env, "same", "server") == child
    assert await stack_events(env, child) == [
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    inner = await resources(env, child)
    assert inner["box"]["resource_status"] == "CREATE_COMPLETE"
    assert (await physical_ids(env, child))["box"] == box


async def test_changed_template_file_updates_nested_stack(env: EngineEnv) -> None:
    await env.create("file", parent(), files={"server.yaml": text(SERVER)})
    child = await nested_id(env, "file", "server")
    changed = hot(
        {
            "box": tres(
                {"str_replace": {"template": "new-$n", "params": {"$n": {"get_param": "name"}}}}
            )
        },
        parameters={"name": {"type": "string"}, "size": {"type": "number", "default": 1}},
        outputs={"name": {"get_attr": ["box", "output"]}, "size": {"get_param": "size"}},
    )
    stack = await update(env, "file", parent(), files={"server.yaml": text(changed)})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["name"] == "new-web"
    assert await nested_id(env, "file", "server") == child


async def test_stack_id_output_stands_in_for_reference(env: EngineEnv) -> None:
    provider = hot(
        {"box": tres("x")},
        outputs={"OS::stack_id": {"get_resource": "box"}},
    )
    template = hot(
        {"thing": {"type": "provider.yaml"}},
        outputs={"ref": {"get_resource": "thing"}},
    )
    stack = await env.create("override", template, files={"provider.yaml": text(provider)})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    child = await nested_id(env, "override", "thing")
    assert outputs(stack)["ref"] == (await physical_ids(env, child))["box"]


async def test_delete_removes_nested_stack(env: EngineEnv) -> None:
    await env.create("gone", parent(), files={"server.yaml": text(SERVER)})
    child = await nested_id(env, "gone", "server")
    stack = await delete(env, "gone")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    assert await is_deleted(env, child)


async def test_failing_nested_resource_fails_parent_with_its_reason(env: EngineEnv) -> None:
    failing = hot({"box": tres("x", fail=True)})
    stack = await env.create(
        "bad", hot({"server": {"type": "f.yaml"}}), files={"f.yaml": text(failing)}
    )
    assert stack["stack_status"] == "CREATE_FAILED"
    expected = "ValueError: resources.server.resources.box: Test Resource failed box"
    assert stack["stack_status_reason"] == f"Resource CREATE failed: {expected}"
    server = (await resources(env, "bad"))["server"]
    assert server["resource_status"] == "CREATE_FAILED"
    assert server["resource_status_reason"] == expected


async def test_failed_nested_stack_is_repaired_in_place(env: EngineEnv) -> None:
    failing = hot(
        {"box": tres("x", fail={"get_param": "fail"})},
        parameters={"fail": {"type": "boolean"}},
    )
    files = {"f.yaml": text(failing)}
    template = hot({"server": {"type": "f.yaml", "properties": {"fail": True}}})
    stack = await env.create("fix", template, files=files)
    assert stack["stack_status"] == "CREATE_FAILED"
    child = await nested_id(env, "fix", "server")
    template["resources"]["server"]["properties"]["fail"] = False
    stack = await update(env, "fix", template, files=files)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await nested_id(env, "fix", "server") == child
    assert (await show(env, child))["stack_status"] == "UPDATE_COMPLETE"


async def test_parameter_defaults_reach_nested_stacks(env: EngineEnv) -> None:
    environment = {"parameter_defaults": {"name": "from-defaults", "size": 7}}
    template = hot(
        {"server": {"type": "server.yaml"}},
        outputs={
            "name": {"get_attr": ["server", "name"]},
            "size": {"get_attr": ["server", "size"]},
        },
    )
    stack = await env.create(
        "defaults", template, files={"server.yaml": text(SERVER)}, environment=environment
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"name": "from-defaults", "size": 7}


async def test_three_levels_template_template_group(env: EngineEnv) -> None:
    """A template resource whose template holds a template resource whose template holds
    a ResourceGroup; parameter_defaults reach the innermost level."""
    inner = hot(
        {
            "group": {
                "type": "OS::Heat::ResourceGroup",
                "properties": {
                    "count": {"get_param": "count"},
                    "resource_def": tres(
                        {"list_join": ["-", [{"get_param": "prefix"}, "%index%"]]}
                    ),
                },
            }
        },
        parameters={"count": {"type": "number"}, "prefix": {"type": "string", "default": "p"}},
        outputs={"values": {"get_attr": ["group", "output"]}},
    )
    middle = hot(
        {"inner": {"type": "inner.yaml", "properties": {"count": {"get_param": "count"}}}},
        parameters={"count": {"type": "number"}},
        outputs={"values": {"get_attr": ["inner", "values"]}},
    )
    top = hot(
        {"middle": {"type": "middle.yaml", "properties": {"count": 3}}},
        outputs={"values": {"get_attr": ["middle", "values"]}},
    )
    files = {"inner.yaml": text(inner), "middle.yaml": text(middle)}
    environment = {"parameter_defaults": {"prefix": "deep"}}
    stack = await env.create("deep", top, files=files, environment=environment)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["deep-0", "deep-1", "deep-2"]
    level1 = await nested_id(env, "deep", "middle")
    level2 = await nested_id(env, level1, "inner")
    level3 = await nested_id(env, level2, "group")
    assert sorted(await resources(env, level3)) == ["0", "1", "2"]
    # a change at the top reaches the group three levels down
    top["resources"]["middle"]["properties"]["count"] = 1
    stack = await update(env, "deep", top, files=files, environment=environment)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["values"] == ["deep-0"]
    assert await nested_id(env, level2, "group") == level3
    assert sorted(await resources(env, level3)) == ["0"]
    stack = await delete(env, "deep")
    assert stack["stack_status"] == "DELETE_COMPLETE"
    for child in (level1, level2, level3):
        assert await is_deleted(env, child)


async def test_suspend_and_resume_reach_nested_stack(env: EngineEnv) -> None:
    await env.create("sr", parent(), files={"server.yaml": text(SERVER)})
    child = await nested_id(env, "sr", "server")
    await env.client.stack_action(env.ctx, "sr", "suspend")
    stack = await env.wait("sr", "SUSPEND")
    assert stack["stack_status"] == "SUSPEND_COMPLETE", stack["stack_status_reason"]
    assert (await show(env, child))["stack_status"] == "SUSPEND_COMPLETE"
    await env.client.stack_action(env.ctx, "sr", "resume")
    stack = await env.wait("sr", "RESUME")
    assert stack["stack_status"] == "RESUME_COMPLETE", stack["stack_status_reason"]
    assert (await show(env, child))["stack_status"] == "RESUME_COMPLETE"
    await env.client.stack_action(env.ctx, "sr", "check")
    stack = await env.wait("sr", "CHECK")
    assert stack["stack_status"] == "CHECK_COMPLETE", stack["stack_status_reason"]
    assert (await show(env, child))["stack_status"] == "CHECK_COMPLETE"


async def test_max_nested_stack_depth_refused_at_create(tmp_path: Path) -> None:
    files = {
        "a.yaml": text(hot({"b": {"type": "b.yaml"}})),
        "b.yaml": text(hot({"c": {"type": "c.yaml"}})),
        "c.yaml": text(hot({"leaf": tres()})),
    }
    async with custom_env(tmp_path, max_nested_stack_depth=2) as env:
        with pytest.raises(errors.StackValidationFailed, match="Recursion depth exceeds 2"):
            await env.client.create_stack(
                env.ctx, "toodeep", hot({"a": {"type": "a.yaml"}}), files=files
            )
        # within the limit it works
        stack = await env.create("deep-enough", hot({"b": {"type": "b.yaml"}}), files=files)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


async def test_max_nested_stack_depth_enforced_for_generated_stacks(tmp_path: Path) -> None:
    """A group's nested stack is only known when it is made: the limit is checked then."""
    group = {
        "type": "OS::Heat::ResourceGroup",
        "properties": {"count": 1, "resource_def": tres()},
    }
    files = {
        "a.yaml": text(hot({"b": {"type": "b.yaml"}})),
        "b.yaml": text(hot({"group": group})),
    }
    async with custom_env(tmp_path, max_nested_stack_depth=2) as env:
        stack = await env.create("limit", hot({"a": {"type": "a.yaml"}}), files=files)
        assert stack["stack_status"] == "CREATE_FAILED"
        assert "Recursion depth exceeds 2." in stack["stack_status_reason"]
        assert "resources.a.resources.b.resources.group" in stack["stack_status_reason"]
        assert "RequestLimitExceeded" in stack["stack_status_reason"]


async def test_changing_template_type_updates_same_nested_stack(env: EngineEnv) -> None:
    other = hot(
        {"box": tres("other")},
        parameters={"name": {"type": "string"}},
        outputs={"name": {"get_attr": ["box", "output"]}, "size": 0},
    )
    files = {"server.yaml": text(SERVER), "other.yaml": text(other)}
    await env.create("switch", parent(), files=files)
    child = await nested_id(env, "switch", "server")
    template = parent()
    template["resources"]["server"]["type"] = "other.yaml"
    stack = await update(env, "switch", template, files=files)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["name"] == "other"
    assert await nested_id(env, "switch", "server") == child


async def test_changed_parameter_defaults_update_nested_stack(env: EngineEnv) -> None:
    template = hot(
        {"server": {"type": "server.yaml", "properties": {"name": "n"}}},
        outputs={"size": {"get_attr": ["server", "size"]}},
    )
    files = {"server.yaml": text(SERVER)}
    stack = await env.create("pd", template, files=files, environment={})
    assert outputs(stack)["size"] == 1
    environment = {"parameter_defaults": {"size": 8}}
    stack = await update(env, "pd", template, files=files, environment=environment)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack)["size"] == 8


async def test_the_nested_resources_are_attributes_of_the_template_resource(
    env: EngineEnv,
) -> None:
    nested = hot(
        {"secret1": {"type": "OS::Heat::RandomString"}},
        outputs={"nested_str": {"get_attr": ["secret1", "value"]}},
    )
    template = hot(
        {"secret2": {"type": "My::NestedSecret"}},
        outputs={
            "old_way": {"get_attr": ["secret2", "nested_str"]},
            "test_attr1": {"get_attr": ["secret2", "resource.secret1", "value"]},
            "test_attr2": {"get_attr": ["secret2", "resource.secret1.value"]},
            "member_ref": {"get_attr": ["secret2", "resource.secret1"]},
            "test_ref": {"get_resource": "secret2"},
        },
    )
    stack = await env.create(
        "attrs",
        template,
        files={"nested.yaml": text(nested)},
        environment={"resource_registry": {"My::NestedSecret": "nested.yaml"}},
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    out = outputs(stack)
    assert len(out["old_way"]) == 32
    assert out["test_attr1"] == out["old_way"]
    assert out["test_attr2"] == out["old_way"]
    assert out["member_ref"] == out["old_way"]  # a RandomString's reference is its value
    assert out["test_ref"].startswith("arn:openstack:heat::demo:stacks/attrs-secret2-")


async def test_an_attribute_the_template_does_not_have_fails_when_read(env: EngineEnv) -> None:
    # As in Heat: not refused up front (an update may drop an output that is still read
    # until it is done); reading it is the output's error.
    nested = hot({"secret1": {"type": "OS::Heat::RandomString"}})
    template = hot(
        {"secret2": {"type": "My::NestedSecret"}},
        outputs={
            "bad": {"get_attr": ["secret2", "resource.nothing.value"]},
            "nope": {"get_attr": ["secret2", "nope"]},
            "fine": {"get_attr": ["secret2", "resource.secret1.value"]},
        },
    )
    stack = await env.create(
        "unknown-member",
        template,
        files={"nested.yaml": text(nested)},
        environment={"resource_registry": {"My::NestedSecret": "nested.yaml"}},
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    by_key = {o["output_key"]: o for o in stack["outputs"]}
    assert by_key["bad"]["output_error"] == (
        "The Referenced Attribute (secret2 resource.nothing.value) is incorrect."
    )
    assert by_key["nope"]["output_error"] == "The Referenced Attribute (secret2 nope) is incorrect."
    assert len(by_key["fine"]["output_value"]) == 32


async def test_resource_facade_reads_the_owning_resource(env: EngineEnv) -> None:
    nested = hot(
        {
            "test": {
                "type": "OS::Heat::Value",
                "properties": {"value": {"Fn::Select": ["foo", {"resource_facade": "metadata"}]}},
            }
        },
        outputs={
            "output": {"get_attr": ["test", "value"]},
            "policy": {"resource_facade": "deletion_policy"},
            "update": {"resource_facade": "update_policy"},
        },
    )
    nested["heat_template_version"] = "2013-05-23"  # where Fn::Select is HOT too

    def parent(foo: str) -> dict[str, Any]:
        return hot(
            {
                "the_nested": {
                    "type": "the.yaml",
                    "metadata": {"foo": foo},
                    "deletion_policy": "Retain",
                    "update_policy": {"rolling": True},
                }
            },
            outputs={
                "value": {"get_attr": ["the_nested", "output"]},
                "policy": {"get_attr": ["the_nested", "policy"]},
                "update": {"get_attr": ["the_nested", "update"]},
            },
        )

    files = {"the.yaml": text(nested)}
    stack = await env.create("facade", parent("bar"), files=files)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"value": "bar", "policy": "Retain", "update": {"rolling": True}}

    # Only the metadata changes: the nested stack is brought up to date with it.
    updated = await update(env, "facade", parent("baz"), files=files)
    assert updated["stack_status"] == "UPDATE_COMPLETE", updated["stack_status_reason"]
    assert outputs(updated)["value"] == "baz"


async def test_a_template_overriding_a_built_in_type_may_use_that_type(env: EngineEnv) -> None:
    """The mapping that made a resource a template resource does not reach that template:
    there the type means the built-in one (no endless recursion), as in Heat."""
    nested = hot(
        {"secret2": {"type": "OS::Heat::RandomString"}},
        outputs={"value": {"get_attr": ["secret2", "value"]}},
    )
    template = hot(
        {"secret1": {"type": "OS::Heat::RandomString"}},
        outputs={"secret": {"get_attr": ["secret1", "value"]}},
    )
    registry = {"resource_registry": {"OS::Heat::RandomString": "nested.yaml"}}
    stack = await env.create(
        "override", template, files={"nested.yaml": text(nested)}, environment=registry
    )
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    first = outputs(stack)["secret"]
    assert len(first) == 32
    child = await nested_id(env, "override", "secret1")
    assert set(await resources(env, child)) == {"secret2"}

    # The mapping now names another file: the resource follows it.
    moved = hot({"secret2": {"type": "OS::Heat::RandomString"}}, outputs={"value": "freddy"})
    updated = await update(
        env,
        "override",
        template,
        files={"new/nested.yaml": text(moved)},
        environment={"resource_registry": {"OS::Heat::RandomString": "new/nested.yaml"}},
    )
    assert updated["stack_status"] == "UPDATE_COMPLETE", updated["stack_status_reason"]
    assert outputs(updated)["secret"] == "freddy"
