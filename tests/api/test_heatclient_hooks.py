"""python-heatclient on breakpoints, checked as Heat's functional hook tests check them: a
resource paused at a pre- hook keeps its state (INIT_COMPLETE before its create, its
current state before an update or delete), and the pause and clearing events carry that
state; at a post- hook the action is complete."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import need, wait_stack, wait_until

exc = need("heatclient.exc")


def template(length: int = 8) -> dict[str, Any]:
    return {
        "heat_template_version": "2014-10-16",
        "resources": {
            "a": {"type": "OS::Heat::RandomString"},
            "b": {
                "type": "OS::Heat::RandomString",
                "properties": {"length": length},
                "depends_on": "a",
            },
        },
    }


def hooked(hook: str, name: str = "b") -> dict[str, Any]:
    return {"resource_registry": {"resources": {name: {"hooks": hook}}}}


def wait_event(hc: Any, stack: str, name: str, reason: str) -> Any:
    """The first event of resource ``name`` with ``reason``, once there is one."""

    def probe() -> list[Any]:
        try:
            return list(hc.events.list(stack, resource_name=name))
        except exc.HTTPNotFound:  # as in Heat, until the resource has an event
            return []

    found = wait_until(
        probe,
        lambda evs: any(e.resource_status_reason == reason for e in evs),
        what=f"event {reason!r} of {name}",
    )
    return next(e for e in found if e.resource_status_reason == reason)


def wait_resource(hc: Any, stack: str, name: str, status: str) -> Any:
    return wait_until(
        lambda: hc.resources.get(stack, name),
        lambda r: r.resource_status == status,
        what=f"{name} to be {status}",
    )


def test_pre_create(hc: Any) -> None:
    created = hc.stacks.create(
        stack_name="hook-pre-create", template=template(), environment=hooked("pre-create")
    )
    sid = created["stack"]["id"]
    wait_resource(hc, sid, "a", "CREATE_COMPLETE")
    paused = wait_event(hc, sid, "b", "CREATE paused until Hook pre-create is cleared")
    assert paused.resource_status == "INIT_COMPLETE"
    assert hc.resources.get(sid, "b").resource_status == "INIT_COMPLETE"
    assert hc.stacks.get(sid).stack_status == "CREATE_IN_PROGRESS"

    hc.resources.signal(sid, "b", data={"unset_hook": "pre-create"})
    cleared = wait_event(hc, sid, "b", "Hook pre-create is cleared")
    assert cleared.resource_status == "INIT_COMPLETE"
    wait_stack(hc, sid, "CREATE_COMPLETE")
    assert hc.resources.get(sid, "b").resource_status == "CREATE_COMPLETE"


def test_pre_update(hc: Any) -> None:
    env = hooked("pre-update")
    created = hc.stacks.create(stack_name="hook-pre-update", template=template(), environment=env)
    sid = created["stack"]["id"]
    wait_stack(hc, sid, "CREATE_COMPLETE")
    before = hc.resources.get(sid, "b").physical_resource_id
    # A new length replaces ``b``: still, it waits at its hook in its current state.
    hc.stacks.update(sid, template=template(length=10), environment=env)
    paused = wait_event(hc, sid, "b", "UPDATE paused until Hook pre-update is cleared")
    assert paused.resource_status == "CREATE_COMPLETE"
    assert hc.resources.get(sid, "b").resource_status == "CREATE_COMPLETE"
    assert hc.stacks.get(sid).stack_status == "UPDATE_IN_PROGRESS"

    hc.resources.signal(sid, "b", data={"unset_hook": "pre-update"})
    cleared = wait_event(hc, sid, "b", "Hook pre-update is cleared")
    assert cleared.resource_status == "CREATE_COMPLETE"
    wait_stack(hc, sid, "UPDATE_COMPLETE")
    assert hc.resources.get(sid, "b").physical_resource_id != before


def test_pre_delete(hc: Any) -> None:
    created = hc.stacks.create(
        stack_name="hook-pre-delete", template=template(), environment=hooked("pre-delete", "a")
    )
    sid = created["stack"]["id"]
    wait_stack(hc, sid, "CREATE_COMPLETE")
    hc.stacks.delete(sid)
    paused = wait_event(hc, sid, "a", "DELETE paused until Hook pre-delete is cleared")
    assert paused.resource_status == "CREATE_COMPLETE"
    assert hc.resources.get(sid, "a").resource_status == "CREATE_COMPLETE"
    assert hc.stacks.get(sid).stack_status == "DELETE_IN_PROGRESS"

    hc.resources.signal(sid, "a", data={"unset_hook": "pre-delete"})
    wait_stack(hc, sid, "DELETE_COMPLETE")
    cleared = wait_event(hc, sid, "a", "Hook pre-delete is cleared")
    assert cleared.resource_status == "CREATE_COMPLETE"


def test_post_create(hc: Any) -> None:
    created = hc.stacks.create(
        stack_name="hook-post-create", template=template(), environment=hooked("post-create")
    )
    sid = created["stack"]["id"]
    paused = wait_event(hc, sid, "b", "CREATE paused until Hook post-create is cleared")
    assert paused.resource_status == "CREATE_COMPLETE"
    assert hc.resources.get(sid, "b").resource_status == "CREATE_COMPLETE"
    assert hc.stacks.get(sid).stack_status == "CREATE_IN_PROGRESS"

    hc.resources.signal(sid, "b", data={"unset_hook": "post-create"})
    cleared = wait_event(hc, sid, "b", "Hook post-create is cleared")
    assert cleared.resource_status == "CREATE_COMPLETE"
    wait_stack(hc, sid, "CREATE_COMPLETE")
