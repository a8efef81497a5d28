"""Stack update through the RPC client: in place, replacement, added and removed
resources, and PATCH-style updates with their parameters."""

from __future__ import annotations

from typing import Any

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import (
    events,
    hot,
    of,
    outputs,
    physical_ids,
    position,
    random_res,
    resources,
    tres,
    update_and_wait,
    value_res,
    wait_resource,
)


async def events_since(env: EngineEnv, stack: str, count: int) -> list[dict[str, Any]]:
    return (await events(env, stack))[count:]


# In place --------------------------------------------------------------------------------


async def test_value_is_updated_in_place(env_any: EngineEnv) -> None:
    env = env_any
    template = hot({"v": value_res("one")}, outputs={"o": {"value": {"get_attr": ["v", "value"]}}})
    await env.create("inplace", template)
    before = await physical_ids(env, "inplace")
    seen = len(await events(env, "inplace"))
    template["resources"]["v"]["properties"]["value"] = "two"
    stack = await update_and_wait(env, "inplace", template)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert stack["stack_status_reason"] == "Stack UPDATE completed successfully"
    assert outputs(stack)["o"] == "two"
    assert await physical_ids(env, "inplace") == before
    evs = of(await events_since(env, "inplace", seen), "v")
    assert [e["resource_status"] for e in evs] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert {e["physical_resource_id"] for e in evs} == {before["v"]}
    listed = await resources(env, "inplace")
    assert listed["v"]["resource_status"] == "UPDATE_COMPLETE"


async def test_test_resource_value_is_updated_in_place(env: EngineEnv) -> None:
    await env.create("inplace", hot({"t": tres("one")}))
    before = await physical_ids(env, "inplace")
    stack = await update_and_wait(env, "inplace", hot({"t": tres("two")}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "inplace") == before
    listed = await resources(env, "inplace", detail=True)
    assert listed["t"]["attributes"]["output"] == "two"


async def test_dependents_see_in_place_changes(env: EngineEnv) -> None:
    template = hot({"v": value_res("one"), "t": tres({"get_attr": ["v", "value"]})})
    await env.create("chain", template)
    before = await physical_ids(env, "chain")
    template["resources"]["v"]["properties"]["value"] = "two"
    await update_and_wait(env, "chain", template)
    listed = await resources(env, "chain", detail=True)
    assert listed["t"]["attributes"]["output"] == "two"
    assert await physical_ids(env, "chain") == before


# Replacement -----------------------------------------------------------------------------

REPLACING = {
    "t": tres("one", update_replace=True),
    "d": tres({"get_resource": "t"}),
    "e": tres({"get_attr": ["t", "output"]}),
}


def replacing(value: str) -> dict[str, Any]:
    template = hot({k: {**v, "properties": dict(v["properties"])} for k, v in REPLACING.items()})
    template["resources"]["t"]["properties"]["value"] = value
    return template


async def test_replacement_follows_heats_event_order(env_any: EngineEnv) -> None:
    env = env_any
    stack = await env.create("repl", replacing("one"))
    old = (await physical_ids(env, "repl"))["t"]
    seen = len(await events(env, "repl"))
    stack = await update_and_wait(env, "repl", replacing("two"))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    new = (await physical_ids(env, "repl"))["t"]
    assert new and new != old
    evs = await events_since(env, "repl", seen)
    mine = of(evs, "t")
    assert [e["resource_status"] for e in mine] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ]
    assert "requires replacement" in mine[1]["resource_status_reason"]
    assert mine[0]["physical_resource_id"] == mine[1]["physical_resource_id"] == old
    assert mine[3]["physical_resource_id"] == new
    assert mine[4]["physical_resource_id"] == mine[5]["physical_resource_id"] == old
    # The old one goes only after everything that referred to it moved to the new one.
    old_delete = position(evs, "t", "DELETE_IN_PROGRESS")
    for dependent in ("d", "e"):
        assert position(evs, dependent, "UPDATE_COMPLETE") < old_delete, dependent
        assert position(evs, dependent, "UPDATE_IN_PROGRESS") > position(
            evs, "t", "CREATE_COMPLETE"
        )
    listed = await resources(env, "repl", detail=True)
    assert sorted(listed) == ["d", "e", "t"], "the replaced row is not listed"
    assert listed["t"]["resource_status"] == "CREATE_COMPLETE"
    assert listed["d"]["attributes"]["output"] == new
    assert listed["e"]["attributes"]["output"] == "two"


