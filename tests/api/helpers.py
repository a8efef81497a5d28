"""Templates and small helpers shared by the end-to-end API tests."""

from __future__ import annotations

import importlib
import os
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(available: bool, what: str) -> None:
    """Skip when something the tests need is missing; under CI, fail instead."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is required (CI=true)", pytrace=False)
    pytest.skip(f"{what} is not available")


def need(name: str) -> ModuleType:
    """Import a module the tests need: without it they skip, or fail under ``CI=true``.

    The clients' own imports may warn about their dependencies (keystoneauth1 pulls in
    osprofiler, webob and the deprecated ``cgi``); that is not what these tests check."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        if CI:
            return importlib.import_module(name)
        return pytest.importorskip(name)


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REQUEST_ID = rf"^req-{UUID}$"

# A stack of Heat-native resources only: a random string feeding a TestResource, and a
# Value holding a parameter.
DEMO = """\
heat_template_version: 2016-10-14
description: demo stack
parameters:
  greeting:
    type: string
    default: hello
resources:
  rand:
    type: OS::Heat::RandomString
    properties:
      length: 8
  val:
    type: OS::Heat::Value
    properties:
      value: {get_param: greeting}
  test:
    type: OS::Heat::TestResource
    properties:
      value: {get_attr: [rand, value]}
outputs:
  greeting_out:
    description: the greeting
    value: {get_attr: [val, value]}
  random_out:
    value: {get_attr: [rand, value]}
"""

DEMO_DICT: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "description": "demo stack",
    "parameters": {"greeting": {"type": "string", "default": "hello"}},
    "resources": {
        "rand": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
        "val": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "greeting"}}},
        "test": {
            "type": "OS::Heat::TestResource",
            "properties": {"value": {"get_attr": ["rand", "value"]}},
        },
    },
    "outputs": {
        "greeting_out": {"description": "the greeting", "value": {"get_attr": ["val", "value"]}},
        "random_out": {"value": {"get_attr": ["rand", "value"]}},
    },
}

# One placeholder resource: the cheapest stack there is.
NONE_DICT: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "resources": {"nothing": {"type": "OS::Heat::None"}},
}

NONE = """\
heat_template_version: 2016-10-14
description: a placeholder
resources:
  nothing:
    type: OS::Heat::None
"""

# A TestResource whose update waits ``secs`` seconds, to catch a stack UPDATE_IN_PROGRESS.
SLOW_UPDATE = """\
heat_template_version: 2016-10-14
parameters:
  secs:
    type: number
    default: 0
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: secs}
      action_wait_secs:
        update: {get_param: secs}
"""

SLOW_UPDATE_DICT: dict[str, Any] = {
    "heat_template_version": "2016-10-14",
    "parameters": {"secs": {"type": "number", "default": 0}},
    "resources": {
        "slow": {
            "type": "OS::Heat::TestResource",
            "properties": {
                "value": {"get_param": "secs"},
                "action_wait_secs": {"update": {"get_param": "secs"}},
            },
        }
    },
}

FINAL = ("_COMPLETE", "_FAILED")


def wait_until(
    probe: Callable[[], Any],
    accept: Callable[[Any], bool],
    timeout: float = 30.0,
    what: str = "",
) -> Any:
    """Call ``probe`` until ``accept`` takes its result; return that result. ``what`` says
    what is awaited, for the failure message."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        seen = probe()
        if accept(seen):
            return seen
        time.sleep(0.1)
    waiting = f" waiting for {what}" if what else ""
    raise AssertionError(f"timed out after {timeout}s{waiting}; last seen: {seen!r}")


def wait_stack(hc: Any, stack: str, status: str, timeout: float = 30.0) -> Any:
    """Poll with a heatclient client until the stack's action has finished; the finished
    stack must have ``status``."""
    action = status.rsplit("_", 1)[0]

    def probe() -> Any:
        return hc.stacks.get(stack, resolve_outputs=False)

    def done(found: Any) -> bool:
        state = found.stack_status
        return bool(state.startswith(action + "_") and state.endswith(FINAL))

    found = wait_until(probe, done, timeout)
    assert found.stack_status == status, (found.stack_status, found.stack_status_reason)
    return hc.stacks.get(stack)


def create_stack(
    hc: Any,
    name: str,
    template: dict[str, Any] | str,
    status: str = "CREATE_COMPLETE",
    **fields: Any,
) -> Any:
    created = hc.stacks.create(stack_name=name, template=template, **fields)
    return wait_stack(hc, created["stack"]["id"], status)
