"""Breakpoints, as in Heat: a resource paused at a pre- hook keeps its state (INIT_COMPLETE
before its create, its current state before an update or a delete) until the hook is
cleared; the pause and the clearing are events of that state. At a post- hook the action
is complete, and so are its events."""

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
    tres,
    wait_event,
    wait_resource,
)


def hooked(hooks: str, name: str = "b") -> dict[str, Any]:
    return {"resource_registry": {"resources": {name: {"hooks": hooks}}}}


def template(value: str = "one") -> dict[str, Any]:
    """``a``, then ``b`` (which depends on ``a``)."""
    return hot({"a": tres(value), "b": {**tres(value), "depends_on": "a"}})


def states(evs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["resource_status"], e["resource_status_reason"]) for e in evs]


async def state(env: EngineEnv, stack: str, name: str) -> str:
    return str((await env.client.show_resource(env.ctx, stack, name))["resource_status"])


async def stack_status(env: EngineEnv, stack: str) -> str:
    shown = await env.client.show_stack(env.ctx, stack, resolve_outputs=False)
    return str(shown["stack_status"])


async def test_pre_create_keeps_init_complete_until_cleared(env: EngineEnv) -> None:
    paused = "CREATE paused until Hook pre-create is cleared"
    created = await env.client.create_stack(
        env.ctx, "pc", template(), environment=hooked("pre-create")
    )
    await wait_resource(env, "pc", "a", "CREATE_COMPLETE")
    event = await wait_event(env, "pc", "b", paused)
    assert event["resource_status"] == "INIT_COMPLETE"
    assert await state(env, "pc", "b") == "INIT_COMPLETE"
    assert await stack_status(env, "pc") == "CREATE_IN_PROGRESS"
    # Nothing of the create is shown before the hook is cleared.
    assert states(of(await events(env, "pc"), "b")) == [("INIT_COMPLETE", paused)]

    await env.client.signal_resource(env.ctx, "pc", "b", {"unset_hook": "pre-create"})
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert states(of(await events(env, "pc"), "b")) == [
        ("INIT_COMPLETE", paused),
        ("INIT_COMPLETE", "Hook pre-create is cleared"),
        ("CREATE_IN_PROGRESS", "state changed"),
        ("CREATE_COMPLETE", "state changed"),
    ]


