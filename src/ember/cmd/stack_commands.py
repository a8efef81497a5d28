"""``ember stack ...``: create, update, delete, show, list, preview, events, resources,
outputs, cancel and template, against the REST API that ``OS_*`` variables or
``clouds.yaml`` name (``--os-cloud``).

Exit codes: 0 complete, 1 failed, 2 bad input or template (the API's 400 answers too),
3 timed out or cancelled."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import graphviz
import yaml
from rich.console import Console
from rich.table import Table

from ember.client import BadRequest, Client, HeatError, from_environment
from ember.cmd import follow as following
from ember.cmd import graph as graphs
from ember.cmd import local_files
from ember.template import parse_text

FORMATS = ("table", "json", "yaml")


class BadInput(Exception):
    """What the user gave cannot be used (exit 2)."""


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise BadInput(f"parameter {pair!r} must look like KEY=VALUE")
        out[key] = value
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def template_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The template, files, environment files and parameters of a create, update or
    preview, with the local files the template and environments name (as heatclient
    sends them)."""
    fields: dict[str, Any] = {}
    files: dict[str, str] = {}
    if getattr(args, "template_file", None):
        path = Path(args.template_file)
        fields["template"] = _read(path)
        local_files.collect(path, files)
    env_names = []
    for name in args.environment:
        env_path = Path(name)
        text = _read(env_path)
        try:
            parse_text(text)
        except Exception as exc:
            raise BadInput(f"environment {name}: {exc}") from exc
        files[name] = text
        local_files.collect_environment(env_path, files)
        env_names.append(name)
    fields["files"] = files
    fields["environment_files"] = env_names
    fields["parameters"] = parse_parameters(args.parameter)
    if args.timeout is not None:
        fields["timeout_mins"] = args.timeout
    return fields


# -- output


def _console(args: argparse.Namespace, *, stderr: bool = False) -> Console:
    console = Console(file=sys.stderr if stderr else sys.stdout, highlight=False)
    if not console.is_terminal:
        # Lines of a pipe or file are not folded at 80 columns.
        console = Console(
            file=console.file, highlight=False, soft_wrap=True, width=max(console.width, 200)
        )
    return console


def emit(args: argparse.Namespace, document: Any, rows: list[dict[str, Any]] | None = None) -> None:
    """Print ``document`` as JSON or YAML, or ``rows`` (default: the document's items)
    as a table."""
    if args.format == "json":
        print(json.dumps(document, indent=2, sort_keys=True, default=str))
        return
    if args.format == "yaml":
        print(yaml.safe_dump(document, sort_keys=True, default_flow_style=False), end="")
        return
    if rows is None:
        rows = [{"field": k, "value": v} for k, v in document.items()]
    console = _console(args)
    if not rows:
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def _stack_rows(stacks: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "stack_name": s.name,
            "stack_status": s.status,
            "creation_time": s.creation_time,
            "updated_time": s.updated_time,
        }
        for s in stacks
    ]


# -- following


def _wants_follow(args: argparse.Namespace) -> bool:
    if args.follow is not None:
        return bool(args.follow)
    return sys.stdout.isatty()


def _follow(
    args: argparse.Namespace,
    client: Client,
    identity: str,
    action: str,
    source: following.EventSource,
    started: float,
) -> int:
    structured = args.format in ("json", "yaml")
    console = _console(args, stderr=structured)
    display: following.Display
    if console.is_terminal:
        display = following.LiveDisplay(console)
    else:
        display = following.PlainDisplay(sys.stderr if structured else sys.stdout)
    outcome = following.follow(client, identity, action, display, source, started=started)
    name = identity.split("/", 1)[0]
    if structured:
        emit(
            args,
            {
                "stack": outcome.stack.raw if outcome.stack else None,
                "stack_status": outcome.stack.status if outcome.stack else f"{action}_COMPLETE",
                "exit_code": outcome.exit_code,
                "duration": round(outcome.duration, 3),
                "resources": {
                    "done": outcome.done,
                    "failed": outcome.failed,
                    "total": outcome.total,
                },
                "events": outcome.events,
                "failures": [f.as_dict() for f in outcome.failures],
            },
        )
    else:
        following.render_failures(outcome.failures, console)
        following.render_summary(outcome, name, console)
    return outcome.exit_code


def _started(args: argparse.Namespace, identity: str, action: str) -> int:
    """What a create/update/delete/cancel prints when it does not follow."""
    name, _, sid = identity.partition("/")
    if args.format == "table":
        print(f"{action} of stack {name} ({sid}) started")
    else:
        emit(args, {"id": sid, "stack_name": name, "action": action})
    return following.EXIT_COMPLETE


# -- commands


def cmd_create(args: argparse.Namespace, client: Client) -> int:
    fields = template_fields(args)
    started = time.monotonic()
    identity = client.create_stack(
        args.name, disable_rollback=not args.rollback, tags=args.tag, **fields
    )
    if not _wants_follow(args):
        return _started(args, identity, "CREATE")
    source = following.StreamedEvents(client, identity)
    return _follow(args, client, identity, "CREATE", source, started)


