"""The update plan as a table: (what is stored, what is wanted, what the plugin can do) ->
the change. The runner and the update preview both follow it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ember.engine.plan import (
    PREVIEW,
    Capabilities,
    Change,
    Stored,
    Wanted,
    changed_properties,
    plan,
    replacement,
)

TYPE = "OS::Heat::TestResource"
OTHER = "OS::Heat::RandomString"
OLD = {"value": "a", "size": 1}


def replaces(*names: str) -> Any:
    """A plugin that must be replaced when any of ``names`` changes."""

    def decide(changed: Mapping[str, Any]) -> bool:
        return any(n in changed for n in names)

    return decide


def stored(**fields: Any) -> Stored:
    base: dict[str, Any] = {
        "action": "CREATE",
        "status": "COMPLETE",
        "physical_id": "phys-1",
        "properties": OLD,
        "plugin_type": TYPE,
    }
    base.update(fields)
    return Stored(**base)


def wanted(properties: Mapping[str, Any] = OLD, **fields: Any) -> Wanted:
    return Wanted(
        properties=dict(properties), plugin_type=fields.pop("plugin_type", TYPE), **fields
    )


CASES = [
    # (name, stored, wanted, capabilities, change, refused)
    ("nothing changed", stored(), wanted(), Capabilities(), Change.NONE, None),
    (
        "a property changed in place",
        stored(),
        wanted({"value": "b", "size": 1}),
        Capabilities(replaces_on=replaces("size")),
        Change.UPDATE,
        None,
    ),
    (
        "a property that forces replacement",
        stored(),
        wanted({"value": "a", "size": 2}),
        Capabilities(replaces_on=replaces("size")),
        Change.REPLACE,
        None,
    ),
    (
        "the type resolves to another plugin",
        stored(),
        wanted(plugin_type=OTHER),
        Capabilities(),
        Change.REPLACE,
        None,
    ),
    (
        "never created",
        stored(action="INIT", physical_id=None, properties=None),
        wanted(),
        Capabilities(),
        Change.CREATE,
        None,
    ),
    (
        "a failed create that made nothing",
        stored(status="FAILED", physical_id=None, properties=None),
        wanted(),
        Capabilities(),
        Change.CREATE,
        None,
    ),
    (
        "failed: replaced",
        stored(status="FAILED"),
        wanted(),
        Capabilities(),
        Change.REPLACE,
        None,
    ),
    (
        "failed nested stack: repaired in place",
        stored(status="FAILED"),
        wanted(),
        Capabilities(update_failed_in_place=True, replaces_on=replaces("size")),
        Change.REPAIR,
        None,
    ),
    (
        "failed nested stack with unknown properties: repaired with all of them",
        stored(status="FAILED", properties=None),
        wanted(),
        Capabilities(update_failed_in_place=True, replaces_on=replaces("size")),
        Change.REPAIR,
        None,
    ),
    (
        "marked unhealthy",
        stored(action="CHECK", status="FAILED", needs_replace=True),
        wanted(),
        Capabilities(update_failed_in_place=True),
        Change.REPLACE,
        None,
    ),
    (
        "what a nested stack is made of changed",
        stored(),
        wanted(),
        Capabilities(definition_changed=True),
        Change.UPDATE,
        None,
    ),
    (
        "a snapshot brings back other data",
        stored(data={"value": "x"}),
        wanted(restore_data={"value": "y"}),
        Capabilities(),
        Change.REPLACE,
        None,
    ),
    (
        "a snapshot of the data as it is",
        stored(data={"value": "x"}),
        wanted(restore_data={"value": "x"}),
        Capabilities(),
        Change.NONE,
        None,
    ),
    (
        "update restricted",
        stored(),
        wanted({"value": "b", "size": 1}),
        Capabilities(restricted=frozenset({"update"})),
        Change.RESTRICTED,
        "update",
    ),
    (
        "replace restricted",
        stored(),
        wanted({"value": "a", "size": 2}),
        Capabilities(replaces_on=replaces("size"), restricted=frozenset({"replace"})),
        Change.RESTRICTED,
        "replace",
    ),
    (
        "restricting updates does not stop a replacement",
        stored(),
        wanted({"value": "a", "size": 2}),
        Capabilities(replaces_on=replaces("size"), restricted=frozenset({"update"})),
        Change.REPLACE,
        None,
    ),
    (
        "restrictions do not stop a first create",
        stored(action="INIT", physical_id=None, properties=None),
        wanted(),
        Capabilities(restricted=frozenset({"update", "replace"})),
        Change.CREATE,
        None,
    ),
]


@pytest.mark.parametrize(
    ("stored_", "wanted_", "caps", "change", "refused"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_plan(
    stored_: Stored, wanted_: Wanted, caps: Capabilities, change: Change, refused: str | None
) -> None:
    decided = plan(stored_, wanted_, caps)
    assert decided.change == change
    assert decided.refused == refused


def test_the_changed_properties_are_given_with_their_new_values() -> None:
    decided = plan(stored(), wanted({"value": "b"}), Capabilities())
    assert decided.change == Change.UPDATE
    assert decided.changed == {"value": "b", "size": None}
    assert changed_properties({"a": 1}, {"a": 1, "b": 2}) == {"b": 2}


def test_a_replacement_found_during_an_update_respects_restrictions() -> None:
    assert replacement(Capabilities(), {}).change == Change.REPLACE
    restricted = replacement(Capabilities(restricted=frozenset({"replace"})), {})
    assert (restricted.change, restricted.refused) == (Change.RESTRICTED, "replace")


def test_every_change_has_a_preview_name() -> None:
    assert set(PREVIEW) == set(Change)
    assert set(PREVIEW.values()) <= {"unchanged", "updated", "replaced"}
