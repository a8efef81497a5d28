"""Heat's policy rules, with Heat's names, check strings, scopes, descriptions and the
deprecated defaults they replaced (``heat/policies/*.py``), so that an operator's
``policy.yaml`` for Heat means the same here and ``oslopolicy-sample-generator
--namespace heat`` lists them.

With ``[oslo_policy] enforce_new_defaults = true`` (oslo.policy's default, what current
Heat ships) only the new check strings count; with ``false`` each rule is also passed by
its deprecated check string (mostly "not a stack user"), as Heat's upgrade path allows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from oslo_policy import policy

RULE_CONTEXT_IS_ADMIN = "rule:context_is_admin"
RULE_PROJECT_ADMIN = "rule:project_admin"
RULE_DENY_STACK_USER = "rule:deny_stack_user"
RULE_DENY_EVERYBODY = "rule:deny_everybody"
RULE_ALLOW_EVERYBODY = "rule:allow_everybody"

PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
PROJECT_ADMIN = "role:admin and project_id:%(project_id)s"
PROJECT_STACK_USER = "role:heat_stack_user and project_id:%(project_id)s"
PROJECT_MEMBER_OR_STACK_USER = f"({PROJECT_MEMBER}) or ({PROJECT_STACK_USER})"
PROJECT_READER_OR_STACK_USER = f"({PROJECT_READER}) or ({PROJECT_STACK_USER})"

# Heat deprecated its old defaults in Wallaby.
_DEPRECATED_SINCE = "W"
STACK = "/v1/{tenant_id}/stacks/{stack_name}/{stack_id}"
# How each group's deprecation reason names its API.
_API_NAMES = {"actions": "actions", "events": "events", "stacks": "stack"}

BASE = [
    policy.RuleDefault(
        name="context_is_admin",
        check_str="(role:admin and is_admin_project:True)",
        description="Decides what is required for the 'is_admin:True' check to succeed.",
    ),
    policy.RuleDefault(
        name="project_admin",
        check_str="role:admin",
        description="Default rule for project admin.",
    ),
    policy.RuleDefault(
        name="deny_stack_user",
        check_str="not role:heat_stack_user",
        description="Default rule for deny stack user.",
    ),
    policy.RuleDefault(
        name="deny_everybody",
        check_str="!",
        description="Default rule for deny everybody.",
    ),
    policy.RuleDefault(
        name="allow_everybody",
        check_str="",
        description="Default rule for allow everybody.",
    ),
]


def _rule(
    name: str,
    check_str: str,
    description: str,
    path: str,
    method: str,
    *,
    deprecated: str | None = RULE_DENY_STACK_USER,
    api: str = "",
    scoped: bool = True,
) -> policy.DocumentedRuleDefault:
    """One of Heat's documented rules; ``deprecated``: the default it replaced."""
    old = None
    if deprecated is not None:
        old = policy.DeprecatedRule(
            name=name,
            check_str=deprecated,
            deprecated_reason=f"The {api or _API_NAMES[name.partition(':')[0]]} API now "
            "supports system scope and default roles.",
            deprecated_since=_DEPRECATED_SINCE,
        )
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check_str,
        description=description,
        operations=[{"path": path, "method": method}],
        scope_types=["project"] if scoped else None,
        deprecated_rule=old,
    )


ACTIONS = [
    _rule(
        "actions:action",
        PROJECT_MEMBER,
        "Performs non-lifecycle operations on the stack (Snapshot, Resume, Cancel update, "
        "or check stack resources). This is the default for all actions but can be "
        "overridden by more specific policies for individual actions.",
        STACK + "/actions",
        "POST",
    ),
    *(
        _rule(f"actions:{name}", check, description, STACK + "/actions", "POST")
        for name, check, description in (
            ("snapshot", PROJECT_MEMBER, "Create stack snapshot"),
            ("suspend", PROJECT_MEMBER, "Suspend a stack."),
            ("resume", PROJECT_MEMBER, "Resume a suspended stack."),
            ("check", PROJECT_READER, "Check stack resources."),
            ("cancel_update", PROJECT_MEMBER, "Cancel stack operation and roll back."),
            (
                "cancel_without_rollback",
                PROJECT_MEMBER,
                "Cancel stack operation without rolling back.",
            ),
        )
    ),
]

BUILD_INFO = [
    _rule(
        "build_info:build_info",
        PROJECT_READER,
        "Show build information.",
        "/v1/{tenant_id}/build_info",
        "GET",
        api="build",
    )
]