async def test_random_string_length_change_replaces_it(env: EngineEnv) -> None:
    template = hot({"r": random_res(8)}, outputs={"o": {"value": {"get_attr": ["r", "value"]}}})
    first = await env.create("rand", template)
    old = (await physical_ids(env, "rand"))["r"]
    seen = len(await events(env, "rand"))
    template["resources"]["r"]["properties"]["length"] = 12
    stack = await update_and_wait(env, "rand", template)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert (await physical_ids(env, "rand"))["r"] != old
    assert len(outputs(first)["o"]) == 8
    assert len(outputs(stack)["o"]) == 12
    statuses = [e["resource_status"] for e in of(await events_since(env, "rand", seen), "r")]
    assert statuses == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ]


async def test_an_unchanged_random_string_keeps_its_value(env: EngineEnv) -> None:
    template = hot(
        {"r": random_res(8), "t": tres("one")},
        outputs={"o": {"value": {"get_attr": ["r", "value"]}}},
    )
    first = await env.create("rand", template)
    template["resources"]["t"]["properties"]["value"] = "two"
    stack = await update_and_wait(env, "rand", template)
    assert outputs(stack)["o"] == outputs(first)["o"]


async def test_a_type_change_replaces_the_resource(env: EngineEnv) -> None:
    await env.create("retype", hot({"r": tres("one")}))
    old = (await physical_ids(env, "retype"))["r"]
    stack = await update_and_wait(env, "retype", hot({"r": {"type": "OS::Heat::None"}}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    listed = await resources(env, "retype")
    assert listed["r"]["resource_type"] == "OS::Heat::None"
    assert listed["r"]["physical_resource_id"] != old


async def test_an_alias_mapped_to_another_type_replaces_the_resource(env: EngineEnv) -> None:
    # The type written is the same; what the environment maps it to is not (Heat's rule).
    template = hot({"r": {"type": "My::Thing"}})
    registry = {"resource_registry": {"My::Thing": "OS::Heat::RandomString"}}
    await env.create("remap", template, environment=registry)
    old = (await physical_ids(env, "remap"))["r"]
    registry = {"resource_registry": {"My::Thing": "OS::Heat::TestResource"}}
    stack = await update_and_wait(env, "remap", template, environment=registry)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    listed = await resources(env, "remap")
    assert listed["r"]["resource_type"] == "My::Thing"
    assert listed["r"]["physical_resource_id"] != old


async def test_a_renamed_alias_of_the_same_type_keeps_the_resource(env: EngineEnv) -> None:
    registry = {
        "resource_registry": {
            "My::One": "OS::Heat::RandomString",
            "My::Two": "OS::Heat::RandomString",
        }
    }
    await env.create("rename", hot({"r": {"type": "My::One"}}), environment=registry)
    old = (await physical_ids(env, "rename"))["r"]
    stack = await update_and_wait(
        env, "rename", hot({"r": {"type": "My::Two"}}), environment=registry
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    listed = await resources(env, "rename")
    assert listed["r"]["physical_resource_id"] == old
    assert listed["r"]["resource_type"] == "My::Two"


# Added, removed and unchanged resources --------------------------------------------------


async def test_resources_added_and_removed(env: EngineEnv) -> None:
    await env.create("addrm", hot({"a": tres("a"), "b": tres("b")}))
    before = await physical_ids(env, "addrm")
    seen = len(await events(env, "addrm"))
    stack = await update_and_wait(env, "addrm", hot({"b": tres("b"), "c": tres("c")}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = await physical_ids(env, "addrm")
    assert sorted(after) == ["b", "c"]
    assert after["b"] == before["b"]
    evs = await events_since(env, "addrm", seen)
    assert [e["resource_status"] for e in of(evs, "a")] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert [e["resource_status"] for e in of(evs, "c")] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert of(evs, "b") == [], "an unchanged resource shows no events"


async def test_removed_resources_are_deleted_dependents_first(env: EngineEnv) -> None:
    await env.create(
        "rmorder",
        hot({"base": tres("base"), "user": tres({"get_resource": "base"}), "keep": tres()}),
    )
    seen = len(await events(env, "rmorder"))
    stack = await update_and_wait(env, "rmorder", hot({"keep": tres()}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    evs = await events_since(env, "rmorder", seen)
    assert position(evs, "user", "DELETE_COMPLETE") < position(evs, "base", "DELETE_IN_PROGRESS")
    assert sorted(await physical_ids(env, "rmorder")) == ["keep"]


async def test_a_no_change_update_shows_only_stack_events(env: EngineEnv) -> None:
    template = hot({"a": tres("a"), "b": tres({"get_resource": "a"}), "r": random_res()})
    await env.create("same", template)
    before = await resources(env, "same")
    seen = len(await events(env, "same"))
    stack = await update_and_wait(env, "same", template)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    evs = await events_since(env, "same", seen)
    assert [(e["resource_name"], e["resource_status"]) for e in evs] == [
        ("same", "UPDATE_IN_PROGRESS"),
        ("same", "UPDATE_COMPLETE"),
    ]
    after = await resources(env, "same")
    for name, res in before.items():
        assert after[name]["physical_resource_id"] == res["physical_resource_id"]
        assert after[name]["resource_status"] == "CREATE_COMPLETE"


async def test_updated_time_is_set_by_an_update(env: EngineEnv) -> None:
    created = await env.create("times", hot({"t": tres("one")}))
    stack = await update_and_wait(env, "times", hot({"t": tres("two")}))
    assert stack["updated_time"] is not None
    assert stack["updated_time"] >= created["creation_time"]
    assert stack["creation_time"] == created["creation_time"]


async def test_the_new_template_is_stored(env: EngineEnv) -> None:
    await env.create("tmpl", hot({"t": tres("one")}))
    new = hot({"t": tres("two"), "u": tres()})
    await update_and_wait(env, "tmpl", new)
    assert await env.client.get_template(env.ctx, "tmpl") == new


# Parameters, PUT and PATCH ---------------------------------------------------------------

PARAMETERISED = hot(
    {"a": tres({"get_param": "pa"}), "b": tres({"get_param": "pb"})},
    parameters={
        "pa": {"type": "string", "default": "a-default"},
        "pb": {"type": "string", "default": "b-default"},
    },
    outputs={
        "a": {"value": {"get_attr": ["a", "output"]}},
        "b": {"value": {"get_attr": ["b", "output"]}},
    },
)


async def test_put_reverts_parameters_not_given_to_defaults(env: EngineEnv) -> None:
    await env.create("put", PARAMETERISED, params={"pa": "a-given", "pb": "b-given"})
    stack = await update_and_wait(env, "put", PARAMETERISED, params={"pb": "b-new"})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"a": "a-default", "b": "b-new"}
    assert stack["parameters"]["pa"] == "a-default"


async def test_patch_reuses_stored_template_and_parameters(env: EngineEnv) -> None:
    created = await env.create("patch", PARAMETERISED, params={"pa": "a-given", "pb": "b-given"})
    before = await physical_ids(env, "patch")
    seen = len(await events(env, "patch"))
    stack = await update_and_wait(
        env, "patch", None, params={"pb": "b-new"}, args={"existing": True}
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(created) == {"a": "a-given", "b": "b-given"}
    assert outputs(stack) == {"a": "a-given", "b": "b-new"}
    assert stack["parameters"]["pa"] == "a-given"
    assert stack["parameters"]["pb"] == "b-new"
    assert await physical_ids(env, "patch") == before
    evs = await events_since(env, "patch", seen)
    assert of(evs, "a") == [], "the resource whose parameter did not change is untouched"
    assert await env.client.get_template(env.ctx, "patch") == PARAMETERISED


async def test_a_failed_update_keeps_its_template_for_a_patch(env: EngineEnv) -> None:
    # As in Heat: without rollback, the stack is left with the template it was updated to,
    # and a PATCH giving only a parameter starts from it.
    failing = hot(
        {"r": tres("v", fail={"get_param": "do_fail"})},
        parameters={"do_fail": {"type": "boolean", "default": False}},
    )
    await env.create("fromfail", hot({}))
    stack = await update_and_wait(env, "fromfail", failing, params={"do_fail": "true"})
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert await env.client.get_template(env.ctx, "fromfail") == failing
    stack = await update_and_wait(
        env, "fromfail", None, params={"do_fail": "false"}, args={"existing": True}
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert sorted(await physical_ids(env, "fromfail")) == ["r"]


async def test_a_resource_left_by_a_failed_update_is_deleted_as_it_was_made(
    env: EngineEnv,
) -> None:
    # The update drops the alias and the resource using it, then fails before removing it:
    # deleting the stack still finds the type it was made as.
    template = hot(
        {
            "test1": tres("foo"),
            "my_res": {"type": "My::TestResource", "depends_on": "test1"},
            "test2": {"type": "OS::Heat::TestResource", "depends_on": "my_res"},
        }
    )
    registry = {"resource_registry": {"My::TestResource": "OS::Heat::TestResource"}}
    await env.create("leftover", template, environment=registry)
    updated = hot({"test1": tres("foo", fail=True), "test2": {**tres(), "depends_on": "test1"}})
    stack = await update_and_wait(env, "leftover", updated)
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert sorted(await physical_ids(env, "leftover")) == ["my_res", "test1", "test2"]
    stack_id = stack["id"]
    await env.client.delete_stack(env.ctx, "leftover")
    deleted = await env.wait(stack_id, "DELETE")
    assert deleted["stack_status"] == "DELETE_COMPLETE", deleted["stack_status_reason"]


async def test_patch_with_a_new_template_keeps_stored_parameters(env: EngineEnv) -> None:
    await env.create("patch", PARAMETERISED, params={"pa": "a-given"})
    template = hot(
        {"a": tres({"get_param": "pa"})},
        parameters={"pa": {"type": "string"}},
        outputs={"a": {"value": {"get_attr": ["a", "output"]}}},
    )
    stack = await update_and_wait(env, "patch", template, args={"existing": True})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"a": "a-given"}


async def test_patch_with_a_template_that_drops_a_parameter_drops_its_value(
    env: EngineEnv,
) -> None:
    """As Heat: the stored value of a parameter the new template no longer declares is
    forgotten, not refused as undeclared."""
    await env.create("drop", PARAMETERISED, params={"pa": "a-given", "pb": "b-given"})
    template = hot(
        {"a": {"type": "OS::Heat::TestResource", "properties": {"value": {"get_param": "pa"}}}},
        parameters={"pa": {"type": "string"}},
        outputs={"a": {"value": {"get_attr": ["a", "output"]}}},
    )
    stack = await update_and_wait(env, "drop", template, args={"existing": True})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"a": "a-given"}
    assert "pb" not in stack["parameters"]


async def test_patch_clear_parameters_reverts_to_defaults(env: EngineEnv) -> None:
    await env.create("clear", PARAMETERISED, params={"pa": "a-given", "pb": "b-given"})
    stack = await update_and_wait(
        env, "clear", None, args={"existing": True, "clear_parameters": ["pa"]}
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"a": "a-default", "b": "b-given"}
    # A later PATCH does not bring the cleared value back.
    stack = await update_and_wait(
        env, "clear", None, params={"pb": "b-new"}, args={"existing": True}
    )
    assert outputs(stack) == {"a": "a-default", "b": "b-new"}


async def test_patch_keeps_tags_and_settings(env: EngineEnv) -> None:
    await env.create(
        "keep",
        PARAMETERISED,
        args={"tags": ["x", "y"], "timeout_mins": 9, "disable_rollback": False},
    )
    stack = await update_and_wait(env, "keep", None, params={"pa": "n"}, args={"existing": True})
    assert stack["tags"] == ["x", "y"]
    assert stack["timeout_mins"] == 9
    assert stack["disable_rollback"] is False


async def test_update_can_replace_tags(env: EngineEnv) -> None:
    await env.create("tags", hot({"t": tres()}), args={"tags": ["x"]})
    stack = await update_and_wait(env, "tags", hot({"t": tres()}), args={"tags": ["y", "z"]})
    assert stack["tags"] == ["y", "z"]


async def test_an_immutable_parameter_change_is_refused(env: EngineEnv) -> None:
    template = hot(
        {"t": tres({"get_param": "p"})},
        parameters={"p": {"type": "string", "immutable": True}},
    )
    await env.create("immut", template, params={"p": "fixed"})
    seen = len(await events(env, "immut"))
    with pytest.raises(errors.ImmutableParameterModified) as caught:
        await env.client.update_stack(env.ctx, "immut", template, params={"p": "changed"})
    assert "p" in caught.value.message
    with pytest.raises(errors.ImmutableParameterModified):
        await env.client.update_stack(
            env.ctx, "immut", None, params={"p": "changed"}, args={"existing": True}
        )
    stack = await env.client.show_stack(env.ctx, "immut")
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert len(await events(env, "immut")) == seen
    # The same value again is not a change.
    stack = await update_and_wait(env, "immut", template, params={"p": "fixed"})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]


async def test_an_invalid_update_changes_nothing(env: EngineEnv) -> None:
    await env.create("keep", hot({"t": tres("one")}))
    seen = len(await events(env, "keep"))
    with pytest.raises(errors.StackValidationFailed):
        await env.client.update_stack(env.ctx, "keep", hot({"t": {"type": "OS::Nope"}}))
    stack = await env.client.show_stack(env.ctx, "keep")
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert len(await events(env, "keep")) == seen
    assert await env.client.get_template(env.ctx, "keep") == hot({"t": tres("one")})


async def test_updating_an_unknown_stack_is_not_found(env: EngineEnv) -> None:
    with pytest.raises(errors.EntityNotFound):
        await env.client.update_stack(env.ctx, "nowhere", hot({"t": tres()}))


# Superseded mid-replacement ----------------------------------------------------------------


async def _rows_by_name(env: EngineEnv, stack: str) -> dict[str, list[tuple[str, Any]]]:
    shown = await env.client.show_stack(env.ctx, stack, resolve_outputs=False)

    def read(uow: Any) -> list[Any]:
        return uow.resources.of_stack(shown["id"])

    found: dict[str, list[tuple[str, Any]]] = {}
    for row in await env.db.run(read):
        found.setdefault(row.name, []).append((f"{row.action}_{row.status}", row.replaced_by))
    return found


@pytest.mark.parametrize("second", ["three", "one"])
async def test_update_superseded_mid_replacement_leaves_one_row(
    env: EngineEnv, second: str
) -> None:
    """A second update while the first one's replacement is being made: whether it asks
    for yet another value (``three``) or goes back to the original (``one``), the stack ends
    with one row for the resource, nothing replaced left over."""
    slow = {"update_replace": True, "action_wait_secs": {"create": 0.5}}
    await env.create("supersede", hot({"t": tres("one", update_replace=True)}))
    await env.client.update_stack(env.ctx, "supersede", hot({"t": tres("two", **slow)}))
    await wait_resource(env, "supersede", "t", "CREATE_IN_PROGRESS")
    stack = await update_and_wait(env, "supersede", hot({"t": tres(second, **slow)}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    rows = await _rows_by_name(env, "supersede")
    assert len(rows["t"]) == 1, rows
    [(state, replaced_by)] = rows["t"]
    assert replaced_by is None and state.endswith("_COMPLETE"), rows
    listed = await resources(env, "supersede", detail=True)
    assert listed["t"]["attributes"]["output"] == second
