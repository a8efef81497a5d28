"""Templates: where a request's template comes from (``TemplateBody``, ``TemplateURL``
or the stack's own), and the actions about templates: GetTemplate, ValidateTemplate,
GetTemplateSummary, EstimateTemplateCost.

A ``TemplateURL`` is fetched only from the hosts the operator lists in
``[heat_api_cfn] template_url_hosts``, over http or https, without following redirects
and no larger than ``max_template_size``: an API that fetched any URL would let its
callers reach whatever the server can (cloud metadata services, internal hosts, its own
files).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ember.api.cfn import faults
from ember.api.cfn.call import ActionCall

FETCH_TIMEOUT = 10.0
MAX_URL = 1024
STAGES = ("Original", "Processed")


class TemplateFetcher:
    """Fetches ``TemplateURL`` templates from the allowed hosts (one client per process)."""

    def __init__(self, allowed_hosts: Sequence[str], max_size: int) -> None:
        self.allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.max_size = max_size
        self._client: httpx.AsyncClient | None = None

    def _check(self, url: str) -> None:
        if len(url) > MAX_URL:
            raise faults.ValidationError(f"TemplateURL is longer than {MAX_URL} characters.")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise faults.ValidationError("TemplateURL is not a valid URL.") from None
        if parts.scheme not in ("http", "https"):
            raise faults.ValidationError(
                f"TemplateURL must be an http or https URL, not {parts.scheme or 'a path'}."
            )
        host = (parts.hostname or "").lower()
        with_port = f"{host}:{port}" if port is not None else host
        if not host or (host not in self.allowed and with_port not in self.allowed):
            raise faults.ValidationError(
                f"TemplateURL host {with_port or '(none)'} is not one this service fetches "
                "templates from."
            )

    async def __call__(self, url: str) -> str:
        self._check(url)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False)
        try:
            async with self._client.stream("GET", url) as answer:
                if answer.status_code != 200:
                    raise faults.ValidationError(
                        f"TemplateURL could not be fetched: {url} answered {answer.status_code}."
                    )
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_size:
                        raise faults.ValidationError(
                            f"Template size exceeds maximum allowed size ({self.max_size} bytes)."
                        )
        except httpx.HTTPError as exc:
            raise faults.ValidationError(f"TemplateURL could not be fetched: {exc}") from None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise faults.ValidationError("The template at TemplateURL is not UTF-8 text.") from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def template_of(call: ActionCall, *, allow_previous: bool) -> str | None:
    """The request's template text; None for ``UsePreviousTemplate`` (updates only)."""
    body = call.query.get("TemplateBody")
    url = call.query.get("TemplateURL")
    previous = call.query.flag("UsePreviousTemplate") if allow_previous else None
    given = [n for n, v in (("TemplateBody", body), ("TemplateURL", url)) if v is not None]
    if previous:
        given.append("UsePreviousTemplate")
    if len(given) > 1:
        raise faults.ValidationError(f"Specify exactly one of {', '.join(given)}.")
    if previous:
        return None
    if body is not None:
        limit = call.settings.max_template_size
        if len(body.encode("utf-8", "replace")) > limit:
            raise faults.ValidationError(
                f"Template size exceeds maximum allowed size ({limit} bytes)."
            )
        return body
    if url is not None:
        return await call.fetch(url)
    what = (
        "TemplateBody, TemplateURL or UsePreviousTemplate"
        if allow_previous
        else "TemplateBody or TemplateURL"
    )
    raise faults.ValidationError(f"Either {what} must be specified.")


async def get_template(call: ActionCall) -> dict[str, Any]:
    name = call.query.required("StackName")
    stage = call.query.get("TemplateStage") or "Original"
    if stage not in STAGES:
        raise faults.ValidationError(
            f"Invalid TemplateStage {stage[:64]!r}: must be Original or Processed."
        )
    template = await call.ask(call.engine.get_template(call.ctx, name))
    return {
        "TemplateBody": orjson.dumps(template, option=orjson.OPT_INDENT_2).decode("utf-8"),
        "StagesAvailable": list(STAGES),
    }


def _parameter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    default = schema.get("Default")
    return {
        "ParameterKey": name,
        "DefaultValue": default
        if default is None or isinstance(default, str)
        else orjson.dumps(default).decode("utf-8"),
        "NoEcho": str(schema.get("NoEcho", "false")).lower() == "true",
        "Description": schema.get("Description") or None,
    }


def _capability_reason(capabilities: list[str]) -> str | None:
    if not capabilities:
        return None
    return "The template contains resources that need " + ", ".join(capabilities) + "."


async def _summary_of(call: ActionCall) -> dict[str, Any]:
    template = await template_of(call, allow_previous=False)
    return dict(await call.ask(call.engine.summarize_template(call.ctx, template)))


async def validate_template(call: ActionCall) -> dict[str, Any]:
    summary = await _summary_of(call)
    capabilities = list(summary.get("capabilities") or [])
    return {
        "Description": summary.get("Description") or None,
        "Parameters": [_parameter(n, s) for n, s in (summary.get("Parameters") or {}).items()],
        "Capabilities": capabilities,
        "CapabilitiesReason": _capability_reason(capabilities),
    }


async def get_template_summary(call: ActionCall) -> dict[str, Any]:
    name = call.query.get("StackName")
    if name and (
        call.query.get("TemplateBody") is not None or call.query.get("TemplateURL") is not None
    ):
        raise faults.ValidationError(
            "Specify exactly one of StackName, TemplateBody or TemplateURL."
        )
    if name:
        template = await call.ask(call.engine.get_template(call.ctx, name))
        summary = dict(await call.ask(call.engine.summarize_template(call.ctx, template)))
    else:
        summary = await _summary_of(call)
    capabilities = list(summary.get("capabilities") or [])
    parameters = []
    for key, schema in (summary.get("Parameters") or {}).items():
        item = _parameter(key, schema)
        item["ParameterType"] = schema.get("Type")
        allowed = schema.get("AllowedValues")
        if isinstance(allowed, list):
            item["ParameterConstraints"] = {"AllowedValues": [str(v) for v in allowed]}
        parameters.append(item)
    metadata = summary.get("metadata")
    return {
        "Parameters": parameters,
        "Description": summary.get("Description") or None,
        "Capabilities": capabilities,
        "CapabilitiesReason": _capability_reason(capabilities),
        "ResourceTypes": list(summary.get("resource_types") or []),
        "Version": summary.get("version"),
        "Metadata": orjson.dumps(metadata).decode("utf-8") if metadata is not None else None,
    }


async def estimate_template_cost(call: ActionCall) -> dict[str, Any]:
    # Checked like any other template, though the answer is Heat's: nothing is charged.
    await _summary_of(call)
    return {"Url": "http://en.wikipedia.org/wiki/Gratis"}
