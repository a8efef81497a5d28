"""A template resource standing in for another type (Heat's facade): its template must offer
that type's interface, and Heat's own words say where it does not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.conftest import make_definition

TEMPLATE = """\
heat_template_version: 2015-10-15
resources:
  thisone:
    type: OS::Thingy
    properties:
      one: pre
      two: post
outputs:
  one:
    value: {get_attr: [thisone, here-it-is]}
"""
FACADE = """\
heat_template_version: 2015-04-30
parameters:
  one: {type: string}
  two: {type: string}
outputs:
  here-it-is:
    value: noop
"""
# The global mapping is the facade; the resource's own entry the template made for it.
ENVIRONMENT = {
    "resource_registry": {
        "OS::Thingy": "facade.yaml",
        "resources": {"thisone": {"OS::Thingy": "concrete.yaml"}},
    }
}


def concrete(parameters: str, outputs: str = "outputs:\n  here-it-is:\n    value: x\n") -> str:
    return f"heat_template_version: 2015-04-30\nparameters:\n{parameters}{outputs}"


def problems(template: str, provider: str, environment: Any = ENVIRONMENT) -> list[str]:
    files = {"facade.yaml": FACADE, "concrete.yaml": provider}
    return make_definition(template, files=files, environment=environment).diags.messages()


def without_two() -> str:
    return TEMPLATE.replace("      two: post\n", "")


@pytest.mark.parametrize(
    ("template", "provider", "expected"),
    [
        (
            without_two(),
            concrete("  one: {type: string}\n"),
            "Required property two for facade OS::Thingy missing in provider",
        ),
        (
            TEMPLATE,
            concrete("  one: {type: string}\n  two: {type: string}\n", outputs=""),
            "Attribute here-it-is for facade OS::Thingy missing in provider",
        ),
        (
            TEMPLATE,
            concrete("  one: {type: string}\n  two: {type: number}\n"),
            "Property two type mismatch between facade OS::Thingy (string) and provider (number)",
        ),
        (
            TEMPLATE,
            concrete("  one: {type: string}\n  two: {type: string}\n  three: {type: string}\n"),
            "Provider requires property three unknown in facade OS::Thingy",
        ),
    ],
)
def test_the_provider_must_offer_the_facades_interface(
    template: str, provider: str, expected: str
) -> None:
    # Reported first; the properties' own checks may follow.
    assert problems(template, provider)[0] == expected


def test_a_provider_offering_the_interface_is_accepted() -> None:
    extra = "  three: {type: string, default: x}\n"
    assert (
        problems(TEMPLATE, concrete("  one: {type: string}\n  two: {type: string}\n" + extra)) == []
    )


def test_without_a_facade_nothing_is_compared() -> None:
    only_global = {"resource_registry": {"OS::Thingy": "concrete.yaml"}}
    provider = concrete("  one: {type: string}\n  two: {type: string}\n", outputs="")
    found = problems(TEMPLATE, provider, only_global)
    # A template resource's attributes are read as they are, as in Heat: one its template
    # does not output fails when it is read.
    assert found == []
