"""Every registered resource type keeps the plugin contract: its schemas are what the
engine reads, what it can do is declared on the class (never found by probing), and its
handlers are coroutines the engine can await."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib import metadata

import pytest

from ember.engine.plugins import ENTRY_POINT_GROUP, PluginRegistry
from ember.engine.resource import AttributeSchema, ResourceContext, ResourcePlugin
from ember.resources.stack_resource import StackResource
from ember.template import PropertySchema

REGISTRY = PluginRegistry.from_entry_points()
TYPES = REGISTRY.names()
CAPABILITIES = (
    "any_properties",
    "dynamic_attributes",
    "update_failed_in_place",
    "signal_supported",
    "signal_credential",
    "adjustable",
)
HANDLERS = ("create", "update", "delete", "suspend", "resume", "check", "signal")


def plugin(name: str) -> type[ResourcePlugin]:
    found = REGISTRY.get(name)
    assert found is not None, name
    return found


def context(name: str) -> ResourceContext:
    return ResourceContext(
        name="r",
        type=name,
        stack_id="s",
        stack_name="s",
        project_id="p",
        uuid="00000000-0000-0000-0000-000000000000",
        properties={},
    )


def test_the_built_in_types_are_registered() -> None:
    names = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert {"OS::Heat::RandomString", "OS::Heat::ResourceGroup", "OS::Heat::TestResource"} <= names
    assert set(TYPES) == names


@pytest.mark.parametrize("name", TYPES)
def test_type_name_and_schemas(name: str) -> None:
    cls = plugin(name)
    assert issubclass(cls, ResourcePlugin)
    assert cls.type_name == name
    assert isinstance(cls.properties_schema, Mapping)
    assert all(isinstance(s, PropertySchema) for s in cls.properties_schema.values())
    assert all(isinstance(s, AttributeSchema) for s in cls.attributes_schema.values())
    assert "show" in cls.attribute_names()
    assert cls.support_status.get("status") in (
        "UNKNOWN",
        "SUPPORTED",
        "DEPRECATED",
        "UNSUPPORTED",
        "HIDDEN",
    )


@pytest.mark.parametrize("name", TYPES)
def test_capabilities_are_declared_booleans(name: str) -> None:
    cls = plugin(name)
    for capability in CAPABILITIES:
        assert isinstance(getattr(cls, capability), bool), capability
        # Declared on the base, so every type has it without anyone probing for it.
        assert capability in vars(ResourcePlugin), capability


@pytest.mark.parametrize("name", TYPES)
def test_signals_are_supported_exactly_when_handled(name: str) -> None:
    cls = plugin(name)
    overrides = cls.signal is not ResourcePlugin.signal
    assert cls.signal_supported == overrides


@pytest.mark.parametrize("name", TYPES)
def test_handlers_are_coroutines(name: str) -> None:
    cls = plugin(name)
    for handler in HANDLERS:
        assert inspect.iscoroutinefunction(getattr(cls, handler)), handler


@pytest.mark.parametrize("name", TYPES)
def test_views_answer_for_a_fresh_resource(name: str) -> None:
    """What the engine asks of a plugin outside a handler works before anything exists."""
    instance = plugin(name)(context(name))
    assert isinstance(instance.needs_replace({}), bool)
    assert instance.reference_id() is None or isinstance(instance.reference_id(), str)


def test_only_types_that_own_a_nested_stack_repair_in_place() -> None:
    for name in TYPES:
        cls = plugin(name)
        assert cls.update_failed_in_place == issubclass(cls, StackResource), name


def test_properties_unchecked_only_where_the_schema_is_not_known() -> None:
    unchecked = {name for name in TYPES if plugin(name).any_properties}
    # A template resource takes its template's parameters; OS::Heat::None takes anything.
    assert unchecked == {"OS::Heat::TemplateResource", "OS::Heat::None"}
    for name in unchecked:
        assert plugin(name).properties_schema == {}
