"""Runs a ``script``-group config as Heat's script hook does: the config is written to an
executable file and run with the inputs as environment variables; an output ``name`` is what
the script wrote to ``$heat_outputs_path.name``; stdout, stderr and the exit code become
``deploy_stdout``, ``deploy_stderr`` and ``deploy_status_code``."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

from ember.agent.configs import DeploymentConfig


async def run(config: DeploymentConfig, workdir: Path, timeout: float | None) -> dict[str, Any]:
    """The signal a run of ``config`` sends back (its outputs and the three ``deploy_*``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / config.id
    script.write_text(config.config, encoding="utf-8")
    script.chmod(stat.S_IRWXU)
    outputs_path = workdir / f"{config.id}.out"
    env = {**os.environ, **config.environment(), "heat_outputs_path": str(outputs_path)}
    try:
        process = await asyncio.create_subprocess_exec(
            str(script),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=workdir,
        )
    except OSError as exc:  # not executable as written (no interpreter line, say)
        return _result(config, outputs_path, "", f"Cannot run the config: {exc}", 126)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
        message = stderr.decode(errors="replace") + f"\nTimed out after {timeout} seconds"
        return _result(config, outputs_path, stdout.decode(errors="replace"), message, -1)
    code = process.returncode if process.returncode is not None else -1
    return _result(
        config, outputs_path, stdout.decode(errors="replace"), stderr.decode(errors="replace"), code
    )


def _result(
    config: DeploymentConfig, outputs_path: Path, stdout: str, stderr: str, code: int
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in config.outputs:
        written = Path(f"{outputs_path}.{name}")
        if written.is_file():
            result[name] = written.read_text(encoding="utf-8", errors="replace")
    result.update(deploy_stdout=stdout, deploy_stderr=stderr, deploy_status_code=code)
    return result
