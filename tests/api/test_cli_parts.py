"""``openstack stack`` event / resource / output / template / environment / file commands
and the ``openstack orchestration`` catalog commands, checking what they print."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.api.conftest import Cli
from tests.api.helpers import DEMO, DEMO_DICT, UUID, create_stack

EVENT_LINE = re.compile(
    rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ (?P<id>{UUID}) "
    r"\[(?P<path>[^\]]+)\]: (?P<status>[A-Z]+_[A-Z_]+)  (?P<reason>.*)$"
)
ENVIRONMENT = {"parameters": {"greeting": "from-env"}, "parameter_defaults": {"unused": "1"}}
FILES = {"notes.txt": "some notes\n"}
CFN = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: a CFN template
Parameters:
  Size:
    Type: Number
    Default: 3
Resources:
  Holder:
    Type: OS::Heat::Value
    Properties:
      value: {Ref: Size}
"""


@pytest.fixture(scope="module")
def demo(cli: Cli, hc: Any) -> Any:
    cli.write("demo.yaml", DEMO)
    cli.write("cfn.yaml", CFN)
    return create_stack(hc, "demo", DEMO, environment=ENVIRONMENT, files=FILES)  # type: ignore[arg-type]


def test_event_list_log_format(cli: Cli, demo: Any) -> None:
    lines = cli("stack", "event", "list", "demo").stdout.splitlines()

    matches = [EVENT_LINE.match(line) for line in lines]
    assert all(matches), lines
    seen = [(m["path"], m["status"], m["reason"]) for m in matches if m]
    assert seen[0] == ("demo", "CREATE_IN_PROGRESS", "Stack CREATE started")
    assert seen[-1] == ("demo", "CREATE_COMPLETE", "Stack CREATE completed successfully")
    assert ("demo.rand", "CREATE_COMPLETE", "state changed") in seen
    assert ("demo.val", "CREATE_IN_PROGRESS", "state changed") in seen
    assert len(seen) == 8
    assert len({m["id"] for m in matches if m}) == 8


def test_event_list_table_and_json(cli: Cli, demo: Any) -> None:
    table = cli("stack", "event", "list", "demo", "--format", "table").stdout
    listed, of_val = cli.json_all(
        ("stack", "event", "list", "demo"),
        ("stack", "event", "list", "demo", "--resource", "val"),
    )

    header = [c.strip() for c in table.splitlines()[1].strip("|").split("|")]
    assert {"id", "resource_status", "resource_status_reason", "event_time"} <= set(header)
    assert re.search(r"\| demo +\| [0-9a-f-]{36} \| CREATE_COMPLETE +\| Stack CREATE", table)
    assert len(listed) == 8
    assert listed[0]["resource_name"] == "demo"
    assert listed[0]["resource_status"] == "CREATE_IN_PROGRESS"
    assert listed[0]["physical_resource_id"] == demo.id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed[0]["event_time"])
    assert [(e["resource_name"], e["resource_status"]) for e in of_val] == [
        ("val", "CREATE_IN_PROGRESS"),
        ("val", "CREATE_COMPLETE"),
    ]


def test_event_show(cli: Cli, hc: Any, demo: Any) -> None:
    (complete,) = [
        e for e in hc.events.list("demo", resource_name="val") if e.resource_status.endswith("E")
    ]

    shown = cli.json("stack", "event", "show", "demo", "val", complete.id)

    assert shown["id"] == complete.id
    assert shown["resource_type"] == "OS::Heat::Value"
    assert shown["resource_status"] == "CREATE_COMPLETE"
    assert shown["physical_resource_id"].startswith("demo-val-")


def test_resource_list_and_show(cli: Cli, demo: Any) -> None:
    listed, long, values, shown = cli.json_all(
        ("stack", "resource", "list", "demo"),
        ("stack", "resource", "list", "demo", "--long"),
        ("stack", "resource", "list", "demo", "--filter", "type=Value"),
        ("stack", "resource", "show", "demo", "val"),
    )

    by_name = {r["resource_name"]: r for r in listed}
    assert set(by_name) == {"rand", "val", "test"}
    assert by_name["test"]["resource_type"] == "OS::Heat::TestResource"
    assert by_name["test"]["resource_status"] == "CREATE_COMPLETE"
    assert by_name["rand"]["physical_resource_id"].startswith("demo-rand-")
    assert {r["stack_name"] for r in long} == {"demo"}
    assert [r["resource_name"] for r in values] == ["val"]
    assert shown["resource_name"] == "val"
    assert shown["attributes"]["value"] == "from-env"
    assert shown["resource_status_reason"] == "state changed"
    assert shown["links"][0]["href"].endswith(f"/stacks/demo/{demo.id}/resources/val")


def test_resource_metadata(cli: Cli, hc: Any) -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {"m": {"type": "OS::Heat::None", "metadata": {"role": "db", "n": 2}}},
    }
    create_stack(hc, "meta", template)

    assert cli.json("stack", "resource", "metadata", "meta", "m") == {"role": "db", "n": 2}


def test_resource_signal_to_a_test_resource_is_refused(cli: Cli, demo: Any) -> None:
    done = cli("stack", "resource", "signal", "demo", "test", "--data", '{"a": 1}', check=False)

    assert done.returncode == 1
    assert "signal is not supported for resource." in done.stderr


def test_resource_mark_unhealthy(cli: Cli, hc: Any) -> None:
    create_stack(hc, "sick", DEMO)  # type: ignore[arg-type]

    cli("stack", "resource", "mark", "unhealthy", "sick", "val", "disk on fire")
    sick = hc.resources.get("sick", "val")
    cli("stack", "resource", "mark", "unhealthy", "--reset", "sick", "val")
    well = hc.resources.get("sick", "val")

    assert (sick.resource_status, sick.resource_status_reason) == ("CHECK_FAILED", "disk on fire")
    assert well.resource_status == "CHECK_COMPLETE"


