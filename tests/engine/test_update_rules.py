"""Stack update rules through the RPC client: limits, restricted_actions in the
environment, and a second update arriving while the first still runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import (
    custom_env,
    events,
    hot,
    of,
    physical_ids,
    resources,
    tres,
    update_and_wait,
    wait_resource,
)


async def test_max_resources_per_stack_applies_to_updates(tmp_path: Path) -> None:
    async with custom_env(tmp_path, max_resources_per_stack=2) as env:
        await env.create("grow", hot({"a": tres(), "b": tres()}))
        with pytest.raises(errors.RequestLimitExceeded):
            await env.client.update_stack(
                env.ctx, "grow", hot({"a": tres(), "b": tres(), "c": tres()})
            )
        stack = await env.client.show_stack(env.ctx, "grow")
        assert stack["stack_status"] == "CREATE_COMPLETE"
        assert sorted(await physical_ids(env, "grow")) == ["a", "b"]


# restricted_actions ----------------------------------------------------------------------


def restricted(actions: Any, pattern: str = "bar") -> dict[str, Any]:
    return {"resource_registry": {"resources": {pattern: {"restricted_actions": actions}}}}


RESTRICTED_BASE = hot({"bar": tres("1234", update_replace=False)})


def restricted_change(*, replace: bool) -> dict[str, Any]:
    return hot({"bar": tres("4567", update_replace=replace)})


async def test_restricted_update_fails_the_update(env: EngineEnv) -> None:
    await env.create("restr", RESTRICTED_BASE)
    before = await physical_ids(env, "restr")
    stack = await update_and_wait(
        env, "restr", restricted_change(replace=False), environment=restricted("update")
    )
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "update is restricted for resource" in stack["stack_status_reason"]
    assert await physical_ids(env, "restr") == before
    listed = await resources(env, "restr", detail=True)
    assert listed["bar"]["attributes"]["output"] == "1234"


async def test_restricted_replace_fails_the_update(env: EngineEnv) -> None:
    await env.create("restr", RESTRICTED_BASE)
    before = await physical_ids(env, "restr")
    stack = await update_and_wait(
        env, "restr", restricted_change(replace=True), environment=restricted(["replace"])
    )
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "replace is restricted for resource" in stack["stack_status_reason"]
    assert await physical_ids(env, "restr") == before


async def test_restricting_replace_allows_an_in_place_update(env: EngineEnv) -> None:
    await env.create("restr", RESTRICTED_BASE)
    before = await physical_ids(env, "restr")
    stack = await update_and_wait(
        env, "restr", restricted_change(replace=False), environment=restricted("replace", "*ar")
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "restr") == before
    assert (await resources(env, "restr"))["bar"]["resource_status"] == "UPDATE_COMPLETE"


async def test_restricting_update_allows_a_replacement(env: EngineEnv) -> None:
    await env.create("restr", RESTRICTED_BASE)
    before = await physical_ids(env, "restr")
    stack = await update_and_wait(
        env, "restr", restricted_change(replace=True), environment=restricted("update")
    )
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "restr") != before


async def test_after_a_restricted_update_an_allowed_update_is_in_place(env: EngineEnv) -> None:
    """The second half of Heat's test_update_restricted: a refused update leaves the
    resource as it was, so the same change with only ``replace`` restricted succeeds."""
    await env.create("restr", RESTRICTED_BASE)
    before = await physical_ids(env, "restr")
    change = restricted_change(replace=False)
    stack = await update_and_wait(
        env, "restr", change, environment=restricted(["update", "replace"])
    )
    assert stack["stack_status"] == "UPDATE_FAILED"
    stack = await update_and_wait(env, "restr", change, environment=restricted("replace", "*ar"))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "restr") == before
    assert (await resources(env, "restr"))["bar"]["resource_status"] == "UPDATE_COMPLETE"


async def test_a_type_change_is_a_replacement_for_restricted_actions(env: EngineEnv) -> None:
    await env.create("retype", hot({"bar": tres("one")}))
    stack = await update_and_wait(
        env, "retype", hot({"bar": {"type": "OS::Heat::None"}}), environment=restricted("replace")
    )
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "replace is restricted" in stack["stack_status_reason"]
    assert (await resources(env, "retype"))["bar"]["resource_type"] == "OS::Heat::TestResource"


@pytest.mark.parametrize(
    ("replace", "reason"),
    [(False, "update is restricted for resource."), (True, "replace is restricted for resource.")],
    ids=["update", "replace"],
)
async def test_restriction_matches_heat(env: EngineEnv, replace: bool, reason: str) -> None:
    """As heat_integrationtests' test_update_restricted: the resource keeps its state and
    an event carries Heat's exact reason; the stack reason names ResourceActionRestricted."""
    await env.create("restr", RESTRICTED_BASE)
    stack = await update_and_wait(
        env,
        "restr",
        restricted_change(replace=replace),
        environment=restricted(["update", "replace"]),
    )
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert stack["stack_status_reason"] == (
        f"Resource UPDATE failed: ResourceActionRestricted: resources.bar: {reason}"
    )
    reasons = [e["resource_status_reason"] for e in of(await events(env, "restr"), "bar")]
    assert reasons.count(reason) == 1, reasons
    assert (await resources(env, "restr"))["bar"]["resource_status"] == "CREATE_COMPLETE"


