"""``PUT .../preview?show_nested=True`` through python-heatclient: what an update would do
to the resources of nested stacks too, each naming its ``parent_resource``, as Heat answers
(a nested stack is always updated, and its resources decide)."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import create_stack

PARENT = "heat_template_version: 2016-04-08\nresources:\n  nested1:\n    type: nested1.yaml\n"
NESTED1 = "heat_template_version: 2016-04-08\nresources:\n  nested2:\n    type: nested2.yaml\n"
ONE = "heat_template_version: 2016-04-08\nresources:\n  random:\n    type: OS::Heat::RandomString\n"
TWO = ONE + "  random2:\n    type: OS::Heat::RandomString\n"


def changes(hc: Any, stack: str, template: str, **fields: Any) -> dict[str, list[Any]]:
    answer = hc.stacks.preview_update(stack, template=template, show_nested=True, **fields)
    return {
        kind: sorted((r["resource_name"], r.get("parent_resource")) for r in listed)
        for kind, listed in answer["resource_changes"].items()
    }


def made(hc: Any, name: str, nested2: str) -> str:
    stack = create_stack(hc, name, PARENT, files={"nested1.yaml": NESTED1, "nested2.yaml": nested2})
    return f"{name}/{stack.id}"


def test_nothing_changes_below_but_each_nested_stack_is_updated(hc: Any) -> None:
    stack = made(hc, "nochange", ONE)
    found = changes(hc, stack, PARENT, files={"nested1.yaml": NESTED1, "nested2.yaml": ONE})
    assert found == {
        "added": [],
        "deleted": [],
        "replaced": [],
        "unchanged": [("random", "nested2")],
        "updated": [("nested1", None), ("nested2", "nested1")],
    }


def test_a_resource_added_and_one_deleted_two_stacks_down(hc: Any) -> None:
    stack = made(hc, "grows", ONE)
    found = changes(hc, stack, PARENT, files={"nested1.yaml": NESTED1, "nested2.yaml": TWO})
    assert found["added"] == [("random2", "nested2")]
    assert found["unchanged"] == [("random", "nested2")]
    assert found["deleted"] == found["replaced"] == []

    stack = made(hc, "shrinks", TWO)
    found = changes(hc, stack, PARENT, files={"nested1.yaml": NESTED1, "nested2.yaml": ONE})
    assert found["deleted"] == [("random2", "nested2")]
    assert found["unchanged"] == [("random", "nested2")]
    assert found["added"] == found["replaced"] == []


def test_a_replaced_nested_stack_deletes_everything_below_it(hc: Any) -> None:
    stack = made(hc, "replaced", ONE)
    found = changes(hc, stack, PARENT.replace("nested1.yaml", "OS::Heat::None"))
    assert found == {
        "added": [],
        "deleted": [("nested2", "nested1"), ("random", "nested2")],
        "replaced": [("nested1", None)],
        "unchanged": [],
        "updated": [],
    }


def test_without_show_nested_only_the_stacks_own_resources(hc: Any) -> None:
    stack = made(hc, "flat", ONE)
    answer = hc.stacks.preview_update(
        stack, template=PARENT, files={"nested1.yaml": NESTED1, "nested2.yaml": TWO}
    )
    listed = [r for rs in answer["resource_changes"].values() for r in rs]
    assert [(r["resource_name"], "parent_resource" in r) for r in listed] == [("nested1", False)]
    assert answer["resource_changes"]["updated"][0]["resource_name"] == "nested1"
