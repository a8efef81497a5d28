"""OS::Heat::WaitConditionHandle: receives the signals an OS::Heat::WaitCondition counts.

A signal is a JSON object with optional ``status`` (SUCCESS or FAILURE, SUCCESS when
missing), ``reason`` ("Signal N received"), ``data`` (null) and ``id`` (N, the number of
distinct ids so far plus one); any other key, or another status, is refused.

How a signaller reaches it is ``signal_transport``; the attributes carry what that
transport needs, from the handle's own signal credential. TEMP_URL_SIGNAL and
ZAQAR_SIGNAL need Swift and Zaqar, which this cloud does not have: they are refused when
the template is validated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ember.engine.resource import AttributeSchema
from ember.resources.wait_condition_handle_base import (
    SUCCESS,
    BaseWaitConditionHandle,
    MetadataKeys,
    SignalRecord,
)
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues

CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL = "CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL"
NO_SIGNAL, ZAQAR_SIGNAL, TOKEN_SIGNAL = "NO_SIGNAL", "ZAQAR_SIGNAL", "TOKEN_SIGNAL"
TRANSPORTS = (CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL, NO_SIGNAL, ZAQAR_SIGNAL, TOKEN_SIGNAL)
AVAILABLE = (CFN_SIGNAL, HEAT_SIGNAL, NO_SIGNAL, TOKEN_SIGNAL)


class WaitConditionHandle(BaseWaitConditionHandle):
    type_name = "OS::Heat::WaitConditionHandle"
    description = (
        "Resource for managing instance signals. It has no dependencies (so an instance "
        "can reference it), creates credentials to allow signalling from the instance, "
        "and handles signals from the instance, validating and storing the result."
    )
    support_status = {
        "status": "SUPPORTED",
        "version": "2014.2",
        "message": None,
        "previous_status": None,
    }
    properties_schema = {
        "signal_transport": PropertySchema(
            "string",
            "How the client will signal the wait condition. CFN_SIGNAL will allow an HTTP "
            "POST to a CFN keypair signed URL. HEAT_SIGNAL will allow calls to the Heat API "
            "resource-signal using the provided keystone credentials. TOKEN_SIGNAL will "
            "allow an HTTP POST to a Heat API endpoint with the provided keystone token. "
            "NO_SIGNAL will result in the resource going to a signalled state without "
            "waiting for any signal. TEMP_URL_SIGNAL and ZAQAR_SIGNAL are not available: "
            "this cloud has no Swift or Zaqar.",
            default=TOKEN_SIGNAL,
            constraints=(
                AllowedValues(values=TRANSPORTS),
                AllowedValues(
                    values=AVAILABLE,
                    description="TEMP_URL_SIGNAL and ZAQAR_SIGNAL are not supported: this "
                    "cloud has no Swift or Zaqar service.",
                ),
            ),
            support_status={"status": "SUPPORTED", "version": "6.0.0"},
        ),
    }
    attributes_schema = {
        "token": AttributeSchema(
            "Token for stack-user which can be used for signalling handle when "
            "signal_transport is set to TOKEN_SIGNAL. None for all other signal transports.",
            "string",
        ),
        "endpoint": AttributeSchema(
            "Endpoint/url which can be used for signalling handle when signal_transport is "
            "set to TOKEN_SIGNAL. None for all other signal transports.",
            "string",
        ),
        "curl_cli": AttributeSchema(
            "Convenience attribute, provides curl CLI command prefix, which can be used for "
            "signalling handle completion or failure when signal_transport is set to "
            "TOKEN_SIGNAL. You can signal success by adding "
            '--data-binary \'{"status": "SUCCESS"}\' , or signal failure by adding '
            '--data-binary \'{"status": "FAILURE"}\'. This attribute is set to None for '
            "all other signal transports.",
            "string",
        ),
        "signal": AttributeSchema(
            "JSON serialized map that includes the endpoint, token and/or other attributes "
            "the client must use for signalling this handle. The contents of this map "
            "depend on the type of signal selected in the signal_transport property.",
            "string",
        ),
    }
    metadata_keys = MetadataKeys(data="data", reason="reason", status="status", unique_id="id")

    def _transport(self) -> str:
        return str(self.ctx.properties.get("signal_transport") or TOKEN_SIGNAL)

    def normalise(self, details: Any, recorded: Mapping[str, SignalRecord]) -> Any:
        # Every key may be left out (the payload too); Heat fills them in.
        if not details:
            details = {}
        if not isinstance(details, Mapping):
            return details
        number = len(recorded) + 1
        payload = dict(details)
        payload.setdefault("reason", f"Signal {number} received")
        payload.setdefault("data", None)
        payload.setdefault("id", number)
        payload.setdefault("status", SUCCESS)
        return payload

    def _signal_attribute(self) -> str | None:
        """The ``signal`` attribute: a JSON map of what the transport needs (None until
        the handle has its credential)."""
        transport = self._transport()
        if transport == NO_SIGNAL:
            return json.dumps({})
        access = self.ctx.signal_access
        if access is None:
            return None
        value: dict[str, Any] | None = None  # Heat's map has nothing for TOKEN_SIGNAL
        if transport == CFN_SIGNAL:
            # A wait condition handle's signed URL is its wait condition URL (PUT), as
            # Heat signs it for handles, not the generic signal URL.
            value = {"alarm_url": access.cfn_waitcondition_url}
        elif transport == HEAT_SIGNAL:
            # Heat's keys that the credential holds, and the resource's signal URL.
            value = {
                "user_id": access.user_id,
                "project_id": access.project_id,
                "alarm_url": access.heat_url,
            }
        return json.dumps(value)

    def attributes(self) -> dict[str, Any]:
        access = self.ctx.signal_access
        token = endpoint = curl_cli = None
        if access is not None and self._transport() == TOKEN_SIGNAL:
            token, endpoint = access.token, access.heat_url
            curl_cli = (
                f"curl -i -X POST -H 'X-Auth-Token: {token}' "
                "-H 'Content-Type: application/json' "
                f"-H 'Accept: application/json' {endpoint}"
            )
        return {
            "token": token,
            "endpoint": endpoint,
            "curl_cli": curl_cli,
            "signal": self._signal_attribute(),
        }