def cmd_update(args: argparse.Namespace, client: Client) -> int:
    if not args.template_file and not args.existing:
        raise BadInput("update needs -t/--template-file, or --existing to keep the template")
    fields = template_fields(args)
    identity = client.identify(args.name)
    source = following.StreamedEvents.after_latest(client, identity)
    started = time.monotonic()
    rollback = None if args.rollback is None else not args.rollback
    client.update_stack(
        identity, existing=args.existing, disable_rollback=rollback, tags=args.tag, **fields
    )
    if not _wants_follow(args):
        return _started(args, identity, "UPDATE")
    return _follow(args, client, identity, "UPDATE", source, started)


def cmd_delete(args: argparse.Namespace, client: Client) -> int:
    identity = client.identify(args.name)
    source = following.StreamedEvents.after_latest(client, identity)
    started = time.monotonic()
    client.delete_stack(identity)
    if not _wants_follow(args):
        return _started(args, identity, "DELETE")
    return _follow(args, client, identity, "DELETE", source, started)


def cmd_cancel(args: argparse.Namespace, client: Client) -> int:
    identity = client.identify(args.name)
    running = client.show_stack(identity, resolve_outputs=False)
    source = following.StreamedEvents.after_latest(client, identity)
    started = time.monotonic()
    # Heat rolls back cancelled updates only: a create stops where it is.
    rollback = not args.no_rollback and running.action != "CREATE"
    client.cancel_update(identity, rollback=rollback)
    if not _wants_follow(args):
        return _started(args, identity, "CANCEL")
    return _follow(args, client, identity, running.action, source, started)


def cmd_show(args: argparse.Namespace, client: Client) -> int:
    stack = client.show_stack(args.name)
    emit(args, stack.raw)
    return 0


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    stacks = client.list_stacks()
    emit(args, [s.raw for s in stacks], _stack_rows(stacks))
    return 0


def cmd_preview(args: argparse.Namespace, client: Client) -> int:
    preview = client.preview_stack(args.name, **template_fields(args))
    resources = preview.get("resources") or []
    flat: list[dict[str, Any]] = []
    pending = list(resources)
    while pending:
        item = pending.pop(0)
        if isinstance(item, list):
            pending[:0] = item
        elif isinstance(item, dict):
            flat.append(
                {
                    "resource_name": item.get("resource_name"),
                    "resource_type": item.get("resource_type"),
                    "stack_name": item.get("stack_name"),
                }
            )
    emit(args, preview, flat)
    return 0


def cmd_events(args: argparse.Namespace, client: Client) -> int:
    events = client.events(
        args.name,
        marker=args.marker,
        limit=args.limit,
        nested_depth=args.nested_depth,
        sort_dir="asc",
    )
    rows = [
        {
            "event_time": e.time,
            "stack_name": e.stack_name,
            "resource_name": e.resource_name,
            "resource_status": e.status,
            "resource_status_reason": e.reason,
            "id": e.id,
        }
        for e in events
    ]
    emit(args, [e.raw for e in events], rows)
    return 0


def cmd_resources(args: argparse.Namespace, client: Client) -> int:
    resources = client.resources(args.name, nested_depth=args.nested_depth)
    rows = [
        {
            "resource_name": r.name,
            "stack_name": r.stack_name,
            "resource_type": r.type,
            "resource_status": r.status,
            "physical_resource_id": r.physical_resource_id,
            "updated_time": r.updated_time,
        }
        for r in resources
    ]
    emit(args, [r.raw for r in resources], rows)
    return 0


IMAGE_FORMATS = ("dot", "svg", "png")


def cmd_graph(args: argparse.Namespace, client: Client) -> int:
    image = args.image or _image_format(args.output)
    stack = client.show_stack(args.name, resolve_outputs=False)
    resources = client.resources(stack.id, nested_depth=following.NESTED_DEPTH)
    drawn = graphs.stack_graph(stack.name, stack.id, resources)
    if image == "dot":
        data = drawn.source.encode()
    else:
        try:
            data = drawn.pipe(format=image)
        except graphviz.ExecutableNotFound:
            raise BadInput("drawing needs Graphviz's dot (apt-get install graphviz)") from None
    if args.output is not None:
        args.output.write_bytes(data)
    elif image == "png" and sys.stdout.isatty():
        raise BadInput("a PNG is not for a terminal: pass -o FILE")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return following.EXIT_COMPLETE


def _image_format(output: Path | None) -> str:
    ending = output.suffix.lower().lstrip(".") if output is not None else ""
    return {"gv": "dot", "svg": "svg", "png": "png"}.get(ending, "dot")


