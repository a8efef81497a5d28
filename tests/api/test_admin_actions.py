"""An admin acts on another project's stack by its id, as Heat's default policy allows
(heat_integrationtests' admin actions): show, update, suspend, resume, resources, events and
delete through the admin's own project URL. By name alone an admin finds only its own
project's stacks, and nobody else reaches another project's stack at all."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import HeatServer, session_client
from tests.api.helpers import need, wait_stack

httpx = need("httpx")

OWNER, ADMIN, OTHER = "owning-project", "admin-project", "other-project"


def group(count: int) -> dict[str, Any]:
    return {
        "heat_template_version": "2013-05-23",
        "resources": {
            "random_group": {
                "type": "OS::Heat::ResourceGroup",
                "properties": {
                    "count": count,
                    "resource_def": {
                        "type": "OS::Heat::RandomString",
                        "properties": {"length": 30},
                    },
                },
            }
        },
    }


def test_an_admin_acts_on_another_projects_stack_by_id(heat_server: HeatServer) -> None:
    owner = session_client(heat_server.endpoint(OWNER))
    admin = session_client(heat_server.endpoint(ADMIN), headers={"X-Roles": "admin"})
    made = owner.stacks.create(stack_name="owned", template=group(2))
    identity = f"owned/{made['stack']['id']}"
    wait_stack(owner, identity, "CREATE_COMPLETE")

    assert admin.stacks.get(identity).stack_status == "CREATE_COMPLETE"
    admin.stacks.update(identity, template=group(3))
    wait_stack(admin, identity, "UPDATE_COMPLETE", timeout=60)
    admin.actions.suspend(identity)
    wait_stack(admin, identity, "SUSPEND_COMPLETE")
    admin.actions.resume(identity)
    wait_stack(admin, identity, "RESUME_COMPLETE")
    listed = {r.resource_name: r.resource_type for r in admin.resources.list(identity)}
    assert listed == {"random_group": "OS::Heat::ResourceGroup"}
    nested = admin.resources.list(identity, nested_depth=1)
    assert len([r for r in nested if r.resource_type == "OS::Heat::RandomString"]) == 3
    assert admin.events.list(identity)
    # The stack stays its owner's: the owner sees what the admin did.
    assert owner.stacks.get(identity).stack_status == "RESUME_COMPLETE"

    admin.stacks.delete(identity)
    wait_stack(owner, identity, "DELETE_COMPLETE", timeout=60)


def test_by_name_an_admin_finds_only_its_own_and_others_find_nothing(
    heat_server: HeatServer,
) -> None:
    owner = session_client(heat_server.endpoint(OWNER))
    made = owner.stacks.create(stack_name="private", template=group(1))
    stack_id = made["stack"]["id"]
    wait_stack(owner, f"private/{stack_id}", "CREATE_COMPLETE")
    with httpx.Client(base_url=heat_server.url, timeout=30.0) as http:
        admin = {"X-Roles": "admin"}
        assert http.get(f"/v1/{ADMIN}/stacks/private", headers=admin).status_code == 404
        for path in (f"/stacks/private/{stack_id}", f"/stacks/{stack_id}", "/stacks/private"):
            refused = http.get(f"/v1/{OTHER}{path}")
            assert refused.status_code == 404, (path, refused.text)
            assert refused.json()["error"]["type"] == "EntityNotFound"
            changed = http.put(f"/v1/{OTHER}{path}", json={"template": group(2)})
            assert changed.status_code == 404, (path, changed.text)
    assert owner.stacks.get(f"private/{stack_id}").stack_status == "CREATE_COMPLETE"
