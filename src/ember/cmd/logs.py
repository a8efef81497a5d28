"""Logging as Heat's: oslo.log, configured from the same heat.conf.

Every option an operator's file may already set works as in Heat (``[DEFAULT] debug``,
``log_file``, ``log_dir``, ``use_stderr``, ``use_json``, ``log_config_append``,
``default_log_levels``, the format strings, syslog and journald). Each record is tagged
with what ``ember.common.log_tags`` holds for the task that logged it: the request id,
project and user in the record's context (Heat's ``[req-... user project]`` in text
lines, the ``context`` object in JSON ones), the stack and traversal ids in its extra
fields (``extra`` in JSON).
"""

from __future__ import annotations

import logging
from typing import Any

from oslo_config import cfg
from oslo_log import log

from ember.cmd.config import ConfigError
from ember.common import log_tags
from ember.common.settings import Settings

PROJECT = "heat"
CONTEXT_FIELDS = ("request_id", "project_id", "user_id")
EXTRA_FIELDS = ("stack_id", "traversal_id")
# oslo.log's formatters read their format strings from the configuration as they format,
# so the object it was set up with lives as long as the process.
_CONFIGURED: list[cfg.ConfigOpts] = []


class TagRecords(logging.Filter):
    """Copies the logging task's tags onto each record it lets through."""

    def filter(self, record: logging.LogRecord) -> bool:
        tags = log_tags.current()
        if not tags:
            return True
        fields: dict[str, Any] = record.__dict__
        context: dict[str, str | None] = {key: tags[key] for key in CONTEXT_FIELDS if key in tags}
        if context and "context" not in fields:
            # As oslo.context's logging values name them too, for the default formats.
            context.update(user=context.get("user_id"), project=context.get("project_id"))
            fields["context"] = context
        extra = dict(fields.get("extra") or {})
        for key in EXTRA_FIELDS:
            if key in tags:
                extra.setdefault(key, tags[key])
        fields["extra"] = extra
        return True


def setup_logging(settings: Settings, prog: str) -> None:
    """Logging of this process as ``settings``' configuration files say, replacing the
    provisional set-up made before they were read; ConfigError if they set it wrong."""
    conf = cfg.ConfigOpts()
    log.register_options(conf)
    args = [*settings.config_args, *(["--debug"] if settings.debug else [])]
    try:
        conf(args=args, project=PROJECT, prog=prog, default_config_files=[], default_config_dirs=[])
        log.setup(conf, PROJECT)
    except cfg.Error as exc:
        raise ConfigError(str(exc)) from exc
    except SystemExit:
        # oslo.config has printed why (a command-line option's value read from a file).
        raise ConfigError("a logging option has a value of the wrong kind") from None
    tagger = TagRecords()
    for handler in logging.getLogger().handlers:
        handler.addFilter(tagger)
    _CONFIGURED[:] = [conf]
