"""``ember stack create`` in a real terminal (tmux): following is the default there, with
rich's live progress while the stack is made (nested stacks' resources included), then
the summary, the root cause of a failure, and the exit code."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.api.helpers import require
from tests.cli.conftest import EMBER, Ember
from tests.cli.templates import LEAF, MIDDLE, TOP, grouped, waiting


class Terminal:
    """One tmux session on a socket of its own, 200x50."""

    def __init__(self, name: str) -> None:
        # A server of its own for each terminal: one being killed is not reused.
        self.socket = f"ember-cli-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.name = name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"tmux {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", self.name, "-x", "200", "-y", "50", command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, accept: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = self.screen()
            if accept(seen):
                return seen
            time.sleep(0.1)
        raise AssertionError(f"no {what} on the screen after {timeout}s:\n{seen}")

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    require(shutil.which("tmux") is not None, "tmux")
    term = Terminal("create")
    yield term
    term.stop()


def run_in_terminal(ember: Ember, terminal: Terminal, args: str) -> None:
    """``ember ARGS`` in the terminal, as a user with only the OS_* variables runs it;
    ``EXIT=<code>`` is printed when it ends, and the window stays open."""
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in ember.env().items()
        if k.startswith("OS_") or k in ("PATH", "HOME", "NO_PROXY")
    )
    script = ember.write(
        "run.sh",
        f"cd {shlex.quote(str(ember.cwd))}\n"
        f"env -i TERM=xterm-256color {env} {EMBER} {args}\n"
        'echo "EXIT=$?"\n'
        "read -r _\n",
    )
    terminal.start(f"bash {shlex.quote(str(script))}")


def test_live_progress_then_summary(ember: Ember, terminal: Terminal) -> None:
    ember.write("wait.yaml", waiting(4))
    run_in_terminal(ember, terminal, "stack create -t wait.yaml live")

    live = terminal.wait_for(
        lambda s: "live/waiter  CREATE_IN_PROGRESS" in s and "elapsed" in s,
        "live progress with the resource in progress",
    )
    assert "CREATE live" in live
    assert "0/1" in live
    ticking = terminal.wait_for(
        lambda s: any(
            line.strip().startswith("live/waiter  CREATE_IN_PROGRESS")
            and float(line.split()[-1].rstrip("s")) >= 1.0
            for line in s.splitlines()
        ),
        "the time the resource has been in progress",
    )
    assert "Stack live" not in ticking

    final = terminal.wait_for(lambda s: "EXIT=" in s, "the exit code")
    assert "EXIT=0" in final
    assert "Stack live CREATE_COMPLETE in " in final
    assert "1/1 resources done" in final
    assert "elapsed" not in final  # the live area is gone, the summary stays


def test_a_200_resource_stack_with_a_nested_group(ember: Ember, terminal: Terminal) -> None:
    ember.write("big.yaml", grouped(members=150, strings=49, wait_secs=3))
    run_in_terminal(ember, terminal, "stack create -t big.yaml big")

    live = terminal.wait_for(
        lambda s: (
            re.search(r"CREATE big .* \d+/200 ", s) is not None
            and re.search(r"big/group/\d+  CREATE_IN_PROGRESS  \d+\.\ds", s) is not None
        ),
        "progress over all 200 resources with the group's members in progress",
        timeout=120,
    )
    done = int(re.search(r"CREATE big .* (\d+)/200 ", live).group(1))  # type: ignore[union-attr]
    assert done < 200, live

    final = terminal.wait_for(lambda s: "EXIT=" in s, "the exit code", timeout=180)
    assert "EXIT=0" in final, final
    assert re.search(r"Stack big CREATE_COMPLETE in \d+\.\ds: 200/200 resources done", final), final
    assert "elapsed" not in final


def test_the_root_cause_three_stacks_down_is_on_the_screen(
    ember: Ember, terminal: Terminal
) -> None:
    ember.write("top.yaml", TOP)
    ember.write("nested/middle.yaml", MIDDLE)
    ember.write("nested/leaf.yaml", LEAF)
    run_in_terminal(ember, terminal, "stack create -t top.yaml deep")

    final = terminal.wait_for(lambda s: "EXIT=" in s, "the exit code", timeout=120)
    assert "EXIT=1" in final, final
    lines = [line.rstrip() for line in final.splitlines()]
    cause = lines.index("Root cause (deepest failures first):")
    assert lines[cause + 1].split() == ["deep/middle/inner/bad", "CREATE_FAILED"], final
    assert "Test Resource failed bad" in lines[cause + 2]
    parents = [line.split()[1] for line in lines[cause + 3 : cause + 6]]
    assert parents == ["deep/middle/inner", "deep/middle", "deep"], final
    summary = next(line for line in lines if line.startswith("Stack deep "))
    assert summary.startswith("Stack deep CREATE_FAILED in ")
    assert lines.index(summary) > cause
