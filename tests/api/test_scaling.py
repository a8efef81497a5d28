"""Scaling by alarm, end to end without Keystone: a real heat-all; a POST to a scaling
policy's ``alarm_url`` (heat-api-cfn's pre-signed ``/v1/signal`` URL, no other
credential) grows or shrinks its group, within the group's bounds and never inside a cooldown
(which, as in Heat, the group keeps: after a policy acts, no policy acts on the group until
that policy's cooldown has passed)."""

from __future__ import annotations

import time
from typing import Any

from tests.api.helpers import FINAL, need, wait_stack, wait_until

WAIT = 120.0
COOLDOWN = 5.0
TEMPLATE = """
heat_template_version: 2016-10-14
resources:
  group:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 0
      max_size: 3
      desired_capacity: 1
      resource:
        type: OS::Heat::TestResource
        properties: {value: member}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: group}
      adjustment_type: change_in_capacity
      scaling_adjustment: 1
      cooldown: 5
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: group}
      adjustment_type: change_in_capacity
      scaling_adjustment: -1
      cooldown: 0
outputs:
  size: {value: {get_attr: [group, current_size]}}
"""


def signals_handled(hc: Any, stack_id: str, policy: str) -> int:
    events = hc.events.list(stack_id, resource_name=policy)
    return sum(
        1
        for e in events
        if e.resource_status in ("SIGNAL_COMPLETE", "SIGNAL_FAILED")
        or (e.resource_status_reason or "").startswith("Signal")
    )


def alarm(hc: Any, stack_id: str, policy: str) -> str:
    """POST to the policy's alarm_url as a monitoring system would, wait until the policy
    has handled it, and say how (its SIGNAL event's reason)."""
    httpx = need("httpx")
    before = signals_handled(hc, stack_id, policy)
    url = hc.resources.get(stack_id, policy).attributes["alarm_url"]
    answer = httpx.post(url, timeout=30)
    assert answer.status_code == 200, answer.text
    wait_until(
        lambda: signals_handled(hc, stack_id, policy),
        lambda n: n > before,
        WAIT,
        f"{policy} to handle its signal",
    )
    events = hc.events.list(stack_id, resource_name=policy, sort_dir="desc")
    return str(
        next(e for e in events if e.resource_status.startswith("SIGNAL")).resource_status_reason
    )


def size(hc: Any, stack_id: str, wanted: int) -> int:
    group = wait_until(
        lambda: hc.resources.get(stack_id, "group"),
        lambda g: g.resource_status.endswith(FINAL) and g.attributes.get("current_size") == wanted,
        WAIT,
        f"the group at {wanted}",
    )
    assert group.resource_status.endswith("_COMPLETE"), group.resource_status_reason
    return int(group.attributes["current_size"])


def test_alarm_urls_grow_and_shrink_a_group_respecting_cooldown(hc: Any) -> None:
    made = hc.stacks.create(stack_name="scaled", template=TEMPLATE)
    stack_id = made["stack"]["id"]
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    assert size(hc, stack_id, 1) == 1
    url = hc.resources.get(stack_id, "up").attributes["alarm_url"]
    assert "/v1/signal/" in url and "Signature=" in url

    alarm(hc, stack_id, "up")
    assert size(hc, stack_id, 2) == 2
    grown = time.monotonic()  # the resize has finished: the cooldown ends by grown + 5
    # Inside the cooldown: handled, refused, whichever policy asks.
    assert "cooldown" in alarm(hc, stack_id, "up")
    assert "cooldown" in alarm(hc, stack_id, "down")
    assert size(hc, stack_id, 2) == 2
    wait_until(time.monotonic, lambda now: now - grown > COOLDOWN, WAIT, "the cooldown")
    assert "cooldown" not in alarm(hc, stack_id, "up")
    assert size(hc, stack_id, 3) == 3
    # The other policy's cooldown is none: each of its signals acts.
    grown = time.monotonic()
    wait_until(time.monotonic, lambda now: now - grown > COOLDOWN, WAIT, "the cooldown")
    for wanted in (2, 1, 0):
        alarm(hc, stack_id, "down")
        assert size(hc, stack_id, wanted) == wanted
    # Not below min_size.
    alarm(hc, stack_id, "down")
    assert size(hc, stack_id, 0) == 0
    members = [
        r
        for r in hc.resources.list(stack_id, nested_depth=1)
        if r.resource_type == "OS::Heat::TestResource"
    ]
    assert members == []


ROLLING = """
heat_template_version: 2016-10-14
parameters:
  value: {type: string}
resources:
  group:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 3
      max_size: 3
      rolling_updates: {min_in_service: 2, max_batch_size: 1, pause_time: 0}
      resource:
        type: OS::Heat::TestResource
        properties: {value: {get_param: value}, update_replace: true}
outputs:
  values: {value: {get_attr: [group, outputs_list, output]}}
"""


def test_a_rolling_update_keeps_min_in_service_members_up(hc: Any) -> None:
    made = hc.stacks.create(stack_name="rolling", template=ROLLING, parameters={"value": "a"})
    stack_id = made["stack"]["id"]
    wait_stack(hc, stack_id, "CREATE_COMPLETE", WAIT)
    child = hc.resources.get(stack_id, "group").physical_resource_id
    before = {
        r.physical_resource_id for r in hc.resources.list(child) if r.resource_name != "group"
    }
    assert len(before) == 3
    hc.stacks.update(stack_id, template=ROLLING, parameters={"value": "b"})
    done = wait_stack(hc, stack_id, "UPDATE_COMPLETE", WAIT)
    outputs = {o["output_key"]: o["output_value"] for o in done.outputs}
    assert outputs["values"] == ["b", "b", "b"]
    # Replayed from the group's nested stack's events, oldest first: never fewer than
    # two members in service, and the members replaced one batch at a time.
    events = hc.events.list(child, sort_dir="asc")
    in_service = set(before)
    taken_down = 0
    for event in events:
        member = event.physical_resource_id
        if member == child or not member:  # the nested stack's own events
            continue
        if event.resource_status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            in_service.add(member)
        elif event.resource_status.endswith("_IN_PROGRESS"):
            taken_down += member in in_service
            in_service.discard(member)
        assert len(in_service) >= 2, (event.resource_name, event.resource_status, in_service)
    assert taken_down >= 3, "the replay saw the old members go"
    after = {r.physical_resource_id for r in hc.resources.list(child)}
    assert len(after) == 3 and not after & before, "every member replaced"
