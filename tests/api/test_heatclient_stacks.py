"""python-heatclient driving the service, with both of its transports: the legacy HTTP
client (follows redirects itself) and a keystoneauth session (keystoneauth follows them,
dropping the query string, so the server must have kept it in ``Location``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.helpers import DEMO, DEMO_DICT, NONE_DICT, create_stack, need, wait_stack, wait_until

exc = need("heatclient.exc")


@pytest.fixture(params=["legacy", "session"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each test runs once with each client; stack names carry the client's name."""
    return str(request.param)


@pytest.fixture
def heat(kind: str, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("hc" if kind == "legacy" else "session_hc")


def test_create_show_update_delete(heat: Any, kind: str, project: str) -> None:
    name = f"life-{kind}"
    created = heat.stacks.create(
        stack_name=name, template=DEMO_DICT, parameters={"greeting": "hi"}, tags="a,b"
    )
    stack_id = created["stack"]["id"]
    shown = wait_stack(heat, name, "CREATE_COMPLETE")

    assert created["stack"]["links"][0]["href"].endswith(f"/v1/{project}/stacks/{name}/{stack_id}")
    assert shown.id == stack_id
    assert shown.stack_name == name
    assert shown.tags == ["a", "b"]
    assert shown.parameters["greeting"] == "hi"
    assert {o["output_key"]: o["output_value"] for o in shown.outputs}["greeting_out"] == "hi"
    assert heat.stacks.get(stack_id).stack_name == name
    # The query string survives the name look-up's redirect, whichever client follows it.
    assert not hasattr(heat.stacks.get(name, resolve_outputs=False), "outputs")

    heat.stacks.update(name, template=DEMO_DICT, parameters={"greeting": "full"})
    updated = wait_stack(heat, name, "UPDATE_COMPLETE")
    assert updated.parameters["greeting"] == "full"
    assert updated.updated_time is not None

    heat.stacks.update(name, existing=True, parameters={"greeting": "patched"})
    patched = wait_stack(heat, name, "UPDATE_COMPLETE")
    assert heat.stacks.output_show(name, "greeting_out")["output"]["output_value"] == "patched"
    assert patched.parameters["greeting"] == "patched"

    heat.stacks.delete(name)
    deleted = wait_stack(heat, stack_id, "DELETE_COMPLETE")
    assert deleted.deletion_time is not None
    assert not [s for s in heat.stacks.list() if s.stack_name == name]


def test_update_of_an_unchanged_property_leaves_the_resource(heat: Any, kind: str) -> None:
    name = f"keep-{kind}"
    create_stack(heat, name, DEMO_DICT)
    before = {r.resource_name: r.physical_resource_id for r in heat.resources.list(name)}

    heat.stacks.update(name, existing=True, parameters={"greeting": "other"})
    wait_stack(heat, name, "UPDATE_COMPLETE")
    after = {r.resource_name: r.physical_resource_id for r in heat.resources.list(name)}

    assert before == after
    assert before["val"].startswith(f"{name}-val-")


def test_preview_create_and_update(heat: Any, kind: str) -> None:
    name = f"prev-{kind}"
    preview = heat.stacks.preview(stack_name=name, template=DEMO_DICT)
    assert preview.stack_name == name
    assert sorted(r["resource_type"] for r in preview.resources) == [
        "OS::Heat::RandomString",
        "OS::Heat::TestResource",
        "OS::Heat::Value",
    ]
    assert not [s for s in heat.stacks.list() if s.stack_name == name]

    create_stack(heat, name, DEMO_DICT)
    bigger = copy.deepcopy(DEMO_DICT)
    bigger["resources"]["extra"] = {"type": "OS::Heat::None"}
    del bigger["resources"]["test"]
    changes = heat.stacks.preview_update(name, template=bigger)["resource_changes"]
    patch_changes = heat.stacks.preview_update(name, existing=True, parameters={"greeting": "x"})[
        "resource_changes"
    ]

    assert [r["resource_name"] for r in changes["added"]] == ["extra"]
    assert [r["resource_name"] for r in changes["deleted"]] == ["test"]
    assert [r["resource_name"] for r in patch_changes["updated"]] == ["val"]
    assert heat.stacks.get(name).stack_status == "CREATE_COMPLETE"


def test_template_environment_and_files(heat: Any, kind: str) -> None:
    name = f"parts-{kind}"
    environment = {"parameters": {"greeting": "from-env"}, "parameter_defaults": {"x": "1"}}
    files = {"notes.txt": "some text"}
    create_stack(heat, name, DEMO_DICT, environment=environment, files=files)

    assert heat.stacks.template(name) == DEMO_DICT
    shown_env = heat.stacks.environment(name)
    assert shown_env["parameters"] == {"greeting": "from-env"}
    assert shown_env["parameter_defaults"] == {"x": "1"}
    assert heat.stacks.files(name) == files
    assert heat.stacks.output_show(name, "greeting_out")["output"]["output_value"] == "from-env"


def test_outputs(heat: Any, kind: str) -> None:
    name = f"outs-{kind}"
    create_stack(heat, name, DEMO_DICT)

    listed = heat.stacks.output_list(name)["outputs"]
    shown = heat.stacks.output_show(name, "random_out")["output"]

    assert sorted(listed, key=lambda o: o["output_key"]) == [
        {"output_key": "greeting_out", "description": "the greeting"},
        {"output_key": "random_out", "description": "No description given"},
    ]
    assert shown["output_key"] == "random_out"
    assert len(shown["output_value"]) == 8


def test_output_whose_condition_is_false_has_a_null_value(heat: Any, kind: str) -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "conditions": {"never": False},
        "resources": {"n": {"type": "OS::Heat::None"}},
        "outputs": {
            "off": {"value": "hidden", "condition": "never", "description": "not this time"},
            "on": {"value": "shown"},
        },
    }
    name = f"cond-outs-{kind}"
    stack = create_stack(heat, name, template)

    shown = heat.stacks.output_show(name, "off")["output"]
    listed = heat.stacks.output_list(name)["outputs"]

    assert shown == {"output_key": "off", "description": "not this time", "output_value": None}
    assert sorted(stack.outputs, key=lambda o: o["output_key"]) == [
        {"output_key": "off", "description": "not this time", "output_value": None},
        {"output_key": "on", "description": "No description given", "output_value": "shown"},
    ]
    assert {o["output_key"] for o in listed} == {"off", "on"}


