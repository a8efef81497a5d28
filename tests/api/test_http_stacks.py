"""Stack routes over raw HTTP, where status codes, headers and bodies matter more than what
the clients make of them: 201 + Location, 302 look-ups that keep the query string,
202/204 and 200 ``null``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.conftest import HeatServer
from tests.api.helpers import DEMO_DICT, NONE_DICT, UUID, need, wait_until

httpx = need("httpx")


def stack_status(http: httpx.Client, location: str) -> dict[str, Any]:
    return http.get(location, params={"resolve_outputs": "false"}).json()["stack"]  # type: ignore[no-any-return]


def wait_done(http: httpx.Client, location: str, action: str) -> dict[str, Any]:
    wait_until(
        lambda: stack_status(http, location),
        lambda s: (
            s["stack_status"].startswith(action + "_")
            and not s["stack_status"].endswith("IN_PROGRESS")
        ),
    )
    return http.get(location).json()["stack"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def demo(http: httpx.Client) -> str:
    """A completed demo stack; its canonical URL."""
    created = http.post("/stacks", json={"stack_name": "demo", "template": DEMO_DICT})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert wait_done(http, location, "CREATE")["stack_status"] == "CREATE_COMPLETE"
    return location


def test_create_answers_201_with_an_absolute_location(
    http: httpx.Client, heat_server: HeatServer, project: str
) -> None:
    response = http.post("/stacks", json={"stack_name": "made", "template": NONE_DICT})

    assert response.status_code == 201
    location = response.headers["location"]
    prefix = f"{heat_server.url}/v1/{project}/stacks/made/"
    assert location.startswith(prefix)
    stack_id = location.removeprefix(prefix)
    assert re.fullmatch(UUID, stack_id)
    assert response.json() == {
        "stack": {"id": stack_id, "links": [{"href": location, "rel": "self"}]}
    }


def test_show_has_heat_stack_keys(http: httpx.Client, demo: str, project: str) -> None:
    stack = http.get(demo).json()["stack"]

    assert stack["stack_name"] == "demo"
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert stack["stack_status_reason"] == "Stack CREATE completed successfully"
    assert stack["description"] == stack["template_description"] == "demo stack"
    assert stack["links"] == [{"href": demo, "rel": "self"}]
    assert stack["parameters"]["greeting"] == "hello"
    assert stack["parameters"]["OS::stack_name"] == "demo"
    assert stack["parameters"]["OS::stack_id"] == stack["id"]
    assert stack["parameters"]["OS::project_id"] == project
    assert stack["disable_rollback"] is True
    assert stack["capabilities"] == [] and stack["notification_topics"] == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stack["creation_time"])
    outputs = {o["output_key"]: o for o in stack["outputs"]}
    assert outputs["greeting_out"] == {
        "output_key": "greeting_out",
        "description": "the greeting",
        "output_value": "hello",
    }
    assert outputs["random_out"]["description"] == "No description given"
    assert len(outputs["random_out"]["output_value"]) == 8


def test_show_without_resolving_outputs(http: httpx.Client, demo: str) -> None:
    stack = http.get(demo, params={"resolve_outputs": "False"}).json()["stack"]

    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert "outputs" not in stack


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_lookup_by_name_redirects_for_every_method(
    http: httpx.Client, demo: str, method: str
) -> None:
    response = http.request(method, "/stacks/demo")

    assert response.status_code == 302
    assert response.headers["location"] == demo


def test_lookup_by_id_redirects_to_the_canonical_url(http: httpx.Client, demo: str) -> None:
    stack_id = demo.rsplit("/", 1)[1]

    response = http.get(f"/stacks/{stack_id}")

    assert response.status_code == 302
    assert response.headers["location"] == demo


def test_redirect_keeps_the_query_string(http: httpx.Client, demo: str) -> None:
    response = http.get("/stacks/demo", params={"resolve_outputs": "False"})

    assert response.status_code == 302
    assert response.headers["location"] == f"{demo}?resolve_outputs=False"


@pytest.mark.parametrize("sub", ["events", "resources", "template", "environment", "files"])
def test_sub_path_lookup_redirects_with_query(http: httpx.Client, demo: str, sub: str) -> None:
    response = http.get(f"/stacks/demo/{sub}?limit=1&sort_dir=desc")

    assert response.status_code == 302
    assert response.headers["location"] == f"{demo}/{sub}?limit=1&sort_dir=desc"


def test_redirect_body_is_json_when_asked(http: httpx.Client, demo: str) -> None:
    response = http.get("/stacks/demo", headers={"Accept": "application/json"})

    assert response.status_code == 302
    body = response.json()
    assert body["code"] == "302 Found"
    assert body["title"] == "Found"
    assert demo in body["message"]


def test_lookup_by_arn(http: httpx.Client, demo: str, project: str) -> None:
    stack_id = demo.rsplit("/", 1)[1]
    arn = f"arn:openstack:heat::{project}:stacks/demo/{stack_id}"

    response = http.get(f"/stacks/{quote(arn, safe=':/')}")

    assert response.status_code == 302
    assert response.headers["location"] == demo


def test_wrong_name_with_a_right_id_is_404(http: httpx.Client, demo: str) -> None:
    stack_id = demo.rsplit("/", 1)[1]

    response = http.get(f"/stacks/not-demo/{stack_id}")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "EntityNotFound"


def test_actions_answer_200_null(http: httpx.Client) -> None:
    location = http.post("/stacks", json={"stack_name": "acted", "template": NONE_DICT}).headers[
        "location"
    ]
    wait_done(http, location, "CREATE")

    suspended = http.post(f"{location}/actions", json={"suspend": None})
    assert (suspended.status_code, suspended.text) == (200, "null")
    assert suspended.headers["content-type"].startswith("application/json")
    assert wait_done(http, location, "SUSPEND")["stack_status"] == "SUSPEND_COMPLETE"

    resumed = http.post(f"{location}/actions", json={"resume": None})
    assert (resumed.status_code, resumed.text) == (200, "null")
    assert wait_done(http, location, "RESUME")["stack_status"] == "RESUME_COMPLETE"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "No action specified"),
        ({"suspend": None, "resume": None}, "Multiple actions specified"),
        ({"nope": None}, "Invalid action nope specified"),
    ],
)
def test_bad_actions_are_400(
    http: httpx.Client, demo: str, body: dict[str, Any], message: str
) -> None:
    response = http.post(f"{demo}/actions", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


def test_signal_to_a_resource_without_signals_is_400(http: httpx.Client, demo: str) -> None:
    response = http.post(f"{demo}/resources/test/signal", json={"data": 1})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "ResourceActionNotSupported"
    assert error["message"] == "signal is not supported for resource."


def test_mark_unhealthy_answers_200_null_and_sets_check_failed(http: httpx.Client) -> None:
    location = http.post("/stacks", json={"stack_name": "sick", "template": DEMO_DICT}).headers[
        "location"
    ]
    wait_done(http, location, "CREATE")

    marked = http.patch(
        f"{location}/resources/val",
        json={"mark_unhealthy": True, "resource_status_reason": "feeling poorly"},
    )
    shown = http.get(f"{location}/resources/val").json()["resource"]
    refused = http.patch(f"{location}/resources/val", json={"mark_unhealthy": True, "x": 1})

    assert (marked.status_code, marked.text) == (200, "null")
    assert shown["resource_status"] == "CHECK_FAILED"
    assert shown["resource_status_reason"] == "feeling poorly"
    assert refused.status_code == 400


def test_update_answers_202_and_patch_reuses_the_stored_template(http: httpx.Client) -> None:
    location = http.post("/stacks", json={"stack_name": "changing", "template": DEMO_DICT}).headers[
        "location"
    ]
    wait_done(http, location, "CREATE")

    put = http.put(location, json={"template": DEMO_DICT, "parameters": {"greeting": "put"}})
    after_put = wait_done(http, location, "UPDATE")
    patch = http.patch(location, json={"parameters": {"greeting": "patched"}})
    after_patch = wait_done(http, location, "UPDATE")
    output = http.get(f"{location}/outputs/greeting_out").json()

    assert put.status_code == 202
    assert after_put["stack_status"] == "UPDATE_COMPLETE"
    assert patch.status_code == 202
    assert after_patch["stack_status"] == "UPDATE_COMPLETE"
    assert output == {
        "output": {
            "output_key": "greeting_out",
            "description": "the greeting",
            "output_value": "patched",
        }
    }


def test_update_preview_lists_resource_changes(http: httpx.Client, demo: str) -> None:
    response = http.put(
        f"{demo}/preview", json={"template": DEMO_DICT, "parameters": {"greeting": "bye"}}
    )

    assert response.status_code == 200
    changes = response.json()["resource_changes"]
    assert set(changes) == {"added", "deleted", "replaced", "unchanged", "updated"}
    assert [r["resource_name"] for r in changes["updated"]] == ["val"]
    assert sorted(r["resource_name"] for r in changes["unchanged"]) == ["rand", "test"]
    assert changes["added"] == changes["deleted"] == changes["replaced"] == []


def test_update_preview_shows_the_stored_resources(
    http: httpx.Client, demo: str, project: str
) -> None:
    stored = {r["resource_name"]: r for r in http.get(f"{demo}/resources").json()["resources"]}

    changes = http.patch(f"{demo}/preview", json={}).json()["resource_changes"]

    unchanged = {r["resource_name"]: r for r in changes["unchanged"]}
    assert set(unchanged) == set(stored)
    for name, resource in unchanged.items():
        assert resource["physical_resource_id"] == stored[name]["physical_resource_id"]
        assert resource["resource_identity"]["path"] == f"/resources/{name}"
        assert resource["resource_identity"]["tenant"] == project
        assert resource["creation_time"] == stored[name]["creation_time"]


def test_create_preview_lists_resources_without_creating(http: httpx.Client) -> None:
    response = http.post("/stacks/preview", json={"stack_name": "ghost", "template": DEMO_DICT})

    assert response.status_code == 200
    stack = response.json()["stack"]
    assert stack["stack_name"] == "ghost"
    assert sorted(r["resource_name"] for r in stack["resources"]) == ["rand", "test", "val"]
    assert http.get("/stacks/ghost").status_code == 404


def test_unknown_output_is_404(http: httpx.Client, demo: str) -> None:
    response = http.get(f"{demo}/outputs/nope")

    assert response.status_code == 404


def test_delete_answers_204_then_the_stack_is_gone(http: httpx.Client) -> None:
    location = http.post("/stacks", json={"stack_name": "doomed", "template": NONE_DICT}).headers[
        "location"
    ]
    wait_done(http, location, "CREATE")

    deleted = http.delete(location)
    gone = wait_until(
        lambda: http.get(location).json()["stack"],
        lambda s: s["stack_status"] == "DELETE_COMPLETE",
    )
    again = http.delete(location)

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert gone["deletion_time"] is not None
    assert "outputs" not in gone
    assert http.get("/stacks/doomed").status_code == 404
    assert again.status_code == 404


def test_list_pages_with_a_next_link(http: httpx.Client, heat_server: HeatServer) -> None:
    for name in ("page-a", "page-b", "page-c"):
        http.post("/stacks", json={"stack_name": name, "template": NONE_DICT})
    query = {
        "limit": "2",
        "sort_keys": "stack_name",
        "sort_dir": "asc",
        "name": ["page-a", "page-b", "page-c"],
    }

    first = http.get("/stacks", params=query).json()
    following = httpx.get(first["links"][0]["href"]).json()

    assert [s["stack_name"] for s in first["stacks"]] == ["page-a", "page-b"]
    assert first["links"][0]["rel"] == "next"
    assert first["links"][0]["href"].startswith(heat_server.url)
    assert f"marker={first['stacks'][1]['id']}" in first["links"][0]["href"]
    assert [s["stack_name"] for s in following["stacks"]] == ["page-c"]
    assert "links" not in following


def test_list_with_count_and_summary_keys(http: httpx.Client, demo: str) -> None:
    body = http.get("/stacks", params={"with_count": "true", "name": "demo"}).json()

    assert body["count"] == 1
    (item,) = body["stacks"]
    assert item["links"] == [{"href": demo, "rel": "self"}]
    assert item["description"] == ""
    assert "outputs" not in item and "parameters" not in item
    assert {"id", "stack_name", "stack_status", "creation_time", "stack_owner"} <= set(item)


def test_a_create_sent_again_with_its_idempotency_key_answers_with_the_first_stack(
    http: httpx.Client,
) -> None:
    body = {"stack_name": "once", "template": NONE_DICT}
    headers = {"X-Idempotency-Key": "create-once-1"}
    first = http.post("/stacks", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = http.post("/stacks", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    # Without the key the same create is a conflict, as in Heat.
    plain = http.post("/stacks", json=body)
    assert plain.status_code == 409, plain.text
    assert plain.json()["error"]["type"] == "StackExists"
    named = [s for s in http.get("/stacks").json()["stacks"] if s["stack_name"] == "once"]
    assert [s["id"] for s in named] == [first.json()["stack"]["id"]]


def test_an_idempotency_key_given_for_another_stack_is_a_conflict(http: httpx.Client) -> None:
    headers = {"X-Idempotency-Key": "create-twice-2"}
    first = http.post(
        "/stacks", json={"stack_name": "first-of-key", "template": NONE_DICT}, headers=headers
    )
    assert first.status_code == 201, first.text
    other = http.post(
        "/stacks", json={"stack_name": "second-of-key", "template": NONE_DICT}, headers=headers
    )
    assert other.status_code == 409, other.text
    assert other.json()["error"]["type"] == "IdempotencyKeyInUse"
    assert "first-of-key" in other.json()["error"]["message"]


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_bad_idempotency_key_is_refused(http: httpx.Client, key: str) -> None:
    response = http.post(
        "/stacks",
        json={"stack_name": "badkey", "template": NONE_DICT},
        headers={"X-Idempotency-Key": key},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "HTTPBadRequest"
