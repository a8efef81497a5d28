"""Wait conditions and their handles: a wait condition's create completes once its handle
has had ``count`` successful signals (sent through the engine's RPC client), fails at a
FAILURE signal or its timeout, and waits parked (no worker, no polling), across an engine
stopping and another taking over; the handles check their payloads as Heat does."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from ember.engine.app import Engine
from ember.engine.resource import ResourceContext, SignalAccess
from ember.resources.cfn_wait_condition_handle import CfnWaitConditionHandle
from ember.resources.wait_condition_handle import WaitConditionHandle
from tests.engine.conftest import EngineEnv
from tests.engine.helpers import wait_resource, wait_status
from tests.engine.test_parking import assert_no_queries_while_waiting, idle, node_states, until
from tests.resources.helpers import custom_env, hot, outputs, resources, tres

HANDLE = "OS::Heat::WaitConditionHandle"
WAIT = "OS::Heat::WaitCondition"
CFN_HANDLE = "AWS::CloudFormation::WaitConditionHandle"
CFN_WAIT = "AWS::CloudFormation::WaitCondition"
UPDATE_HANDLE = "OS::Heat::UpdateWaitConditionHandle"
BAD_PAYLOAD = "ValueError: resources.h: Metadata format invalid"


def waiting(count: int = 1, timeout: float = 600, **handle_props: Any) -> dict[str, Any]:
    """An OS handle ``h`` and the wait condition ``wc`` waiting on it."""
    handle: dict[str, Any] = {"type": HANDLE}
    if handle_props:
        handle["properties"] = handle_props
    return hot(
        {
            "h": handle,
            "wc": {
                "type": WAIT,
                "properties": {
                    "handle": {"get_resource": "h"},
                    "timeout": timeout,
                    "count": count,
                },
            },
        },
        outputs={"data": {"get_attr": ["wc", "data"]}},
    )


def cfn_waiting(count: int = 1, timeout: int = 600, handle: str = CFN_HANDLE) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "h": {"Type": handle},
            "wc": {
                "Type": CFN_WAIT,
                "Properties": {"Handle": {"Ref": "h"}, "Timeout": timeout, "Count": count},
            },
        },
        "Outputs": {"data": {"Value": {"Fn::GetAtt": ["wc", "Data"]}}},
    }


def cfn_signal(unique_id: str, status: str = "SUCCESS", data: Any = None) -> dict[str, Any]:
    return {"Status": status, "Reason": f"reason {unique_id}", "UniqueId": unique_id, "Data": data}


async def signal_events(env: EngineEnv, stack: str, name: str = "h") -> list[dict[str, Any]]:
    listed = await env.client.list_events(env.ctx, stack)
    return [
        e
        for e in listed
        if e["resource_name"] == name and e["resource_status"].startswith("SIGNAL")
    ]


async def signalled(env: EngineEnv, stack: str, count: int, name: str = "h") -> None:
    """Wait until ``count`` signals to ``name`` have been handled (or refused)."""

    async def enough() -> bool:
        return len(await signal_events(env, stack, name)) >= count

    await until(enough, f"{count} signals to {name}")


async def parked_again(env: EngineEnv, stack: str, signals: int) -> None:
    """The handle has handled ``signals`` signals and the wait condition, woken by them,
    is parked again holding nothing."""
    await signalled(env, stack, signals)
    await until(lambda: node_states(env).get("PARKED") == 1, "the wait condition to park")
    await idle(env)


async def start_waiting(env: EngineEnv, name: str, template: dict[str, Any]) -> str:
    created = await env.client.create_stack(env.ctx, name, template)
    await wait_resource(env, created["stack_id"], "wc", "CREATE_IN_PROGRESS")
    await until(lambda: node_states(env).get("PARKED") == 1, "the wait condition to park")
    return str(created["stack_id"])


async def stack_status(env: EngineEnv, stack: str) -> str:
    shown = await env.client.show_stack(env.ctx, stack, resolve_outputs=False)
    return str(shown["stack_status"])


# OS::Heat::WaitCondition -----------------------------------------------------------------------


async def test_completes_after_count_signals_and_not_before(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "w", waiting(count=3))
    await env.client.signal_resource(env.ctx, "w", "h")
    await env.client.signal_resource(env.ctx, "w", "h", {"data": "two", "id": "second"})
    await parked_again(env, "w", 2)
    assert env.engine.worker.running == 0
    assert await stack_status(env, "w") == "CREATE_IN_PROGRESS"
    shown = await env.client.show_resource(env.ctx, "w", "wc")
    assert shown["resource_status"] == "CREATE_IN_PROGRESS"

    await env.client.signal_resource(env.ctx, "w", "h", {"status": "SUCCESS", "data": [3]})
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    # The data attribute is a JSON string of every signal's data by id.
    data = outputs(stack)["data"]
    assert isinstance(data, str)
    assert json.loads(data) == {"1": None, "second": "two", "3": [3]}
    reasons = [e["resource_status_reason"] for e in await signal_events(env, "w")]
    assert reasons == [
        "Signal: status:SUCCESS reason:Signal 1 received",
        "Signal: status:SUCCESS reason:Signal 2 received",
        "Signal: status:SUCCESS reason:Signal 3 received",
    ]
    # What a signaller reads back: the signals by id, without the id.
    metadata = await env.client.resource_metadata(env.ctx, "w", "h")
    assert metadata == {
        "1": {"status": "SUCCESS", "reason": "Signal 1 received", "data": None},
        "second": {"status": "SUCCESS", "reason": "Signal 2 received", "data": "two"},
        "3": {"status": "SUCCESS", "reason": "Signal 3 received", "data": [3]},
    }


async def test_a_wait_on_every_backend(env_any: EngineEnv) -> None:
    env = env_any
    stack_id = await start_waiting(env, "everywhere", waiting(count=2))
    await env.client.signal_resource(env.ctx, "everywhere", "h", {"data": "x", "id": "b"})
    await parked_again(env, "everywhere", 1)
    assert await stack_status(env, "everywhere") == "CREATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "everywhere", "h", {"data": "y", "id": "a"})
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    # In the order the signals came, whatever the database does to JSON keys.
    assert outputs(stack)["data"] == '{"b": "x", "a": "y"}'


async def test_a_signal_with_an_id_seen_before_replaces_it(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "same", waiting(count=2))
    await env.client.signal_resource(env.ctx, "same", "h", {"id": "a", "data": "old"})
    await env.client.signal_resource(env.ctx, "same", "h", {"id": "a", "data": "new"})
    await parked_again(env, "same", 2)
    assert await stack_status(env, "same") == "CREATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "same", "h", {"id": "b"})
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert json.loads(outputs(stack)["data"]) == {"a": "new", "b": None}


async def test_waiting_holds_no_worker_and_sends_no_queries(tmp_path: Path) -> None:
    async with custom_env(tmp_path, heartbeat_interval=60.0) as env:
        stack_id = await start_waiting(env, "quiet", waiting())
        await idle(env)
        assert env.engine.worker.running == 0
        assert env.engine.worker.capacity.used == 0
        await assert_no_queries_while_waiting(env)
        await env.client.signal_resource(env.ctx, "quiet", "h", {"status": "SUCCESS"})
        stack = await env.wait(stack_id, "CREATE")
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


async def test_a_failure_signal_fails_it_with_its_reason(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "bad", waiting(count=2))
    await env.client.signal_resource(env.ctx, "bad", "h", {"status": "SUCCESS"})
    await env.client.signal_resource(
        env.ctx, "bad", "h", {"status": "FAILURE", "reason": "the disk is full"}
    )
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "bad", "wc")
    assert shown["resource_status"] == "CREATE_FAILED"
    assert shown["resource_status_reason"] == "Error: resources.wc: the disk is full"
    assert stack["stack_status_reason"] == (
        "Resource CREATE failed: Error: resources.wc: the disk is full"
    )


async def test_the_timeout_fails_it_with_what_was_received(env: EngineEnv) -> None:
    created = await env.client.create_stack(env.ctx, "late", waiting(count=2, timeout=2))
    await env.client.signal_resource(env.ctx, "late", "h", {"reason": "one is up"})
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "late", "wc")
    assert shown["resource_status_reason"] == (
        "WaitConditionTimeout: resources.wc: 1 of 2 received - one is up"
    )


async def test_the_timeout_wakes_a_wait_that_had_no_signal(env: EngineEnv) -> None:
    """Nothing signals and nothing polls: the deadline of the wait wakes the node."""
    created = await env.client.create_stack(env.ctx, "silent", waiting(timeout=1))
    await until(lambda: node_states(env).get("PARKED") == 1, "the wait condition to park")
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "silent", "wc")
    assert shown["resource_status_reason"] == "WaitConditionTimeout: resources.wc: 0 of 1 received"


async def replace_engine(env: EngineEnv) -> None:
    """Stop the engine and start another on the same database and transport."""
    old = env.engines[0]
    await old.stop()
    new = Engine(old.settings, env.db, env.transport, old.plugins)
    await new.start()
    env.engines[0] = new


async def test_a_new_engine_carries_on_a_wait_the_old_one_parked(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "handover", waiting(count=2))
    await env.client.signal_resource(env.ctx, "handover", "h", {"data": "before"})
    await parked_again(env, "handover", 1)
    await replace_engine(env)
    assert await stack_status(env, "handover") == "CREATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "handover", "h", {"data": "after"})
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert json.loads(outputs(stack)["data"]) == {"1": "before", "2": "after"}


async def test_a_new_engine_keeps_the_timeout_of_a_wait_the_old_one_parked(
    env: EngineEnv,
) -> None:
    stack_id = await start_waiting(env, "handtimer", waiting(timeout=3))
    await replace_engine(env)
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "handtimer", "wc")
    assert shown["resource_status_reason"] == "WaitConditionTimeout: resources.wc: 0 of 1 received"


async def test_a_resumed_wait_keeps_its_first_deadline(env: EngineEnv) -> None:
    """The timeout counts from when the wait began: signals that keep waking the wait
    (more often than its timeout) do not push its deadline back."""
    created = await env.client.create_stack(env.ctx, "resumed", waiting(count=100, timeout=3))
    sent = 0
    while await stack_status(env, "resumed") == "CREATE_IN_PROGRESS":
        assert sent < 30, "still waiting long after its timeout"
        await env.client.signal_resource(env.ctx, "resumed", "h")
        sent += 1
        await asyncio.sleep(0.5)
    stack = await env.wait(created["stack_id"], "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "resumed", "wc")
    assert shown["resource_status_reason"].startswith("WaitConditionTimeout: resources.wc: ")
    assert (
        " of 100 received - Signal 1 received;Signal 2 received;"
        in (shown["resource_status_reason"])
    )


async def test_an_update_changing_count_waits_again(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "more", waiting(count=1))
    await env.client.signal_resource(env.ctx, "more", "h", {"data": "a"})
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    physical = (await resources(env, "more"))["wc"]["physical_resource_id"]

    await env.client.update_stack(env.ctx, "more", waiting(count=2))
    await wait_status(env, "more", "UPDATE_IN_PROGRESS")
    await wait_resource(env, stack_id, "wc", "UPDATE_IN_PROGRESS")
    await until(lambda: node_states(env).get("PARKED") == 1, "the update to park")
    await idle(env)
    assert await stack_status(env, "more") == "UPDATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "more", "h", {"data": "b"})
    stack = await env.wait(stack_id, "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    # Updated in place, with both signals' data.
    assert (await resources(env, "more"))["wc"]["physical_resource_id"] == physical
    assert json.loads(outputs(stack)["data"]) == {"1": "a", "2": "b"}


async def test_a_bad_status_is_refused_and_not_counted(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "maybe", waiting())
    await env.client.signal_resource(env.ctx, "maybe", "h", {"status": "MAYBE"})
    await env.client.signal_resource(env.ctx, "maybe", "h", {"status": "SUCCESS", "extra": 1})
    await signalled(env, "maybe", 2)
    events = await signal_events(env, "maybe")
    assert [(e["resource_status"], e["resource_status_reason"]) for e in events] == [
        ("SIGNAL_FAILED", BAD_PAYLOAD),
        ("SIGNAL_FAILED", BAD_PAYLOAD),
    ]
    await idle(env)
    assert await stack_status(env, "maybe") == "CREATE_IN_PROGRESS"
    assert await env.client.resource_metadata(env.ctx, "maybe", "h") == {}
    await env.client.signal_resource(env.ctx, "maybe", "h", {"status": "SUCCESS"})
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


@pytest.mark.parametrize("timeout", [0, 43201])
async def test_a_timeout_out_of_range_is_refused(env: EngineEnv, timeout: int) -> None:
    with pytest.raises(errors.StackValidationFailed, match=r"must be in the range 1 to 43200"):
        await env.client.create_stack(env.ctx, "range", waiting(timeout=timeout))


async def test_a_handle_that_is_no_handle_fails_the_create(env: EngineEnv) -> None:
    template = hot(
        {
            "t": tres(),
            "wc": {
                "type": WAIT,
                "properties": {"handle": {"get_resource": "t"}, "timeout": 10},
            },
        }
    )
    stack = await env.create("nohandle", template)
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "nohandle", "wc")
    assert shown["resource_status_reason"] == (
        "ValueError: resources.wc: t is not a valid wait condition handle."
    )


# OS::Heat::WaitConditionHandle ------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["TEMP_URL_SIGNAL", "ZAQAR_SIGNAL"])
async def test_transports_without_their_service_are_refused(env: EngineEnv, transport: str) -> None:
    with pytest.raises(errors.StackValidationFailed, match="no Swift or Zaqar"):
        await env.client.create_stack(env.ctx, "notransport", waiting(signal_transport=transport))


async def test_an_unknown_transport_is_refused(env: EngineEnv) -> None:
    with pytest.raises(errors.StackValidationFailed, match='"PIGEON" is not an allowed value'):
        await env.client.create_stack(env.ctx, "pigeon", waiting(signal_transport="PIGEON"))


async def test_handle_attributes_from_the_engine_made_credential(env: EngineEnv) -> None:
    template = hot(
        {
            "tok": {"type": HANDLE},
            "none": {"type": HANDLE, "properties": {"signal_transport": "NO_SIGNAL"}},
        },
        outputs={
            "token": {"get_attr": ["tok", "token"]},
            "curl": {"get_attr": ["tok", "curl_cli"]},
            "signal": {"get_attr": ["tok", "signal"]},
            "none_signal": {"get_attr": ["none", "signal"]},
            "none_token": {"get_attr": ["none", "token"]},
        },
    )
    stack = await env.create("attrs", template)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    shown = outputs(stack)
    assert shown["token"].startswith("ember-signal.")
    endpoint = f"http://127.0.0.1:8004/v1/demo/stacks/attrs/{stack['id']}/resources/tok/signal"
    assert shown["curl"] == (
        f"curl -i -X POST -H 'X-Auth-Token: {shown['token']}' -H "
        "'Content-Type: application/json' -H 'Accept: application/json' " + endpoint
    )
    assert shown["signal"] == "null"
    assert shown["none_signal"] == "{}" and shown["none_token"] is None


ACCESS = SignalAccess(
    access_key="AK",
    secret_key="SK",
    token="tok123",
    heat_url="http://heat:8004/v1/up/stacks/s/sid/resources/h/signal",
    cfn_signal_url="http://heat:8000/v1/signal/arn%3Aopenstack%3Aheat%3A%3Ap%3Astacks/s/sid/resources/h?Signature=x",
    cfn_waitcondition_url="http://heat:8000/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3Ap%3Astacks/s/sid/resources/h?Signature=x",
    metadata_url="http://heat:8000/v1/",
    user_id="user-1",
    project_id="up",
)


def handle_with(transport: str) -> WaitConditionHandle:
    ctx = ResourceContext(
        name="h",
        type=HANDLE,
        stack_id="sid",
        stack_name="s",
        project_id="p",
        uuid="00000000-0000-0000-0000-000000000001",
        properties={"signal_transport": transport},
        signal_access=ACCESS,
    )
    return WaitConditionHandle(ctx)


async def test_token_signal_attributes_come_from_the_credential() -> None:
    handle = handle_with("TOKEN_SIGNAL")
    await handle.create()
    assert handle.ctx.physical_id == "user-1"
    assert handle.attributes() == {
        "token": "tok123",
        "endpoint": ACCESS.heat_url,
        "curl_cli": "curl -i -X POST -H 'X-Auth-Token: tok123' "
        "-H 'Content-Type: application/json' -H 'Accept: application/json' "
        f"{ACCESS.heat_url}",
        "signal": "null",
    }


def test_cfn_and_heat_signal_attributes_come_from_the_credential() -> None:
    cfn = handle_with("CFN_SIGNAL").attributes()
    assert cfn["token"] is None and cfn["curl_cli"] is None
    assert json.loads(cfn["signal"]) == {"alarm_url": ACCESS.cfn_waitcondition_url}
    heat = handle_with("HEAT_SIGNAL").attributes()
    assert json.loads(heat["signal"]) == {
        "user_id": "user-1",
        "project_id": "up",
        "alarm_url": ACCESS.heat_url,
    }


async def test_the_aws_handle_reference_is_its_wait_condition_url() -> None:
    ctx = ResourceContext(
        name="h",
        type=CFN_HANDLE,
        stack_id="sid",
        stack_name="s",
        project_id="p",
        uuid="00000000-0000-0000-0000-000000000002",
        properties={},
    )
    bare = CfnWaitConditionHandle(ctx)
    assert bare.reference_id() == "h"  # not made yet: its name, as Heat says
    await bare.create()
    assert bare.reference_id() == ctx.physical_id == ctx.physical_name()
    signed = CfnWaitConditionHandle(
        dataclasses.replace(ctx, physical_id=None, signal_access=ACCESS)
    )
    await signed.create()
    assert signed.ctx.physical_id == "user-1"
    assert signed.reference_id() == ACCESS.cfn_waitcondition_url


# AWS::CloudFormation::WaitCondition ---------------------------------------------------------------


async def test_the_aws_pair_completes_with_every_key_given(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "aws", cfn_waiting(count=2))
    await env.client.signal_resource(env.ctx, "aws", "h", cfn_signal("i-1", data="first"))
    await parked_again(env, "aws", 1)
    assert await stack_status(env, "aws") == "CREATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "aws", "h", cfn_signal("i-2", data="second"))
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert json.loads(outputs(stack)["data"]) == {"i-1": "first", "i-2": "second"}
    metadata = await env.client.resource_metadata(env.ctx, "aws", "h")
    assert metadata["i-2"] == {"Status": "SUCCESS", "Reason": "reason i-2", "Data": "second"}
    events = await signal_events(env, "aws")
    assert events[-1]["resource_status_reason"] == "Signal: status:SUCCESS reason:reason i-2"


async def test_the_aws_handle_wants_every_key(env: EngineEnv) -> None:
    stack_id = await start_waiting(env, "strict", cfn_waiting())
    missing = cfn_signal("i-1")
    del missing["Reason"]
    await env.client.signal_resource(env.ctx, "strict", "h", missing)
    await env.client.signal_resource(env.ctx, "strict", "h", {"status": "SUCCESS"})
    await env.client.signal_resource(env.ctx, "strict", "h", cfn_signal("i-1", status="DONE"))
    await signalled(env, "strict", 3)
    events = await signal_events(env, "strict")
    assert [(e["resource_status"], e["resource_status_reason"]) for e in events] == [
        ("SIGNAL_FAILED", BAD_PAYLOAD)
    ] * 3
    await idle(env)
    assert await stack_status(env, "strict") == "CREATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "strict", "h", cfn_signal("i-1", status="FAILURE"))
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "strict", "wc")
    assert shown["resource_status_reason"] == "Error: resources.wc: reason i-1"


def arn_url(tenant: str, stack_name: str, stack_id: str, resource: str) -> str:
    return (
        "http://heat.example.com:8000/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3A"
        f"{tenant}%3Astacks/{stack_name}/{stack_id}/resources/{resource}"
        "?SignatureMethod=HmacSHA256&AWSAccessKeyId=ak&SignatureVersion=2&Signature=s"
    )


async def test_an_aws_handle_of_another_stack_is_refused(env: EngineEnv) -> None:
    other = await env.client.create_stack(env.ctx, "other", cfn_waiting(count=1))
    template = cfn_waiting()
    template["Resources"]["wc"]["Properties"]["Handle"] = arn_url(
        "demo", "other", other["stack_id"], "h"
    )
    stack = await env.create("mine", template)
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "mine", "wc")
    assert shown["resource_status_reason"] == (
        "ValueError: resources.wc: WaitCondition invalid Handle stack other"
    )


def own_url(
    resource: str,
    tenant: Any = None,
    stack_id: Any = None,
) -> dict[str, Any]:
    """A handle URL naming the stack it is written in (unless told otherwise)."""
    return {
        "list_join": [
            "",
            [
                "http://heat.example.com:8000/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3A",
                tenant or {"get_param": "OS::project_id"},
                "%3Astacks/",
                {"get_param": "OS::stack_name"},
                "/",
                stack_id or {"get_param": "OS::stack_id"},
                f"/resources/{resource}?Signature=s",
            ],
        ]
    }


def cfn_wait_on(handle: Any) -> dict[str, Any]:
    return hot(
        {
            "h": {"type": CFN_HANDLE},
            "t": tres(),
            "wc": {
                "type": CFN_WAIT,
                "properties": {"Handle": handle, "Timeout": 60},
                "depends_on": ["h", "t"],
            },
        }
    )


@pytest.mark.parametrize(
    ("handle", "reason"),
    [
        (own_url("h", tenant="elsewhere"), "WaitCondition invalid Handle tenant elsewhere"),
        (own_url("h", stack_id="0000"), "WaitCondition invalid Handle stack 0000"),
        (own_url("nope"), "WaitCondition invalid Handle nope"),
        (own_url("t"), "WaitCondition invalid Handle t"),
        ("h", '"h" is not a valid URL'),
        ("http://heat.example.com/v1/x", '"http://heat.example.com/v1/x" is not a valid ARN URL'),
    ],
)
async def test_an_aws_handle_url_must_name_a_handle_of_this_stack(
    env: EngineEnv, handle: Any, reason: str
) -> None:
    stack = await env.create("checks", cfn_wait_on(handle))
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "checks", "wc")
    assert shown["resource_status_reason"] == f"ValueError: resources.wc: {reason}"


async def test_an_aws_handle_url_of_this_stack_is_waited_on(env: EngineEnv) -> None:
    """What ``Ref`` gives once the handle has its credential: its pre-signed URL."""
    stack_id = await start_waiting(env, "byurl", cfn_wait_on(own_url("h")))
    await env.client.signal_resource(env.ctx, "byurl", "h", cfn_signal("1", data="d"))
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


async def test_an_os_handle_is_no_aws_handle(env: EngineEnv) -> None:
    template = hot(
        {
            "h": {"type": HANDLE},
            "wc": {"type": CFN_WAIT, "properties": {"Handle": {"get_resource": "h"}, "Timeout": 9}},
        }
    )
    stack = await env.create("mixed", template)
    assert stack["stack_status"] == "CREATE_FAILED"
    shown = await env.client.show_resource(env.ctx, "mixed", "wc")
    assert shown["resource_status_reason"] == (
        "ValueError: resources.wc: WaitCondition invalid Handle h"
    )


async def test_an_os_wait_condition_waits_on_an_aws_handle(env: EngineEnv) -> None:
    template = hot(
        {
            "h": {"type": CFN_HANDLE},
            "wc": {"type": WAIT, "properties": {"handle": {"get_resource": "h"}, "timeout": 60}},
        }
    )
    stack_id = await start_waiting(env, "crossed", template)
    await env.client.signal_resource(env.ctx, "crossed", "h", cfn_signal("x"))
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]


# OS::Heat::UpdateWaitConditionHandle ----------------------------------------------------------


async def test_an_update_handle_is_replaced_and_waited_on_again(env: EngineEnv) -> None:
    template = cfn_waiting(handle=UPDATE_HANDLE)
    stack_id = await start_waiting(env, "rolling", template)
    await env.client.signal_resource(env.ctx, "rolling", "h", cfn_signal("1", data="v1"))
    stack = await env.wait(stack_id, "CREATE")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    before = await resources(env, "rolling")

    # The same template: the handle is replaced all the same, its signals gone.
    await env.client.update_stack(env.ctx, "rolling", template)
    await wait_status(env, "rolling", "UPDATE_IN_PROGRESS")
    await until(lambda: node_states(env).get("PARKED") == 1, "the new wait to park")
    await idle(env)
    after = await resources(env, "rolling")
    assert after["h"]["physical_resource_id"] != before["h"]["physical_resource_id"]
    assert await env.client.resource_metadata(env.ctx, "rolling", "h") == {}
    assert await stack_status(env, "rolling") == "UPDATE_IN_PROGRESS"
    await env.client.signal_resource(env.ctx, "rolling", "h", cfn_signal("1", data="v2"))
    stack = await env.wait(stack_id, "UPDATE")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert json.loads(outputs(stack)["data"]) == {"1": "v2"}
