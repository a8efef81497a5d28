"""Listing and showing: stacks with filters, sorting and keyset pagination; resources and
events across nested stacks; outputs, environments and files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.db.models import Event, RawTemplate, Resource, Stack, StackTag
from ember.engine import store_reads, views
from ember.engine.runner import PeerResources
from ember.template.parameters import HIDDEN_VALUE

if TYPE_CHECKING:
    from ember.engine.service import EngineService

SORT_KEYS = {
    "stack_name": Stack.name,
    "stack_status": Stack.status,
    "creation_time": Stack.created_at,
    "updated_time": func.coalesce(Stack.updated_at, Stack.created_at),
}
SUMMARY_COLUMNS = tuple(getattr(Stack, field) for field in views.SUMMARY_FIELDS)
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


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


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


def after_marker(columns: Sequence[Any], marker: Sequence[Any], ascending: bool) -> Any:
    """Keyset pagination: rows strictly after the marker row in the sort order."""
    after = []
    for i, column in enumerate(columns):
        same = [c == v for c, v in zip(columns[:i], marker[:i], strict=True)]
        after.append(and_(*same, column > marker[i] if ascending else column < marker[i]))
    return or_(*after)


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
    for key, column in FILTERS.items():
        if key in (params.get("filters") or {}):
            query = query.where(column.in_(_values(params["filters"][key])))
    for key in ("status", "stack_status"):
        if key in (params.get("filters") or {}):
            query = query.where(_status_clause(_values(params["filters"][key])))
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
    keys = [k for k in _values(params.get("sort_keys") or []) if k in SORT_KEYS]
    ascending = str(params.get("sort_dir") or "desc").lower() == "asc"
    columns = [SORT_KEYS[k] for k in keys] or [Stack.created_at]
    return [*columns, Stack.id], ascending


def list_stacks_tx(
    session: Session, project_id: str | None, params: Mapping[str, Any], hidden: Sequence[str]
) -> tuple[list[Any], int | None]:
    query = stack_query(project_id, params, hidden)
    count = None
    if params.get("with_count"):
        count = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    columns, ascending = _order(params)
    marker = params.get("marker")
    if marker:
        row = session.execute(select(*columns).where(Stack.id == str(marker))).first()
        if row is None:
            raise errors.EntityNotFound(entity="Stack", name=str(marker))
        query = query.where(after_marker(columns, tuple(row), ascending))
    query = query.order_by(*(c.asc() if ascending else c.desc() for c in columns))
    limit = params.get("limit")
    if limit is not None:
        query = query.limit(int(limit))
    # Plain rows of the listed columns: several times cheaper than ORM objects.
    return list(session.execute(query.with_only_columns(*SUMMARY_COLUMNS)).all()), count


def _nested_tree(session: Session, stack: Stack, depth: int) -> list[tuple[Stack, str | None]]:
    """The stack and its nested stacks to ``depth`` levels, with each one's owning resource."""
    out: list[tuple[Stack, str | None]] = [(stack, None)]
    frontier = [stack]
    for _ in range(depth):
        if not frontier:
            break
        children: list[Stack] = []
        for parent in frontier:
            for child in store_reads.nested_stacks(session, parent.id):
                out.append((child, child.owner_resource))
                children.append(child)
        frontier = children
    return out


def resources_tx(
    session: Session, project_id: str | None, identity: str, stack_id: str | None, nested_depth: int
) -> list[tuple[Stack, str | None, list[Resource], dict[str, str]]]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id)
    result = []
    for member, owner in _nested_tree(session, stack, nested_depth):
        rows = [
            r for r in store_reads.current_resources(session, member.id) if r.replaced_by is None
        ]
        nested = {
            c.owner_resource: c.id
            for c in store_reads.nested_stacks(session, member.id)
            if c.owner_resource
        }
        result.append((member, owner, rows, nested))
    return result


def events_tx(
    session: Session,
    project_id: str | None,
    identity: str,
    stack_id: str | None,
    params: Mapping[str, Any],
) -> tuple[list[tuple[Event, Stack]], bool]:
    stack = store_reads.find_stack(session, project_id, identity, stack_id, show_deleted=True)
    depth = int(params.get("nested_depth") or 0)
    stacks = {s.id: s for s, _ in _nested_tree(session, stack, depth)}
    query = select(Event).where(Event.stack_id.in_(list(stacks)))
    filters = params.get("filters") or {}
    for key, column in (
        ("resource_name", Event.resource_name),
        ("resource_type", Event.resource_type),
        ("resource_action", Event.resource_action),
    ):
        if key in filters:
            query = query.where(column.in_(_values(filters[key])))
    if "resource_status" in filters:
        values = _values(filters["resource_status"])
        query = query.where(
            or_(
                *(
                    Event.resource_status == v
                    if v in STATUSES
                    else and_(
                        Event.resource_action
                        == v.rsplit("_", 2 if v.endswith("IN_PROGRESS") else 1)[0],
                        Event.resource_status
                        == v[len(v.rsplit("_", 2 if v.endswith("IN_PROGRESS") else 1)[0]) + 1 :],
                    )
                    for v in map(str, values)
                )
            )
        )
    ascending = str(params.get("sort_dir") or "desc").lower() == "asc"
    keys = [
        k for k in _values(params.get("sort_keys") or []) if k in ("event_time", "resource_type")
    ]
    columns = [Event.resource_type if k == "resource_type" else Event.created_at for k in keys]
    columns = [*columns, Event.id]
    marker = params.get("marker")
    if marker:
        row = session.execute(select(*columns).where(Event.uuid == str(marker))).first()
        if row is not None:
            query = query.where(after_marker(columns, tuple(row), ascending))
    query = query.order_by(*(c.asc() if ascending else c.desc() for c in columns))
    if params.get("limit") is not None:
        query = query.limit(int(params["limit"]))
    events = list(session.execute(query).scalars())
    return [(e, stacks[e.stack_id]) for e in events], depth > 0


