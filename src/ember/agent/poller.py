"""The agent's loop: poll the server's deployment metadata, apply each deployment config
not applied before (once), report its result, remember it.

What was applied is kept in ``<state_dir>/<server>.json`` and written after each
delivered report, so a restarted agent does not apply a config twice, and a result that
could not be delivered is applied and reported again at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ember.agent import configs, reporting, script

LOG = logging.getLogger("ember-agent")


@dataclass(frozen=True)
class AgentSettings:
    server_id: str
    heat_url: str  # heat-api's project URL: http://host:8004/v1/<project>
    headers: dict[str, str]
    state_dir: Path
    interval: float = 30.0
    script_timeout: float | None = None


class Agent:
    """Contract: each deployment config id is applied at most once per successful report,
    in the order heat-api lists them; an unsupported group is reported as a failure that
    says so, never skipped."""

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.state_file = settings.state_dir / f"{_safe(settings.server_id)}.json"
        self.applied: set[str] = self._load()

    async def poll_once(self, client: httpx.AsyncClient) -> int:
        """Apply what is new; how many configs were applied and reported."""
        url = (
            f"{self.settings.heat_url.rstrip('/')}/software_deployments/metadata/"
            f"{quote(self.settings.server_id, safe='')}"
        )
        answer = await client.get(url)
        if answer.status_code != 200:
            raise reporting.ReportError(
                f"GET {url} answered {answer.status_code}: {answer.text[:300]}"
            )
        done = 0
        for config in configs.parse(answer.json()):
            if config.id in self.applied:
                continue
            result = await self._apply(config)
            how = await reporting.report(client, self.settings.heat_url, config, result)
            LOG.info(
                "deployment config %s (%s): status code %s, %s",
                config.id,
                config.name or config.group,
                result["deploy_status_code"],
                how,
            )
            self.applied.add(config.id)
            self._save()
            done += 1
        return done

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(headers=self.settings.headers, timeout=60.0) as client:
            while not stop.is_set():
                try:
                    await self.poll_once(client)
                except (httpx.HTTPError, reporting.ReportError, configs.MetadataError) as exc:
                    LOG.warning("polling failed, trying again: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.interval)

    async def _apply(self, config: configs.DeploymentConfig) -> dict[str, Any]:
        if not config.supported:
            message = (
                f"ember-agent has no hook for group {config.group!r} "
                f"(supported: {', '.join(configs.SUPPORTED_GROUPS)})"
            )
            LOG.error("deployment config %s: %s", config.id, message)
            return {"deploy_stdout": "", "deploy_stderr": message, "deploy_status_code": 1}
        workdir = self.settings.state_dir / "configs"
        return await script.run(config, workdir, self.settings.script_timeout)

    def _load(self) -> set[str]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except ValueError:
            LOG.warning("%s is not JSON; starting afresh", self.state_file)
            return set()
        return {str(i) for i in data.get("applied", [])}

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"applied": sorted(self.applied)}), encoding="utf-8")
        temporary.replace(self.state_file)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "server"