def test_list_filters_sorting_and_paging(heat: Any, kind: str) -> None:
    names = [f"ls-{kind}-{i}" for i in range(4)]
    for name in names:
        heat.stacks.create(stack_name=name, template=NONE_DICT)
    for name in names:
        wait_stack(heat, name, "CREATE_COMPLETE")
    bad = heat.stacks.create(
        stack_name=f"ls-{kind}-bad",
        template={
            "heat_template_version": "2016-10-14",
            "resources": {"f": {"type": "OS::Heat::TestResource", "properties": {"fail": True}}},
        },
    )
    wait_stack(heat, bad["stack"]["id"], "CREATE_FAILED")
    ours = {"name": [*names, f"ls-{kind}-bad"]}

    by_name = [
        s.stack_name
        for s in heat.stacks.list(filters=ours, sort_keys="stack_name", sort_dir="desc")
    ]
    failed = [s.stack_name for s in heat.stacks.list(filters={**ours, "status": "FAILED"})]
    complete = [
        s.stack_name for s in heat.stacks.list(filters={**ours, "status": "CREATE_COMPLETE"})
    ]
    page = list(heat.stacks.list(filters=ours, sort_keys="stack_name", sort_dir="asc", limit=2))
    after = list(
        heat.stacks.list(
            filters=ours, sort_keys="stack_name", sort_dir="asc", limit=10, marker=page[-1].id
        )
    )

    assert by_name == sorted([*names, f"ls-{kind}-bad"], reverse=True)
    assert failed == [f"ls-{kind}-bad"]
    assert sorted(complete) == names
    assert [s.stack_name for s in page] == names[:2]
    assert [s.stack_name for s in after] == [*names[2:], f"ls-{kind}-bad"]


def test_failed_create_reports_the_reason(heat: Any, kind: str) -> None:
    name = f"fail-{kind}"
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {"f": {"type": "OS::Heat::TestResource", "properties": {"fail": True}}},
    }

    failed = create_stack(heat, name, template, status="CREATE_FAILED")
    resource = heat.resources.get(name, "f")

    assert failed.stack_status_reason.startswith("Resource CREATE failed: ValueError:")
    assert "resources.f: Test Resource failed f" in failed.stack_status_reason
    assert resource.resource_status == "CREATE_FAILED"


def test_errors_carry_heat_messages(heat: Any, kind: str) -> None:
    with pytest.raises(exc.HTTPNotFound) as missing:
        heat.stacks.get(f"missing-{kind}")
    create_stack(heat, f"dup-{kind}", NONE_DICT)
    with pytest.raises(exc.HTTPConflict) as duplicate:
        heat.stacks.create(stack_name=f"dup-{kind}", template=NONE_DICT)
    with pytest.raises(exc.HTTPBadRequest) as unknown_param:
        heat.stacks.create(stack_name=f"param-{kind}", template=DEMO_DICT, parameters={"zz": "1"})

    assert f"The Stack (missing-{kind}) could not be found." in str(missing.value)
    assert f"The Stack (dup-{kind}) already exists." in str(duplicate.value)
    assert "The Parameter (zz) was not defined in template." in str(unknown_param.value)


