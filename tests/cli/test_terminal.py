"""``ember stack create`` in a real terminal (tmux): following is the default there, with
rich's live progress while the stack is made, then the summary and the exit code."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from tests.api.helpers import require
from tests.cli.conftest import EMBER, Ember
from tests.cli.templates import waiting


class Terminal:
    """One tmux session on a socket of its own, 200x50."""

    def __init__(self, name: str) -> None:
        self.socket = f"ember-cli-{os.getpid()}"
        self.name = name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
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


def test_live_progress_then_summary(ember: Ember, terminal: Terminal) -> None:
    ember.write("wait.yaml", waiting(4))
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in ember.env().items()
        if k.startswith("OS_") or k in ("PATH", "HOME", "NO_PROXY")
    )
    script = ember.write(
        "run.sh",
        f"cd {shlex.quote(str(ember.cwd))}\n"
        f"env -i TERM=xterm-256color {env} {EMBER} stack create -t wait.yaml live\n"
        'echo "EXIT=$?"\n'
        "read -r _\n",
    )
    terminal.start(f"bash {shlex.quote(str(script))}")

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
