"""``openstack stack`` create / update / delete / list / show, run as a user runs them,
checking what they print."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.api.conftest import Cli
from tests.api.helpers import DEMO, UUID, wait_stack

EVENT_LINE = re.compile(
    rf"^(?P<time>\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ) (?P<id>{UUID}) "
    r"\[(?P<path>[^\]]+)\]: (?P<status>[A-Z]+_[A-Z_]+)  (?P<reason>.*)$"
)
FAILING = """\
heat_template_version: 2016-10-14
resources:
  f:
    type: OS::Heat::TestResource
    properties:
      fail: true
"""
SMALLER = """\
heat_template_version: 2016-10-14
description: demo stack
parameters:
  greeting:
    type: string
    default: hello
resources:
  val:
    type: OS::Heat::Value
    properties:
      value: {get_param: greeting}
  extra:
    type: OS::Heat::None
outputs:
  greeting_out:
    value: {get_attr: [val, value]}
"""


def events_in(output: str) -> list[tuple[str, str, str]]:
    """The ``[path]: STATUS  reason`` of each event log line printed by ``--wait``."""
    found = []
    for line in output.splitlines():
        match = EVENT_LINE.match(line)
        if match:
            found.append((match["path"], match["status"], match["reason"]))
    return found


def field(table: str, name: str) -> str:
    """A value from a ``show``-style table."""
    match = re.search(rf"^\| {re.escape(name)} +\| (.*?) +\|$", table, re.MULTILINE)
    assert match, f"no {name} in:\n{table}"
    return match.group(1)


@pytest.fixture(scope="module")
def created(cli: Cli, hc: Any) -> dict[str, subprocess.CompletedProcess[str]]:
    """``alpha`` and ``broken`` created by the CLI with ``--wait`` (while heatclient
    creates ``beta``, ``gamma`` and ``doomed`` from the same template)."""
    cli.write("demo.yaml", DEMO)
    cli.write("failing.yaml", FAILING)
    cli.write("smaller.yaml", SMALLER)
    running = {
        "alpha": cli.start("stack", "create", "-t", "demo.yaml", "alpha", "--wait", "--poll", "1"),
        "broken": cli.start(
            "stack", "create", "-t", "failing.yaml", "broken", "--wait", "--poll", "1"
        ),
    }
    for name in ("beta", "gamma", "doomed"):
        hc.stacks.create(stack_name=name, template=DEMO)
    for name in ("beta", "gamma", "doomed"):
        wait_stack(hc, name, "CREATE_COMPLETE")
    return {name: cli.finish(p, check=False) for name, p in running.items()}


@pytest.fixture(scope="module")
def changed(cli: Cli, created: Any) -> dict[str, subprocess.CompletedProcess[str]]:
    """A full update, an ``--existing`` update and a delete, all with ``--wait``, run at
    once (each waits on the CLI's own 5 s polling)."""
    commands = {
        "beta": ("stack", "update", "-t", "smaller.yaml", "beta", "--parameter", "greeting=full"),
        "gamma": ("stack", "update", "--existing", "gamma", "--parameter", "greeting=kept"),
        "doomed": ("stack", "delete", "doomed", "--yes"),
    }
    running = {name: cli.start(*command, "--wait") for name, command in commands.items()}
    return {name: cli.finish(p) for name, p in running.items()}


def test_create_wait_prints_the_event_log_then_the_stack(
    created: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = created["alpha"]

    assert done.returncode == 0, done.stderr
    events = events_in(done.stdout)
    assert events[0] == ("alpha", "CREATE_IN_PROGRESS", "Stack CREATE started")
    assert events[-1] == ("alpha", "CREATE_COMPLETE", "Stack CREATE completed successfully")
    for resource in ("rand", "val", "test"):
        assert (f"alpha.{resource}", "CREATE_IN_PROGRESS", "state changed") in events
        assert (f"alpha.{resource}", "CREATE_COMPLETE", "state changed") in events
    assert events.index(("alpha.rand", "CREATE_COMPLETE", "state changed")) < events.index(
        ("alpha.test", "CREATE_IN_PROGRESS", "state changed")
    )
    assert field(done.stdout, "stack_name") == "alpha"
    assert field(done.stdout, "stack_status") == "CREATE_COMPLETE"
    assert field(done.stdout, "description") == "demo stack"
    assert re.fullmatch(UUID, field(done.stdout, "id"))


def test_failed_create_wait_exits_non_zero_with_the_reason(
    created: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = created["broken"]

    assert done.returncode == 1
    assert "Stack broken CREATE_FAILED" in done.stderr
    assert ("broken.f", "CREATE_FAILED", "ValueError: resources.f: Test Resource failed f") in (
        events_in(done.stdout)
    )
    assert events_in(done.stdout)[-1] == (
        "broken",
        "CREATE_FAILED",
        "Resource CREATE failed: ValueError: resources.f: Test Resource failed f",
    )


def test_create_dry_run_previews_without_creating(cli: Cli, hc: Any) -> None:
    preview = cli.json("stack", "create", "-t", "demo.yaml", "ghost", "--dry-run")

    assert preview["stack_name"] == "ghost"
    assert preview["description"] == "demo stack"
    assert preview["parameters"]["greeting"] == "hello"
    resources = {r["resource_name"]: r for r in preview["resources"]}
    assert set(resources) == {"rand", "val", "test"}
    assert resources["rand"]["required_by"] == ["test"]
    assert resources["val"]["properties"]["value"] == "hello"
    assert list(hc.stacks.list(filters={"name": "ghost"})) == []


def test_show(cli: Cli, created: Any) -> None:
    shown, unresolved = cli.json_all(
        ("stack", "show", "alpha"), ("stack", "show", "alpha", "--no-resolve-outputs")
    )

    assert shown["stack_name"] == "alpha"
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["stack_status_reason"] == "Stack CREATE completed successfully"
    assert shown["parameters"]["OS::stack_name"] == "alpha"
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert outputs["greeting_out"] == "hello"
    assert len(outputs["random_out"]) == 8
    assert shown["links"][0]["href"].endswith(f"/stacks/alpha/{shown['id']}")
    assert "outputs" not in unresolved
    assert unresolved["id"] == shown["id"]


def test_show_unknown_stack(cli: Cli) -> None:
    done = cli("stack", "show", "nope", check=False)

    assert done.returncode == 1
    assert "Stack not found: nope" in done.stderr


def test_list_filters_by_status_and_name(cli: Cli, created: Any) -> None:
    complete, failed, beta, both = cli.json_all(
        ("stack", "list", "--property", "status=CREATE_COMPLETE"),
        ("stack", "list", "--property", "status=FAILED"),
        ("stack", "list", "--property", "name=beta"),
        ("stack", "list", "--property", "name=beta", "--property", "name=gamma"),
    )

    assert {s["Stack Name"] for s in complete} >= {"alpha", "beta", "gamma"}
    assert "broken" not in {s["Stack Name"] for s in complete}
    assert [(s["Stack Name"], s["Stack Status"]) for s in failed] == [("broken", "CREATE_FAILED")]
    assert [s["Stack Name"] for s in beta] == ["beta"]
    assert sorted(s["Stack Name"] for s in both) == ["beta", "gamma"]
    assert all(re.fullmatch(UUID, s["ID"]) for s in complete)


def test_list_table_columns(cli: Cli, created: Any) -> None:
    table = cli("stack", "list", "--property", "name=alpha").stdout

    header = table.splitlines()[1]
    assert [c.strip() for c in header.strip("|").split("|")][:2] == ["ID", "Stack Name"]
    assert "Stack Status" in header and "Creation Time" in header
    # A member's list has no Project column (Heat shows it to admins only).
    assert re.search(r"\| alpha +\| CREATE_COMPLETE +\|", table)


def test_list_sorting(cli: Cli, hc: Any, created: Any) -> None:
    descending = cli.json("stack", "list", "--sort", "stack_name:desc")

    names = [s["Stack Name"] for s in descending]
    assert names == sorted((s.stack_name for s in hc.stacks.list()), reverse=True)
    assert {"alpha", "beta", "gamma", "broken"} <= set(names)


def test_list_paging_with_limit_and_marker(cli: Cli, hc: Any, created: Any) -> None:
    everything = [s.id for s in hc.stacks.list()]
    first = cli.json("stack", "list", "--limit", "2")
    rest, one_more = cli.json_all(
        ("stack", "list", "--marker", first[-1]["ID"]),
        ("stack", "list", "--marker", first[-1]["ID"], "--limit", "1"),
    )

    assert len(everything) >= 4
    assert [s["ID"] for s in first] == everything[:2]
    assert [s["ID"] for s in rest] == everything[2:]
    assert [s["ID"] for s in one_more] == everything[2:3]


def test_update_full_with_wait(hc: Any, changed: dict[str, Any]) -> None:
    done = changed["beta"]

    events = events_in(done.stdout)
    assert events[0] == ("beta", "UPDATE_IN_PROGRESS", "Stack UPDATE started")
    assert events[-1] == ("beta", "UPDATE_COMPLETE", "Stack UPDATE completed successfully")
    assert ("beta.extra", "CREATE_COMPLETE", "state changed") in events
    assert ("beta.test", "DELETE_COMPLETE", "state changed") in events
    assert ("beta.val", "UPDATE_COMPLETE", "state changed") in events
    assert not [e for e in events if e[0] == "beta.val" and e[1].startswith("CREATE")]
    assert field(done.stdout, "stack_status") == "UPDATE_COMPLETE"

    resources = hc.resources.list("beta")
    output = hc.stacks.output_show("beta", "greeting_out")["output"]
    assert sorted(r.resource_name for r in resources) == ["extra", "val"]
    assert output["output_value"] == "full"


def test_update_existing_with_wait(hc: Any, changed: dict[str, Any]) -> None:
    done = changed["gamma"]

    events = events_in(done.stdout)
    assert events[-1] == ("gamma", "UPDATE_COMPLETE", "Stack UPDATE completed successfully")
    assert ("gamma.val", "UPDATE_COMPLETE", "state changed") in events
    assert not [e for e in events if e[0] in ("gamma.rand", "gamma.test")]
    shown = hc.stacks.get("gamma")
    outputs = {o["output_key"]: o["output_value"] for o in shown.outputs}
    assert outputs["greeting_out"] == "kept"
    assert shown.parameters["greeting"] == "kept"
    assert shown.stack_status == "UPDATE_COMPLETE"


def test_update_dry_run_shows_the_changes(cli: Cli, hc: Any, created: Any) -> None:
    full, existing = cli.json_all(
        ("stack", "update", "-t", "smaller.yaml", "alpha", "--dry-run"),
        ("stack", "update", "--existing", "alpha", "--parameter", "greeting=x", "--dry-run"),
    )

    def names(changes: dict[str, Any], kind: str) -> list[str]:
        return sorted(r["resource_name"] for r in changes[kind])

    assert names(full, "added") == ["extra"]
    assert names(full, "deleted") == ["rand", "test"]
    assert names(full, "unchanged") == ["val"]
    assert names(existing, "updated") == ["val"]
    assert names(existing, "unchanged") == ["rand", "test"]
    assert hc.stacks.get("alpha").stack_status == "CREATE_COMPLETE"


def test_delete_wait(cli: Cli, hc: Any, changed: dict[str, Any]) -> None:
    done = changed["doomed"]

    shown = cli("stack", "show", "doomed", check=False)

    # The CLI stops polling at the first 404, so it may print only the first events.
    events = events_in(done.stdout)
    assert events[:1] in ([], [("doomed", "DELETE_IN_PROGRESS", "Stack DELETE started")])
    assert all(
        path.startswith("doomed") and status.startswith("DELETE_") for path, status, _ in events
    )
    assert shown.returncode == 1
    assert "Stack not found: doomed" in shown.stderr
    assert list(hc.stacks.list(filters={"name": "doomed"})) == []


def test_delete_of_an_unknown_stack_fails(cli: Cli) -> None:
    done = cli("stack", "delete", "never-was", "--yes", check=False)

    assert done.returncode == 1
    assert "Stack not found: never-was" in done.stdout
    assert "Unable to delete 1 of the 1 stacks." in done.stderr
