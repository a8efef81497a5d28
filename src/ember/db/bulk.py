"""Statements written against tables, not mapped classes, for the paths every resource
action takes: several times less Python per statement than the ORM's bulk machinery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import CursorResult, Result, Table, Update, and_, bindparam
from sqlalchemy.orm import Session

# Built once per (table, keys, columns): building a statement costs more than running it.
_STATEMENTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Update] = {}


def _statement(table: Table, keys: Sequence[str], columns: tuple[str, ...]) -> Update:
    cache_key = (table.name, tuple(keys), columns)
    statement = _STATEMENTS.get(cache_key)
    if statement is None:
        statement = (
            table.update()
            .where(and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys)))
            .values({c: bindparam(f"set_{c}") for c in columns})
        )
        _STATEMENTS[cache_key] = statement
    return statement


def update_by_key(
    session: Session, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Update rows found by their ``keys`` columns (usually the primary key); each row
    gives its keys and the columns to set. Rows setting the same columns go in one
    executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        columns = tuple(sorted(c for c in row if c not in keys))
        if columns:
            bound = {f"key_{k}": row[k] for k in keys}
            bound.update({f"set_{c}": row[c] for c in columns})
            groups.setdefault(columns, []).append(bound)
    for columns, bound_rows in groups.items():
        session.execute(_statement(table, keys, columns), bound_rows)


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)