# Overlapping updates ---------------------------------------------------------------------


async def start_overlapping_updates(env: EngineEnv) -> tuple[dict[str, Any], dict[str, str]]:
    """Create, start a slow update of ``t``, and send a second update while it runs.
    Returns the second template and the physical ids before the updates."""
    await env.create("race", hot({"t": tres("one"), "u": tres("u1")}))
    before = await physical_ids(env, "race")
    slow = hot({"t": tres("two", wait_secs=5), "u": tres("u1")})
    await env.client.update_stack(env.ctx, "race", slow)
    await wait_resource(env, "race", "t", "UPDATE_IN_PROGRESS")
    third = hot({"t": tres("three"), "u": tres("u3")})
    await env.client.update_stack(env.ctx, "race", third)
    return third, before


async def test_a_second_update_while_the_first_runs_wins(env: EngineEnv) -> None:
    third, _ = await start_overlapping_updates(env)
    stack = await env.wait("race", "UPDATE", timeout=15)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    listed = await resources(env, "race", detail=True)
    assert listed["t"]["attributes"]["output"] == "three"
    assert listed["u"]["attributes"]["output"] == "u3"
    assert await env.client.get_template(env.ctx, "race") == third
    # Nothing of the first update finishes after the second one completed.
    evs = await events(env, "race")
    assert evs[-1]["resource_name"] == "race"
    assert evs[-1]["resource_status"] == "UPDATE_COMPLETE"


async def test_an_overlapping_update_keeps_in_place_resources(env: EngineEnv) -> None:
    """Both updates change ``t`` in place, so it is never replaced (in Heat the newer
    traversal waits for the locked resource, then updates it in place)."""
    _, before = await start_overlapping_updates(env)
    stack = await env.wait("race", "UPDATE", timeout=15)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "race") == before
    statuses = [e["resource_status"] for e in of(await events(env, "race"), "t")]
    assert "DELETE_COMPLETE" not in statuses, statuses


# external_id -----------------------------------------------------------------------------


async def test_adding_external_id_on_update_fails_the_update(env: EngineEnv) -> None:
    base = {
        "heat_template_version": "2016-10-14",
        "resources": {"x": {"type": "OS::Heat::TestResource", "properties": {"value": "1"}}},
    }
    await env.create("extupd", base)
    before = await physical_ids(env, "extupd")
    changed = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "x": {
                "type": "OS::Heat::TestResource",
                "external_id": "ext-999",
                "properties": {"value": "1"},
            }
        },
    }
    stack = await update_and_wait(env, "extupd", changed)
    message = "Update to property external_id of x (OS::Heat::TestResource) is not supported."

    assert stack["stack_status"] == "UPDATE_FAILED"
    assert stack["stack_status_reason"] == (
        f"Resource UPDATE failed: NotSupported: resources.x: {message}"
    )
    assert await physical_ids(env, "extupd") == before
    shown = await env.client.show_resource(env.ctx, "extupd", "x")
    assert shown["resource_status"] == "CREATE_COMPLETE"
    assert [e["resource_status_reason"] for e in of(await events(env, "extupd"), "x")].count(
        message
    ) == 1


async def test_keeping_external_id_on_update_is_allowed(env: EngineEnv) -> None:
    template = hot({"x": {"type": "OS::Heat::None", "external_id": "ext-1"}})
    await env.create("extkeep", template)
    stack = await update_and_wait(env, "extkeep", template)

    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "extkeep") == {"x": "ext-1"}