# The CloudFormation API's rules: registered (an operator's file may name them), no paths.
CLOUDFORMATION = [
    policy.RuleDefault(
        name=f"cloudformation:{name}",
        check_str=check,
        scope_types=["project"],
        deprecated_rule=policy.DeprecatedRule(
            name=f"cloudformation:{name}",
            check_str=old,
            deprecated_reason="The cloud formation API now supports system scope and "
            "default roles.",
            deprecated_since=_DEPRECATED_SINCE,
        ),
    )
    for name, check, old in (
        ("ListStacks", PROJECT_READER, RULE_DENY_STACK_USER),
        ("CreateStack", PROJECT_MEMBER, RULE_DENY_STACK_USER),
        ("DescribeStacks", PROJECT_READER, RULE_DENY_STACK_USER),
        ("DeleteStack", PROJECT_MEMBER, RULE_DENY_STACK_USER),
        ("UpdateStack", PROJECT_MEMBER, RULE_DENY_STACK_USER),
        ("CancelUpdateStack", PROJECT_MEMBER, RULE_DENY_STACK_USER),
        ("DescribeStackEvents", PROJECT_READER, RULE_DENY_STACK_USER),
        ("ValidateTemplate", PROJECT_READER, RULE_DENY_STACK_USER),
        ("GetTemplate", PROJECT_READER, RULE_DENY_STACK_USER),
        ("EstimateTemplateCost", PROJECT_READER, RULE_DENY_STACK_USER),
        ("DescribeStackResource", PROJECT_READER_OR_STACK_USER, RULE_ALLOW_EVERYBODY),
        ("DescribeStackResources", PROJECT_READER, RULE_DENY_STACK_USER),
        ("ListStackResources", PROJECT_READER, RULE_DENY_STACK_USER),
    )
]

EVENTS = [
    _rule("events:index", PROJECT_READER, "List events.", STACK + "/events", "GET"),
    _rule(
        "events:show",
        PROJECT_READER,
        "Show event.",
        STACK + "/resources/{resource_name}/events/{event_id}",
        "GET",
    ),
]

RESOURCE = [
    _rule(
        "resource:index",
        PROJECT_READER,
        "List resources.",
        STACK + "/resources",
        "GET",
        api="resources",
    ),
    _rule(
        "resource:metadata",
        PROJECT_READER_OR_STACK_USER,
        "Show resource metadata.",
        STACK + "/resources/{resource_name}/metadata",
        "GET",
        deprecated=RULE_ALLOW_EVERYBODY,
        api="resources",
    ),
    _rule(
        "resource:signal",
        PROJECT_READER_OR_STACK_USER,
        "Signal resource.",
        STACK + "/resources/{resource_name}/signal",
        "POST",
        deprecated=RULE_ALLOW_EVERYBODY,
        api="resources",
    ),
    _rule(
        "resource:mark_unhealthy",
        PROJECT_MEMBER,
        "Mark resource as unhealthy.",
        STACK + "/resources/{resource_name_or_physical_id}",
        "PATCH",
        api="resources",
    ),
    _rule(
        "resource:show",
        PROJECT_READER,
        "Show resource.",
        STACK + "/resources/{resource_name}",
        "GET",
        api="resources",
    ),
]

# Types only an admin may use in a template (Heat's list; Ember implements none of them,
# but an operator's file may name them, and rules for other types work the same way).
ADMIN_RESOURCE_TYPES = (
    "OS::Nova::Flavor",
    "OS::Cinder::EncryptedVolumeType",
    "OS::Cinder::VolumeType",
    "OS::Cinder::Quota",
    "OS::Neutron::Quota",
    "OS::Nova::Quota",
    "OS::Octavia::Quota",
    "OS::Manila::ShareType",
    "OS::Neutron::ProviderNet",
    "OS::Neutron::QoSPolicy",
    "OS::Neutron::QoSBandwidthLimitRule",
    "OS::Neutron::QoSDscpMarkingRule",
    "OS::Neutron::QoSMinimumBandwidthRule",
    "OS::Neutron::QoSMinimumPacketRateRule",
    "OS::Neutron::Segment",
    "OS::Nova::HostAggregate",
    "OS::Cinder::QoSSpecs",
    "OS::Cinder::QoSAssociation",
    "OS::Keystone::*",
    "OS::Blazar::Host",
    "OS::Octavia::Flavor",
    "OS::Octavia::FlavorProfile",
    "OS::Octavia::AvailabilityZone",
    "OS::Octavia::AvailabilityZoneProfile",
)
RESOURCE_TYPES = [
    policy.RuleDefault(
        name=f"resource_types:{name}", check_str=RULE_PROJECT_ADMIN, scope_types=["project"]
    )
    for name in ADMIN_RESOURCE_TYPES
]

