"""The layer table of DESIGN.md, enforced: each layer imports only the layers below it,
and ``template/`` does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "ember"

ALLOWED = {
    "common": {"common"},
    "template": {"template", "common"},
    "db": {"db", "common"},
    "rpc": {"rpc", "common"},
    "resources": {"resources", "engine", "template", "common"},
    "engine": {"engine", "template", "resources", "db", "rpc", "common"},
    "api": {"api", "rpc", "common"},
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


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _layer(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


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


@pytest.mark.parametrize(
    "path", [p for p in _modules() if _layer(p) == "template"], ids=lambda p: p.name
)
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
