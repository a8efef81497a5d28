"""``ember stack ...`` run as a subprocess against heat-all, with stdout a pipe (so
following prints one line per event, then the summary): exit codes, the summary, the
root cause of a failure three stacks deep, bad input, a timeout, a cancel, and the
``--format json`` documents."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import Ember, explain
from tests.cli.templates import BAD_TYPE, LEAF, MIDDLE, QUICK, TOP, waiting

EVENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?P<path>\S+) (?P<status>[A-Z_]+)(?: .*)?$")


def events_in(output: str) -> list[tuple[str, str]]:
    return [
        (m["path"], m["status"]) for m in map(EVENT.match, output.splitlines()) if m is not None
    ]


def test_create_follows_to_a_summary_with_outputs(ember: Ember) -> None:
    ember.write("quick.yaml", QUICK)
    done = ember("stack", "create", "-t", "quick.yaml", "--parameter", "word=hi", "made", "--wait")
    assert done.returncode == 0, explain(done)
    seen = events_in(done.stdout)
    assert seen[0] == ("made", "CREATE_IN_PROGRESS")
    assert ("made/slow", "CREATE_COMPLETE") in seen
    assert seen[-1] == ("made", "CREATE_COMPLETE")
    summary = re.search(
        r"^Stack made CREATE_COMPLETE in [\d.]+s: 2/2 resources done, \d+ events$",
        done.stdout,
        re.M,
    )
    assert summary, explain(done)
    assert re.search(r"^\s*said\s+hi\s*$", done.stdout, re.M), explain(done)

    shown = ember("stack", "show", "made", "-f", "json")
    assert shown.returncode == 0, explain(shown)
    assert json.loads(shown.stdout)["stack_status"] == "CREATE_COMPLETE"
    outputs = json.loads(ember("stack", "outputs", "made", "-f", "json").stdout)
    assert [(o["output_key"], o["output_value"]) for o in outputs] == [("said", "hi")]
    listed = ember("stack", "list")
    assert re.search(r"made .*CREATE_COMPLETE", listed.stdout), explain(listed)


def test_failure_three_stacks_deep_shows_the_root_cause_first(ember: Ember) -> None:
    ember.write("top.yaml", TOP)
    ember.write("nested/middle.yaml", MIDDLE)
    ember.write("nested/leaf.yaml", LEAF)
    done = ember("stack", "create", "-t", "top.yaml", "deep", "--follow")
    assert done.returncode == 1, explain(done)
    lines = done.stdout.splitlines()
    cause = lines.index("Root cause (deepest failures first):")
    summary = next(i for i, line in enumerate(lines) if line.startswith("Stack deep "))
    assert cause < summary
    first = lines[cause + 1].split()
    assert first == ["deep/middle/inner/bad", "CREATE_FAILED"], explain(done)
    assert "Test Resource failed bad" in lines[cause + 2]
    parents = [line.split()[1] for line in lines[cause + 3 : summary]]
    assert parents == ["deep/middle/inner", "deep/middle", "deep"], explain(done)
    assert lines[summary].startswith("Stack deep CREATE_FAILED in ")
    assert "3 failed" in lines[summary]
    assert ("deep/middle/inner/bad", "CREATE_FAILED") in events_in(done.stdout)

    nested = ember("stack", "resources", "deep", "--nested-depth", "3", "-f", "json")
    names = {r["resource_name"] for r in json.loads(nested.stdout)}
    assert names == {"first", "middle", "inner", "fine", "bad"}

    as_json = ember("stack", "create", "-t", "top.yaml", "deep-json", "--wait", "-f", "json")
    assert as_json.returncode == 1, explain(as_json)
    document = json.loads(as_json.stdout)
    assert document["stack_status"] == "CREATE_FAILED"
    assert document["exit_code"] == 1
    assert [f["path"] for f in document["failures"]] == ["deep-json/middle/inner/bad"]
    assert [p["path"] for p in document["failures"][0]["parents"]] == [
        "deep-json/middle/inner",
        "deep-json/middle",
        "deep-json",
    ]
    assert "deep-json/middle/inner/bad CREATE_FAILED" in as_json.stderr


def test_bad_template_and_bad_input_exit_2(ember: Ember) -> None:
    ember.write("bad.yaml", BAD_TYPE)
    done = ember("stack", "create", "-t", "bad.yaml", "bad", "--wait")
    assert done.returncode == 2, explain(done)
    assert "StackValidationFailed" in done.stderr
    assert "OS::No::SuchType" in done.stderr
    missing = ember("stack", "create", "-t", "nowhere.yaml", "bad", "--wait")
    assert missing.returncode == 2, explain(missing)
    assert "nowhere.yaml" in missing.stderr
    ember.write("quick.yaml", QUICK)
    odd = ember("stack", "create", "-t", "quick.yaml", "--parameter", "word", "bad")
    assert odd.returncode == 2, explain(odd)
    assert "KEY=VALUE" in odd.stderr
    unknown = ember("stack", "show", "never-made")
    assert unknown.returncode == 1, explain(unknown)
    assert "EntityNotFound" in unknown.stderr


def test_timeout_exits_3(ember: Ember) -> None:
    ember.write("long.yaml", waiting(120))
    done = ember(
        "stack", "create", "-t", "long.yaml", "late", "--timeout", "1", "--wait", timeout=150
    )
    assert done.returncode == 3, explain(done)
    assert re.search(r"^Stack late CREATE_FAILED in ", done.stdout, re.M), explain(done)
    assert "Timed out" in done.stdout


def test_cancel_exits_3_and_json_without_follow(ember: Ember) -> None:
    ember.write("long.yaml", waiting(60))
    started = ember("stack", "create", "-t", "long.yaml", "stopped", "--no-follow", "-f", "json")
    assert started.returncode == 0, explain(started)
    document = json.loads(started.stdout)
    assert document["stack_name"] == "stopped" and document["action"] == "CREATE"
    done = ember("stack", "cancel", "stopped", "--follow")
    assert done.returncode == 3, explain(done)
    assert "cancelled" in done.stdout


def test_update_and_delete(ember: Ember) -> None:
    ember.write("quick.yaml", QUICK)
    made = ember("stack", "create", "-t", "quick.yaml", "changed", "--wait", "-f", "json")
    assert made.returncode == 0, explain(made)
    assert json.loads(made.stdout)["resources"] == {"done": 2, "failed": 0, "total": 2}
    updated = ember("stack", "update", "changed", "--existing", "-P", "word=later", "--wait")
    assert updated.returncode == 0, explain(updated)
    assert re.search(r"^Stack changed UPDATE_COMPLETE in ", updated.stdout, re.M)
    assert ("changed", "CREATE_COMPLETE") not in events_in(updated.stdout)
    assert re.search(r"^\s*said\s+later\s*$", updated.stdout, re.M), explain(updated)
    events = json.loads(ember("stack", "events", "changed", "-f", "json", "--limit", "2").stdout)
    assert len(events) == 2
    preview = ember("stack", "preview", "-t", "quick.yaml", "seen", "-f", "json")
    assert {r["resource_name"] for r in json.loads(preview.stdout)["resources"]} == {
        "slow",
        "rand",
    }
    deleted = ember("stack", "delete", "changed", "--wait")
    assert deleted.returncode == 0, explain(deleted)
    assert re.search(r"^Stack changed DELETE_COMPLETE in ", deleted.stdout, re.M), explain(deleted)
    gone = ember("stack", "show", "changed")
    assert gone.returncode == 1


def test_template_validate_beside_the_stack_commands(ember: Ember) -> None:
    ember.write("quick.yaml", QUICK)
    done = ember("template", "validate", "quick.yaml", "-P", "word=x")
    assert done.returncode == 0, explain(done)
    assert json.loads(done.stdout)["Parameters"]["word"]["Default"] == "hello"
    odd = ember("template", "validate", "quick.yaml", "-P", "word")
    assert odd.returncode != 0
    assert "KEY=VALUE" in odd.stderr


def test_rolled_back_failure_still_names_its_root_cause(ember: Ember) -> None:
    ember.write("top.yaml", TOP)
    ember.write("nested/middle.yaml", MIDDLE)
    ember.write("nested/leaf.yaml", LEAF)
    done = ember("stack", "create", "-t", "top.yaml", "undone", "--rollback", "--wait")
    assert done.returncode == 1, explain(done)
    assert ("undone", "ROLLBACK_COMPLETE") in events_in(done.stdout)
    lines = done.stdout.splitlines()
    cause = lines.index("Root cause (deepest failures first):")
    assert lines[cause + 1].split() == ["undone/middle/inner/bad", "CREATE_FAILED"]
    assert re.search(r"^Stack undone ROLLBACK_COMPLETE in ", done.stdout, re.M)
    assert re.search(
        r"^Reason: Resource CREATE failed: .*Test Resource failed bad", done.stdout, re.M
    )


def test_a_pipe_does_not_follow_unless_asked(ember: Ember) -> None:
    ember.write("long.yaml", waiting(30))
    done = ember("stack", "create", "-t", "long.yaml", "unwatched", timeout=20)
    assert done.returncode == 0, explain(done)
    assert re.fullmatch(r"CREATE of stack unwatched \(\S{36}\) started\n", done.stdout)
    shown = json.loads(ember("stack", "show", "unwatched", "-f", "json").stdout)
    assert shown["stack_status"] == "CREATE_IN_PROGRESS"
    deleted = ember("stack", "delete", "unwatched", "--wait")
    assert deleted.returncode == 0, explain(deleted)
