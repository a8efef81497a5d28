"""The operator's ``heat.conf`` files read again, for the libraries that take their own
options from it (keystonemiddleware, oslo.policy) rather than through ``Settings``."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

PROJECT = "heat"


def load_conf(config_args: Sequence[str], prog: str) -> cfg.ConfigOpts:
    """An oslo.config object reading the same files (``--config-file``/``--config-dir``
    arguments) as the service did, and no default ones."""
    conf = cfg.ConfigOpts()
    conf(
        args=list(config_args),
        project=PROJECT,
        prog=prog,
        default_config_files=[],
        default_config_dirs=[],
    )
    return conf
