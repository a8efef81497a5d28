"""Stack create through the RPC client: ordering, outputs, parameters, tags, and the
requests refused before anything is stored."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from ember.common.settings import Settings
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import (
    RANDOM,
    TEST,
    custom_env,
    events,
    hot,
    outputs,
    position,
    random_res,
    resources,
    tres,
    value_res,
)

# Dependents are listed before what they depend on, so template order cannot explain a
# correct result; the waits make the independent branches overlap.
ORDERED = hot(
    {
        "f": value_res(
            {"list_join": ["-", [{"get_attr": ["c", "output"]}, {"get_resource": "e"}]]}
        ),
        "e": tres("e", depends_on="b"),
        "d": tres("d", depends_on=["a", "c"]),
        "c": tres({"get_attr": ["b", "output"]}, action_wait_secs={"create": 0.2}),
        "b": tres({"get_resource": "a"}, action_wait_secs={"create": 0.1}),
        "a": random_res(8),
    }
)
REFERENCES = {
    "a": set(),
    "b": {"a"},
    "c": {"b"},
    "d": {"a", "c"},
    "e": {"b"},
    "f": {"c", "e"},
}


async def test_resources_start_after_everything_they_reference(env_any: EngineEnv) -> None:
    env = env_any
    stack = await env.create("order", ORDERED)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    evs = await events(env, "order")
    for name, deps in REFERENCES.items():
        started = position(evs, name, "CREATE_IN_PROGRESS")
        for dep in deps:
            assert position(evs, dep, "CREATE_COMPLETE") < started, (name, dep)


async def test_required_by_lists_the_referring_resources(env: EngineEnv) -> None:
    await env.create("order", ORDERED)
    listed = await resources(env, "order")
    for name in REFERENCES:
        expected = sorted(n for n, deps in REFERENCES.items() if name in deps)
        assert sorted(listed[name]["required_by"]) == expected, name


async def test_values_flow_along_references(env: EngineEnv) -> None:
    await env.create("order", ORDERED)
    listed = await resources(env, "order", detail=True)
    secret = listed["b"]["attributes"]["output"]
    assert len(secret) == 8, "get_resource on a RandomString gives the string itself"
    assert listed["c"]["attributes"]["output"] == secret
    assert listed["f"]["attributes"]["value"] == f"{secret}-{listed['e']['physical_resource_id']}"


async def test_independent_resources_are_created_concurrently(env: EngineEnv) -> None:
    # Ten: one after the other they take 10 s, together about one, however busy the machine.
    template = hot({f"r{i}": tres(f"v{i}", wait_secs=1) for i in range(10)})
    began = time.monotonic()
    stack = await env.create("wide", template)
    elapsed = time.monotonic() - began
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert elapsed < 7.0, f"ten 1 s creates with no dependencies took {elapsed:.1f} s"


async def test_physical_ids_follow_heat_naming(env: EngineEnv) -> None:
    await env.create("names", hot({"res": tres()}))
    phys = (await resources(env, "names"))["res"]["physical_resource_id"]
    prefix, _, tail = phys.rpartition("-")
    assert prefix == "names-res"
    assert len(tail) == 12
    assert tail == tail.lower()
    assert tail.isalnum()


# Outputs ---------------------------------------------------------------------------------

OUTPUTS = hot(
    {
        "v": value_res({"k": [1, 2, {"x": "deep"}]}),
        "t": tres({"get_attr": ["v", "value", "k", 2, "x"]}),
        "u": tres(
            {"str_replace": {"template": "<$x>", "params": {"$x": {"get_attr": ["t", "output"]}}}}
        ),
    },
    outputs={
        "chain": {"description": "through two resources", "value": {"get_attr": ["u", "output"]}},
        "path": {"value": {"get_attr": ["v", "value", "k", 1]}},
        "ref": {"value": {"get_resource": "t"}},
        "whole": {"value": {"get_attr": ["v", "value"]}},
        "broken": {"value": {"list_join": [",", {"get_attr": ["v", "value"]}]}},
    },
)


async def test_outputs_are_resolved(env: EngineEnv) -> None:
    stack = await env.create("outs", OUTPUTS)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    values = outputs(stack)
    assert values["chain"] == "<deep>"
    assert values["path"] == 2
    assert values["whole"] == {"k": [1, 2, {"x": "deep"}]}
    phys = (await resources(env, "outs"))["t"]["physical_resource_id"]
    assert values["ref"] == phys
    described = {o["output_key"]: o["description"] for o in stack["outputs"]}
    assert described["chain"] == "through two resources"
    assert described["path"] == "No description given"


async def test_an_output_error_is_reported_on_that_output_only(env: EngineEnv) -> None:
    stack = await env.create("outs", OUTPUTS)
    assert stack["stack_status"] == "CREATE_COMPLETE", "a bad output does not fail the stack"
    by_key = {o["output_key"]: o for o in stack["outputs"]}
    assert by_key["broken"].get("output_error"), by_key["broken"]
    assert by_key["broken"]["output_value"] is None
    assert [k for k, o in by_key.items() if "output_error" in o] == ["broken"]


async def test_an_output_of_an_undeclared_parameter_carries_its_error(env: EngineEnv) -> None:
    template = hot(
        {"v": value_res("x")},
        outputs={"missing": {"value": {"get_param": "nosuch"}}, "fine": {"value": "ok"}},
    )
    stack = await env.create("undeclared", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    by_key = {o["output_key"]: o for o in stack["outputs"]}
    shown = await env.client.show_output(env.ctx, "undeclared", "missing")

    assert by_key["missing"] == {
        "output_key": "missing",
        "description": "No description given",
        "output_value": None,
        "output_error": "The Parameter (nosuch) was not provided.",
    }
    assert shown == by_key["missing"]
    assert by_key["fine"]["output_value"] == "ok"


async def test_outputs_omitted_when_not_resolved(env: EngineEnv) -> None:
    created = await env.create("outs", OUTPUTS)
    shown = await env.client.show_stack(env.ctx, "outs", resolve_outputs=False)
    assert "outputs" not in shown
    assert len(created["outputs"]) == 5


# Parameters ------------------------------------------------------------------------------

PARAMETERS = hot(
    {"v": value_res({"get_param": "s"})},
    parameters={
        "n": {"type": "number", "default": 3},
        "m": {"type": "number"},
        "l": {"type": "comma_delimited_list", "default": "a,b"},
        "j": {"type": "json", "default": {"k": [1]}},
        "b": {"type": "boolean", "default": True},
        "s": {"type": "string"},
        "h": {"type": "string", "hidden": True, "default": "secret"},
    },
)


async def test_parameters_are_shown_as_strings_with_pseudo_parameters(env: EngineEnv) -> None:
    stack = await env.create("params", PARAMETERS, params={"s": "given", "m": "5"})
    shown = stack["parameters"]
    assert all(isinstance(v, str) for v in shown.values()), shown
    assert shown["OS::stack_name"] == "params"
    assert shown["OS::stack_id"] == stack["id"]
    assert shown["OS::project_id"] == env.ctx["project_id"]
    assert shown["n"] == "3"
    assert shown["m"] == "5"
    assert shown["l"] == "a,b"
    assert json.loads(shown["j"]) == {"k": [1]}
    assert shown["b"] == "True"
    assert shown["s"] == "given"
    assert shown["h"] == "******"
    listed = await resources(env, "params", detail=True)
    assert listed["v"]["attributes"]["value"] == "given"


async def test_cfn_templates_show_aws_pseudo_parameters(env: EngineEnv) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Size": {"Type": "Number", "Default": "2"}},
        "Resources": {"R": {"Type": RANDOM, "Properties": {"length": {"Ref": "Size"}}}},
        "Outputs": {"Name": {"Value": {"Ref": "AWS::StackName"}}},
    }
    stack = await env.create("cfn", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    shown = stack["parameters"]
    assert shown["AWS::StackName"] == "cfn"
    assert (
        shown["AWS::StackId"]
        == f"arn:openstack:heat::{env.ctx['project_id']}:stacks/cfn/{stack['id']}"
    )
    assert shown["AWS::Region"] == Settings().region_name
    assert shown["Size"] == "2"
    assert "OS::stack_id" not in shown
    assert outputs(stack)["Name"] == "cfn"


# Tags, defaults and the stack body -------------------------------------------------------


@pytest.mark.parametrize("tags", [["web", "prod"], "web,prod"])
async def test_tags_are_kept(env: EngineEnv, tags: Any) -> None:
    stack = await env.create("tagged", hot({"r": tres()}), args={"tags": tags})
    assert stack["tags"] == ["web", "prod"]
    [listed] = await env.client.list_stacks(env.ctx)
    assert listed["tags"] == ["web", "prod"]


async def test_no_tags_show_empty_and_list_null(env: EngineEnv) -> None:
    stack = await env.create("plain", hot({"r": tres()}))
    assert stack["tags"] == []
    [listed] = await env.client.list_stacks(env.ctx)
    assert listed["tags"] is None


async def test_a_tag_longer_than_80_characters_is_refused(env: EngineEnv) -> None:
    with pytest.raises(errors.InvalidRequest):
        await env.client.create_stack(
            env.ctx, "tagged", hot({"r": tres()}), args={"tags": ["x" * 81]}
        )
    assert await env.client.list_stacks(env.ctx) == []


async def test_stack_defaults(env: EngineEnv) -> None:
    stack = await env.create("defaults", hot({"r": tres()}, description="about it"))
    assert stack["disable_rollback"] is True
    assert stack["timeout_mins"] is None
    assert stack["description"] == "about it"
    assert stack["template_description"] == "about it"
    assert stack["stack_owner"] == env.ctx["username"]
    assert stack["parent"] is None
    assert stack["capabilities"] == []
    assert stack["notification_topics"] == []
    assert stack["deletion_time"] is None
    assert stack["creation_time"].endswith("Z")
    assert stack["stack_status_reason"] == "Stack CREATE completed successfully"


async def test_create_arguments_are_kept(env: EngineEnv) -> None:
    stack = await env.create(
        "args", hot({"r": tres()}), args={"timeout_mins": 7, "disable_rollback": False}
    )
    assert stack["timeout_mins"] == 7
    assert stack["disable_rollback"] is False


async def test_create_returns_the_identity(env: EngineEnv) -> None:
    created = await env.client.create_stack(env.ctx, "ident", hot({"r": tres()}))
    assert created["stack_name"] == "ident"
    assert created["project_id"] == env.ctx["project_id"]
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["id"] == created["stack_id"]
    found = await env.client.identify_stack(env.ctx, "ident")
    assert found["stack_id"] == created["stack_id"]


async def test_the_stored_template_is_returned(env: EngineEnv) -> None:
    template = hot({"r": tres("kept")})
    await env.create("tmpl", template)
    assert await env.client.get_template(env.ctx, "tmpl") == template


# Stacks with no resources -----------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [hot(), hot({}), hot(outputs={"o": {"value": {"get_param": "OS::stack_name"}}})],
    ids=["no-section", "empty-section", "outputs-only"],
)
async def test_a_stack_without_resources_completes_at_once(
    env: EngineEnv, template: dict[str, Any]
) -> None:
    created = await env.client.create_stack(env.ctx, "empty", template)
    stack = await env.wait(created["stack_id"], "CREATE", timeout=5)
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert await env.client.list_resources(env.ctx, "empty") == []
    evs = await events(env, "empty")
    assert [e["resource_status"] for e in evs] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]


# Refused requests: nothing is stored ------------------------------------------------------

BAD_NAMES = [
    "_foo",
    "1bad",
    ".kcats",
    "test stack",
    " teststack",
    "^-^",
    '"stack"',
    "1234",
    "cat|dog",
    "$(foo)",
    "test/stack",
    "test\\stack",
    "test::stack",
    "test;stack",
    "test~stack",
    "#test",
    "",
    "a" * 256,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=range(len(BAD_NAMES)))
async def test_invalid_stack_names_are_refused(env: EngineEnv, name: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        await env.client.create_stack(env.ctx, name, hot({"r": tres()}))
    assert f"Invalid stack name {name} must contain" in caught.value.message
    assert await env.client.list_stacks(env.ctx) == []


async def test_an_invalid_stack_name_is_a_stack_validation_failure(env: EngineEnv) -> None:
    # Heat raises StackValidationFailed, which is the error type clients see.
    with pytest.raises(errors.StackValidationFailed):
        await env.client.create_stack(env.ctx, "1bad", hot({"r": tres()}))


@pytest.mark.parametrize("name", ["a", "A_b.c-1", "x" * 255])
async def test_valid_stack_names_are_accepted(env: EngineEnv, name: str) -> None:
    stack = await env.create(name, hot({"r": tres()}))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert stack["stack_name"] == name


async def test_a_duplicate_name_is_refused(env: EngineEnv) -> None:
    first = await env.create("dup", hot({"r": tres()}))
    with pytest.raises(errors.StackExists) as caught:
        await env.client.create_stack(env.ctx, "dup", hot({"r": tres()}))
    assert not isinstance(caught.value, errors.InvalidRequest), "a 409, not a 400"
    assert caught.value.message == "The Stack (dup) already exists."
    listed = await env.client.list_stacks(env.ctx)
    assert [s["id"] for s in listed] == [first["id"]]


async def test_a_name_is_free_again_once_its_stack_is_deleted(env: EngineEnv) -> None:
    first = await env.create("again", hot({"r": tres()}))
    await env.client.delete_stack(env.ctx, "again")
    await env.wait(first["id"], "DELETE")
    second = await env.create("again", hot({"r": tres()}))
    assert second["stack_status"] == "CREATE_COMPLETE"
    assert second["id"] != first["id"]


async def test_the_same_name_in_another_project_is_a_different_stack(env: EngineEnv) -> None:
    await env.create("shared", hot({"r": tres()}))
    other = {**env.ctx, "project_id": "other"}
    created = await env.client.create_stack(other, "shared", hot({"r": tres()}))
    assert created["project_id"] == "other"
    assert [s["stack_name"] for s in await env.client.list_stacks(other)] == ["shared"]


REFUSED = {
    "unknown-type": (
        hot({"x": {"type": "OS::Nope"}}),
        {},
        errors.StackValidationFailed,
        "The Resource Type (OS::Nope) could not be found.",
    ),
    "bad-property-type": (
        hot({"x": {"type": RANDOM, "properties": {"length": "abc"}}}),
        {},
        errors.StackValidationFailed,
        "resources.x.properties.length",
    ),
    "property-out-of-range": (
        hot({"x": {"type": RANDOM, "properties": {"length": 9999}}}),
        {},
        errors.StackValidationFailed,
        "resources.x.properties.length",
    ),
    "unknown-property": (
        hot({"x": {"type": TEST, "properties": {"nope": 1}}}),
        {},
        errors.StackValidationFailed,
        "nope",
    ),
    "missing-parameter": (
        hot({"x": value_res({"get_param": "p"})}, parameters={"p": {"type": "string"}}),
        {},
        errors.UserParameterMissing,
        "The Parameter (p) was not provided.",
    ),
    "unknown-parameter": (
        hot({"x": tres()}),
        {"params": {"zz": "1"}},
        errors.UnknownUserParameter,
        "The Parameter (zz) was not defined in template.",
    ),
    "bad-parameter-value": (
        hot({"x": tres()}, parameters={"n": {"type": "number"}}),
        {"params": {"n": "many"}},
        errors.StackValidationFailed,
        "n",
    ),
    "unknown-attribute": (
        hot({"x": tres()}, outputs={"o": {"value": {"get_attr": ["x", "nope"]}}}),
        {},
        errors.StackValidationFailed,
        "The Referenced Attribute (x nope) is incorrect.",
    ),
    "unknown-reference": (
        hot({"x": tres({"get_resource": "y"})}),
        {},
        errors.InvalidTemplateReference,
        '"y"',
    ),
    "dependency-cycle": (
        hot({"x": tres(depends_on="y"), "y": tres(depends_on="x")}),
        {},
        errors.InvalidRequest,
        "ircular",
    ),
    "no-version": ({"resources": {"x": tres()}}, {}, errors.InvalidRequest, "version"),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_bad_requests_fail_before_anything_is_created(env: EngineEnv, case: str) -> None:
    template, kwargs, error, text = REFUSED[case]
    with pytest.raises(error) as caught:
        await env.client.create_stack(env.ctx, "bad", template, **kwargs)
    assert text in caught.value.message
    assert await env.client.list_stacks(env.ctx) == []
    with pytest.raises(errors.EntityNotFound):
        await env.client.show_stack(env.ctx, "bad")


# Limits ----------------------------------------------------------------------------------


async def test_max_resources_per_stack(tmp_path: Path) -> None:
    async with custom_env(tmp_path, max_resources_per_stack=3) as env:
        with pytest.raises(errors.RequestLimitExceeded) as caught:
            await env.client.create_stack(env.ctx, "big", hot({f"r{i}": tres() for i in range(4)}))
        assert "maximum resources per stack" in caught.value.message
        assert await env.client.list_stacks(env.ctx) == []
        stack = await env.create("fits", hot({f"r{i}": tres() for i in range(3)}))
        assert stack["stack_status"] == "CREATE_COMPLETE"


async def test_max_resources_per_stack_unlimited(tmp_path: Path) -> None:
    async with custom_env(tmp_path, max_resources_per_stack=-1) as env:
        stack = await env.create("many", hot({f"r{i}": tres() for i in range(30)}))
        assert stack["stack_status"] == "CREATE_COMPLETE"
        assert len(await resources(env, "many")) == 30


async def test_max_stacks_per_tenant(tmp_path: Path) -> None:
    async with custom_env(tmp_path, max_stacks_per_tenant=2) as env:
        await env.create("one", hot({"r": tres()}))
        await env.create("two", hot({"r": tres()}))
        with pytest.raises(errors.RequestLimitExceeded):
            await env.client.create_stack(env.ctx, "three", hot({"r": tres()}))
        assert len(await env.client.list_stacks(env.ctx)) == 2
        # The limit counts the project's stacks, whoever asks: admins too.
        admin = {**env.ctx, "is_admin": True}
        with pytest.raises(errors.RequestLimitExceeded):
            await env.client.create_stack(admin, "three", hot({"r": tres()}))
        assert len(await env.client.list_stacks(env.ctx)) == 2
        # Another project has its own allowance.
        other = {**env.ctx, "project_id": "other"}
        created = await env.client.create_stack(other, "three", hot({"r": tres()}))
        assert created["project_id"] == "other"