def test_output_list_and_show(cli: Cli, demo: Any) -> None:
    listed, one, every = cli.json_all(
        ("stack", "output", "list", "demo"),
        ("stack", "output", "show", "demo", "greeting_out"),
        ("stack", "output", "show", "demo", "--all"),
    )

    assert sorted(listed, key=lambda o: o["output_key"]) == [
        {"output_key": "greeting_out", "description": "the greeting"},
        {"output_key": "random_out", "description": "No description given"},
    ]
    assert one == {
        "output_key": "greeting_out",
        "description": "the greeting",
        "output_value": "from-env",
    }
    assert every["greeting_out"]["output_value"] == "from-env"
    assert len(every["random_out"]["output_value"]) == 8


def test_template_environment_and_file_list(cli: Cli, demo: Any) -> None:
    template, environment, files = cli.run_all(
        ("stack", "template", "show", "demo"),
        ("stack", "environment", "show", "demo"),
        ("stack", "file", "list", "demo"),
    )

    assert yaml.safe_load(template.stdout) == DEMO_DICT
    shown_env = yaml.safe_load(environment.stdout)
    assert shown_env["parameters"] == {"greeting": "from-env"}
    assert shown_env["parameter_defaults"] == {"unused": "1"}
    assert yaml.safe_load(files.stdout) == {"files": FILES}


def test_template_validate(cli: Cli, demo: Any) -> None:
    hot, cfn = cli.run_all(
        ("orchestration", "template", "validate", "-t", "demo.yaml"),
        ("orchestration", "template", "validate", "-t", "cfn.yaml", "-f", "json"),
    )
    cli.write("broken.yaml", "heat_template_version: 2016-10-14\nresources:\n  r: {type: X::Y}\n")
    broken = cli("orchestration", "template", "validate", "-t", "broken.yaml", check=False)

    result = yaml.safe_load(hot.stdout)
    assert result["Description"] == "demo stack"
    assert result["Parameters"]["greeting"]["Type"] == "String"
    assert result["Parameters"]["greeting"]["Default"] == "hello"
    assert result["Parameters"]["greeting"]["NoEcho"] == "false"
    assert "Environment" in result
    cfn_result = json.loads(cfn.stdout)
    assert cfn_result["Description"] == "a CFN template"
    assert cfn_result["Parameters"]["Size"]["Type"] == "Number"
    assert broken.returncode == 1
    assert "X::Y" in broken.stderr


def test_resource_type_list_and_show(cli: Cli) -> None:
    listed, filtered, shown = cli.json_all(
        ("orchestration", "resource", "type", "list"),
        ("orchestration", "resource", "type", "list", "--filter", "name=Random"),
        ("orchestration", "resource", "type", "show", "OS::Heat::TestResource"),
    )

    names = {t["Resource Type"] for t in listed}
    assert {"OS::Heat::RandomString", "OS::Heat::Value", "OS::Heat::None"} <= names
    assert {"OS::Heat::TestResource"} <= names
    assert [t["Resource Type"] for t in filtered] == ["OS::Heat::RandomString"]
    assert shown["resource_type"] == "OS::Heat::TestResource"
    assert shown["properties"]["wait_secs"]["default"] == 0
    assert shown["properties"]["value"]["update_allowed"] is True
    assert shown["support_status"]["status"] == "SUPPORTED"
    assert "output" in shown["attributes"]


def test_resource_type_template_hot_and_cfn(cli: Cli) -> None:
    hot, cfn = cli.run_all(
        ("orchestration", "resource", "type", "show", "OS::Heat::Value", "--template-type", "hot"),
        ("orchestration", "resource", "type", "show", "OS::Heat::Value", "--template-type", "cfn"),
    )

    hot_template = yaml.safe_load(hot.stdout)
    cfn_template = yaml.safe_load(cfn.stdout)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(hot_template["heat_template_version"]))
    assert hot_template["resources"]["Value"]["type"] == "OS::Heat::Value"
    assert hot_template["outputs"]["value"]["value"] == {"get_attr": ["Value", "value"]}
    assert cfn_template["HeatTemplateFormatVersion"] == "2012-12-12"
    assert cfn_template["Resources"]["Value"]["Type"] == "OS::Heat::Value"
    assert cfn_template["Resources"]["Value"]["Properties"]["value"] == {"Ref": "value"}


def test_resource_type_show_unknown(cli: Cli) -> None:
    done = cli("orchestration", "resource", "type", "show", "OS::Nope", check=False)

    assert done.returncode == 1
    assert "Resource type not found: OS::Nope" in done.stderr


def test_template_version_and_function_list(cli: Cli) -> None:
    versions, functions = cli.json_all(
        ("orchestration", "template", "version", "list"),
        ("orchestration", "template", "function", "list", "heat_template_version.2016-10-14"),
    )

    by_version = {v["Version"]: v for v in versions}
    assert by_version["heat_template_version.2016-10-14"]["Type"] == "hot"
    assert by_version["heat_template_version.2016-10-14"]["Aliases"] == [
        "heat_template_version.newton"
    ]
    assert by_version["AWSTemplateFormatVersion.2010-09-09"]["Type"] == "cfn"
    assert "heat_template_version.2021-04-16" in by_version
    described = {f["Functions"]: f["Description"] for f in functions}
    assert described["get_file"] == "A function for including a file inline."
    assert {"get_param", "get_attr", "map_replace", "yaql", "if"} <= set(described)
    assert "str_replace_strict" not in described