SERVICE = [
    policy.RuleDefault(
        name="service:index",
        check_str=PROJECT_ADMIN,
        scope_types=["project"],
        deprecated_rule=policy.DeprecatedRule(
            name="service:index",
            check_str=RULE_CONTEXT_IS_ADMIN,
            deprecated_reason="The service API now supports system scope and default roles.",
            deprecated_since=_DEPRECATED_SINCE,
        ),
    )
]

CONFIGS = "/v1/{tenant_id}/software_configs"
SOFTWARE_CONFIGS = [
    _rule(
        "software_configs:global_index",
        RULE_DENY_EVERYBODY,
        "List configs globally.",
        CONFIGS,
        "GET",
        deprecated=None,
        scoped=False,
    ),
    _rule(
        "software_configs:index",
        PROJECT_READER,
        "List configs.",
        CONFIGS,
        "GET",
        api="software configuration",
    ),
    _rule(
        "software_configs:create",
        PROJECT_MEMBER,
        "Create config.",
        CONFIGS,
        "POST",
        api="software configuration",
    ),
    _rule(
        "software_configs:show",
        PROJECT_READER,
        "Show config details.",
        CONFIGS + "/{config_id}",
        "GET",
        api="software configuration",
    ),
    _rule(
        "software_configs:delete",
        PROJECT_MEMBER,
        "Delete config.",
        CONFIGS + "/{config_id}",
        "DELETE",
        api="software configuration",
    ),
]

DEPLOYMENTS = "/v1/{tenant_id}/software_deployments"
SOFTWARE_DEPLOYMENTS = [
    _rule(
        "software_deployments:index",
        PROJECT_READER,
        "List deployments.",
        DEPLOYMENTS,
        "GET",
        api="software deployment",
    ),
    _rule(
        "software_deployments:create",
        PROJECT_MEMBER,
        "Create deployment.",
        DEPLOYMENTS,
        "POST",
        api="software deployment",
    ),
    _rule(
        "software_deployments:show",
        PROJECT_READER,
        "Show deployment details.",
        DEPLOYMENTS + "/{deployment_id}",
        "GET",
        api="software deployment",
    ),
    _rule(
        "software_deployments:update",
        PROJECT_MEMBER,
        "Update deployment.",
        DEPLOYMENTS + "/{deployment_id}",
        "PUT",
        api="software deployment",
    ),
    _rule(
        "software_deployments:delete",
        PROJECT_MEMBER,
        "Delete deployment.",
        DEPLOYMENTS + "/{deployment_id}",
        "DELETE",
        api="software deployment",
    ),
    _rule(
        "software_deployments:metadata",
        PROJECT_READER_OR_STACK_USER,
        "Show server configuration metadata.",
        DEPLOYMENTS + "/metadata/{server_id}",
        "GET",
        deprecated=None,
    ),
]