async def test_pre_update_keeps_the_current_state_until_cleared(env: EngineEnv) -> None:
    paused = "UPDATE paused until Hook pre-update is cleared"
    await env.create("pu", template("one"), environment=hooked("pre-update"))
    await env.client.update_stack(env.ctx, "pu", template("two"), environment=hooked("pre-update"))
    event = await wait_event(env, "pu", "b", paused)
    assert event["resource_status"] == "CREATE_COMPLETE"
    assert await state(env, "pu", "b") == "CREATE_COMPLETE"
    assert await stack_status(env, "pu") == "UPDATE_IN_PROGRESS"

    await env.client.signal_resource(env.ctx, "pu", "b", {"unset_hook": "pre-update"})
    stack = await env.wait("pu", "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    shown = of(await events(env, "pu"), "b")
    at = [e["resource_status_reason"] for e in shown].index(paused)
    assert states(shown[at:]) == [
        ("CREATE_COMPLETE", paused),
        ("CREATE_COMPLETE", "Hook pre-update is cleared"),
        ("UPDATE_IN_PROGRESS", "state changed"),
        ("UPDATE_COMPLETE", "state changed"),
    ]
    b = await env.client.show_resource(env.ctx, "pu", "b")
    assert b["attributes"]["output"] == "two"


async def test_a_cleared_pre_update_holds_while_the_update_waits_for_its_nested_stack(
    env: EngineEnv,
) -> None:
    # A group's update parks until its nested stack is done; it must not stop at the hook
    # a second time when it wakes.
    paused = "UPDATE paused until Hook pre-update is cleared"
    environment = {"resource_registry": {"resources": {"rg": {"hooks": "pre-update"}}}}

    def group(count: int) -> dict[str, Any]:
        member = {"type": "OS::Heat::RandomString"}
        return {
            "heat_template_version": "2014-10-16",
            "resources": {
                "rg": {
                    "type": "OS::Heat::ResourceGroup",
                    "properties": {"count": count, "resource_def": member},
                }
            },
        }

    await env.create("rgu", group(1), environment=environment)
    await env.client.update_stack(env.ctx, "rgu", group(2), environment=environment)
    await wait_event(env, "rgu", "rg", paused)
    await env.client.signal_resource(env.ctx, "rgu", "rg", {"unset_hook": "pre-update"})
    stack = await env.wait("rgu", "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    reasons = [e["resource_status_reason"] for e in of(await events(env, "rgu"), "rg")]
    assert reasons.count(paused) == 1, reasons


async def test_pre_delete_keeps_the_current_state_until_cleared(env: EngineEnv) -> None:
    paused = "DELETE paused until Hook pre-delete is cleared"
    created = await env.create("pd", template(), environment=hooked("pre-delete", "a"))
    await env.client.delete_stack(env.ctx, "pd")
    # ``b`` goes first (it depends on ``a``); ``a`` waits at its hook.
    event = await wait_event(env, "pd", "a", paused)
    assert event["resource_status"] == "CREATE_COMPLETE"
    assert await state(env, "pd", "a") == "CREATE_COMPLETE"
    assert await stack_status(env, "pd") == "DELETE_IN_PROGRESS"
    assert states(of(await events(env, "pd"), "a"))[-1] == ("CREATE_COMPLETE", paused)

    await env.client.signal_resource(env.ctx, "pd", "a", {"unset_hook": "pre-delete"})
    cleared = await wait_event(env, created["id"], "a", "Hook pre-delete is cleared")
    assert cleared["resource_status"] == "CREATE_COMPLETE"
    stack = await env.wait(created["id"], "DELETE")
    assert stack["stack_status"] == "DELETE_COMPLETE", stack["stack_status_reason"]
    shown = of(await events(env, created["id"]), "a")
    at = [e["resource_status_reason"] for e in shown].index(paused)
    assert [s for s, _ in states(shown[at:])] == [
        "CREATE_COMPLETE",
        "CREATE_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ]


async def test_post_create_pauses_with_the_create_complete(env: EngineEnv) -> None:
    paused = "CREATE paused until Hook post-create is cleared"
    created = await env.client.create_stack(
        env.ctx, "po", template(), environment=hooked("post-create")
    )
    event = await wait_event(env, "po", "b", paused)
    assert event["resource_status"] == "CREATE_COMPLETE"
    assert await state(env, "po", "b") == "CREATE_COMPLETE"
    assert await stack_status(env, "po") == "CREATE_IN_PROGRESS"

    await env.client.signal_resource(env.ctx, "po", "b", {"unset_hook": "post-create"})
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert states(of(await events(env, "po"), "b")) == [
        ("CREATE_IN_PROGRESS", "state changed"),
        ("CREATE_COMPLETE", "state changed"),
        ("CREATE_COMPLETE", paused),
        ("CREATE_COMPLETE", "Hook post-create is cleared"),
    ]


async def test_pre_create_of_a_wildcard_pauses_each_in_turn(env: EngineEnv) -> None:
    """Every resource waits at its own hook in INIT_COMPLETE; ``b`` reaches its hook only
    once ``a`` is created."""
    paused = "CREATE paused until Hook pre-create is cleared"
    created = await env.client.create_stack(
        env.ctx, "wc", template(), environment=hooked("pre-create", "*")
    )
    for name in ("a", "b"):
        event = await wait_event(env, "wc", name, paused)
        assert event["resource_status"] == "INIT_COMPLETE"
        assert await state(env, "wc", name) == "INIT_COMPLETE"
        await env.client.signal_resource(env.ctx, "wc", name, {"unset_hook": "pre-create"})
        await wait_resource(env, "wc", name, "CREATE_COMPLETE")
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


async def test_a_timeout_at_a_pre_create_hook_leaves_the_resource_as_it_was(
    tmp_path: Path,
) -> None:
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        created = await env.client.create_stack(
            env.ctx, "late", hot({"b": tres()}), environment=hooked("pre-create")
        )
        stack = await env.wait(created["stack_id"], "CREATE", timeout=20)
        assert stack["stack_status"] == "CREATE_FAILED"
        assert stack["stack_status_reason"] == "Timed out"
        assert await state(env, "late", "b") == "INIT_COMPLETE"
        assert states(of(await events(env, "late"), "b")) == [
            ("INIT_COMPLETE", "CREATE paused until Hook pre-create is cleared"),
            ("INIT_COMPLETE", "Failure occurred while waiting."),
        ]
        # The hook was cleared with the failure.
        with pytest.raises(errors.InvalidRequest, match="hook is not active"):
            await env.client.signal_resource(env.ctx, "late", "b", {"unset_hook": "pre-create"})


async def test_a_cancel_without_rollback_leaves_the_paused_resource_waiting(
    env: EngineEnv,
) -> None:
    """As Heat's: the stack's operation stops, the resource at its hook keeps waiting in
    its state, and once the hook is cleared it completes its action."""
    created = await env.client.create_stack(
        env.ctx, "cancelled", hot({"b": tres()}), environment=hooked("pre-create")
    )
    await wait_event(env, "cancelled", "b", "CREATE paused until Hook pre-create is cleared")
    await env.client.stack_action(env.ctx, "cancelled", "cancel_without_rollback")
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == "Stack CREATE cancelled"
    assert await state(env, "cancelled", "b") == "INIT_COMPLETE"
    await env.client.signal_resource(env.ctx, "cancelled", "b", {"unset_hook": "pre-create"})
    await wait_event(env, "cancelled", "b", "state changed")
    assert await state(env, "cancelled", "b") == "CREATE_COMPLETE"
    shown = await env.client.show_stack(env.ctx, "cancelled")
    assert shown["stack_status"] == "CREATE_FAILED"
