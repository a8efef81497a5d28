"""OS::Heat::SoftwareDeployment: applies a software config to a server and waits for the
server to say how it went.

On each action listed in ``actions`` (CREATE and UPDATE by default; DELETE, SUSPEND and
RESUME may be added) the resource stores a derived config: the source config with the
deployment's input values and ``deploy_*`` inputs telling the server where it is and how
to report back. The deployment (whose id is the resource's own id, and its physical id) is
stored for the server id IN_PROGRESS, so the server's metadata lists it, and the resource
parks until the server reports:

- through a signal to the resource (``deploy_signal_id``, the pre-signed heat-api-cfn URL
  for CFN_SIGNAL, heat-api's resource signal URL for HEAT_SIGNAL): its details are the
  outputs, read as Heat reads them (a non-zero ``deploy_status_code``, or a value for an
  output declared ``error_output``, fails the deployment);
- or through the deployment API (``PUT /software_deployments/<id>`` with a status and
  output values, as heat-config-notify does): the status change wakes the resource.

Either way the resource, resumed, reads the stored deployment: COMPLETE completes it,
FAILED fails it with Heat's "Deployment to server failed: ..." reason. With NO_SIGNAL the
deployment is stored COMPLETE and nothing is awaited. The attributes are the deployment's
output values: ``deploy_stdout``, ``deploy_stderr``, ``deploy_status_code`` and every
output the config declares.

There is no Nova: ``server`` is any server id. ZAQAR_SIGNAL and TEMP_URL_SIGNAL need Zaqar
and Swift, which this cloud has no client for, and are refused when the template is
validated.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from ember.common import errors
from ember.engine.resource import (
    AttributeSchema,
    ResourceFailure,
    ResourcePlugin,
    SignalAccess,
    UpdateReplace,
)
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues

CREATE, UPDATE, DELETE, SUSPEND, RESUME = "CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME"
ALLOWED_ACTIONS = (CREATE, UPDATE, DELETE, SUSPEND, RESUME)
CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL, NO_SIGNAL, ZAQAR_SIGNAL = (
    "CFN_SIGNAL",
    "TEMP_URL_SIGNAL",
    "HEAT_SIGNAL",
    "NO_SIGNAL",
    "ZAQAR_SIGNAL",
)
SIGNAL_TRANSPORTS = (CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL, NO_SIGNAL, ZAQAR_SIGNAL)
SUPPORTED_TRANSPORTS = (CFN_SIGNAL, HEAT_SIGNAL, NO_SIGNAL)
UNSUPPORTED_TRANSPORT = (
    "ZAQAR_SIGNAL needs Zaqar and TEMP_URL_SIGNAL needs Swift, and this cloud has no "
    "client for either: use CFN_SIGNAL, HEAT_SIGNAL or NO_SIGNAL"
)
STDOUT, STDERR, STATUS_CODE = "deploy_stdout", "deploy_stderr", "deploy_status_code"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
COMPONENT_GROUP = "component"
DEFAULT_GROUP = "Heat::Ungrouped"

# Resource data. The action under way is "<ACTION>:<n>": the n-th derived config, named
# from the resource's id and n, so a resumed (or re-run) action finds what it stored.
STARTED_KEY = "deploy_started"
SEQ_KEY = "deploy_seq"
DERIVED_KEY = "derived_config"
OUTPUTS_KEY = "output_values"
DECLARED_KEY = "declared_outputs"

PROPERTIES = {
    "config": PropertySchema(
        "string",
        "ID of software configuration resource to execute when applying to the server.",
        update_allowed=True,
    ),
    "server": PropertySchema(
        "string",
        "ID of resource to apply configuration to. Normally this should be a Nova server ID.",
        required=True,
    ),
    "input_values": PropertySchema(
        "map",
        "Input values to apply to the software configuration on this server.",
        update_allowed=True,
    ),
    "actions": PropertySchema(
        "list",
        "Which lifecycle actions of the deployment resource will result in this deployment "
        "being triggered.",
        update_allowed=True,
        default=[CREATE, UPDATE],
        constraints=(AllowedValues(values=ALLOWED_ACTIONS),),
    ),
    "name": PropertySchema(
        "string",
        "Name of the derived config associated with this deployment. This is used to apply "
        "a sort order to the list of configurations currently deployed to a server.",
        update_allowed=True,
    ),
    "signal_transport": PropertySchema(
        "string",
        "How the server should signal to heat with the deployment output values. "
        "CFN_SIGNAL will allow an HTTP POST to a CFN keypair signed URL. HEAT_SIGNAL will "
        "allow calls to the Heat API resource-signal using the provided keystone "
        "credentials. NO_SIGNAL will result in the resource going to the COMPLETE state "
        "without waiting for any signal. TEMP_URL_SIGNAL and ZAQAR_SIGNAL need Swift and "
        "Zaqar, which are not available.",
        default=CFN_SIGNAL,
        constraints=(
            AllowedValues(values=SIGNAL_TRANSPORTS),
            AllowedValues(values=SUPPORTED_TRANSPORTS, description=UNSUPPORTED_TRANSPORT),
        ),
    ),
}


class DeploymentFailed(ResourceFailure):
    """The server reported a failure (Heat raises its plain ``Error``)."""

    error_type = "Error"


class ConfigMissing(ResourceFailure):
    """The config the deployment names is not there."""


def _input(name: str, value: Any, description: str) -> dict[str, Any]:
    return {"name": name, "type": "String", "value": value, "description": description}


def signal_inputs(transport: str, access: SignalAccess | None) -> list[dict[str, Any]]:
    """The inputs telling the server how to report back. Without a signal credential
    (none was made for the resource) there is nothing to tell it."""
    if access is None or transport == NO_SIGNAL:
        return []
    url = access.cfn_signal_url if transport == CFN_SIGNAL else access.heat_url
    out = [
        _input("deploy_signal_id", url, "ID of signal to use for signaling output values"),
        _input("deploy_signal_verb", "POST", "HTTP verb to use for signaling output values"),
    ]
    if transport == HEAT_SIGNAL:
        out += [
            _input("deploy_username", access.access_key, "Username for API authentication"),
            _input("deploy_user_id", access.user_id, "User ID for API authentication"),
            _input("deploy_password", access.secret_key, "Password for API authentication"),
            _input("deploy_project_id", access.project_id, "ID of project for API authentication"),
        ]
    return out


class SoftwareDeployment(ResourcePlugin):
    type_name = "OS::Heat::SoftwareDeployment"
    description = (
        "This resource associates a server with some configuration. The configuration is "
        "to be deployed to that server; unless signal_transport is NO_SIGNAL the resource "
        "waits for the server to signal the output values of the deployment."
    )
    properties_schema = PROPERTIES
    attributes_schema = {
        STDOUT: AttributeSchema("Captured stdout from the configuration execution.", "string"),
        STDERR: AttributeSchema("Captured stderr from the configuration execution.", "string"),
        STATUS_CODE: AttributeSchema(
            "Returned status code from the configuration execution.", "string"
        ),
    }
    # Every output the config declares is an attribute too.
    dynamic_attributes = True
    signal_supported = True
    signal_credential = True
    # A deployment for DELETE or SUSPEND waits for the server's signal in those actions.
    no_signal_actions = ()

    def _services(self) -> Any:
        if self.ctx.services is None:
            raise ResourceFailure("Software deployments are not available to this resource")
        return self.ctx.services

    @property
    def deployment_id(self) -> str:
        return self.ctx.uuid

    def transport(self) -> str:
        return str(self.ctx.properties.get("signal_transport") or CFN_SIGNAL)

    # The derived config ----------------------------------------------------------------

    async def source_config(self) -> dict[str, Any]:
        """The config deployed (none named: an empty one)."""
        config_id = self.ctx.properties.get("config")
        if not config_id:
            return {"inputs": [], "outputs": [], "options": {}}
        found: dict[str, Any] | None = await self._services().software_config(
            self.ctx, str(config_id)
        )
        if found is None:
            raise ConfigMissing(f"Software config with id {config_id} not found")
        return found

    def triggered(self, action: str, source: Mapping[str, Any]) -> bool:
        """Whether ``action`` deploys: a component's configs say which actions they are
        for; otherwise the ``actions`` property says."""
        if source.get("group") == COMPONENT_GROUP:
            configs = (source.get("config") or {}).get("configs") or []
            return any(action in (c.get("actions") or []) for c in configs)
        return action in (self.ctx.properties.get("actions") or [])

    def derived_inputs(self, action: str, source: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Heat's order: the declared inputs with their values (else their defaults), the
        input values nothing declares, then what the server needs to know."""
        values = dict(self.ctx.properties.get("input_values") or {})
        out = []
        for declared in source.get("inputs") or []:
            item = {k: v for k, v in declared.items() if k != "value"}
            item["value"] = values.pop(str(declared.get("name")), declared.get("default"))
            out.append(item)
        out += [{"name": k, "type": "String", "value": v} for k, v in values.items()]
        out += [
            _input(
                "deploy_server_id",
                self.ctx.properties.get("server"),
                "ID of the server being deployed to",
            ),
            _input("deploy_action", action, "Name of the current action being deployed"),
            _input(
                "deploy_stack_id",
                f"{self.ctx.stack_name}/{self.ctx.stack_id}",
                "ID of the stack this deployment belongs to",
            ),
            _input(
                "deploy_resource_name",
                self.ctx.name,
                "Name of this deployment resource in the stack",
            ),
            _input(
                "deploy_signal_transport",
                self.transport(),
                "How the server should signal to heat with the deployment output values.",
            ),
        ]
        out += signal_inputs(self.transport(), self.ctx.signal_access)
        return out

    def empty_config(self) -> Any:
        return ""

    def derived_config(
        self, action: str, source: Mapping[str, Any], inputs: list[dict[str, Any]]
    ) -> Any:
        """The config the server is given (a structured deployment substitutes inputs)."""
        return source.get("config")

    def derived_fields(self, action: str, source: Mapping[str, Any]) -> dict[str, Any]:
        inputs = self.derived_inputs(action, source)
        return {
            "name": self.ctx.properties.get("name")
            or source.get("name")
            or self.ctx.physical_name(),
            "group": source.get("group") or DEFAULT_GROUP,
            "config": self.derived_config(action, source, inputs) or self.empty_config(),
            "options": source.get("options"),
            "inputs": inputs,
            "outputs": source.get("outputs") or [],
        }

    # Deploying ---------------------------------------------------------------------------

    async def deploy(self, action: str) -> None:
        """Deploy for ``action`` if it is one the deployment is for, and wait for the
        server's report. Resumed, it finds what it stored and reads the report."""
        services = self._services()
        started = self.ctx.data.get(STARTED_KEY) or ""
        source = await self.source_config()
        if not started.startswith(action + ":"):
            if not self.triggered(action, source):
                return
            seq = int(self.ctx.data.get(SEQ_KEY) or 0) + 1
            started = f"{action}:{seq}"
            self.ctx.data.update({SEQ_KEY: str(seq), STARTED_KEY: started})
            await self.ctx.checkpoint()
        config_id = str(uuid.uuid5(uuid.UUID(self.ctx.uuid), started))
        deployment = await services.software_deployment(self.ctx, self.deployment_id)
        if deployment is None or deployment.get("config_id") != config_id:
            deployment = await self._store(action, source, config_id)
        await self._outcome(deployment)

    async def _store(
        self, action: str, source: Mapping[str, Any], config_id: str
    ) -> dict[str, Any]:
        services = self._services()
        fields = self.derived_fields(action, source)
        await services.create_software_config(self.ctx, config_id=config_id, **fields)
        waits = self.transport() != NO_SIGNAL
        deployment: dict[str, Any] = await services.put_software_deployment(
            self.ctx,
            self.deployment_id,
            config_id=config_id,
            server_id=self.ctx.properties.get("server"),
            input_values=self.ctx.properties.get("input_values") or {},
            action=action,
            status=IN_PROGRESS if waits else COMPLETE,
            status_reason="Deploy data available" if waits else "Not waiting for outputs signal",
        )
        previous = self.ctx.data.get(DERIVED_KEY)
        self.ctx.physical_id = self.deployment_id
        self.ctx.data[DERIVED_KEY] = config_id
        self.ctx.data[DECLARED_KEY] = json.dumps(
            [str(o.get("name")) for o in fields["outputs"] or []]
        )
        await self.ctx.checkpoint()
        if previous and previous != config_id:
            await self._forget_config(previous)
        return deployment

    async def _forget_config(self, config_id: str) -> None:
        with contextlib.suppress(errors.EntityNotFound, errors.InvalidRestrictedAction):
            await self._services().delete_software_config(self.ctx, config_id)

    async def _outcome(self, deployment: Mapping[str, Any]) -> None:
        """Done, failed, or park until the server reports (a signal to the resource, or a
        status change through the deployment API, wakes it)."""
        self._keep_outputs(deployment)
        status = deployment.get("status")
        if status == COMPLETE:
            self.ctx.data[STARTED_KEY] = ""
            return
        if status == FAILED:
            self.ctx.data[STARTED_KEY] = ""
            await self.ctx.checkpoint()
            raise DeploymentFailed(
                f"Deployment to server failed: {deployment.get('status_reason') or ''}"
            )
        await self.ctx.wait_for_signal(self.ctx.resource_id, seen=self.ctx.signals)

    def _keep_outputs(self, deployment: Mapping[str, Any]) -> None:
        self.ctx.data[OUTPUTS_KEY] = json.dumps(deployment.get("output_values") or {})

    # Handlers ------------------------------------------------------------------------------

    async def create(self) -> None:
        await self.deploy(CREATE)

    async def update(self, changed: Mapping[str, Any]) -> None:
        if not (self.ctx.data.get(STARTED_KEY) or "").startswith(UPDATE + ":"):
            await self._replace_on_change()
        await self.deploy(UPDATE)

    async def _replace_on_change(self) -> None:
        """An input declared ``replace_on_change`` whose value changed replaces the
        deployment instead of updating it."""
        previous = self.ctx.data.get(DERIVED_KEY)
        if not previous:
            return
        old = await self._services().software_config(self.ctx, previous)
        if old is None:
            return
        before = {str(i.get("name")): i.get("value") for i in old.get("inputs") or []}
        for item in self.derived_inputs(UPDATE, await self.source_config()):
            name = str(item.get("name"))
            if (
                item.get("replace_on_change")
                and name in before
                and before[name] != item.get("value")
            ):
                raise UpdateReplace(f"input {name} changed")

    async def suspend(self) -> None:
        if self.ctx.physical_id is not None:
            await self.deploy(SUSPEND)

    async def resume(self) -> None:
        if self.ctx.physical_id is not None:
            await self.deploy(RESUME)

    async def delete(self) -> None:
        if self.ctx.physical_id is None:
            return
        services = self._services()
        if await services.software_deployment(self.ctx, self.deployment_id) is not None:
            # A source config that has gone leaves nothing to deploy on the way out.
            with contextlib.suppress(ConfigMissing):
                await self.deploy(DELETE)
        await services.delete_software_deployment(self.ctx, self.deployment_id)
        derived = self.ctx.data.get(DERIVED_KEY)
        if derived:
            await self._forget_config(derived)

    async def signal(self, details: Any) -> str | None:
        if self.ctx.physical_id is None:
            raise ResourceFailure("deployment_id must be specified")
        services = self._services()
        said: str | None = await services.signal_software_deployment(
            self.ctx, self.deployment_id, details
        )
        deployment = await services.software_deployment(self.ctx, self.deployment_id)
        if deployment is not None:
            self._keep_outputs(deployment)
        return said

    # Views -------------------------------------------------------------------------------

    def attributes(self) -> dict[str, Any]:
        outputs: dict[str, Any] = json.loads(self.ctx.data.get(OUTPUTS_KEY) or "{}")
        declared: list[str] = json.loads(self.ctx.data.get(DECLARED_KEY) or "[]")
        out: dict[str, Any] = dict.fromkeys([STDOUT, STDERR, STATUS_CODE, *declared])
        out.update(outputs)
        return out
