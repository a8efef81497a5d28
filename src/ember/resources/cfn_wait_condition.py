"""AWS::CloudFormation::WaitCondition: OS::Heat::WaitCondition as CloudFormation spells it.
``Handle`` is the ``Ref`` of an AWS::CloudFormation::WaitConditionHandle (or
OS::Heat::UpdateWaitConditionHandle) of the same stack: its pre-signed URL, whose ARN must
name this project, this stack and a handle in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from ember.engine.resource import PeerResource
from ember.resources.cfn_wait_condition_handle import CfnWaitConditionHandle
from ember.resources.wait_condition import (
    COUNT_SCHEMA,
    DATA_ATTRIBUTE,
    MAX_TIMEOUT,
    HandleInvalid,
    WaitCondition,
)
from ember.template import PropertySchema
from ember.template.constraints import Range

ARN_URL_PREFIX = re.compile(re.escape("/arn%3Aopenstack%3Aheat%3A%3A"), re.IGNORECASE)
ARN_PATH = re.compile(r"stacks/([^/]+)/([^/]+)(.*)")


@dataclass(frozen=True)
class HandleArn:
    tenant: str
    stack_name: str
    stack_id: str
    resource_name: str


def parse_handle_url(url: str) -> HandleArn:
    """The resource a pre-signed handle URL names (Heat's ResourceIdentifier.from_arn_url);
    raises HandleInvalid with Heat's message when it is not one."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path:
        raise HandleInvalid(f'"{url}" is not a valid URL')
    match = ARN_URL_PREFIX.search(parts.path)
    if match is None:
        raise HandleInvalid(f'"{url}" is not a valid ARN URL')
    arn = unquote(parts.path[match.start() + 1 :])
    fields = arn.split(":")
    if len(fields) < 6 or fields[0].lower() != "arn":
        raise HandleInvalid(f'"{arn}" is not a valid ARN')
    path = ARN_PATH.match(":".join(fields[5:]))
    if fields[1] != "openstack" or fields[2] != "heat" or path is None:
        raise HandleInvalid(f'"{arn}" is not a valid Heat ARN')
    rest = unquote(path.group(3))
    return HandleArn(
        tenant=unquote(fields[4]),
        stack_name=unquote(path.group(1)),
        stack_id=unquote(path.group(2)),
        resource_name=rest.lstrip("/").split("/")[-1],
    )


class CfnWaitCondition(WaitCondition):
    type_name = "AWS::CloudFormation::WaitCondition"
    description = "AWS WaitCondition resource: waits for signals sent to its Handle."
    support_status = {
        "status": "SUPPORTED",
        "version": "2014.1",
        "message": None,
        "previous_status": None,
    }
    properties_schema = {
        "Handle": PropertySchema(
            "string",
            "A reference to the wait condition handle used to signal this wait condition.",
            required=True,
        ),
        "Timeout": PropertySchema(
            "integer",
            "The number of seconds to wait for the correct number of signals to arrive.",
            required=True,
            constraints=(Range(min=1, max=MAX_TIMEOUT),),
        ),
        "Count": COUNT_SCHEMA,
    }
    attributes_schema = {
        "Data": DATA_ATTRIBUTE,
    }
    HANDLE, TIMEOUT, COUNT, DATA = "Handle", "Timeout", "Count", "Data"

    async def find_handle(self) -> PeerResource:
        handle_ref = str(self.ctx.properties[self.HANDLE])
        services = self._services()
        # A handle not yet given its credential is referenced by its physical id.
        found = await services.find_resource(self.ctx, handle_ref)
        if found is not None and found.name != handle_ref:
            name = found.name
        else:
            arn = parse_handle_url(handle_ref)
            if arn.tenant != self.ctx.project_id:
                raise HandleInvalid(f"WaitCondition invalid Handle tenant {arn.tenant}")
            if arn.stack_name != self.ctx.stack_name:
                raise HandleInvalid(f"WaitCondition invalid Handle stack {arn.stack_name}")
            if arn.stack_id != self.ctx.stack_id:
                raise HandleInvalid(f"WaitCondition invalid Handle stack {arn.stack_id}")
            name = arn.resource_name
            found = await services.find_resource(self.ctx, name)
        if (
            found is None
            or found.name != name
            or found.plugin is None
            or not issubclass(found.plugin, CfnWaitConditionHandle)
        ):
            raise HandleInvalid(f"WaitCondition invalid Handle {name}")
        return found
