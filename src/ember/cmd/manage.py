"""``heat-manage``: database administration with Heat's commands and options.

Usage: ``heat-manage [--config-file PATH]... [--config-dir DIR]... COMMAND`` where COMMAND is
``db_sync [version]``, ``db_version``,
``purge_deleted [-g {days,hours,minutes,seconds}] [-p PROJECT_ID] [-b BATCH_SIZE] [age]``, or
``ec2-credentials {create,list,delete}`` (the key pairs heat-api-cfn checks signatures with),
or ``scale-out`` (the files of a deployment scaled out behind HAProxy).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from ember.cmd import ec2_credentials, scale_out
from ember.cmd.config import ConfigError, load_settings
from ember.common.settings import Settings
from ember.db import migration, purge
from ember.db.engine import create_engine
from ember.db.errors import DatabaseError, MigrationError

PROG = "heat-manage"
LOG = logging.getLogger(PROG)


def db_sync(settings: Settings, args: argparse.Namespace) -> int:
    migration.db_sync(settings.database_url, args.version)
    return 0


def db_version(settings: Settings, _args: argparse.Namespace) -> int:
    print(migration.current(settings.database_url))
    return 0


def purge_deleted(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        count = purge.purge_deleted(
            engine,
            args.age,
            args.granularity,
            project_id=args.project_id,
            batch_size=args.batch_size,
        )
    finally:
        engine.dispose()
    LOG.info("Purged %d deleted stacks", count)
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "db_sync": db_sync,
    "db_version": db_version,
    "purge_deleted": purge_deleted,
    ec2_credentials.COMMAND: ec2_credentials.run,
    scale_out.COMMAND: scale_out.run,
}


def _config_options() -> argparse.ArgumentParser:
    # Accepted before or after the command; ember.cmd.config reads them.
    common = argparse.ArgumentParser(add_help=False)
    keep = argparse.SUPPRESS
    common.add_argument("--config-file", action="append", metavar="PATH", default=keep)
    common.add_argument("--config-dir", action="append", metavar="DIR", default=keep)
    common.add_argument("-d", "--debug", action="store_true", default=keep)
    common.add_argument("--nodebug", action="store_true", default=keep)
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _config_options()
    parser = argparse.ArgumentParser(prog=PROG, parents=[common], description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sync = commands.add_parser("db_sync", parents=[common], help="upgrade the schema")
    sync.add_argument("version", nargs="?", help="revision to upgrade to (default: newest)")

    commands.add_parser("db_version", parents=[common], help="print the schema revision")

    purge_cmd = commands.add_parser(
        "purge_deleted", parents=[common], help="purge stacks deleted longer ago than age"
    )
    purge_cmd.add_argument(
        "age", nargs="?", type=int, default=90, help="how long to keep deleted data"
    )
    purge_cmd.add_argument(
        "-g", "--granularity", default="days", choices=sorted(purge.GRANULARITY_SECONDS)
    )
    purge_cmd.add_argument("-p", "--project-id", help="purge only this project's stacks")
    purge_cmd.add_argument(
        "-b",
        "--batch_size",
        type=int,
        default=purge.DEFAULT_BATCH_SIZE,
        help="stacks deleted per transaction",
    )
    ec2_credentials.add_parser(commands, common)
    scale_out.add_parser(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    try:
        settings = load_settings(arguments, prog=PROG)
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(
        level=logging.DEBUG if settings.debug else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](settings, args)
    except (ValueError, MigrationError, DatabaseError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
