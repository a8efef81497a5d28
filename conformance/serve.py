"""heat-all for the conformance run under a title without "heat": on a shared machine, a
``pkill heat-all`` meant for another checkout's service would otherwise stop this one in
the middle of a suite. Everything else is ``python -m ember.cmd.all``."""

from __future__ import annotations

import sys

import setproctitle

from ember.cmd import all as heat_all


def _title(name: str, role: str | None = None) -> None:
    setproctitle.setproctitle(f"ember-conformance ({role or 'all-in-one'})")


if __name__ == "__main__":
    setattr(heat_all, "name_process", _title)  # noqa: B010 (replacing a module global)
    sys.exit(heat_all.main())
