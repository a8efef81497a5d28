"""Ember's template language: a pure library (no I/O, no database, no engine).

Typical use::

    tmpl = Template.load(text, files)
    env = Environment.parse(environment).with_parameters(parameters)
    defn = define(tmpl, env, identity=StackIdentity(...), catalog=catalog)
    defn.diags.raise_if_errors()
"""

from ember.template.diagnostics import Diagnostic, Diagnostics, format_path
from ember.template.environment import Environment, merge_environment_files
from ember.template.functions.base import (
    OMIT,
    Function,
    FunctionError,
    ResolutionError,
    ResolveContext,
    ResourceResolver,
    resolve,
)
from ember.template.loader import parse_text
from ember.template.parameters import ParameterSchema, StackIdentity
from ember.template.properties import PropertyError, PropertySchema, apply_schema
from ember.template.stack_definition import (
    TOO_MANY_RESOURCES,
    AnyTypes,
    Limits,
    Members,
    StackDefinition,
    TypeCatalog,
    TypeInfo,
    build,
)
from ember.template.template import Template
from ember.template.validation import define, validate_response
from ember.template.versions import VERSIONS, TemplateVersion

__all__ = [
    "OMIT",
    "TOO_MANY_RESOURCES",
    "VERSIONS",
    "AnyTypes",
    "Diagnostic",
    "Diagnostics",
    "Environment",
    "Function",
    "FunctionError",
    "Limits",
    "Members",
    "ParameterSchema",
    "PropertyError",
    "PropertySchema",
    "ResolutionError",
    "ResolveContext",
    "ResourceResolver",
    "StackDefinition",
    "StackIdentity",
    "Template",
    "TemplateVersion",
    "TypeCatalog",
    "TypeInfo",
    "apply_schema",
    "build",
    "define",
    "format_path",
    "merge_environment_files",
    "parse_text",
    "resolve",
    "validate_response",
]
