"""The engine's API, declared once: every operation an API process may ask an engine for,
with its parameters and payload types, the topics messages travel on, and the version.

Each operation is a method of ``EngineAPI`` whose signature is the contract and whose
body is supplied by ``@operation``: calling it packs the arguments and hands them to
``EngineAPI.call``, which the client implements over a transport. The engine serves
exactly the operations declared here (``OPERATIONS``) and checks each request against the
declared parameters before any handler runs; a test holds the engine's handlers to these
signatures.

Arguments and results are JSON. Every operation but ``health`` takes the caller as
``ctx`` first.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, ParamSpec, TypedDict, TypeVar

from ember.common import errors

# Major.minor: a server refuses a request of another major version, or of a newer minor.
API_VERSION = "1.1"

# How a resource's signal token begins: heat-api knows one of its own by it.
SIGNAL_TOKEN_PREFIX = "ember-signal."

# Calls from the APIs (request/reply); engines share it round-robin.
ENGINE_TOPIC = "engine.rpc"
# Traversal nodes ready to run (a durable work queue shared by every engine).
WORK_TOPIC = "engine"
# Broadcasts to every engine: stop running nodes of a traversal.
CANCEL_TOPIC = "engine.cancel"
# Broadcasts to every engine: a parked node's deadline, so that any engine wakes it.
TIMER_TOPIC = "engine.timers"
# Fanout: the events each committed transaction wrote, for the APIs' event streams.
EVENTS_TOPIC = "stack.events"


def envelope(arguments: dict[str, Any]) -> dict[str, Any]:
    """A request as it travels: the caller's API version and the operation's arguments."""
    return {"version": API_VERSION, "arguments": arguments}


def engine_topic(engine_id: str) -> str:
    """The queue of one engine, for messages meant for it alone."""
    return f"{ENGINE_TOPIC}.{engine_id}"


# Payloads ------------------------------------------------------------------------------

JSONMap = dict[str, Any]
"""A JSON object whose shape is Heat's REST representation of the thing named."""


class Ctx(TypedDict):
    """Who is calling, as the API authenticated them."""

    project_id: str
    username: NotRequired[str | None]
    user_id: NotRequired[str | None]
    is_admin: NotRequired[bool]
    roles: NotRequired[list[str]]
    is_admin_project: NotRequired[bool]
    request_id: NotRequired[str]


class StackIdentity(TypedDict):
    stack_id: str
    stack_name: str
    project_id: str


class StackList(TypedDict):
    stacks: list[JSONMap]
    count: NotRequired[int]


class Ec2Credential(TypedDict):
    """An EC2-style key pair as stored: its secret still encrypted with
    ``[DEFAULT] auth_encryption_key`` (``ember.common.crypt``), and whose it is."""

    access: str
    secret: str
    project_id: str
    user_id: str
    user_name: str
    roles: list[str]
    # A signal credential's one resource (row id) and its stack; None for a user's own.
    resource_id: int | None
    stack_id: str | None


StackActionName = Literal["suspend", "resume", "check", "cancel_update", "cancel_without_rollback"]