def test_yaml_template_string_is_accepted(heat: Any, kind: str) -> None:
    shown = create_stack(heat, f"yaml-{kind}", DEMO)  # type: ignore[arg-type]

    assert shown.description == "demo stack"


def test_stacks_list_shows_both_clients_the_same_stacks(hc: Any, session_hc: Any) -> None:
    create_stack(hc, "seen-by-both", NONE_DICT)

    legacy = {s.id for s in hc.stacks.list(filters={"name": "seen-by-both"})}
    session = {s.id for s in session_hc.stacks.list(filters={"name": "seen-by-both"})}

    assert legacy == session
    assert len(legacy) == 1


def test_delete_wait_sees_404_by_name(heat: Any, kind: str) -> None:
    name = f"del-{kind}"
    create_stack(heat, name, NONE_DICT)
    heat.stacks.delete(name)

    def gone() -> bool:
        try:
            heat.stacks.get(name)
        except exc.HTTPNotFound:
            return True
        return False

    assert wait_until(gone, bool)


def test_list_by_tags_and_deleted(heat: Any, kind: str) -> None:
    for name, tags in ((f"tag1-{kind}", "x,y"), (f"tag2-{kind}", "y,z"), (f"tag3-{kind}", None)):
        heat.stacks.create(stack_name=name, template=NONE_DICT, tags=tags)
    for name in (f"tag1-{kind}", f"tag2-{kind}", f"tag3-{kind}"):
        wait_stack(heat, name, "CREATE_COMPLETE")
    ours = {"name": [f"tag1-{kind}", f"tag2-{kind}", f"tag3-{kind}"]}

    def names(**query: Any) -> list[str]:
        return sorted(s.stack_name.split("-")[0] for s in heat.stacks.list(filters=ours, **query))

    assert names(tags="y") == ["tag1", "tag2"]
    assert names(tags="x,y") == ["tag1"]
    assert names(tags_any="x,z") == ["tag1", "tag2"]
    assert names(not_tags="y") == ["tag3"]
    assert names(not_tags_any="x,z") == ["tag3"]
    heat.stacks.delete(f"tag3-{kind}")
    wait_until(names, lambda found: found == ["tag1", "tag2"])
    deleted = [
        s.stack_status
        for s in heat.stacks.list(filters={"name": f"tag3-{kind}"}, show_deleted=True)
    ]
    assert deleted == ["DELETE_COMPLETE"]


def test_failed_update_rolls_back_when_enabled(heat: Any, kind: str) -> None:
    name = f"rollback-{kind}"
    create_stack(heat, name, DEMO_DICT)
    failing = {
        "heat_template_version": "2016-10-14",
        "resources": {"f": {"type": "OS::Heat::TestResource", "properties": {"fail": True}}},
    }

    heat.stacks.update(name, template=failing, disable_rollback=False)
    rolled = wait_stack(heat, name, "ROLLBACK_COMPLETE")

    stack_events = [
        (e.resource_status, e.resource_status_reason)
        for e in heat.events.list(name, sort_dir="asc")
        if e.resource_name == name
    ]
    assert (
        "UPDATE_FAILED",
        "Resource CREATE failed: ValueError: resources.f: Test Resource failed f",
    ) in stack_events
    assert stack_events[-1] == ("ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully")
    assert sorted(r.resource_name for r in heat.resources.list(name)) == ["rand", "test", "val"]
    assert {o["output_key"]: o["output_value"] for o in rolled.outputs}["greeting_out"] == "hello"


def test_hidden_parameters_are_masked(heat: Any, kind: str) -> None:
    name = f"hidden-{kind}"
    template = {
        "heat_template_version": "2016-10-14",
        "parameters": {"password": {"type": "string", "hidden": True}},
        "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": "x"}}},
    }

    shown = create_stack(heat, name, template, parameters={"password": "s3cret"})
    environment = heat.stacks.environment(name)
    with pytest.raises(exc.HTTPBadRequest) as missing:
        heat.stacks.create(stack_name=f"{name}-2", template=template)

    assert shown.parameters["password"] == "******"
    assert environment["parameters"] == {"password": "******"}
    assert "The Parameter (password) was not provided." in str(missing.value)
