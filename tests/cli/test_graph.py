"""``ember stack graph``: the DOT it prints, read back by Graphviz itself (``dot -Tjson``),
and the PNG and SVG it draws."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from typing import Any

import pytest

from ember.client import Client
from ember.cmd.graph import COLOURS
from tests.api.helpers import wait_until
from tests.cli.conftest import Ember, explain

TEMPLATE = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "first": {"type": "OS::Heat::RandomString"},
        "second": {"type": "OS::Heat::RandomString", "depends_on": ["first"]},
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "depends_on": ["first"],
            "properties": {"count": 2, "resource_def": {"type": "OS::Heat::RandomString"}},
        },
        "broken": {
            "type": "OS::Heat::TestResource",
            "depends_on": ["second", "group"],
            "properties": {"fail": True},
        },
    },
}


@pytest.fixture(scope="module")
def failed_stack(client: Client) -> str:
    client.create_stack("pictured", TEMPLATE, disable_rollback=True)
    wait_until(
        lambda: client.show_stack("pictured", resolve_outputs=False),
        lambda s: not s.in_progress,
        timeout=60,
        what="pictured to finish",
    )
    return "pictured"


def dot_json(source: bytes) -> dict[str, Any]:
    dot = shutil.which("dot")
    if dot is None:
        pytest.fail("Graphviz's dot is not installed (.ci/run installs it)")
    done = subprocess.run([dot, "-Tjson"], input=source, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_the_dot_has_every_resource_its_dependencies_and_status(
    ember: Ember, failed_stack: str
) -> None:
    done = ember("stack", "graph", failed_stack)
    assert done.returncode == 0, explain(done)
    drawn = dot_json(done.stdout.encode())
    objects = drawn["objects"]
    nodes = {o["_gvid"]: o for o in objects if "nodes" not in o and "label" in o}
    by_label = {o["label"].split("\n")[0]: o for o in nodes.values()}
    assert set(by_label) == {"first", "second", "group", "broken", "0", "1"}
    assert by_label["broken"]["fillcolor"] == COLOURS["FAILED"]
    assert by_label["first"]["fillcolor"] == COLOURS["COMPLETE"]
    assert "OS::Heat::TestResource" in by_label["broken"]["label"]
    # The group's members sit in a cluster of their own.
    clusters = [o for o in objects if str(o.get("name", "")).startswith("cluster_")]
    assert len(clusters) == 1
    members = {objects[i]["label"].split("\n")[0] for i in clusters[0]["nodes"]}
    assert members == {"0", "1"}
    names = {gvid: o["label"].split("\n")[0] for gvid, o in nodes.items()}
    edges = {(names[e["tail"]], names[e["head"]]) for e in drawn["edges"]}
    assert {
        ("first", "second"),
        ("first", "group"),
        ("second", "broken"),
        ("group", "broken"),
    } <= edges
    assert ("group", "0") in edges or ("group", "1") in edges  # the group to its members


def test_png_and_svg_are_drawn(ember: Ember, failed_stack: str) -> None:
    png = ember.cwd / "pictured.png"
    done = ember("stack", "graph", failed_stack, "-o", str(png))
    assert done.returncode == 0, explain(done)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    svg = ember("stack", "graph", failed_stack, "--as", "svg")
    assert svg.returncode == 0, explain(svg)
    assert "<svg" in svg.stdout and "broken" in svg.stdout


def test_an_unknown_stack_is_not_found(ember: Ember) -> None:
    done = ember("stack", "graph", "no-such-stack")
    assert done.returncode == 1, explain(done)
    assert "no-such-stack" in done.stderr
