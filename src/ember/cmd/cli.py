"""The ``ember`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ember.cmd import local_files, stack_commands
from ember.common import errors
from ember.template import Environment, Template, define, merge_environment_files, validate_response


def template_validate(args: argparse.Namespace) -> int:
    path = Path(args.template)
    files: dict[str, str] = {}
    local_files.collect(path, files)
    try:
        template = Template.load(path.read_text(encoding="utf-8"), files)
        if args.environment:
            names = []
            for env_path in map(Path, args.environment):
                files[env_path.name] = env_path.read_text(encoding="utf-8")
                local_files.collect_environment(env_path, files)
                names.append(env_path.name)
            param_types = {n: s.type for n, s in template.parameter_schemas().items()}
            env = merge_environment_files(names, files, param_types=param_types)
        else:
            env = Environment()
        env = env.with_parameters(stack_commands.parse_parameters(args.parameter))
        defn = define(template, env, require_parameters=False)
        defn.diags.raise_if_errors()
    except errors.EmberError as exc:
        print(f"ERROR: {exc.message}", file=sys.stderr)
        return 1
    except stack_commands.BadInput as exc:
        raise SystemExit(f"ember: {exc}") from exc
    print(json.dumps(validate_response(defn, show_nested=args.show_nested), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ember", description="Ember orchestration tools")
    commands = parser.add_subparsers(dest="command", required=True)
    template = commands.add_parser("template", help="template language tools")
    template_cmds = template.add_subparsers(dest="template_command", required=True)
    validate = template_cmds.add_parser("validate", help="validate a template file")
    validate.add_argument("template")
    validate.add_argument("-e", "--environment", action="append", default=[])
    validate.add_argument("-P", "--parameter", action="append", default=[])
    validate.add_argument("--show-nested", action="store_true")
    validate.set_defaults(func=template_validate)
    stack_commands.register(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
