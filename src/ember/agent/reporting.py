"""Sends a deployment's result back the way its ``deploy_signal_transport`` says:

- ``CFN_SIGNAL`` (and any transport with a ``deploy_signal_id``): the result as JSON, with
  ``deploy_signal_verb`` (POST), to the pre-signed URL, which needs no other credential;
- ``HEAT_SIGNAL``: POSTed to heat-api's signal route of the deployment resource
  (``deploy_stack_id``, ``deploy_resource_name``) with the agent's own credential;
- ``NO_SIGNAL``: nothing is sent; heat-api did not wait for it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from ember.agent.configs import DeploymentConfig


class ReportError(RuntimeError):
    """The result could not be delivered (tried again at the next poll)."""


async def report(
    client: httpx.AsyncClient, heat_url: str, config: DeploymentConfig, result: dict[str, Any]
) -> str:
    """Deliver ``result``; what was done, for the log."""
    transport = config.signal_transport
    if transport == "NO_SIGNAL":
        return "not signalled (NO_SIGNAL)"
    if config.signal_id:
        answer = await client.request(config.signal_verb, config.signal_id, json=result)
        _check(answer, config)
        return f"signalled {config.signal_verb} {config.signal_id.split('?', 1)[0]}"
    stack = config.inputs.get("deploy_stack_id")
    resource = config.inputs.get("deploy_resource_name")
    if not stack or not resource:
        raise ReportError(
            f"deployment config {config.id} ({transport}) names no signal URL and no resource"
        )
    url = f"{heat_url.rstrip('/')}/stacks/{quote(str(stack))}/resources/{quote(str(resource))}"
    answer = await client.post(f"{url}/signal", json=result)
    _check(answer, config)
    return f"signalled {url}"


def _check(answer: httpx.Response, config: DeploymentConfig) -> None:
    if answer.status_code >= 400:
        raise ReportError(
            f"signalling deployment config {config.id} answered {answer.status_code}: "
            f"{answer.text[:300]}"
        )
