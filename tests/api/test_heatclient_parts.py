"""python-heatclient on a stack's parts: resources, events, actions, snapshots,
abandon/adopt, and the stack-less catalog calls (validate, resource types, template
versions and functions)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.api.helpers import (
    DEMO_DICT,
    NONE_DICT,
    SLOW_UPDATE_DICT,
    UUID,
    create_stack,
    need,
    wait_stack,
    wait_until,
)

exc = need("heatclient.exc")


@pytest.fixture(params=["legacy", "session"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each test runs once with each client; stack names carry the client's name."""
    return str(request.param)


@pytest.fixture
def heat(kind: str, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("hc" if kind == "legacy" else "session_hc")


@pytest.fixture(scope="module")
def demo(hc: Any) -> Any:
    return create_stack(hc, "demo", DEMO_DICT)


def test_resource_list_and_show(heat: Any, demo: Any) -> None:
    listed = {r.resource_name: r for r in heat.resources.list("demo")}
    shown = heat.resources.get("demo", "test")
    filtered = heat.resources.list("demo", filters={"type": "Value"})
    detailed = heat.resources.list("demo", with_detail=True)

    assert set(listed) == {"rand", "val", "test"}
    assert listed["rand"].required_by == ["test"]
    assert listed["test"].resource_type == "OS::Heat::TestResource"
    assert listed["test"].resource_status == "CREATE_COMPLETE"
    assert listed["test"].logical_resource_id == "test"
    assert listed["test"].physical_resource_id.startswith("demo-test-")
    assert {link["rel"] for link in listed["test"].links} == {"self", "stack"}
    outputs = {o["output_key"]: o["output_value"] for o in demo.outputs}
    assert shown.attributes["output"] == outputs["random_out"]
    assert len(shown.attributes["output"]) == 8
    assert [r.resource_name for r in filtered] == ["val"]
    assert all(hasattr(r, "attributes") for r in detailed)


def test_nested_link_in_resource_list_and_show(heat: Any, kind: str) -> None:
    utils = need("heatclient.common.utils")
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "group": {
                "type": "OS::Heat::ResourceGroup",
                "properties": {"count": 2, "resource_def": {"type": "OS::Heat::None"}},
            },
            "provider": {"type": "inner.yaml"},
            "plain": {"type": "OS::Heat::None"},
        },
    }
    inner = {"heat_template_version": "2016-10-14", "resources": {"n": {"type": "OS::Heat::None"}}}
    name = f"nested-links-{kind}"
    created = heat.stacks.create(
        stack_name=name, template=template, files={"inner.yaml": json.dumps(inner)}
    )
    stack = wait_stack(heat, created["stack"]["id"], "CREATE_COMPLETE")
    listed = {r.resource_name: r for r in heat.resources.list(name)}
    shown = {n: heat.resources.get(name, n) for n in ("group", "provider", "plain")}

    for owner in ("group", "provider"):
        nested = utils.resource_nested_identifier(shown[owner])
        assert nested == utils.resource_nested_identifier(listed[owner])
        nested_name, nested_id = nested.split("/")
        assert nested_id == shown[owner].physical_resource_id
        assert nested_name.startswith(f"{name}-{owner}-")
        assert heat.stacks.get(nested).parent == stack.id
    assert {link["rel"] for link in shown["plain"].links} == {"self", "stack"}
    assert utils.resource_nested_identifier(shown["plain"]) is None


def test_resource_show_with_attr(heat: Any, demo: Any) -> None:
    shown = heat.resources.get("demo", "val", with_attr=["value"])

    assert shown.attributes["value"] == "hello"


def test_resource_metadata(heat: Any, kind: str) -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {"m": {"type": "OS::Heat::None", "metadata": {"role": "db", "n": 2}}},
    }
    name = f"meta-{kind}"
    create_stack(heat, name, template)

    assert heat.resources.metadata(name, "m") == {"role": "db", "n": 2}


def test_signal_to_test_resource_is_refused(heat: Any, demo: Any) -> None:
    with pytest.raises(exc.HTTPBadRequest) as refused:
        heat.resources.signal("demo", "test", data={"x": 1})

    assert "signal is not supported for resource." in str(refused.value)


def test_unknown_resource_is_404(heat: Any, demo: Any) -> None:
    with pytest.raises(exc.HTTPNotFound) as missing:
        heat.resources.get("demo", "zz")

    assert "The Resource (zz) could not be found in Stack demo." in str(missing.value)


def test_mark_unhealthy_and_healthy_again(heat: Any, kind: str) -> None:
    name = f"health-{kind}"
    create_stack(heat, name, DEMO_DICT)

    heat.resources.mark_unhealthy(name, "val", True, "broken")
    sick = heat.resources.get(name, "val")
    heat.resources.mark_unhealthy(name, "val", False, "fixed")
    well = heat.resources.get(name, "val")

    assert (sick.resource_status, sick.resource_status_reason) == ("CHECK_FAILED", "broken")
    assert well.resource_status == "CHECK_COMPLETE"


