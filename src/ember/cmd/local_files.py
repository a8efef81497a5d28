"""Collect the files a template refers to from the local disk, as python-heatclient does,
so the server only ever reads the request's ``files`` map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ember.template import parse_text
from ember.template.registry import is_template_name


def _references(doc: Any) -> set[str]:
    found: set[str] = set()
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if len(item) == 1 and isinstance(item.get("get_file"), str):
                found.add(item["get_file"])
            for key, value in item.items():
                if key in ("type", "Type") and isinstance(value, str) and is_template_name(value):
                    found.add(value)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def collect(path: Path, files: dict[str, str], *, depth: int = 0) -> None:
    """Add ``path``'s text and everything it refers to (relative names) to ``files``."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = parse_text(text)
    except Exception:
        return  # not a template: included verbatim by get_file only
    for ref in sorted(_references(doc)):
        if "://" in ref or ref in files:
            continue
        target = (path.parent / ref).resolve()
        if target.is_file():
            files[ref] = target.read_text(encoding="utf-8")
            if depth < 10 and is_template_name(ref):
                collect(target, files, depth=depth + 1)


def collect_environment(path: Path, files: dict[str, str]) -> None:
    doc = parse_text(path.read_text(encoding="utf-8")) or {}
    registry = doc.get("resource_registry") if isinstance(doc, dict) else None
    stack: list[Any] = [registry or {}]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        for value in item.values():
            if isinstance(value, str) and is_template_name(value) and "://" not in value:
                target = (path.parent / value).resolve()
                if target.is_file() and value not in files:
                    files[value] = target.read_text(encoding="utf-8")
                    collect(target, files)
            stack.append(value)
