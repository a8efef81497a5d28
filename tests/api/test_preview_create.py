"""``POST /stacks/preview`` through python-heatclient, as Heat answers it: nothing exists
yet (no times), each resource's attributes are named, and a template resource is the list
of its nested stack's resources, that stack named ``<stack>-<resource>``."""

from __future__ import annotations

from typing import Any

MAIN = """\
heat_template_version: 2015-04-30
parameters:
  incoming:
    type: string
resources:
  main:
    type: nested.yaml
    properties:
      value: {get_param: incoming}
  one:
    type: OS::Heat::TestResource
    properties:
      value: fred
"""
NESTED = """\
heat_template_version: 2015-04-30
parameters:
  value:
    type: string
resources:
  nested:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: value}
outputs:
  output:
    value: {get_attr: [nested, output]}
"""


def test_a_preview_shows_what_would_be_made_down_the_nested_stacks(hc: Any, project: str) -> None:
    result = hc.stacks.preview(
        stack_name="previewed",
        template=MAIN,
        files={"nested.yaml": NESTED},
        environment={"parameters": {"incoming": "abc"}},
        disable_rollback=True,
    ).to_dict()
    assert result["id"] == "None"
    assert result["parameters"]["incoming"] == "abc"
    [nested] = [r for r in result["resources"] if isinstance(r, list)]
    [one] = [r for r in result["resources"] if isinstance(r, dict)]
    [inner] = nested
    for res, stack_name in ((one, "previewed"), (inner, "previewed-main")):
        assert res["stack_name"] == stack_name
        assert (res["resource_action"], res["resource_status"]) == ("INIT", "COMPLETE")
        assert res["creation_time"] is None and res["updated_time"] is None
        assert "output" in res["attributes"]
        assert res["resource_identity"]["tenant"] == project
        assert res["resource_identity"]["stack_id"] == "None"
        assert res["stack_identity"]["stack_name"] == stack_name
    assert "parent_resource" not in one
    assert one["properties"]["value"] == "fred"
    assert inner["parent_resource"] == "main"
    assert inner["resource_name"] == "nested"
    assert inner["properties"]["value"] == "abc"  # the template resource's property, passed down