class QueryOps:
    """Mixed into EngineService."""

    async def list_stacks(
        self: EngineService, ctx: Mapping[str, Any], **params: Any
    ) -> list[dict[str, Any]]:
        result = await self.count_and_list_stacks(ctx, **params)
        return result["stacks"]

    async def count_and_list_stacks(
        self: EngineService, ctx: Mapping[str, Any], **params: Any
    ) -> dict[str, Any]:
        everyone = bool(params.get("global_tenant")) and bool(ctx.get("is_admin"))
        project = None if everyone else str(ctx["project_id"])
        stacks, count = await self.db.read(
            list_stacks_tx, project, params, tuple(self.settings.hidden_stack_tags)
        )
        out: dict[str, Any] = {
            "stacks": views.stack_summaries(stacks, with_project=bool(ctx.get("is_admin")))
        }
        if count is not None:
            out["count"] = count
        return out

    async def list_resources(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
        with_detail: bool = False,
        nested_depth: int = 0,
        filters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        depth = min(int(nested_depth or 0), self.settings.max_nested_stack_depth)
        tree = await self.db.read(resources_tx, _project(ctx), stack_identity, stack_id, depth)
        out = []
        for stack, owner, rows, nested in tree:
            required_by: dict[str, set[str]] = {r.name: set() for r in rows}
            for row in rows:
                for dep in row.requires or []:
                    required_by.setdefault(dep, set()).add(row.name)
            for row in rows:
                if not _matches(row, filters or {}):
                    continue
                out.append(
                    views.resource_view(
                        row,
                        stack,
                        sorted(required_by[row.name]),
                        detail=with_detail,
                        nested_stack_id=nested.get(row.name),
                        parent_resource=owner,
                    )
                )
        return out

    async def list_events(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
        **params: Any,
    ) -> list[dict[str, Any]]:
        params.setdefault("sort_dir", "asc")
        rows, nested = await self.db.read(
            events_tx, _project(ctx), stack_identity, stack_id, params
        )
        return [views.event_view(e, s, nested=nested) for e, s in rows]

    async def show_event(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        resource_name: str,
        event_id: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        rows, _ = await self.db.read(
            events_tx,
            _project(ctx),
            stack_identity,
            stack_id,
            {"filters": {"resource_name": resource_name}},
        )
        for event, stack in rows:
            if event.uuid == event_id:
                return views.event_view(event, stack, detail=True)
        raise errors.EntityNotFound(entity="Event", name=event_id)

    async def get_environment(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        stack = await self.db.read(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        env = defn.environment.to_dict()
        hidden = {n for n, s in defn.parameters.schemas.items() if s.hidden}
        env["parameters"] = {
            k: HIDDEN_VALUE if k in hidden else v for k, v in env["parameters"].items()
        }
        return env

    async def get_files(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        stack = await self.db.read(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        raw = await self.db.read(lambda s: s.get(RawTemplate, stack.raw_template_id))
        return dict(raw.files or {})

    async def list_outputs(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        stack_id: str | None = None,
    ) -> list[dict[str, Any]]:
        stack = await self.db.read(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        return [{"output_key": o.name, "description": o.description} for o in defn.outputs.values()]

    async def show_output(
        self: EngineService,
        ctx: Mapping[str, Any],
        stack_identity: str,
        output_key: str,
        stack_id: str | None = None,
    ) -> dict[str, Any]:
        stack = await self.db.read(store_reads.find_stack, _project(ctx), stack_identity, stack_id)
        defn = await self.definitions.get(stack.id, stack.raw_template_id)
        if output_key not in defn.outputs:
            raise errors.EntityNotFound(entity="Output", name=output_key)
        peers = await self.db.read(store_reads.peers_of, stack.id)
        rctx = defn.resolve_context(PeerResources(peers))
        return defn.resolve_outputs(rctx, [output_key])[0].to_api()


def _project(ctx: Mapping[str, Any]) -> str | None:
    return None if ctx.get("is_admin") and ctx.get("all_projects") else str(ctx["project_id"])


def _matches(row: Resource, filters: Mapping[str, Any]) -> bool:
    checks = {
        "name": lambda v: row.name in v,
        "type": lambda v: any(str(x) in row.type for x in v),
        "action": lambda v: row.action in v,
        "status": lambda v: row.status in v or f"{row.action}_{row.status}" in v,
        "id": lambda v: row.uuid in v,
        "physical_resource_id": lambda v: row.physical_resource_id in v,
    }
    return all(checks[k](_values(v)) for k, v in filters.items() if k in checks)
