"""OS::Heat::StructuredDeployment: a software deployment of a structured config (a map)
whose inputs are substituted by the deployment itself, for tools with no notion of inputs
(cfn-init's metadata, say): every ``{get_input: name}`` in the config (``input_key`` names
the function) becomes the input's value. With ``input_values_validate: STRICT`` an input
with no value is an error; LAX makes it null."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.resources.software_deployment import SoftwareDeployment
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues

LAX, STRICT = "LAX", "STRICT"
STRUCTURED_PROPERTIES = {
    "input_key": PropertySchema(
        "string",
        "Name of key to use for substituting inputs during deployment.",
        default="get_input",
    ),
    "input_values_validate": PropertySchema(
        "string",
        "Perform a check on the input values passed to verify that each required input has "
        "a corresponding value. When the property is set to STRICT and no value is passed, "
        "an exception is raised.",
        default=LAX,
        constraints=(AllowedValues(values=(LAX, STRICT)),),
    ),
}


def substitute_inputs(snippet: Any, inputs: Mapping[str, Any], input_key: str, strict: bool) -> Any:
    """``snippet`` with each one-key map ``{input_key: name}`` replaced by that input."""
    if isinstance(snippet, Mapping):
        if len(snippet) == 1:
            ((fn, arg),) = snippet.items()
            if fn == input_key and isinstance(arg, str):
                if strict and arg not in inputs:
                    raise errors.UserParameterMissing(key=arg)
                return inputs.get(arg)
        return {k: substitute_inputs(v, inputs, input_key, strict) for k, v in snippet.items()}
    if isinstance(snippet, list):
        return [substitute_inputs(v, inputs, input_key, strict) for v in snippet]
    return snippet


class StructuredDeployment(SoftwareDeployment):
    type_name = "OS::Heat::StructuredDeployment"
    description = (
        "A deployment like OS::Heat::SoftwareDeployment which substitutes the input values "
        "into the config defined by an OS::Heat::StructuredConfig resource."
    )
    properties_schema = {**SoftwareDeployment.properties_schema, **STRUCTURED_PROPERTIES}

    def empty_config(self) -> Any:
        return {}

    def derived_config(
        self, action: str, source: Mapping[str, Any], inputs: list[dict[str, Any]]
    ) -> Any:
        values = {str(i["name"]): i.get("value") for i in inputs}
        key = str(self.ctx.properties.get("input_key") or "get_input")
        strict = self.ctx.properties.get("input_values_validate") == STRICT
        return substitute_inputs(source.get("config"), values, key, strict)
