"""``openstack stack`` suspend / resume / check / cancel, abandon / adopt and snapshots,
checking what they print and what the stack looks like afterwards."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.api.conftest import Cli
from tests.api.helpers import DEMO, SLOW_UPDATE_DICT, create_stack, wait_stack, wait_until

EVENT_LINE = re.compile(
    r"^\S+ \S+ [0-9a-f-]{36} \[(?P<path>[^\]]+)\]: (?P<status>\S+)  (?P<reason>.*)$"
)


def events_in(output: str) -> list[tuple[str, str, str]]:
    return [
        (m["path"], m["status"], m["reason"])
        for m in map(EVENT_LINE.match, output.splitlines())
        if m
    ]


def row_status(table: str, name: str) -> str:
    """The Stack Status column of ``name``'s row in an action's result table."""
    match = re.search(rf"^\| [0-9a-f-]{{36}} \| {re.escape(name)} +\| (\S+) +\|", table, re.M)
    assert match, table
    return match.group(1)


@pytest.fixture(scope="module")
def files(cli: Cli) -> None:
    cli.write("demo.yaml", DEMO)


def test_suspend_resume_check_with_wait(cli: Cli, hc: Any, files: None) -> None:
    create_stack(hc, "acted", DEMO)  # type: ignore[arg-type]

    suspended = cli("stack", "suspend", "acted", "--wait").stdout
    resumed = cli("stack", "resume", "acted", "--wait").stdout
    checked = cli("stack", "check", "acted", "--wait").stdout

    assert row_status(suspended, "acted") == "SUSPEND_COMPLETE"
    assert ("acted", "SUSPEND_IN_PROGRESS", "Stack SUSPEND started") in events_in(suspended)
    assert ("acted.val", "SUSPEND_COMPLETE", "state changed") in events_in(suspended)
    assert events_in(suspended)[-1] == (
        "acted",
        "SUSPEND_COMPLETE",
        "Stack SUSPEND completed successfully",
    )
    assert row_status(resumed, "acted") == "RESUME_COMPLETE"
    assert events_in(resumed)[-1][:2] == ("acted", "RESUME_COMPLETE")
    assert row_status(checked, "acted") == "CHECK_COMPLETE"
    assert ("acted.test", "CHECK_COMPLETE", "state changed") in events_in(checked)
    assert {r.resource_status for r in hc.resources.list("acted")} == {"CHECK_COMPLETE"}


def test_suspend_unknown_stack(cli: Cli) -> None:
    done = cli("stack", "suspend", "no-such", check=False)

    assert done.returncode == 1
    assert "Stack not found: no-such" in done.stderr


def test_cancel_an_update_of_a_waiting_test_resource(cli: Cli, hc: Any) -> None:
    before = create_stack(hc, "slow", SLOW_UPDATE_DICT)
    physical = hc.resources.get("slow", "slow").physical_resource_id
    hc.stacks.update("slow", existing=True, parameters={"secs": 60})
    wait_until(lambda: hc.stacks.get("slow").stack_status, lambda s: s == "UPDATE_IN_PROGRESS")

    done = cli("stack", "cancel", "slow")
    rolled_back = wait_stack(hc, "slow", "ROLLBACK_COMPLETE")

    assert row_status(done.stdout, "slow") in (
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    )
    stack_reasons = [e.resource_status_reason for e in hc.events.list("slow", sort_dir="asc")]
    assert "Stack UPDATE cancelled" in stack_reasons
    assert stack_reasons[-1] == "Stack ROLLBACK completed successfully"
    assert rolled_back.parameters["secs"] == before.parameters["secs"] == "0"
    assert hc.resources.get("slow", "slow").attributes["output"] == "0"
    assert physical.startswith("slow-slow-")


def test_cancel_without_rollback_of_a_create(cli: Cli, hc: Any) -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "slow": {"type": "OS::Heat::TestResource", "properties": {"wait_secs": 60}},
        },
    }
    hc.stacks.create(stack_name="slowcreate", template=template)
    wait_until(
        lambda: hc.resources.get("slowcreate", "slow").resource_status,
        lambda s: s == "CREATE_IN_PROGRESS",
    )

    cli("stack", "cancel", "--no-rollback", "slowcreate")
    failed = wait_stack(hc, "slowcreate", "CREATE_FAILED")

    assert failed.stack_status_reason == "Stack CREATE cancelled"


def test_cancel_of_a_finished_stack_is_refused(cli: Cli, hc: Any) -> None:
    create_stack(hc, "idle", DEMO)  # type: ignore[arg-type]

    done = cli("stack", "cancel", "idle", check=False)

    assert done.returncode == 1
    assert "Stack idle with status 'create_complete' not in cancelable state" in done.stderr


def test_abandon_then_adopt(cli: Cli, hc: Any, files: None) -> None:
    original = create_stack(hc, "orig", DEMO)  # type: ignore[arg-type]
    physical = {r.resource_name: r.physical_resource_id for r in hc.resources.list("orig")}

    abandoned = cli("stack", "abandon", "orig", "--output-file", "orig.json")
    data = json.loads((cli.cwd / "orig.json").read_text(encoding="utf-8"))
    gone = cli("stack", "show", "orig", check=False)
    adopted = cli("stack", "adopt", "--adopt-file", "orig.json", "copy")
    copy = wait_stack(hc, "copy", "ADOPT_COMPLETE")

    assert abandoned.returncode == 0
    assert data["id"] == original.id
    assert data["name"] == "orig"
    assert (data["action"], data["status"]) == ("CREATE", "COMPLETE")
    assert {k: v["resource_id"] for k, v in data["resources"].items()} == physical
    assert data["resources"]["rand"]["type"] == "OS::Heat::RandomString"
    assert gone.returncode == 1
    assert re.search(r"^\| stack_name +\| copy +\|$", adopted.stdout, re.M)
    assert re.search(
        r"^\| stack_status +\| ADOPT_(IN_PROGRESS|COMPLETE) +\|$", adopted.stdout, re.M
    )
    stack_events = [
        (e.resource_status, e.resource_status_reason)
        for e in hc.events.list("copy", sort_dir="asc")
        if e.resource_name == "copy"
    ]
    assert stack_events == [
        ("ADOPT_IN_PROGRESS", "Stack ADOPT started"),
        ("ADOPT_COMPLETE", "Stack ADOPT completed successfully"),
    ]
    assert {r.resource_name: r.physical_resource_id for r in hc.resources.list("copy")} == physical
    assert {o["output_key"]: o["output_value"] for o in copy.outputs} == {
        o["output_key"]: o["output_value"] for o in original.outputs
    }


def test_snapshot_create_list_show_restore_delete(cli: Cli, hc: Any) -> None:
    original = create_stack(hc, "snapped", DEMO)  # type: ignore[arg-type]

    created = cli.json("stack", "snapshot", "create", "snapped", "--name", "first")
    listed = cli.json("stack", "snapshot", "list", "snapped")
    shown = cli.json("stack", "snapshot", "show", "snapped", created["ID"])
    hc.stacks.update("snapped", existing=True, parameters={"greeting": "changed"})
    wait_stack(hc, "snapped", "UPDATE_COMPLETE")
    cli("stack", "snapshot", "restore", "snapped", created["ID"])
    restored = wait_stack(hc, "snapped", "RESTORE_COMPLETE")
    cli("stack", "snapshot", "delete", "snapped", created["ID"], "--yes")
    after = hc.stacks.snapshot_list("snapped")["snapshots"]

    assert created["name"] == "first"
    assert (created["action"], created["status"]) == ("CREATE", "COMPLETE")
    assert [(s["id"], s["name"], s["status"]) for s in listed] == [
        (created["ID"], "first", "COMPLETE")
    ]
    snapshot = shown["snapshot"]
    assert snapshot["id"] == created["ID"]
    assert snapshot["data"]["id"] == original.id
    assert snapshot["data"]["action"] == "SNAPSHOT"
    assert snapshot["data"]["environment"]["parameters"] == {}
    assert set(snapshot["data"]["resources"]) == {"rand", "val", "test"}
    outputs = {o["output_key"]: o["output_value"] for o in restored.outputs}
    assert outputs == {o["output_key"]: o["output_value"] for o in original.outputs}
    assert outputs["greeting_out"] == "hello"
    assert after == []


def test_snapshot_show_unknown(cli: Cli, hc: Any) -> None:
    create_stack(hc, "nosnap", DEMO)  # type: ignore[arg-type]

    done = cli(
        "stack", "snapshot", "show", "nosnap", "3b0bbf4a-6e84-4b2b-9a7b-3a5e3c8b8f10", check=False
    )

    assert done.returncode == 1
    assert "3b0bbf4a-6e84-4b2b-9a7b-3a5e3c8b8f10" in done.stderr
