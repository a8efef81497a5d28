"""Events through the RPC client: the shape of stack and resource events, their order,
and how many each operation writes."""

from __future__ import annotations

import re
import uuid

import pytest

from ember.common import errors
from tests.engine.conftest import EngineEnv, flat
from tests.engine.helpers import brief, events, hot, physical_ids, position, tres

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TWO = hot({"a": tres("a"), "b": tres({"get_resource": "a"})})


async def test_stack_events_carry_the_stacks_name_and_id(env: EngineEnv) -> None:
    stack = await env.create("evs", TWO)
    evs = await events(env, "evs")
    stack_events = [e for e in evs if e["resource_name"] == "evs"]
    assert [(e["resource_status"], e["resource_status_reason"]) for e in stack_events] == [
        ("CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("CREATE_COMPLETE", "Stack CREATE completed successfully"),
    ]
    for event in stack_events:
        assert event["logical_resource_id"] == "evs"
        assert event["physical_resource_id"] == stack["id"]
        assert event["stack_id"] == stack["id"]
        assert event["stack_name"] == "evs"


async def test_every_event_has_the_summary_fields(env: EngineEnv) -> None:
    await env.create("evs", TWO)
    evs = await events(env, "evs")
    for event in evs:
        assert uuid.UUID(event["id"])
        assert TIME.match(event["event_time"]), event["event_time"]
        assert event["logical_resource_id"] == event["resource_name"]
        assert isinstance(event["physical_resource_id"], str)
        action, _, status = event["resource_status"].partition("_")
        assert action in ("CREATE", "UPDATE", "DELETE")
        assert status in ("IN_PROGRESS", "COMPLETE", "FAILED")
    assert len({e["id"] for e in evs}) == len(evs), "event ids are unique"


async def test_resource_events_show_the_physical_id_once_made(env: EngineEnv) -> None:
    await env.create("evs", TWO)
    phys = await physical_ids(env, "evs")
    evs = await events(env, "evs")
    for name in ("a", "b"):
        mine = [e for e in evs if e["resource_name"] == name]
        assert [(e["resource_status"], e["resource_status_reason"]) for e in mine] == [
            ("CREATE_IN_PROGRESS", "state changed"),
            ("CREATE_COMPLETE", "state changed"),
        ]
        assert mine[0]["physical_resource_id"] == ""
        assert mine[1]["physical_resource_id"] == phys[name]


async def test_events_are_listed_oldest_first(env: EngineEnv) -> None:
    await env.create("evs", TWO)
    await env.client.update_stack(env.ctx, "evs", hot({"a": tres("a2"), "b": tres("b")}))
    await env.wait("evs", "UPDATE")
    evs = await events(env, "evs")
    times = [e["event_time"] for e in evs]
    assert times == sorted(times)
    assert brief(evs)[0] == ("evs", "CREATE_IN_PROGRESS")
    assert brief(evs)[-1] == ("evs", "UPDATE_COMPLETE")
    create_done = position(evs, "evs", "CREATE_COMPLETE")
    update_started = position(evs, "evs", "UPDATE_IN_PROGRESS")
    assert create_done < update_started
    assert all(e["resource_status"].startswith("CREATE") for e in evs[:create_done])
    assert all(not e["resource_status"].startswith("CREATE") for e in evs[update_started:])


async def test_each_resource_starts_before_it_completes(env: EngineEnv) -> None:
    await env.create("many", flat(12))
    evs = await events(env, "many")
    for i in range(12):
        assert position(evs, f"r{i}", "CREATE_IN_PROGRESS") < position(
            evs, f"r{i}", "CREATE_COMPLETE"
        )
        assert position(evs, "many", "CREATE_IN_PROGRESS") < position(
            evs, f"r{i}", "CREATE_IN_PROGRESS"
        )
        assert position(evs, f"r{i}", "CREATE_COMPLETE") < position(evs, "many", "CREATE_COMPLETE")


@pytest.mark.parametrize("count", [1, 5, 20])
async def test_event_counts_over_a_lifecycle(env: EngineEnv, count: int) -> None:
    created = await env.create("counted", flat(count))
    sid = created["id"]
    after_create = len(await events(env, sid))
    assert after_create == 2 * count + 2
    # Replace every resource (a RandomString length change replaces it).
    await env.client.update_stack(env.ctx, sid, flat(count, length=20))
    await env.wait(sid, "UPDATE")
    after_update = len(await events(env, sid))
    assert after_update - after_create == 6 * count + 2
    # The same template again changes nothing.
    await env.client.update_stack(env.ctx, sid, flat(count, length=20))
    await env.wait(sid, "UPDATE")
    after_noop = len(await events(env, sid))
    assert after_noop - after_update == 2
    await env.client.delete_stack(env.ctx, sid)
    await env.wait(sid, "DELETE")
    after_delete = len(await events(env, sid))
    assert after_delete - after_noop == 2 * count + 2


async def test_events_of_a_deleted_stack_are_kept(env: EngineEnv) -> None:
    created = await env.create("kept", TWO)
    await env.client.delete_stack(env.ctx, created["id"])
    await env.wait(created["id"], "DELETE")
    evs = await events(env, created["id"])
    assert brief(evs)[-1] == ("kept", "DELETE_COMPLETE")
    assert evs[-1]["resource_status_reason"] == "Stack DELETE completed successfully"
    assert ("kept", "DELETE_IN_PROGRESS") in brief(evs)


async def test_events_of_an_unknown_stack_are_not_found(env: EngineEnv) -> None:
    with pytest.raises(errors.EntityNotFound):
        await env.client.list_events(env.ctx, "nowhere")


async def test_update_events_name_the_stack_action(env: EngineEnv) -> None:
    stack = await env.create("act", TWO)
    seen = len(await events(env, "act"))
    await env.client.update_stack(env.ctx, "act", hot({"a": tres("z"), "b": tres("b")}))
    await env.wait("act", "UPDATE")
    evs = (await events(env, "act"))[seen:]
    assert [
        (e["resource_status"], e["resource_status_reason"], e["physical_resource_id"])
        for e in evs
        if e["resource_name"] == "act"
    ] == [
        ("UPDATE_IN_PROGRESS", "Stack UPDATE started", stack["id"]),
        ("UPDATE_COMPLETE", "Stack UPDATE completed successfully", stack["id"]),
    ]


async def test_replacement_reason_matches_heat(env: EngineEnv) -> None:
    stack = await env.create("u1", hot({"t": tres("one", update_replace=True)}))
    old = (await physical_ids(env, "u1"))["t"]
    await env.client.update_stack(env.ctx, "u1", hot({"t": tres("two", update_replace=True)}))
    await env.wait("u1", "UPDATE")
    evs = await events(env, "u1")
    reason = evs[position(evs, "t", "UPDATE_COMPLETE")]["resource_status_reason"]
    assert reason == (
        f'The Resource TestResource "t" [{old}] Stack "u1" [{stack["id"]}] requires replacement.'
    )


async def test_a_failed_replacement_does_not_show_the_old_physical_id(env: EngineEnv) -> None:
    await env.create("frep", hot({"t": tres("one", update_replace=True)}))
    old = (await physical_ids(env, "frep"))["t"]
    failing = hot({"t": tres("two", update_replace=True, fail=True)})
    await env.client.update_stack(env.ctx, "frep", failing)
    await env.wait("frep", "UPDATE")
    evs = await events(env, "frep")
    failed = evs[position(evs, "t", "CREATE_FAILED")]
    assert failed["resource_status_reason"] == "ValueError: resources.t: Test Resource failed t"
    assert failed["physical_resource_id"] != old, "the failed event is the new resource's"