def test_events_of_a_stack_and_of_a_resource(heat: Any, demo: Any) -> None:
    events = heat.events.list("demo", sort_dir="asc")
    of_val = heat.events.list("demo", resource_name="val")
    detail = heat.events.get("demo", "val", of_val[0].id)

    stack_events = [e for e in events if e.resource_name == "demo"]
    assert [(e.resource_status, e.resource_status_reason) for e in stack_events] == [
        ("CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("CREATE_COMPLETE", "Stack CREATE completed successfully"),
    ]
    assert stack_events[0].physical_resource_id == demo.id
    assert events[0].resource_name == "demo"
    assert events[-1].resource_status == "CREATE_COMPLETE"
    assert {e.resource_status for e in of_val} == {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    assert all(e.resource_name == "val" for e in of_val)
    assert detail.id == of_val[0].id
    assert detail.resource_type == "OS::Heat::Value"
    assert {link["rel"] for link in detail.links} >= {"self", "resource", "stack"}


def test_event_detail_shows_the_resource_properties(heat: Any, demo: Any) -> None:
    (created,) = heat.events.list(
        "demo", resource_name="val", filters={"resource_status": "COMPLETE"}
    )

    detail = heat.events.get("demo", "val", created.id)

    assert detail.resource_properties["value"] == "hello"


def test_event_paging_with_marker(heat: Any, demo: Any) -> None:
    every = heat.events.list("demo", sort_dir="asc")
    first_two = heat.events.list("demo", sort_dir="asc", limit=2)
    rest = heat.events.list("demo", sort_dir="asc", marker=first_two[-1].id)

    assert [e.id for e in first_two] == [e.id for e in every[:2]]
    assert [e.id for e in rest] == [e.id for e in every[2:]]


def test_suspend_resume_check(heat: Any, kind: str) -> None:
    name = f"acts-{kind}"
    create_stack(heat, name, DEMO_DICT)

    heat.actions.suspend(name)
    wait_stack(heat, name, "SUSPEND_COMPLETE")
    suspended = {r.resource_status for r in heat.resources.list(name)}
    heat.actions.resume(name)
    wait_stack(heat, name, "RESUME_COMPLETE")
    heat.actions.check(name)
    checked = wait_stack(heat, name, "CHECK_COMPLETE")

    assert suspended == {"SUSPEND_COMPLETE"}
    assert checked.stack_status_reason == "Stack CHECK completed successfully"
    assert {r.resource_status for r in heat.resources.list(name)} == {"CHECK_COMPLETE"}


def test_cancel_update_rolls_back(heat: Any, kind: str) -> None:
    name = f"cancel-{kind}"
    create_stack(heat, name, SLOW_UPDATE_DICT)
    heat.stacks.update(name, existing=True, parameters={"secs": 30})
    wait_until(lambda: heat.stacks.get(name).stack_status, lambda s: s == "UPDATE_IN_PROGRESS")

    heat.actions.cancel_update(name)
    rolled = wait_stack(heat, name, "ROLLBACK_COMPLETE")

    reasons = [e.resource_status_reason for e in heat.events.list(name) if e.resource_name == name]
    assert rolled.parameters["secs"] == "0"
    assert "Stack UPDATE cancelled" in reasons


def test_cancel_when_nothing_runs_is_refused(heat: Any, demo: Any) -> None:
    with pytest.raises(exc.HTTPBadRequest) as refused:
        heat.actions.cancel_update("demo")

    assert "Cancelling update when stack is" in str(refused.value)


def test_snapshot_lifecycle(heat: Any, kind: str) -> None:
    name = f"snap-{kind}"
    create_stack(heat, name, DEMO_DICT)
    random_before = heat.stacks.output_show(name, "random_out")["output"]["output_value"]

    snapshot = heat.stacks.snapshot(name, "first")
    listed = heat.stacks.snapshot_list(name)["snapshots"]
    shown = heat.stacks.snapshot_show(name, snapshot["id"])["snapshot"]
    heat.stacks.update(name, existing=True, parameters={"greeting": "changed"})
    wait_stack(heat, name, "UPDATE_COMPLETE")
    heat.stacks.restore(name, snapshot["id"])
    restored = wait_stack(heat, name, "RESTORE_COMPLETE")
    heat.stacks.snapshot_delete(name, snapshot["id"])

    assert snapshot["name"] == "first"
    assert (snapshot["action"], snapshot["status"]) == ("CREATE", "COMPLETE")
    assert [s["id"] for s in listed] == [snapshot["id"]]
    assert shown["data"]["name"] == name
    assert set(shown["data"]["resources"]) == {"rand", "val", "test"}
    outputs = {o["output_key"]: o["output_value"] for o in restored.outputs}
    assert outputs == {"greeting_out": "hello", "random_out": random_before}
    assert heat.stacks.snapshot_list(name)["snapshots"] == []


def test_export_abandon_and_adopt(heat: Any, kind: str) -> None:
    name = f"aband-{kind}"
    original = create_stack(heat, name, DEMO_DICT)
    physical = {r.resource_name: r.physical_resource_id for r in heat.resources.list(name)}

    exported = heat.stacks.export(name)
    abandoned = heat.stacks.abandon(name)
    with pytest.raises(exc.HTTPNotFound):
        heat.stacks.get(name)
    heat.stacks.create(stack_name=f"{name}-2", adopt_stack_data=json.dumps(abandoned))
    adopted = wait_stack(heat, f"{name}-2", "ADOPT_COMPLETE")

    assert exported["id"] == abandoned["id"] == original.id
    assert (abandoned["action"], abandoned["status"]) == ("CREATE", "COMPLETE")
    assert abandoned["template"] == DEMO_DICT
    assert {k: v["resource_id"] for k, v in abandoned["resources"].items()} == physical
    assert {r.resource_name: r.physical_resource_id for r in heat.resources.list(adopted.id)} == (
        physical
    )
    assert {o["output_key"]: o["output_value"] for o in adopted.outputs}["random_out"] == (
        {o["output_key"]: o["output_value"] for o in original.outputs}["random_out"]
    )


def test_validate(heat: Any) -> None:
    result = heat.stacks.validate(template=DEMO_DICT)
    with pytest.raises(exc.HTTPBadRequest) as invalid:
        heat.stacks.validate(template={"heat_template_version": "1999-01-01"})

    assert result["Description"] == "demo stack"
    assert result["Parameters"]["greeting"] == {
        "Type": "String",
        "Description": "",
        "Default": "hello",
        "Label": "greeting",
        "NoEcho": "false",
    }
    assert set(result["Environment"]) >= {"parameters", "parameter_defaults", "resource_registry"}
    assert "The template version is invalid" in str(invalid.value)


def test_resource_types(heat: Any) -> None:
    names = [t.resource_type for t in heat.resource_types.list()]
    value_only = [t.resource_type for t in heat.resource_types.list(filters={"name": "Value"})]
    schema = heat.resource_types.get("OS::Heat::TestResource")
    hot = heat.resource_types.generate_template("OS::Heat::Value", template_type="hot")
    cfn = heat.resource_types.generate_template("OS::Heat::Value")
    with pytest.raises(exc.HTTPNotFound) as missing:
        heat.resource_types.get("OS::Nope")

    assert {"OS::Heat::RandomString", "OS::Heat::Value", "OS::Heat::None"} <= set(names)
    assert value_only == ["OS::Heat::Value"]
    assert schema["resource_type"] == "OS::Heat::TestResource"
    assert schema["support_status"]["status"] == "SUPPORTED"
    assert schema["properties"]["wait_secs"]["default"] == 0
    assert "show" in schema["attributes"]
    assert hot["resources"]["Value"]["type"] == "OS::Heat::Value"
    assert "heat_template_version" in hot
    assert cfn["Resources"]["Value"]["Type"] == "OS::Heat::Value"
    assert "The Resource Type (OS::Nope) could not be found." in str(missing.value)


def test_template_versions_and_functions(heat: Any) -> None:
    versions = {v.version: v for v in heat.template_versions.list()}
    functions = {
        f.functions: f.description
        for f in heat.template_versions.get("heat_template_version.2016-04-08")
    }
    with_conditions = {
        f.functions
        for f in heat.template_versions.get(
            "heat_template_version.2016-10-14", with_condition_func=True
        )
    }
    with pytest.raises(exc.HTTPNotFound):
        heat.template_versions.get("heat_template_version.1999-01-01")

    assert versions["heat_template_version.2016-04-08"].type == "hot"
    assert versions["AWSTemplateFormatVersion.2010-09-09"].type == "cfn"
    assert versions["heat_template_version.2016-10-14"].aliases == ["heat_template_version.newton"]
    assert functions["get_file"] == "A function for including a file inline."
    assert "if" not in functions
    assert {"equals", "not", "and", "or", "if"} <= with_conditions


def test_stack_show_by_uuid_only(heat: Any, kind: str) -> None:
    created = heat.stacks.create(stack_name=f"uuid-{kind}", template=NONE_DICT)
    stack_id = created["stack"]["id"]

    shown = wait_stack(heat, stack_id, "CREATE_COMPLETE")

    assert shown.id == stack_id
    assert re.fullmatch(UUID, stack_id)