# Declarations ----------------------------------------------------------------------------

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Operation:
    """One declared operation: its name, the domain of the engine that serves it, the API
    version it appeared in, and its signature (``self`` removed)."""

    name: str
    domain: str
    since: str
    signature: inspect.Signature
    hints: Mapping[str, Any]
    doc: str

    def bind(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments of a request with defaults filled in; refuses unknown, missing
        and mistyped ones with an error naming them."""
        try:
            bound = self.signature.bind(**arguments)
        except TypeError as exc:
            raise errors.InvalidRequest(f"Bad arguments for {self.name}: {exc}") from None
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if not _conforms(value, self.hints.get(name, Any)):
                raise errors.InvalidRequest(
                    f"Bad arguments for {self.name}: {name} must be "
                    f"{_describe(self.hints.get(name, Any))}, not {type(value).__name__}"
                )
        return dict(bound.arguments)


OPERATIONS: dict[str, Operation] = {}


def operation(
    domain: str, since: str = "1.0"
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare the decorated method as an engine operation served by ``domain``."""

    def declare(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        full = inspect.signature(method)
        signature = full.replace(parameters=list(full.parameters.values())[1:])
        name = method.__name__
        OPERATIONS[name] = Operation(
            name,
            domain,
            since,
            signature,
            typing.get_type_hints(method),
            inspect.getdoc(method) or "",
        )

        @functools.wraps(method)
        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            api = args[0]
            assert isinstance(api, EngineAPI)
            bound = full.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            del arguments["self"]
            result: R = await api.call(name, arguments)
            return result

        return call

    return declare


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a JSON value is of the declared type (as far as JSON can tell)."""
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arm) for arm in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    base = origin or hint
    if base in (dict, Mapping) or typing.is_typeddict(hint):
        return isinstance(value, dict)
    if base is list:
        return isinstance(value, list)
    return True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if typing.is_typeddict(hint) or (origin or hint) in (dict, Mapping):
        return "a map"
    if (origin or hint) is list:
        return "a list"
    return getattr(hint, "__name__", str(hint))


# The operations ----------------------------------------------------------------------------


class EngineAPI:
    """Every operation of the engine. Subclasses implement ``call``: the client sends it
    over a transport; nothing else overrides the operations."""

    async def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        """Run ``operation`` with checked ``arguments`` and return its JSON result."""
        raise NotImplementedError

    # Stacks ------------------------------------------------------------------------------

    @operation("stacks")
    async def create_stack(
        self,
        ctx: Ctx,
        stack_name: str,
        template: Any,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
    ) -> StackIdentity:
        """Check the request, store the stack and start creating it (or adopting it, with
        ``args["adopt_stack_data"]``). ``args``: ``timeout_mins``, ``disable_rollback``,
        ``tags``, ``idempotency_key`` (a create sent again with the key of one that stored
        its stack answers with that stack; with another name, ``IdempotencyKeyInUse``)."""

    @operation("stacks")
    async def update_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        template: Any = None,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
        stack_id: str | None = None,
    ) -> StackIdentity:
        """Start bringing the stack to a new definition; ``args["existing"]`` merges the
        request into the stored template, files and environment (PATCH);
        ``args["previous_template"]`` / ``args["previous_parameters"]`` (names) reuse the
        stored template and those parameters' stored values, as CloudFormation's
        ``UsePreviousTemplate`` / ``UsePreviousValue`` do; ``args["request_key"]``: an
        update sent again with the key of the one under way or done does nothing;
        ``args["capabilities"]``: what the caller acknowledged (CloudFormation)."""

    @operation("stacks")
    async def delete_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        request_key: str | None = None,
    ) -> None:
        """Start deleting the stack (superseding whatever it was doing). A delete sent again
        with the ``request_key`` of the one under way or done does nothing."""

    @operation("stacks")
    async def identify_stack(self, ctx: Ctx, stack_identity: str) -> StackIdentity:
        """The stack a name, id or ARN names."""

    @operation("stacks")
    async def show_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        resolve_outputs: bool = True,
    ) -> JSONMap: ...

    @operation("stacks")
    async def show_stacks(self, ctx: Ctx, stack_ids: list[str]) -> list[JSONMap]:
        """``show_stack`` of each stack (id, name or ARN), in order, in one request (those
        gone since left out): a page of CloudFormation's DescribeStacks. Each also says
        whether its rollback is an update's (``update_rollback``): CloudFormation names
        those states ``UPDATE_ROLLBACK_*``."""

    @operation("stacks")
    async def list_stacks(
        self,
        ctx: Ctx,
        filters: JSONMap | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort_keys: list[str] | None = None,
        sort_dir: str | None = None,
        tags: str | None = None,
        tags_any: str | None = None,
        not_tags: str | None = None,
        not_tags_any: str | None = None,
        show_deleted: bool = False,
        show_nested: bool = False,
        show_hidden: bool = False,
        global_tenant: bool = False,
    ) -> list[JSONMap]:
        """Stack summaries (the caller's top-level stacks, newest first, by default)."""

    @operation("stacks")
    async def count_and_list_stacks(
        self,
        ctx: Ctx,
        filters: JSONMap | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort_keys: list[str] | None = None,
        sort_dir: str | None = None,
        tags: str | None = None,
        tags_any: str | None = None,
        not_tags: str | None = None,
        not_tags_any: str | None = None,
        show_deleted: bool = False,
        show_nested: bool = False,
        show_hidden: bool = False,
        global_tenant: bool = False,
        with_count: bool = False,
    ) -> StackList:
        """Stack summaries with Heat's filters, sorting and keyset pagination."""

    @operation("stacks")
    async def get_template(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("stacks")
    async def get_environment(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap:
        """The stack's environment, hidden parameters masked."""

    @operation("stacks")
    async def get_files(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("stacks")
    async def list_outputs(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> list[JSONMap]: ...

    @operation("stacks")
    async def show_output(
        self, ctx: Ctx, stack_identity: str, output_key: str, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("stacks")
    async def stack_action(
        self, ctx: Ctx, stack_identity: str, action: str, stack_id: str | None = None
    ) -> None:
        """``action``: suspend, resume, check, cancel_update or cancel_without_rollback."""

    # Previews ----------------------------------------------------------------------------

    @operation("previews")
    async def preview_stack(
        self,
        ctx: Ctx,
        stack_name: str,
        template: Any,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
    ) -> JSONMap:
        """What a create would make, without making it."""

    @operation("previews")
    async def preview_update_stack(
        self,
        ctx: Ctx,
        stack_identity: str,
        template: Any = None,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        args: JSONMap | None = None,
        stack_id: str | None = None,
    ) -> JSONMap:
        """``{"resource_changes": {added, deleted, replaced, unchanged, updated}}``: what an
        update would do to each resource, decided by the same plan the update runs."""

    # Resources ---------------------------------------------------------------------------

    @operation("resources")
    async def list_resources(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        with_detail: bool = False,
        nested_depth: int = 0,
        filters: JSONMap | None = None,
    ) -> list[JSONMap]: ...

    @operation("resources")
    async def find_physical_resource(self, ctx: Ctx, physical_resource_id: str) -> JSONMap:
        """The resource with that physical id in one of the caller's stacks:
        ``{stack_id, stack_name, project_id, resource_name}``."""

    @operation("resources")
    async def show_resource(
        self, ctx: Ctx, stack_identity: str, resource_name: str, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("resources")
    async def resource_metadata(
        self, ctx: Ctx, stack_identity: str, resource_name: str, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("resources")
    async def signal_resource(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        details: Any = None,
        stack_id: str | None = None,
        sync_call: bool = False,
    ) -> None:
        """Signal a resource (``{"unset_hook": name}`` clears a breakpoint). The signal is
        checked at once and then run as work of its own, after whatever the resource is
        doing. With ``sync_call`` the answer waits (a while) for it to have been handled,
        and a signal the resource refused raises its reason (``InvalidRequest``)."""

    @operation("resources")
    async def mark_unhealthy(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        mark_unhealthy: bool,
        reason: str = "",
        stack_id: str | None = None,
    ) -> None: ...

    # Events ------------------------------------------------------------------------------

    @operation("events")
    async def list_events(
        self,
        ctx: Ctx,
        stack_identity: str,
        stack_id: str | None = None,
        filters: JSONMap | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort_keys: list[str] | None = None,
        sort_dir: str | None = "asc",
        nested_depth: int = 0,
        with_detail: bool = False,
    ) -> list[JSONMap]:
        """Events oldest first by default; ``sort_dir`` None is Heat's own default for a
        query that names no direction (newest first). ``with_detail``: each with its
        resource's type and properties, as one event is shown."""

    @operation("events")
    async def show_event(
        self,
        ctx: Ctx,
        stack_identity: str,
        resource_name: str,
        event_id: str,
        stack_id: str | None = None,
    ) -> JSONMap: ...

    # Templates and types -----------------------------------------------------------------

    @operation("catalog")
    async def validate_template(
        self,
        ctx: Ctx,
        template: Any,
        params: JSONMap | None = None,
        files: JSONMap | None = None,
        environment: Any = None,
        environment_files: list[str] | None = None,
        show_nested: bool = False,
        ignore_errors: list[str] | None = None,
    ) -> JSONMap: ...

    @operation("catalog")
    async def summarize_template(
        self, ctx: Ctx, template: Any, params: JSONMap | None = None
    ) -> JSONMap:
        """What CloudFormation's ValidateTemplate and GetTemplateSummary tell of a
        template, once it validates: ``validate_template``'s answer plus ``resource_types``
        (sorted), ``version`` (the version key's value), ``metadata`` and
        ``capabilities`` (what a create would have to acknowledge)."""

    @operation("catalog")
    async def list_resource_types(
        self,
        ctx: Ctx,
        name: str | None = None,
        support_status: str | None = None,
        version: str | None = None,
        with_description: bool = False,
    ) -> list[Any]: ...

    @operation("catalog")
    async def resource_schema(
        self, ctx: Ctx, type_name: str, with_description: bool = False
    ) -> JSONMap: ...

    @operation("catalog")
    async def generate_template(
        self, ctx: Ctx, type_name: str, template_type: str = "cfn"
    ) -> JSONMap: ...

    @operation("catalog")
    async def list_template_versions(self, ctx: Ctx) -> list[JSONMap]: ...

    @operation("catalog")
    async def list_template_functions(
        self, ctx: Ctx, template_version: str, with_condition_func: bool = False
    ) -> list[JSONMap]: ...

    # Abandon, adopt, snapshots -----------------------------------------------------------

    @operation("snapshots")
    async def abandon_stack(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None, abandon: bool = True
    ) -> JSONMap:
        """The stack's adopt data; with ``abandon`` the stack is also forgotten (its real
        resources are left alone). ``abandon=False`` is Heat's export."""

    @operation("snapshots")
    async def snapshot_stack(
        self, ctx: Ctx, stack_identity: str, name: str | None = None, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("snapshots")
    async def list_snapshots(
        self, ctx: Ctx, stack_identity: str, stack_id: str | None = None
    ) -> list[JSONMap]: ...

    @operation("snapshots")
    async def show_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> JSONMap: ...

    @operation("snapshots")
    async def delete_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> None: ...

    @operation("snapshots")
    async def restore_snapshot(
        self, ctx: Ctx, stack_identity: str, snapshot_id: str, stack_id: str | None = None
    ) -> None: ...

    # Software configs and deployments ----------------------------------------------------

    @operation("software")
    async def create_software_config(
        self,
        ctx: Ctx,
        name: Any = None,
        group: Any = None,
        config: Any = None,
        inputs: Any = None,
        outputs: Any = None,
        options: Any = None,
    ) -> JSONMap:
        """Fields are checked by the engine, which answers Heat's errors for bad ones."""

    @operation("software")
    async def list_software_configs(
        self,
        ctx: Ctx,
        limit: Any = None,
        marker: Any = None,
        global_tenant: bool = False,
    ) -> list[JSONMap]: ...

    @operation("software")
    async def show_software_config(self, ctx: Ctx, config_id: Any) -> JSONMap: ...

    @operation("software")
    async def delete_software_config(self, ctx: Ctx, config_id: Any) -> None: ...

    @operation("software")
    async def create_software_deployment(
        self,
        ctx: Ctx,
        server_id: Any = None,
        config_id: Any = None,
        input_values: Any = None,
        action: Any = None,
        status: Any = None,
        status_reason: Any = None,
        stack_user_project_id: Any = None,
    ) -> JSONMap:
        """``action`` defaults to INIT and ``status`` to COMPLETE."""

    @operation("software")
    async def list_software_deployments(self, ctx: Ctx, server_id: Any = None) -> list[JSONMap]: ...

    @operation("software")
    async def metadata_software_deployments(self, ctx: Ctx, server_id: Any) -> list[JSONMap]:
        """The configs deployed to a server, sorted by name, inputs carrying their values."""

    @operation("software")
    async def show_software_deployment(self, ctx: Ctx, deployment_id: Any) -> JSONMap: ...

    @operation("software")
    async def update_software_deployment(
        self,
        ctx: Ctx,
        deployment_id: Any,
        config_id: Any = None,
        input_values: Any = None,
        output_values: Any = None,
        action: Any = None,
        status: Any = None,
        status_reason: Any = None,
    ) -> JSONMap:
        """Only the fields that are not null are applied."""

    @operation("software")
    async def delete_software_deployment(self, ctx: Ctx, deployment_id: Any) -> None: ...

    # Credentials -------------------------------------------------------------------------

    @operation("credentials")
    async def find_ec2_credential(self, access: str) -> Ec2Credential | None:
        """The key pair whose access key is ``access`` (secret encrypted), or None. Asked
        by heat-api-cfn to check a request's signature, before the caller is known, so it
        takes no ``ctx``."""

    @operation("credentials")
    async def find_signal_token(self, token_digest: str) -> Ec2Credential | None:
        """The signal credential whose bearer token has SHA-256 ``token_digest`` (its
        secret encrypted), or None. Asked by heat-api for an ``X-Auth-Token`` of its own
        kind (``ember-signal.``), before the caller is known."""

    # Service -----------------------------------------------------------------------------

    @operation("service")
    async def health(self) -> bool:
        """Whether the engine that answers reaches its database."""

    @operation("service")
    async def list_services(self, ctx: Ctx) -> list[JSONMap]: ...