def cmd_outputs(args: argparse.Namespace, client: Client) -> int:
    outputs = client.outputs(args.name)
    rows = [
        {
            "output_key": o.get("output_key"),
            "output_value": o.get("output_error") or o.get("output_value"),
            "description": o.get("description"),
        }
        for o in outputs
    ]
    emit(args, outputs, rows)
    return 0


def cmd_template(args: argparse.Namespace, client: Client) -> int:
    template = client.template(args.name)
    if args.format == "table":
        args.format = "yaml"
    emit(args, template)
    return 0


# -- argument parsing


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--os-cloud",
        default=os.environ.get("OS_CLOUD"),
        help="the clouds.yaml entry to use (default: $OS_CLOUD, else the OS_* variables)",
    )
    parser.add_argument("-f", "--format", choices=FORMATS, default="table")


def _template_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("-t", "--template-file", required=required, help="the template")
    parser.add_argument(
        "-e", "--environment", action="append", default=[], help="an environment file"
    )
    parser.add_argument(
        "--parameter", "-P", action="append", default=[], metavar="KEY=VALUE", help="a parameter"
    )
    parser.add_argument("--timeout", type=int, metavar="MINUTES", help="the stack's timeout")


def _follow_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--follow",
        "--wait",
        dest="follow",
        action="store_true",
        default=None,
        help="wait for the end, showing progress (the default on a terminal)",
    )
    group.add_argument("--no-follow", dest="follow", action="store_false")


def register(commands: Any) -> None:
    """Add ``stack`` and its commands to the ``ember`` parser's subcommands."""
    stack = commands.add_parser("stack", help="stacks on an Ember (or Heat) REST API")
    cmds = stack.add_subparsers(dest="stack_command", required=True)

    def add(name: str, func: Any, help_text: str, *, named: bool = True) -> Any:
        parser = cmds.add_parser(name, help=help_text)
        _common(parser)
        if named:
            parser.add_argument("name", help="the stack's name or id")
        parser.set_defaults(func=run, stack_func=func)
        return parser

    create = add("create", cmd_create, "create a stack")
    _template_options(create, required=True)
    rollback = create.add_mutually_exclusive_group()
    rollback.add_argument("--rollback", dest="rollback", action="store_true", default=False)
    rollback.add_argument("--no-rollback", dest="rollback", action="store_false")
    create.add_argument("--tag", action="append", default=[])
    _follow_options(create)

    update = add("update", cmd_update, "update a stack")
    _template_options(update, required=False)
    update.add_argument(
        "--existing", action="store_true", help="keep the stack's template, parameters, ..."
    )
    rollback = update.add_mutually_exclusive_group()
    rollback.add_argument("--rollback", dest="rollback", action="store_true", default=None)
    rollback.add_argument("--no-rollback", dest="rollback", action="store_false")
    update.add_argument("--tag", action="append", default=[])
    _follow_options(update)

    delete = add("delete", cmd_delete, "delete a stack")
    _follow_options(delete)

    cancel = add("cancel", cmd_cancel, "cancel a running create or update")
    cancel.add_argument(
        "--no-rollback", action="store_true", help="stop where it is (cancel_without_rollback)"
    )
    _follow_options(cancel)

    add("show", cmd_show, "a stack's details")
    add("list", cmd_list, "the project's stacks", named=False)
    preview = add("preview", cmd_preview, "what creating a stack would make")
    _template_options(preview, required=True)

    events = add("events", cmd_events, "a stack's events, oldest first")
    events.add_argument("--nested-depth", type=int, default=None)
    events.add_argument("--limit", type=int, default=None)
    events.add_argument("--marker", default=None, help="only the events after this one")

    resources = add("resources", cmd_resources, "a stack's resources")
    resources.add_argument("--nested-depth", type=int, default=None)
    add("outputs", cmd_outputs, "a stack's outputs, resolved")
    add("template", cmd_template, "a stack's template")
    graph = add("graph", cmd_graph, "a stack's resources and dependencies as a picture")
    graph.add_argument(
        "--as",
        dest="image",
        choices=IMAGE_FORMATS,
        help="dot, svg or png (default: from --output's ending, else dot)",
    )
    graph.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")


def _error(message: str) -> None:
    print(f"ember: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    try:
        session = from_environment(args.os_cloud)
    except Exception as exc:
        _error(f"cannot configure the client: {exc}")
        return following.EXIT_BAD_INPUT
    try:
        with Client(session) as client:
            return int(args.stack_func(args, client))
    except BadInput as exc:
        _error(str(exc))
        return following.EXIT_BAD_INPUT
    except BadRequest as exc:
        _error(f"{exc.error_type}: {exc.message}" if exc.error_type else exc.message)
        return following.EXIT_BAD_INPUT
    except HeatError as exc:
        _error(f"{exc.error_type}: {exc.message}" if exc.error_type else exc.message)
        return following.EXIT_FAILED
    except KeyboardInterrupt:
        _error("interrupted (the operation goes on; `ember stack cancel` stops it)")
        return 130
