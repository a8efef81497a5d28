"""AWS::CloudFormation::WaitConditionHandle: the handle an AWS::CloudFormation::WaitCondition
waits on. ``Ref`` gives the pre-signed URL that ``cfn-signal`` PUTs to (until the handle
has its credential, its physical id).

A signal must carry exactly ``Status`` (SUCCESS or FAILURE), ``Reason``, ``UniqueId`` and
``Data``; an empty signal is accepted and ignored, as Heat does.
"""

from __future__ import annotations

from typing import Any

from ember.resources.wait_condition_handle_base import BaseWaitConditionHandle, MetadataKeys


class CfnWaitConditionHandle(BaseWaitConditionHandle):
    type_name = "AWS::CloudFormation::WaitConditionHandle"
    description = (
        "AWS WaitConditionHandle resource: has no dependencies (so an instance can "
        "reference it) and gives a unique pre-signed URL as its reference, which "
        "cfn-signal posts to and the WaitCondition waits on."
    )
    support_status = {
        "status": "SUPPORTED",
        "version": "2014.1",
        "message": None,
        "previous_status": None,
    }
    metadata_keys = MetadataKeys(
        data="Data", reason="Reason", status="Status", unique_id="UniqueId"
    )

    async def signal(self, details: Any) -> str | None:
        if details is None:
            return None
        return await super().signal(details)

    def reference_id(self) -> str | None:
        access = self.ctx.signal_access
        if access is not None and self.ctx.physical_id is not None:
            return access.cfn_waitcondition_url
        # Before it is made, Heat's reference is its name.
        return self.ctx.physical_id or self.ctx.name
