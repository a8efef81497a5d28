"""Listing stacks: Heat's filters, tag filters, sorting and keyset pagination, read as plain
rows of the summary columns (several times cheaper than mapped objects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.db.models import Stack, StackTag

SORT_KEYS = {
    "stack_name": Stack.name,
    "stack_status": Stack.status,
    "creation_time": Stack.created_at,
    "updated_time": func.coalesce(Stack.updated_at, Stack.created_at),
}
# The stack columns a summary is made of, in this order.
SUMMARY_COLUMNS = (
    Stack.id,
    Stack.name,
    Stack.action,
    Stack.status,
    Stack.status_reason,
    Stack.created_at,
    Stack.updated_at,
    Stack.deleted_at,
    Stack.username,
    Stack.owner_id,
    Stack.stack_user_project_id,
    Stack.project_id,
    Stack.tags,
)
FILTERS = {
    "id": Stack.id,
    "name": Stack.name,
    "stack_name": Stack.name,
    "action": Stack.action,
    "tenant": Stack.project_id,
    "username": Stack.username,
    "stack_owner": Stack.username,
    "owner_id": Stack.owner_id,
    "parent": Stack.owner_id,
    "stack_status_reason": Stack.status_reason,
    "disable_rollback": Stack.disable_rollback,
    "timeout_mins": Stack.timeout_mins,
    "stack_user_project_id": Stack.stack_user_project_id,
}
STATUSES = ("IN_PROGRESS", "COMPLETE", "FAILED")


def values_of(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def after_marker(columns: Sequence[Any], marker: Sequence[Any], ascending: bool) -> Any:
    """Keyset pagination: rows strictly after the marker row in the sort order."""
    after = []
    for i, column in enumerate(columns):
        same = [c == v for c, v in zip(columns[:i], marker[:i], strict=True)]
        after.append(and_(*same, column > marker[i] if ascending else column < marker[i]))
    return or_(*after)


def _status_clause(values: list[Any]) -> Any:
    clauses = []
    for value in map(str, values):
        if value in STATUSES:
            clauses.append(Stack.status == value)
        else:
            action, _, status = value.rpartition("_")
            if status == "PROGRESS":
                action, status = value[: -len("_IN_PROGRESS")], "IN_PROGRESS"
            clauses.append(and_(Stack.action == action, Stack.status == status))
    return or_(*clauses)


def _tag_has(tag: str) -> Any:
    return Stack.id.in_(select(StackTag.stack_id).where(StackTag.tag == tag))


def stack_query(
    project_id: str | None, params: Mapping[str, Any], hidden: Sequence[str]
) -> Select[Any]:
    query = select(Stack)
    if project_id is not None:
        query = query.where(Stack.project_id == project_id)
    if not params.get("show_deleted"):
        query = query.where(Stack.deleted_at.is_(None))
    if not params.get("show_nested"):
        query = query.where(Stack.owner_id.is_(None))
    if hidden and not params.get("show_hidden"):
        query = query.where(not_(or_(*(_tag_has(t) for t in hidden))))
    filters = params.get("filters") or {}
    for key, column in FILTERS.items():
        if key in filters:
            query = query.where(column.in_(values_of(filters[key])))
    for key in ("status", "stack_status"):
        if key in filters:
            query = query.where(_status_clause(values_of(filters[key])))
    for key, combine, negate in (
        ("tags", and_, False),
        ("tags_any", or_, False),
        ("not_tags", and_, True),
        ("not_tags_any", or_, True),
    ):
        tags = [t for t in str(params.get(key) or "").split(",") if t]
        if tags:
            clause = combine(*(_tag_has(t) for t in tags))
            query = query.where(not_(clause) if negate else clause)
    return query


def _order(params: Mapping[str, Any]) -> tuple[list[Any], bool]:
    keys = [k for k in values_of(params.get("sort_keys") or []) if k in SORT_KEYS]
    ascending = str(params.get("sort_dir") or "desc").lower() == "asc"
    columns = [SORT_KEYS[k] for k in keys] or [Stack.created_at]
    return [*columns, Stack.id], ascending


def list_stacks(
    session: Session, project_id: str | None, params: Mapping[str, Any], hidden: Sequence[str]
) -> tuple[list[tuple[Any, ...]], int | None]:
    """Rows of ``SUMMARY_COLUMNS`` and, with ``with_count``, how many match in all."""
    query = stack_query(project_id, params, hidden)
    count = None
    if params.get("with_count"):
        count = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    columns, ascending = _order(params)
    marker = params.get("marker")
    if marker:
        marked = select(*columns).where(Stack.id == str(marker))
        if project_id is not None:
            marked = marked.where(Stack.project_id == project_id)
        row = session.execute(marked).first()
        if row is None:
            raise errors.EntityNotFound(entity="Stack", name=str(marker))
        query = query.where(after_marker(columns, tuple(row), ascending))
    query = query.order_by(*(c.asc() if ascending else c.desc() for c in columns))
    limit = params.get("limit")
    if limit is not None:
        query = query.limit(int(limit))
    return [tuple(r) for r in session.execute(query.with_only_columns(*SUMMARY_COLUMNS))], count
