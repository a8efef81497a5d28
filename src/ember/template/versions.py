"""Every template version Ember understands, with its sections and function tables.

Tables are built by copying the previous version's (never by mutating a shared dict), and
frozen, so a newer version can never change an older one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ember.common import errors
from ember.template.functions import cfn, conditions, hot_collections, hot_refs, hot_strings
from ember.template.functions.base import Function, Removed
from ember.template.functions.yaql_fn import Yaql

FunctionTable = Mapping[str, type[Function]]


def _table(base: Mapping[str, type[Function]] | None = None, **changes: Any) -> FunctionTable:
    merged = dict(base or {})
    merged.update({name.replace("__", "::"): fn for name, fn in changes.items()})
    return MappingProxyType(merged)


def _removed(*names: str) -> dict[str, type[Function]]:
    return dict.fromkeys(names, Removed)


_HOT_20130523: FunctionTable = MappingProxyType(
    {
        "Fn::GetAZs": cfn.GetAZs,
        "get_param": hot_refs.GetParam,
        "get_resource": hot_refs.GetResource,
        "Ref": cfn.Ref,
        "get_attr": hot_refs.GetAttThenSelect,
        "Fn::Select": cfn.Select,
        "Fn::Join": cfn.CfnJoin,
        "list_join": hot_strings.Join,
        "Fn::Split": cfn.Split,
        "str_replace": hot_strings.Replace,
        "Fn::Replace": cfn.CfnReplace,
        "Fn::Base64": cfn.Base64,
        "Fn::MemberListToMap": cfn.MemberListToMap,
        "resource_facade": hot_refs.ResourceFacade,
        "Fn::ResourceFacade": cfn.CfnResourceFacade,
        "get_file": hot_refs.GetFile,
    }
)
_HOT_20141016: FunctionTable = MappingProxyType(
    {
        **_HOT_20130523,
        "get_attr": hot_refs.GetAtt,
        **_removed(
            "Fn::GetAZs",
            "Ref",
            "Fn::Join",
            "Fn::Split",
            "Fn::Replace",
            "Fn::Base64",
            "Fn::MemberListToMap",
            "Fn::ResourceFacade",
        ),
    }
)
_HOT_20150430: FunctionTable = MappingProxyType(
    {
        **_HOT_20141016,
        "repeat": hot_collections.Repeat,
        "digest": hot_strings.Digest,
    }
)
_HOT_20151015: FunctionTable = MappingProxyType(
    {
        **_HOT_20150430,
        "get_attr": hot_refs.GetAttAllAttributes,
        "list_join": hot_strings.JoinMultiple,
        "str_replace": hot_strings.ReplaceJson,
        "str_split": hot_strings.StrSplit,
        **_removed("Fn::Select"),
    }
)
_HOT_20160408: FunctionTable = MappingProxyType(
    {**_HOT_20151015, "map_merge": hot_collections.MapMerge}
)
_HOT_20161014: FunctionTable = MappingProxyType(
    {
        **_HOT_20160408,
        "yaql": Yaql,
        "map_replace": hot_collections.MapReplace,
        "if": conditions.If,
        "repeat": hot_collections.RepeatWithMaps,
    }
)
_HOT_20170224: FunctionTable = MappingProxyType(
    {
        **_HOT_20161014,
        "filter": hot_collections.Filter,
        "str_replace_strict": hot_strings.ReplaceStrict,
    }
)
_HOT_20170901: FunctionTable = MappingProxyType(
    {
        **_HOT_20170224,
        "make_url": hot_strings.MakeURL,
        "list_concat": hot_collections.ListConcat,
        "list_concat_unique": hot_collections.ListConcatUnique,
        "contains": hot_collections.Contains,
        "str_replace_vstrict": hot_strings.ReplaceVeryStrict,
        "repeat": hot_collections.RepeatWithPermutations,
    }
)
_HOT_20210416: FunctionTable = MappingProxyType({**_HOT_20170901, "if": conditions.IfOptionalFalse})

_HOT_CONDITIONS_20161014: FunctionTable = MappingProxyType(
    {
        "get_param": hot_refs.GetParam,
        "equals": conditions.Equals,
        "not": conditions.Not,
        "and": conditions.And,
        "or": conditions.Or,
    }
)
_HOT_CONDITIONS_20170901: FunctionTable = MappingProxyType(
    {
        **_HOT_CONDITIONS_20161014,
        "yaql": Yaql,
        "contains": hot_collections.Contains,
    }
)

_CFN_20121212: FunctionTable = MappingProxyType(
    {
        "Fn::FindInMap": cfn.FindInMap,
        "Fn::GetAZs": cfn.GetAZs,
        "Ref": cfn.Ref,
        "Fn::GetAtt": cfn.CfnGetAtt,
        "Fn::Select": cfn.Select,
        "Fn::Join": cfn.CfnJoin,
        "Fn::Split": cfn.Split,
        "Fn::Replace": cfn.CfnReplace,
        "Fn::Base64": cfn.Base64,
        "Fn::MemberListToMap": cfn.MemberListToMap,
        "Fn::ResourceFacade": cfn.CfnResourceFacade,
    }
)
_CFN_20100909: FunctionTable = MappingProxyType({**_CFN_20121212, "Fn::If": conditions.If})
_CFN_CONDITIONS: FunctionTable = MappingProxyType(
    {
        "Fn::Equals": conditions.Equals,
        "Ref": cfn.Ref,
        "Fn::FindInMap": cfn.FindInMap,
        "Fn::Not": conditions.Not,
        "Fn::And": conditions.And,
        "Fn::Or": conditions.Or,
        "Condition": conditions.ConditionRef,
    }
)
_NO_CONDITIONS: FunctionTable = MappingProxyType({})

HOT_SECTIONS = {
    "version": "heat_template_version",
    "description": "description",
    "parameter_groups": "parameter_groups",
    "parameters": "parameters",
    "resources": "resources",
    "outputs": "outputs",
    "conditions": "conditions",
}
CFN_SECTIONS = {
    "version": "AWSTemplateFormatVersion",
    "description": "Description",
    "parameter_groups": None,
    "parameters": "Parameters",
    "mappings": "Mappings",
    "resources": "Resources",
    "outputs": "Outputs",
    "conditions": "Conditions",
    "metadata": "Metadata",
}
HOT_RESOURCE_KEYS = {
    "type": "type",
    "properties": "properties",
    "metadata": "metadata",
    "depends_on": "depends_on",
    "deletion_policy": "deletion_policy",
    "update_policy": "update_policy",
    "description": "description",
    "external_id": "external_id",
    "condition": "condition",
}
CFN_RESOURCE_KEYS = {
    "type": "Type",
    "properties": "Properties",
    "metadata": "Metadata",
    "depends_on": "DependsOn",
    "deletion_policy": "DeletionPolicy",
    "update_policy": "UpdatePolicy",
    "description": "Description",
    "condition": "Condition",
}
HOT_OUTPUT_KEYS = {"value": "value", "description": "description", "condition": "condition"}
CFN_OUTPUT_KEYS = {
    "value": "Value",
    "description": "Description",
    "condition": "Condition",
    "export": "Export",
}


@dataclass(frozen=True)
class TemplateVersion:
    key: str
    date: str
    kind: str  # "hot" or "cfn"
    functions: FunctionTable
    condition_functions: FunctionTable
    aliases: tuple[str, ...] = ()
    # Features that changed between versions.
    has_conditions: bool = False
    lowercase_deletion_policy: bool = False
    parameter_tags: bool = False
    modulo_constraint: bool = False

    @property
    def name(self) -> str:
        return f"{self.key}.{self.date}"

    @property
    def alias_names(self) -> list[str]:
        return [f"{self.key}.{alias}" for alias in self.aliases]

    def sections(self) -> dict[str, str]:
        """Canonical section name -> the key written in templates of this version."""
        table = HOT_SECTIONS if self.kind == "hot" else CFN_SECTIONS
        out = {k: v for k, v in table.items() if v is not None}
        out["version"] = self.key
        if not self.has_conditions:
            out.pop("conditions")
        return out

    def resource_keys(self) -> dict[str, str]:
        keys = dict(HOT_RESOURCE_KEYS if self.kind == "hot" else CFN_RESOURCE_KEYS)
        if not self.has_conditions:
            keys.pop("condition")
            keys.pop("external_id", None)
        return keys

    def output_keys(self) -> dict[str, str]:
        keys = dict(HOT_OUTPUT_KEYS if self.kind == "hot" else CFN_OUTPUT_KEYS)
        if not self.has_conditions:
            keys.pop("condition")
        return keys

    def parameter_keys(self) -> frozenset[str]:
        if self.kind == "cfn":
            return frozenset(
                {
                    "Type",
                    "Default",
                    "NoEcho",
                    "AllowedValues",
                    "AllowedPattern",
                    "MaxLength",
                    "MinLength",
                    "MaxValue",
                    "MinValue",
                    "Description",
                    "ConstraintDescription",
                    "Label",
                }
            )
        keys = {"type", "label", "description", "default", "hidden", "constraints", "immutable"}
        if self.parameter_tags:
            keys.add("tags")
        return frozenset(keys)


def _hot(
    date: str, functions: FunctionTable, alias: str | None = None, **features: Any
) -> TemplateVersion:
    conds = features.pop("condition_functions", _NO_CONDITIONS)
    return TemplateVersion(
        key="heat_template_version",
        date=date,
        kind="hot",
        functions=functions,
        condition_functions=conds,
        aliases=(alias,) if alias else (),
        **features,
    )


_NEWTON = {"has_conditions": True, "lowercase_deletion_policy": True}
_OCATA = {**_NEWTON, "modulo_constraint": True}

VERSIONS: tuple[TemplateVersion, ...] = (
    TemplateVersion(
        "AWSTemplateFormatVersion",
        "2010-09-09",
        "cfn",
        _CFN_20100909,
        _CFN_CONDITIONS,
        has_conditions=True,
    ),
    TemplateVersion(
        "HeatTemplateFormatVersion", "2012-12-12", "cfn", _CFN_20121212, _NO_CONDITIONS
    ),
    _hot("2013-05-23", _HOT_20130523),
    _hot("2014-10-16", _HOT_20141016),
    _hot("2015-04-30", _HOT_20150430),
    _hot("2015-10-15", _HOT_20151015),
    _hot("2016-04-08", _HOT_20160408),
    _hot(
        "2016-10-14",
        _HOT_20161014,
        "newton",
        condition_functions=_HOT_CONDITIONS_20161014,
        **_NEWTON,
    ),
    _hot(
        "2017-02-24", _HOT_20170224, "ocata", condition_functions=_HOT_CONDITIONS_20161014, **_OCATA
    ),
    _hot(
        "2017-09-01", _HOT_20170901, "pike", condition_functions=_HOT_CONDITIONS_20170901, **_OCATA
    ),
    _hot(
        "2018-03-02",
        _HOT_20170901,
        "queens",
        condition_functions=_HOT_CONDITIONS_20170901,
        parameter_tags=True,
        **_OCATA,
    ),
    _hot(
        "2018-08-31",
        _HOT_20170901,
        "rocky",
        condition_functions=_HOT_CONDITIONS_20170901,
        parameter_tags=True,
        **_OCATA,
    ),
    _hot(
        "2021-04-16",
        _HOT_20210416,
        "wallaby",
        condition_functions=_HOT_CONDITIONS_20170901,
        parameter_tags=True,
        **_OCATA,
    ),
)

_BY_KEY: dict[str, dict[str, TemplateVersion]] = {}
for _v in VERSIONS:
    for _label in (_v.date, *_v.aliases):
        _BY_KEY.setdefault(_v.key, {})[_label] = _v
VERSION_KEYS = tuple(_BY_KEY)


def _valid_labels(key: str) -> str:
    return ", ".join(_BY_KEY[key])


def detect(doc: Mapping[str, Any]) -> TemplateVersion:
    """The version a template document declares, or a clear error listing valid ones."""
    present = [key for key in VERSION_KEYS if key in doc]
    if not present:
        raise errors.InvalidTemplateVersion(
            explanation="Template version was not provided. One of "
            + ", ".join(VERSION_KEYS)
            + " is required."
        )
    if len(present) > 1:
        raise errors.InvalidTemplateVersion(
            explanation="Template has more than one version key: " + ", ".join(present)
        )
    key = present[0]
    label = doc[key]
    version = _BY_KEY[key].get(str(label)) if isinstance(label, (str, int, float)) else None
    if version is None:
        raise errors.InvalidTemplateVersion(
            explanation=f'"{key}: {label}". "{key}" should be one of: {_valid_labels(key)}'
        )
    return version


def by_name(name: str) -> TemplateVersion:
    """Look up ``heat_template_version.2016-10-14`` (or an alias form) for the API."""
    key, _, label = name.partition(".")
    version = _BY_KEY.get(key, {}).get(label)
    if version is None:
        raise errors.EntityNotFound(entity="Template version", name=name)
    return version


def function_descriptions(
    version: TemplateVersion, with_conditions: bool = False
) -> list[dict[str, str]]:
    """``/template_versions/{v}/functions``: live functions with their descriptions."""
    table = dict(version.functions)
    if with_conditions:
        table.update(version.condition_functions)
    return [
        {"functions": name, "description": fn.description()}
        for name, fn in sorted(table.items())
        if fn is not Removed
    ]
