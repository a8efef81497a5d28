"""What a Heat-compatible API does with one corpus case, reduced to what must agree between
two implementations: the validate answer, the create outcome, the outputs, the resources and
each resource's sequence of event states.

The same observation is made against real Heat (to record it) and against Ember (to replay
it), over plain HTTP, so neither side is favoured by a client library. Values that differ by
nature (ids, names with random suffixes, times) are normalised before they are compared;
error texts are not compared, error types are.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).parent / "corpus"
RECORDED = Path(__file__).parent / "recorded.json"
SETTLE_TIMEOUT = 180.0
RANDOM_SUFFIX = re.compile(r"-[a-z0-9]{12}(?![A-Za-z0-9])")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Case:
    """One template with what it is sent with; ``area`` is the corpus file it came from."""

    name: str
    area: str
    template: Any
    environment: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "environment": self.environment,
            "files": self.files,
            "parameters": self.parameters,
        }


def load_corpus() -> list[Case]:
    """Every case of every corpus file, in file then listed order; names are unique."""
    cases: list[Case] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        for entry in _dates_as_text(yaml.safe_load(path.read_text(encoding="utf-8"))):
            cases.append(
                Case(
                    name=entry["name"],
                    area=path.stem,
                    template=entry["template"],
                    environment=entry.get("environment") or {},
                    files={k: _as_text(v) for k, v in (entry.get("files") or {}).items()},
                    parameters=entry.get("parameters") or {},
                )
            )
    names = [c.name for c in cases]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"corpus names used twice: {sorted(duplicated)}")
    return cases


def _dates_as_text(value: Any) -> Any:
    """YAML reads ``2018-08-31`` as a date; templates sent as JSON carry it as text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    return value


def _as_text(value: Any) -> str:
    """Files may be written in the corpus as YAML structures; they are sent as text."""
    return value if isinstance(value, str) else yaml.safe_dump(value, sort_keys=False)


def observe(http: Any, case: Case, stack_name: str, tenant: str) -> dict[str, Any]:
    """Validate the case, create it (no rollback), wait until it settles, read it, delete it.

    ``http`` is an ``httpx.Client`` whose base URL is ``.../v1/<tenant>``."""
    observed: dict[str, Any] = {"validate": _validate(http, case)}
    created = http.post(
        "/stacks",
        json={**case.body(), "stack_name": stack_name, "disable_rollback": True, "timeout_mins": 5},
    )
    if created.status_code != 201:
        observed["create"] = {"code": created.status_code, "error": _error_type(created)}
        return observed
    stack_id = created.json()["stack"]["id"]
    path = f"/stacks/{stack_name}/{stack_id}"
    try:
        stack = _settled(http, path)
        observed["create"] = {"code": 201, "status": stack["stack_status"]}
        names = Names(stack_name, stack_id, tenant)
        observed["outputs"] = {
            o["output_key"]: _output(o, names) for o in stack.get("outputs") or ()
        }
        observed["resources"] = {
            r["resource_name"]: [r["resource_type"], r["resource_status"]]
            for r in http.get(f"{path}/resources").json()["resources"]
        }
        observed["events"] = _event_states(http, path, stack_name)
    finally:
        _delete(http, path)
    return observed


def _validate(http: Any, case: Case) -> dict[str, Any]:
    answer = http.post("/validate", json=case.body())
    if answer.status_code != 200:
        return {"code": answer.status_code, "error": _error_type(answer)}
    shown = answer.json()
    return {
        "code": 200,
        "parameters": {
            name: {k: p[k] for k in ("Type", "Default", "NoEcho") if k in p}
            for name, p in (shown.get("Parameters") or {}).items()
        },
    }


def _error_type(answer: Any) -> str:
    try:
        return str(answer.json()["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {answer.status_code}"


def _settled(http: Any, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        stack = http.get(path).json()["stack"]
        if not stack["stack_status"].endswith("IN_PROGRESS"):
            return dict(stack)
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} still {stack['stack_status']} after {SETTLE_TIMEOUT}s")
        time.sleep(0.2)


@dataclass(frozen=True)
class Names:
    """What varies by run in a value: the stack's name and id, the tenant in ARNs."""

    stack_name: str
    stack_id: str
    tenant: str

    def normal(self, value: Any) -> Any:
        if isinstance(value, str):
            text = value.replace(self.stack_id, "<stack_id>").replace(self.stack_name, "<stack>")
            text = text.replace(f"::{self.tenant}:", "::<tenant>:")
            # Physical names: <stack>-<resource>-<12 random characters>, nested ones
            # prefixed by their stack's.
            text = UUID.sub("<uuid>", text)
            if "<stack>" in text:
                text = RANDOM_SUFFIX.sub("-<random>", text)
            return text
        if isinstance(value, list):
            return [self.normal(v) for v in value]
        if isinstance(value, dict):
            return {self.normal(k): self.normal(v) for k, v in value.items()}
        return value


def _output(output: dict[str, Any], names: Names) -> dict[str, Any]:
    if "output_error" in output:
        return {"error": True}
    return {"value": names.normal(output.get("output_value"))}


def _event_states(http: Any, path: str, stack_name: str) -> dict[str, list[str]]:
    """Each resource's (and the stack's own, under ``<stack>``) event states, in order."""
    listed = http.get(f"{path}/events", params={"sort_dir": "asc"}).json()["events"]
    states: dict[str, list[str]] = {}
    for event in listed:
        name = "<stack>" if event["resource_name"] == stack_name else event["resource_name"]
        states.setdefault(name, []).append(event["resource_status"])
    return states


def _delete(http: Any, path: str) -> None:
    http.delete(path)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        shown = http.get(path)
        if shown.status_code == 404 or shown.json()["stack"]["stack_status"] in (
            "DELETE_COMPLETE",
            "DELETE_FAILED",
        ):
            return
        time.sleep(0.2)
    raise AssertionError(f"{path} not deleted after {SETTLE_TIMEOUT}s")
