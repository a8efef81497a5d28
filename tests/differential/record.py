"""Record what real Heat does with the corpus, for the replay test to hold Ember to.

    python -m tests.differential.record http://127.0.0.1:8004/v1/admin [case ...]

Heat (27, convergence engine, MariaDB) must run with the ``noauth`` paste flavor, so that
requests carry only ``X-Auth-Project``. Named cases are re-recorded and the rest kept; with
none, the whole corpus is recorded afresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.differential.observe import RECORDED, Case, load_corpus, observe

PARALLEL = 4


def _record(endpoint: str, project: str, case: Case) -> tuple[str, dict[str, Any]]:
    headers = {"X-Auth-Project": project, "X-Auth-User": project}
    with httpx.Client(base_url=endpoint, headers=headers, timeout=120.0) as http:
        name = f"diff-{uuid.uuid4().hex[:8]}"
        try:
            return case.name, observe(http, case, name, project)
        except Exception as exc:  # recorded as such: the replay then fails loudly
            return case.name, {"unrecorded": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("endpoint", help="Heat's REST endpoint, .../v1/<project>")
    parser.add_argument("cases", nargs="*", help="only these cases")
    parser.add_argument("--heat-version", default="27.0.1")
    args = parser.parse_args(argv)
    project = args.endpoint.rstrip("/").rsplit("/", 1)[-1]
    corpus = load_corpus()
    chosen = [c for c in corpus if not args.cases or c.name in args.cases]
    previous: dict[str, Any] = {}
    if args.cases and RECORDED.exists():
        previous = json.loads(RECORDED.read_text(encoding="utf-8"))["cases"]
    with ThreadPoolExecutor(PARALLEL) as pool:
        for name, observed in pool.map(lambda c: _record(args.endpoint, project, c), chosen):
            previous[name] = observed
            print(name, observed.get("create", observed), flush=True)
    known = {c.name for c in corpus}
    recorded = {
        "heat": args.heat_version,
        "cases": {k: previous[k] for k in sorted(previous) if k in known},
    }
    RECORDED.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    failed = [n for n, o in recorded["cases"].items() if "unrecorded" in o]
    print(f"{len(recorded['cases'])} recorded, {len(failed)} not: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
