"""Failures through the RPC client: failed resources, rollback of creates and updates,
and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tests.engine.conftest import EngineEnv, start_env, stop_env
from tests.engine.helpers import (
    brief,
    custom_env,
    events,
    hot,
    outputs,
    physical_ids,
    position,
    resources,
    tres,
    update_and_wait,
    wait_status,
)

FAILING = hot({"good": tres("g"), "bad": tres("b", fail=True), "after": tres(depends_on="bad")})
FAILED_REASON = "ValueError: resources.bad: Test Resource failed bad"


async def test_a_failing_resource_fails_the_create(env: EngineEnv) -> None:
    stack = await env.create("failing", FAILING)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == f"Resource CREATE failed: {FAILED_REASON}"
    listed = await resources(env, "failing")
    assert listed["bad"]["resource_status"] == "CREATE_FAILED"
    assert listed["bad"]["resource_status_reason"] == FAILED_REASON
    assert listed["good"]["resource_status"] == "CREATE_COMPLETE"
    assert listed["after"]["resource_status"] == "INIT_COMPLETE", "never started"
    evs = await events(env, "failing")
    failed = [e for e in evs if e["resource_status"] == "CREATE_FAILED"]
    assert [(e["resource_name"], e["resource_status_reason"]) for e in failed] == [
        ("bad", FAILED_REASON),
        ("failing", f"Resource CREATE failed: {FAILED_REASON}"),
    ]
    assert not [e for e in evs if e["resource_name"] == "after"]
    assert stack["disable_rollback"] is True, "rollback is off unless asked for"
    assert not [e for e in evs if e["resource_status"].startswith("ROLLBACK")]


async def test_rollback_of_a_failed_create_deletes_everything(env: EngineEnv) -> None:
    created = await env.client.create_stack(
        env.ctx, "rollme", FAILING, args={"disable_rollback": False}
    )
    sid = created["stack_id"]
    stack = await env.wait(sid, "ROLLBACK")
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert stack["stack_status_reason"] == "Stack ROLLBACK completed successfully"
    assert await env.client.list_resources(env.ctx, sid) == []
    evs = await events(env, sid)
    stack_events = [
        (e["resource_status"], e["resource_status_reason"])
        for e in evs
        if e["resource_name"] == "rollme"
    ]
    assert stack_events == [
        ("CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("CREATE_FAILED", f"Resource CREATE failed: {FAILED_REASON}"),
        ("ROLLBACK_IN_PROGRESS", "Stack ROLLBACK started"),
        ("ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully"),
    ]
    started = position(evs, "rollme", "ROLLBACK_IN_PROGRESS")
    ended = position(evs, "rollme", "ROLLBACK_COMPLETE")
    for name in ("good", "bad"):
        assert started < position(evs, name, "DELETE_IN_PROGRESS") < ended, name
        assert position(evs, name, "DELETE_COMPLETE") < ended, name
    listed = await env.client.list_stacks(env.ctx)
    assert [s["stack_status"] for s in listed] == ["ROLLBACK_COMPLETE"]


async def test_a_failed_resource_is_replaced_by_the_next_update(env: EngineEnv) -> None:
    await env.create("retry", hot({"t": tres("one", fail=True), "ok": tres()}))
    before = await physical_ids(env, "retry")
    stack = await update_and_wait(env, "retry", hot({"t": tres("one"), "ok": tres()}))
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = await physical_ids(env, "retry")
    assert after["t"] and after["t"] != before["t"]
    assert after["ok"] == before["ok"]
    listed = await resources(env, "retry", detail=True)
    assert listed["t"]["attributes"]["output"] == "one"


# Update failures -------------------------------------------------------------------------

BEFORE = hot(
    {"t": tres("one"), "u": tres({"get_attr": ["t", "output"]})},
    outputs={"t": {"value": {"get_attr": ["t", "output"]}}},
)
FAILING_UPDATE = hot(
    {"t": tres("two", fail=True), "u": tres({"get_attr": ["t", "output"]}), "extra": tres()},
    outputs={"t": {"value": {"get_attr": ["t", "output"]}}},
)


async def test_an_update_failure_without_rollback_stays_failed(env: EngineEnv) -> None:
    await env.create("upd", BEFORE)
    stack = await update_and_wait(env, "upd", FAILING_UPDATE)
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert stack["stack_status_reason"] == (
        "Resource UPDATE failed: ValueError: resources.t: Test Resource failed t"
    )
    listed = await resources(env, "upd")
    assert listed["t"]["resource_status"] == "UPDATE_FAILED"
    evs = await events(env, "upd")
    assert not [e for e in evs if e["resource_status"].startswith("ROLLBACK")]


async def test_an_update_failure_rolls_back_to_the_old_values(env: EngineEnv) -> None:
    created = await env.create("upd", BEFORE, args={"disable_rollback": False})
    seen = len(await events(env, "upd"))
    await env.client.update_stack(env.ctx, "upd", FAILING_UPDATE)
    stack = await env.wait("upd", "ROLLBACK")
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == outputs(created) == {"t": "one"}
    listed = await resources(env, "upd", detail=True)
    assert sorted(listed) == ["t", "u"], "the resource the update added is gone"
    assert listed["t"]["attributes"]["output"] == "one"
    assert listed["u"]["attributes"]["output"] == "one"
    assert await env.client.get_template(env.ctx, "upd") == BEFORE
    evs = (await events(env, "upd"))[seen:]
    stack_statuses = [e["resource_status"] for e in evs if e["resource_name"] == "upd"]
    assert stack_statuses == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    ]


async def test_rollback_can_be_enabled_by_the_update(env: EngineEnv) -> None:
    created = await env.create("upd", BEFORE)
    assert created["disable_rollback"] is True
    await env.client.update_stack(env.ctx, "upd", FAILING_UPDATE, args={"disable_rollback": False})
    stack = await env.wait("upd", "ROLLBACK")
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"t": "one"}


async def test_rollback_of_a_failed_replacement_keeps_the_original(env: EngineEnv) -> None:
    template = hot({"t": tres("one", update_replace=True), "u": tres({"get_resource": "t"})})
    await env.create("repl", template, args={"disable_rollback": False})
    before = await physical_ids(env, "repl")
    failing = hot(
        {"t": tres("two", update_replace=True, fail=True), "u": tres({"get_resource": "t"})}
    )
    await env.client.update_stack(env.ctx, "repl", failing)
    stack = await env.wait("repl", "ROLLBACK")
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert await physical_ids(env, "repl") == before
    listed = await resources(env, "repl", detail=True)
    assert listed["t"]["attributes"]["output"] == "one"
    assert listed["u"]["attributes"]["output"] == before["t"]


async def test_a_stack_updates_normally_after_a_rollback(env: EngineEnv) -> None:
    await env.create("again", BEFORE, args={"disable_rollback": False})
    await env.client.update_stack(env.ctx, "again", FAILING_UPDATE)
    await env.wait("again", "ROLLBACK")
    good = hot(
        {"t": tres("three"), "u": tres({"get_attr": ["t", "output"]})},
        outputs={"t": {"value": {"get_attr": ["t", "output"]}}},
    )
    stack = await update_and_wait(env, "again", good)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert outputs(stack) == {"t": "three"}


# Timeouts --------------------------------------------------------------------------------


async def test_a_create_past_its_timeout_fails(tmp_path: Path) -> None:
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        created = await env.client.create_stack(
            env.ctx, "slow", hot({"slow": tres(wait_secs=5), "quick": tres()})
        )
        stack = await env.wait(created["stack_id"], "CREATE", timeout=20)
        assert stack["stack_status"] == "CREATE_FAILED"
        assert stack["stack_status_reason"] == "Timed out"
        listed = await resources(env, "slow")
        assert listed["slow"]["resource_status"] == "CREATE_FAILED"
        reason = listed["slow"]["resource_status_reason"]
        assert reason.startswith("CREATE aborted (Task create from ")
        assert reason.endswith(f'"slow" Stack "slow" [{created["stack_id"]}] Timed out)')
        assert listed["quick"]["resource_status"] == "CREATE_COMPLETE"


async def test_timeout_reason_names_the_resource_as_heat_does(tmp_path: Path) -> None:
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        created = await env.client.create_stack(env.ctx, "to1", hot({"f": tres(wait_secs=5)}))
        await env.wait(created["stack_id"], "CREATE", timeout=20)
        listed = await resources(env, "to1")
        assert listed["f"]["resource_status_reason"] == (
            f'CREATE aborted (Task create from TestResource "f" Stack "to1" '
            f"[{created['stack_id']}] Timed out)"
        )


async def test_timeout_mins_overrides_the_default_timeout(tmp_path: Path) -> None:
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        created = await env.client.create_stack(
            env.ctx, "patient", hot({"slow": tres(wait_secs=2)}), args={"timeout_mins": 1}
        )
        stack = await env.wait(created["stack_id"], "CREATE", timeout=20)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        assert stack["timeout_mins"] == 1


async def test_a_timed_out_create_rolls_back(tmp_path: Path) -> None:
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        created = await env.client.create_stack(
            env.ctx, "slow", hot({"slow": tres(wait_secs=5)}), args={"disable_rollback": False}
        )
        stack = await env.wait(created["stack_id"], "ROLLBACK", timeout=20)
        assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
        evs = await events(env, created["stack_id"])
        assert ("slow", "CREATE_FAILED") in brief(evs)
        assert await env.client.list_resources(env.ctx, created["stack_id"]) == []


async def test_an_update_past_its_timeout_fails(tmp_path: Path) -> None:
    async with custom_env(tmp_path, stack_action_timeout=1) as env:
        await env.create("slowupd", hot({"t": tres("one")}))
        await env.client.update_stack(env.ctx, "slowupd", hot({"t": tres("two", wait_secs=5)}))
        stack = await env.wait("slowupd", "UPDATE", timeout=20)
        assert stack["stack_status"] == "UPDATE_FAILED"
        assert stack["stack_status_reason"] == "Timed out"
        listed = await resources(env, "slowupd")
        assert listed["t"]["resource_status"] == "UPDATE_FAILED"


async def test_a_rolled_back_create_can_be_retried_by_update(env: EngineEnv) -> None:
    created = await env.client.create_stack(
        env.ctx, "retry", FAILING, args={"disable_rollback": False}
    )
    await wait_status(env, created["stack_id"], "ROLLBACK_COMPLETE")
    fixed = hot({"good": tres("g"), "bad": tres("b"), "after": tres(depends_on="bad")})
    stack = await update_and_wait(env, "retry", fixed)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert sorted(await physical_ids(env, "retry")) == ["after", "bad", "good"]


async def _until(check: Callable[[], bool]) -> None:
    while not check():
        await asyncio.sleep(0.01)


async def test_a_rollback_the_failing_engine_did_not_start_is_started_by_the_next(
    tmp_path: Path,
) -> None:
    """The engine that failed an update stops before starting its rollback: the next
    engine to start (or to see it gone) starts it, once."""
    url = f"sqlite:///{tmp_path / 'ember.sqlite'}"
    first = await start_env(url)
    dropped: list[tuple[str, str]] = []

    async def stopped_first(stack_id: str, failed: str) -> None:
        dropped.append((stack_id, failed))

    first.engine.launcher.rollback = stopped_first  # type: ignore[method-assign]
    first.engine.liveness.rollback = stopped_first
    try:
        await first.create("late", BEFORE, args={"disable_rollback": False})
        await first.client.update_stack(first.ctx, "late", FAILING_UPDATE)
        stack = await first.wait("late", "UPDATE")
        assert stack["stack_status"] == "UPDATE_FAILED", stack["stack_status_reason"]
        # The failing engine comes to its rollback once the failure is committed.
        await asyncio.wait_for(_until(lambda: bool(dropped)), 10.0)
        assert len(dropped) == 1
    finally:
        await stop_env(first)

    second = await start_env(url)
    try:
        stack = await second.wait("late", "ROLLBACK")
        assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
        assert outputs(stack) == {"t": "one"}
        evs = await events(second, "late")
        assert [e["resource_status"] for e in evs if e["resource_name"] == "late"].count(
            "ROLLBACK_IN_PROGRESS"
        ) == 1
    finally:
        await stop_env(second)
