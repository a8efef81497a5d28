"""Parse, validate and resolve a generated 1,000-resource template that uses functions
throughout; report median times.

    python bench/template_bench.py [--resources 1000] [--runs 15] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from ember.template import (
    Environment,
    PropertySchema,
    StackIdentity,
    Template,
    TypeInfo,
    define,
)

TYPES = {
    "OS::Heat::RandomString": TypeInfo(
        attributes=frozenset({"value", "show"}),
        properties={
            "length": PropertySchema("integer", default=32),
            "salt": PropertySchema("string"),
        },
    ),
    "OS::Heat::Value": TypeInfo(
        attributes=frozenset({"value", "show"}),
        properties={
            "value": PropertySchema("any", required=True),
            "type": PropertySchema("string"),
        },
    ),
}


class Catalog:
    def type_info(self, type_name: str) -> TypeInfo | None:
        return TYPES.get(type_name)

    def type_names(self) -> list[str]:
        return list(TYPES)


class Resolver:
    def reference(self, name: str) -> Any:
        return f"{name}-0123456789ab"

    def attribute(self, name: str, attribute: str) -> Any:
        return f"{name}:{attribute}"

    def all_attributes(self, name: str) -> dict[str, Any]:
        return {"value": f"{name}:value"}


def generate(count: int) -> str:
    """Pairs of a random string and a value that combines it with parameters."""
    resources: dict[str, Any] = {}
    for i in range(count // 2):
        resources[f"secret_{i}"] = {
            "type": "OS::Heat::RandomString",
            "properties": {
                "length": {"get_param": "length"},
                "salt": {"list_join": ["-", [{"get_param": "prefix"}, str(i)]]},
            },
        }
        resources[f"value_{i}"] = {
            "type": "OS::Heat::Value",
            "condition": "enabled",
            "properties": {
                "value": {
                    "str_replace": {
                        "template": "NAME-SECRET-INDEX",
                        "params": {
                            "NAME": {"get_param": "prefix"},
                            "SECRET": {"get_attr": [f"secret_{i}", "value"]},
                            "INDEX": {"if": ["is_prod", str(i), "dev"]},
                        },
                    }
                },
                "type": {"if": ["is_prod", "string", "string"]},
            },
            "depends_on": [f"secret_{i}"],
        }
    template = {
        "heat_template_version": "2021-04-16",
        "description": f"{count} resources using functions throughout",
        "parameters": {
            "prefix": {
                "type": "string",
                "default": "bench",
                "constraints": [{"length": {"min": 1, "max": 32}}],
            },
            "length": {
                "type": "number",
                "default": 16,
                "constraints": [{"range": {"min": 8, "max": 64}}],
            },
            "env": {
                "type": "string",
                "default": "prod",
                "constraints": [{"allowed_values": ["prod", "dev"]}],
            },
        },
        "conditions": {
            "is_prod": {"equals": [{"get_param": "env"}, "prod"]},
            "enabled": {"not": {"equals": [{"get_param": "prefix"}, ""]}},
        },
        "resources": resources,
        "outputs": {
            "values": {
                "value": {
                    "list_join": [
                        ",",
                        [{"get_attr": [f"value_{i}", "value"]} for i in range(0, count // 2, 10)],
                    ]
                }
            },
            "first": {"value": {"get_resource": "secret_0"}},
        },
    }
    return yaml.safe_dump(template, sort_keys=False)


def run_once(text: str) -> dict[str, float]:
    t0 = time.perf_counter()
    template = Template.load(text, max_size=None)
    t1 = time.perf_counter()
    defn = define(
        template, Environment(), identity=StackIdentity("bench", "id", "demo"), catalog=Catalog()
    )
    defn.diags.raise_if_errors()
    order = defn.graph().topological_order()
    t2 = time.perf_counter()
    ctx = defn.resolve_context(Resolver())
    for name in order:
        defn.resources[name].resolved_properties(ctx)
    defn.resolve_outputs(ctx)
    t3 = time.perf_counter()
    return {"parse": t1 - t0, "validate": t2 - t1, "resolve": t3 - t2, "total": t3 - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    text = generate(args.resources)
    run_once(text)  # warm caches (imports, regex compilation)
    samples = [run_once(text) for _ in range(args.runs)]
    medians = {k: round(statistics.median(s[k] for s in samples) * 1000, 2) for k in samples[0]}
    result = {
        "benchmark": "template parse+validate+resolve",
        "resources": args.resources,
        "template_bytes": len(text.encode()),
        "runs": args.runs,
        "median_ms": medians,
        "python": platform.python_version(),
        "yaml_c_loader": hasattr(yaml, "CSafeLoader"),
    }
    print(json.dumps(result, indent=2))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
