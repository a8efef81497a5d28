"""``GET .../stacks/{name}/{id}/failures``: root cause first, across nested stacks."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import need, wait_stack
from tests.cli.templates import LEAF, MIDDLE, TOP

httpx = need("httpx")


def create(http: Any, name: str, template: str, files: dict[str, str]) -> str:
    made = http.post(
        "/stacks",
        json={"stack_name": name, "template": template, "files": files},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["stack"]["id"])


def test_the_deepest_failure_comes_first_with_its_parents(http: Any, hc: Any) -> None:
    # Named by their URLs, as heatclient sends the files a template names.
    middle, leaf = "file:///t/nested/middle.yaml", "file:///t/nested/leaf.yaml"
    files = {middle: MIDDLE.replace("leaf.yaml", leaf), leaf: LEAF}
    stack_id = create(http, "deep", TOP.replace("nested/middle.yaml", middle), files)
    wait_stack(hc, "deep", "CREATE_FAILED", timeout=60)

    answer = http.get(f"/stacks/deep/{stack_id}/failures")
    assert answer.status_code == 200, answer.text
    failures = answer.json()["failures"]
    assert [f["path"] for f in failures] == ["deep/middle/inner/bad"]
    cause = failures[0]
    assert cause["resource_status"] == "CREATE_FAILED"
    assert cause["resource_type"] == "OS::Heat::TestResource"
    assert "Test Resource failed bad" in cause["resource_status_reason"]
    assert cause["stack_id"] != stack_id
    assert [p["path"] for p in cause["parents"]] == ["deep/middle/inner", "deep/middle", "deep"]
    assert [p["status"] for p in cause["parents"]] == ["CREATE_FAILED"] * 3
    assert cause["parents"][-1]["reason"].startswith("Resource CREATE failed")
    nested = http.get(cause["links"][0]["href"], follow_redirects=True)
    assert nested.status_code == 200
    assert nested.json()["stack"]["id"] == cause["stack_id"]


def test_two_causes_side_by_side_and_a_complete_stack_has_none(http: Any, hc: Any) -> None:
    two = """\
heat_template_version: 2016-10-14
resources:
  ok:
    type: OS::Heat::None
  left:
    type: OS::Heat::TestResource
    properties: {fail: true}
  right:
    type: OS::Heat::TestResource
    properties: {fail: true}
"""
    stack_id = create(http, "two", two, {})
    wait_stack(hc, "two", "CREATE_FAILED", timeout=60)
    failures = http.get(f"/stacks/two/{stack_id}/failures").json()["failures"]
    assert [f["path"] for f in failures] == ["two/left", "two/right"]
    assert all([p["path"] for p in f["parents"]] == ["two"] for f in failures)

    fine = create(http, "fine", "heat_template_version: 2016-10-14\nresources: {}\n", {})
    wait_stack(hc, "fine", "CREATE_COMPLETE", timeout=60)
    assert http.get(f"/stacks/fine/{fine}/failures").json() == {"failures": []}


def test_an_unknown_stack_is_heats_not_found(http: Any) -> None:
    answer = http.get("/stacks/nothing/00000000-0000-0000-0000-000000000000/failures")
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "EntityNotFound"
