"""A template document of a known version, before parameters are applied."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from ember.common import errors
from ember.template import loader, parameter_schemas, versions
from ember.template.diagnostics import Diagnostics
from ember.template.parameters import ParameterSchema


class Template:
    __slots__ = ("__dict__", "doc", "files", "keys", "version")

    def __init__(self, doc: Mapping[str, Any], files: Mapping[str, str] | None = None) -> None:
        self.doc = dict(doc)
        self.version = versions.detect(self.doc)
        self.files = dict(files or {})
        self.keys = self.version.sections()

    @classmethod
    def load(
        cls,
        source: str | bytes | Mapping[str, Any],
        files: Mapping[str, str] | None = None,
        *,
        max_size: int | None = loader.DEFAULT_MAX_SIZE,
    ) -> Template:
        """Load YAML/JSON text (or a parsed mapping) and detect its version."""
        # A parsed mapping (a JSON request body) gets the same depth limit as text.
        doc = loader.load_mapping(
            dict(source) if isinstance(source, Mapping) else source, max_size=max_size
        )
        return cls(doc, files)

    @property
    def kind(self) -> str:
        return self.version.kind

    def section(self, canonical: str) -> Any:
        key = self.keys.get(canonical)
        return None if key is None else self.doc.get(key)

    def section_key(self, canonical: str) -> str:
        return self.keys.get(canonical, canonical)

    @property
    def description(self) -> str:
        value = self.section("description")
        return "No description" if value is None else str(value)

    def check_sections(self, diags: Diagnostics) -> None:
        known = set(self.keys.values())
        for key in self.doc:
            if key not in known:
                diags.add((), f"The template section is invalid: {key}")
        for canonical in ("resources", "outputs", "conditions", "mappings", "parameters"):
            value = self.section(canonical)
            if value is not None and not isinstance(value, dict):
                diags.add(
                    (self.section_key(canonical),),
                    f"The {self.section_key(canonical)} section must be a map",
                )
        desc = self.section("description")
        if desc is not None and not isinstance(desc, str):
            diags.add((self.section_key("description"),), "The description must be a string")
        mappings = self.section("mappings")
        if isinstance(mappings, dict):
            for name, mapping in mappings.items():
                if not isinstance(mapping, dict) or not all(
                    isinstance(v, dict) for v in mapping.values()
                ):
                    diags.add(("Mappings", str(name)), "Each mapping must be a map of maps")

    @cached_property
    def _parameter_parse(self) -> tuple[dict[str, ParameterSchema], Diagnostics]:
        diags = Diagnostics(errors.InvalidSchemaError)
        section = self.section("parameters")
        if self.kind == "cfn":
            return parameter_schemas.parse_cfn(section, self.version, diags), diags
        return parameter_schemas.parse_hot(section, self.version, diags), diags

    def parameter_schemas(self, diags: Diagnostics | None = None) -> dict[str, ParameterSchema]:
        schemas, found = self._parameter_parse
        if diags is not None:
            diags.extend(found)
        return schemas

    def parameter_groups(self, diags: Diagnostics) -> list[dict[str, Any]]:
        return parameter_schemas.parse_groups(
            self.section("parameter_groups"), self.parameter_schemas(), diags
        )

    def mappings(self) -> dict[str, Any]:
        value = self.section("mappings")
        return value if isinstance(value, dict) else {}

    def raw_resources(self) -> dict[Any, Any]:
        value = self.section("resources")
        return value if isinstance(value, dict) else {}

    def raw_outputs(self) -> dict[Any, Any]:
        value = self.section("outputs")
        return value if isinstance(value, dict) else {}

    def raw_conditions(self) -> dict[Any, Any]:
        value = self.section("conditions")
        return value if isinstance(value, dict) else {}
