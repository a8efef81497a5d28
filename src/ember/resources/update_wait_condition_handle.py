"""OS::Heat::UpdateWaitConditionHandle: an AWS-style wait condition handle that is replaced
on every update of its stack, so the signals it had are gone and its URL changes. Whatever
signals it (and the wait condition waiting on it) must signal again after each update:
what they roll out is known to be in place once the update completes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember.resources.cfn_wait_condition_handle import CfnWaitConditionHandle


class UpdateWaitConditionHandle(CfnWaitConditionHandle):
    type_name = "OS::Heat::UpdateWaitConditionHandle"
    description = (
        "WaitConditionHandle that clears signals and changes handle on update. This works "
        "similarly to an AWS::CloudFormation::WaitConditionHandle, except that on update "
        "it clears all signals received and changes the handle."
    )
    support_status = {
        "status": "SUPPORTED",
        "version": "2014.1",
        "message": None,
        "previous_status": None,
    }

    def definition_changed(self) -> bool:
        # Every update acts on it, although it has no properties...
        return True

    def needs_replace(self, changed: Mapping[str, Any]) -> bool:
        # ...and what it does is to replace it.
        return True
