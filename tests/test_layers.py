"""The layer table of DESIGN.md, enforced: each layer imports only the layers below it,
``template/`` does no I/O, SQLAlchemy lives in ``db/``, HTTP in ``api/`` and ``cmd/``,
``resources/`` reaches the engine only through its plugin API, no layer's modules import
each other in a circle, and no relative import climbs out of its package."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "ember"

ALLOWED = {
    "common": {"common"},
    "template": {"template", "common"},
    "db": {"db", "common"},
    "rpc": {"rpc", "common"},
    "resources": {"resources", "engine", "template", "common"},
    "policy": {"policy", "common"},
    "engine": {"engine", "template", "resources", "db", "rpc", "policy", "common"},
    "api": {"api", "rpc", "policy", "common"},
    "client": {"client", "common"},
    "agent": {"agent", "common"},
    "cmd": None,  # entry points may import everything
}
# Modules that would let the pure template layer touch disks, sockets or processes.
IO_MODULES = {
    "os",
    "io",
    "pathlib",
    "socket",
    "subprocess",
    "shutil",
    "asyncio",
    "urllib.request",
    "http",
    "requests",
    "httpx",
    "sqlalchemy",
    "tempfile",
}
# Libraries of one layer only.
SQL_LIBRARIES = {"sqlalchemy", "alembic"}
HTTP_LIBRARIES = {
    "httpx",
    "requests",
    "starlette",
    "fastapi",
    "uvicorn",
    "keystonemiddleware",
    "webob",
    "http",
    "aiohttp",
}
HTTP_LAYERS = {"api", "cmd", "client", "agent"}
# What a resource type may use of the engine: its plugin API.
PLUGIN_API = {"ember.engine.resource"}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _layer(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


def _module_name(path: Path) -> str:
    parts = ["ember", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_nodes(path: Path) -> Iterator[ast.Import | ast.ImportFrom]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _imports(path: Path) -> list[str]:
    names = []
    for node in _import_nodes(path):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif node.module and node.level == 0:
            names.append(node.module)
    return names


def _ember_imports(path: Path) -> set[str]:
    """The Ember modules ``path`` imports (``from ember.engine import runner`` imports
    ember.engine.runner; a package's ``__init__`` counts as the package)."""
    known = {_module_name(p) for p in _modules()}
    found = set()
    for node in _import_nodes(path):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return {name for name in found if name in known}


def _paths(layer: str) -> list[Path]:
    return [p for p in _modules() if _layer(p) == layer]


def test_every_module_belongs_to_a_known_layer() -> None:
    layers = {_layer(p) for p in _modules()} - {None}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layer_table(path: Path) -> None:
    layer = _layer(path)
    allowed = ALLOWED.get(layer) if layer else None
    if allowed is None:
        return
    for name in _imports(path):
        if name.startswith("ember."):
            target = name.split(".")[1]
            assert target in allowed, f"{path.relative_to(SRC)} imports {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_sql_lives_in_db_and_http_in_the_apis(path: Path) -> None:
    layer = _layer(path)
    for name in _imports(path):
        root = name.split(".")[0]
        if root in SQL_LIBRARIES:
            assert layer == "db", f"{path.relative_to(SRC)} imports {name} outside db/"
        if root in HTTP_LIBRARIES:
            assert layer in HTTP_LAYERS, f"{path.relative_to(SRC)} imports {name}"


@pytest.mark.parametrize("path", _paths("resources"), ids=lambda p: p.name)
def test_resources_use_only_the_plugin_api_of_the_engine(path: Path) -> None:
    for name in _imports(path):
        if name.startswith("ember.engine"):
            assert name in PLUGIN_API, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_relative_import_leaves_its_package(path: Path) -> None:
    for node in _import_nodes(path):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, (
                f"{path.relative_to(SRC)}:{node.lineno} imports relatively; write ember.…"
            )


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_no_import_cycles_within_a_layer(layer: str) -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _paths(layer):
        module = _module_name(path)
        graph[module] = {
            name for name in _ember_imports(path) if name.split(".")[1] == layer and name != module
        }
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            found = visit(target)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    """The cycle test means something: a circle of three is reported."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", _paths("template"), ids=lambda p: p.name)
def test_template_layer_does_no_io(path: Path) -> None:
    for name in _imports(path):
        assert name not in IO_MODULES and name.split(".")[0] not in {"os", "socket"}, (
            f"{path.name} imports {name}"
        )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    ]
    assert "open" not in calls, f"{path.name} opens files"
