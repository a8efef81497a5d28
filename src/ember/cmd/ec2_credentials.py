"""``heat-manage ec2-credentials create|list|delete``: the EC2-style key pairs heat-api-cfn
checks request signatures with, kept in Ember's database (not Keystone's).

The secret is shown once, by ``create``, and stored only encrypted with ``[DEFAULT]
auth_encryption_key``; ``list`` never shows it. Works on the database directly, as
``purge_deleted`` does: no engine needs to run.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ember.common import crypt
from ember.common.settings import HEAT_DEFAULT_ENCRYPTION_KEY, Settings
from ember.db.engine import create_engine
from ember.db.models import Ec2Credential
from ember.db.session import session_scope
from ember.db.unit import UnitOfWork

COMMAND = "ec2-credentials"
# Keystone gives a new member this role; the roles it implies are resolved elsewhere.
DEFAULT_ROLE = "member"
LIST_FIELDS = ("access", "project_id", "user_id", "user_name", "roles", "created_at")
R = TypeVar("R")


class NotFound(Exception):
    """No key pair with that access key in that project."""


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = commands.add_parser(
        COMMAND, parents=[common], help="manage EC2-style key pairs for heat-api-cfn"
    )
    actions = parser.add_subparsers(dest="action", required=True)

    create = actions.add_parser(
        "create", parents=[common], help="make a key pair and print it (the secret only now)"
    )
    create.add_argument("--project", required=True, help="project the key pair acts in")
    create.add_argument("--user", required=True, help="user id the key pair acts as")
    create.add_argument("--user-name", help="the user's name (default: the user id)")
    create.add_argument(
        "--role",
        action="append",
        dest="roles",
        metavar="ROLE",
        help=f"a role of the user in the project; repeat for more (default: {DEFAULT_ROLE})",
    )
    _format_option(create)

    listing = actions.add_parser(
        "list", parents=[common], help="list a project's key pairs (never their secrets)"
    )
    listing.add_argument("--project", required=True)
    listing.add_argument("--user", help="only this user's key pairs")
    _format_option(listing)

    remove = actions.add_parser("delete", parents=[common], help="delete a project's key pair")
    remove.add_argument("--project", required=True)
    remove.add_argument("access", help="the access key")


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.action](settings, args)
    except NotFound as exc:
        print(f"heat-manage: error: {exc}", file=sys.stderr)
        return 1


def create(settings: Settings, args: argparse.Namespace) -> int:
    if settings.auth_encryption_key == HEAT_DEFAULT_ENCRYPTION_KEY:
        print(
            "heat-manage: warning: [DEFAULT] auth_encryption_key is Heat's default, which "
            "everyone knows; set a key of your own before storing secrets",
            file=sys.stderr,
        )
    # 32 hex characters each, as Keystone's are; from the system's secure random source.
    access = secrets.token_hex(16)
    secret = secrets.token_hex(16)
    roles = list(dict.fromkeys(args.roles or [DEFAULT_ROLE]))
    _in_transaction(
        settings,
        lambda uow: uow.ec2_credentials.add(
            access=access,
            secret=crypt.encrypt(secret, settings.auth_encryption_key),
            project_id=args.project,
            user_id=args.user,
            user_name=args.user_name or args.user,
            roles=roles,
        ),
    )
    pair = {"access": access, "secret": secret, "project_id": args.project, "user_id": args.user}
    if args.format == "json":
        print(json.dumps(pair))
    else:
        shown = {**pair, "user_name": args.user_name or args.user, "roles": ",".join(roles)}
        print(_table(["Field", "Value"], [[k, v] for k, v in shown.items()]))
    return 0


def list_pairs(settings: Settings, args: argparse.Namespace) -> int:
    rows = _in_transaction(
        settings,
        lambda uow: [_listed(r) for r in uow.ec2_credentials.list(args.project, args.user)],
    )
    if args.format == "json":
        print(json.dumps(rows))
    else:
        cells = [[_cell(row[f]) for f in LIST_FIELDS] for row in rows]
        print(_table(list(LIST_FIELDS), cells))
    return 0


def delete(settings: Settings, args: argparse.Namespace) -> int:
    if not _in_transaction(
        settings, lambda uow: uow.ec2_credentials.delete(args.project, args.access)
    ):
        raise NotFound(f"no EC2 credential {args.access} in project {args.project}")
    print(f"Deleted EC2 credential {args.access}")
    return 0


ACTIONS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "create": create,
    "list": list_pairs,
    "delete": delete,
}


def _in_transaction(settings: Settings, fn: Callable[[UnitOfWork], R]) -> R:
    engine = create_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            return fn(UnitOfWork(session))
    finally:
        engine.dispose()


def _listed(row: Ec2Credential) -> dict[str, Any]:
    # What an operator needs to tell key pairs apart; the secret stays in the database.
    return {
        "access": row.access,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "user_name": row.user_name,
        "roles": list(row.roles),
        "created_at": row.created_at.isoformat(),
    }


def _cell(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([rule, line(header), rule, *(line(r) for r in rows), rule])