STACKS_PATH = "/v1/{tenant_id}/stacks"
TENANT = "/v1/{tenant_id}"
STACKS = [
    _rule("stacks:abandon", PROJECT_MEMBER, "Abandon stack.", STACK + "/abandon", "DELETE"),
    _rule("stacks:create", PROJECT_MEMBER, "Create stack.", STACKS_PATH, "POST"),
    _rule("stacks:delete", PROJECT_MEMBER, "Delete stack.", STACK, "DELETE"),
    _rule("stacks:detail", PROJECT_READER, "List stacks in detail.", STACKS_PATH, "GET"),
    _rule("stacks:export", PROJECT_MEMBER, "Export stack.", STACK + "/export", "GET"),
    # Heat documents this one with the stack template's path; it guards
    # GET /resource_types/{type_name}/template.
    _rule(
        "stacks:generate_template",
        PROJECT_MEMBER,
        "Generate stack template.",
        STACK + "/template",
        "GET",
    ),
    _rule(
        "stacks:global_index",
        RULE_DENY_EVERYBODY,
        "List stacks globally.",
        STACKS_PATH,
        "GET",
        deprecated=None,
        scoped=False,
    ),
    _rule("stacks:index", PROJECT_READER, "List stacks.", STACKS_PATH, "GET"),
    _rule(
        "stacks:list_resource_types",
        PROJECT_READER,
        "List resource types.",
        TENANT + "/resource_types",
        "GET",
    ),
    _rule(
        "stacks:list_template_versions",
        PROJECT_READER,
        "List template versions.",
        TENANT + "/template_versions",
        "GET",
    ),
    _rule(
        "stacks:list_template_functions",
        PROJECT_READER,
        "List template functions.",
        TENANT + "/template_versions/{template_version}/functions",
        "GET",
    ),
    _rule(
        "stacks:lookup",
        PROJECT_READER_OR_STACK_USER,
        "Find stack.",
        STACKS_PATH + "/{stack_identity}",
        "GET",
        deprecated=RULE_ALLOW_EVERYBODY,
    ),
    _rule("stacks:preview", PROJECT_READER, "Preview stack.", STACKS_PATH + "/preview", "POST"),
    _rule(
        "stacks:resource_schema",
        PROJECT_READER,
        "Show resource type schema.",
        TENANT + "/resource_types/{type_name}",
        "GET",
    ),
    _rule("stacks:show", PROJECT_READER, "Show stack.", STACKS_PATH + "/{stack_identity}", "GET"),
    _rule("stacks:template", PROJECT_READER, "Get stack template.", STACK + "/template", "GET"),
    _rule(
        "stacks:environment",
        PROJECT_READER,
        "Get stack environment.",
        STACK + "/environment",
        "GET",
    ),
    _rule("stacks:files", PROJECT_READER, "Get stack files.", STACK + "/files", "GET"),
    _rule("stacks:update", PROJECT_MEMBER, "Update stack.", STACK, "PUT"),
    _rule("stacks:update_patch", PROJECT_MEMBER, "Update stack (PATCH).", STACK, "PATCH"),
    _rule(
        "stacks:update_no_change",
        "rule:stacks:update_patch",
        "Update stack (PATCH) with no changes.",
        STACK,
        "PATCH",
        deprecated=None,
    ),
    _rule(
        "stacks:preview_update",
        PROJECT_MEMBER,
        "Preview update stack.",
        STACK + "/preview",
        "PUT",
    ),
    _rule(
        "stacks:preview_update_patch",
        PROJECT_MEMBER,
        "Preview update stack (PATCH).",
        STACK + "/preview",
        "PATCH",
    ),
    _rule(
        "stacks:validate_template",
        PROJECT_MEMBER,
        "Validate template.",
        TENANT + "/validate",
        "POST",
    ),
    _rule("stacks:snapshot", PROJECT_MEMBER, "Snapshot Stack.", STACK + "/snapshots", "POST"),
    _rule(
        "stacks:show_snapshot",
        PROJECT_READER,
        "Show snapshot.",
        STACK + "/snapshots/{snapshot_id}",
        "GET",
    ),
    _rule(
        "stacks:delete_snapshot",
        PROJECT_MEMBER,
        "Delete snapshot.",
        STACK + "/snapshots/{snapshot_id}",
        "DELETE",
    ),
    _rule(
        "stacks:list_snapshots",
        PROJECT_READER,
        "List snapshots.",
        STACK + "/snapshots",
        "GET",
    ),
    _rule(
        "stacks:restore_snapshot",
        PROJECT_MEMBER,
        "Restore snapshot.",
        STACK + "/snapshots/{snapshot_id}/restore",
        "POST",
    ),
    _rule("stacks:list_outputs", PROJECT_READER, "List outputs.", STACK + "/outputs", "GET"),
    _rule(
        "stacks:show_output",
        PROJECT_READER,
        "Show outputs.",
        STACK + "/outputs/{output_key}",
        "GET",
    ),
]


def list_rules() -> Iterator[policy.RuleDefault]:
    """Every rule, in Heat's order: the ``oslo.policy.policies`` entry point ``heat``."""
    return itertools.chain(
        BASE,
        ACTIONS,
        BUILD_INFO,
        CLOUDFORMATION,
        EVENTS,
        RESOURCE,
        RESOURCE_TYPES,
        SERVICE,
        SOFTWARE_CONFIGS,
        SOFTWARE_DEPLOYMENTS,
        STACKS,
    )
