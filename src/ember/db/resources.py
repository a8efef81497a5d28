"""The resource aggregate: resource rows, their data, replacements and breakpoints."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.states import Action, Status
from ember.common.timeutils import utcnow
from ember.db.bulk import update_by_key
from ember.db.models import Ec2Credential, Resource, ResourceData, Stack, table_of
from ember.db.records import ClaimedNode, ResourceWrite

HOOK_KEY = "hook:"
RESOURCES = table_of(Resource)
DATA = table_of(ResourceData)
# Mapped attribute -> column, for writes given in attribute names (``metadata_``).
COLUMNS = {attr.key: attr.columns[0].key for attr in Resource.__mapper__.column_attrs}
_UPSERTS: dict[str, Any] = {}


def _upsert_data(dialect: str) -> Any:
    """Resource data written whether or not the key is there yet, in each database's own
    words (built once per dialect)."""
    statement = _UPSERTS.get(dialect)
    if statement is not None:
        return statement
    if dialect in ("mysql", "mariadb"):
        mysql_insert = mysql.insert(DATA)
        statement = mysql_insert.on_duplicate_key_update(
            value=mysql_insert.inserted.value, updated_at=mysql_insert.inserted.created_at
        )
    else:
        made = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(DATA)
        statement = made.on_conflict_do_update(
            index_elements=["resource_id", "key"],
            set_={"value": made.excluded.value, "updated_at": made.excluded.created_at},
        )
    _UPSERTS[dialect] = statement
    return statement


COUNT_SIGNAL = (
    update(RESOURCES)
    .where(RESOURCES.c.id == bindparam("rid"))
    .values(signals=RESOURCES.c.signals + 1)
)


class ResourceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Reading -----------------------------------------------------------------------------------

    def of_stack(self, stack_id: str) -> list[Resource]:
        """Every row of the stack, replaced ones included, oldest first."""
        return list(
            self.session.execute(
                select(Resource).where(Resource.stack_id == stack_id).order_by(Resource.id)
            ).scalars()
        )

    def live(self, stack_id: str) -> list[Resource]:
        """The stack's current resources (not replaced), oldest first."""
        return [r for r in self.of_stack(stack_id) if r.replaced_by is None]

    def is_current(self, resource_id: int) -> bool:
        """Whether the row is its name's current resource: not replaced, and not a
        replacement left unfinished while the row it was to replace still stands."""
        row = self.session.get(Resource, resource_id)
        if row is None or row.replaced_by is not None:
            return False
        if row.replaces is None:
            return True
        original = self.session.get(Resource, row.replaces)
        return original is None or original.replaced_by == row.id

    def get(self, resource_id: int) -> Resource | None:
        return self.session.get(Resource, resource_id)

    def lock(self, resource_id: int) -> Resource:
        row = self.session.get(Resource, resource_id, with_for_update=True)
        if row is None:
            raise errors.EntityNotFound(entity="Resource", name=str(resource_id))
        return row

    def with_physical_id(self, project_id: str | None, physical_id: str) -> tuple[Resource, Stack]:
        """The current resource whose physical id this is, in a live stack of the project
        (None: any project), with its stack."""
        query = (
            select(Resource, Stack)
            .join(Stack, Stack.id == Resource.stack_id)
            .where(
                Resource.physical_resource_id == physical_id,
                Resource.replaced_by.is_(None),
                Stack.deleted_at.is_(None),
            )
            .order_by(Resource.id.desc())
        )
        if project_id is not None:
            query = query.where(Stack.project_id == project_id)
        found = self.session.execute(query).first()
        if found is None:
            raise errors.EntityNotFound(entity="Resource", name=physical_id)
        return found[0], found[1]

    def find(self, stack: Stack, name: str) -> Resource:
        """The current resource of that name (or, failing that, physical id) in the stack."""
        row = (
            self.session.execute(
                select(Resource)
                .where(
                    Resource.stack_id == stack.id,
                    Resource.name == name,
                    Resource.replaced_by.is_(None),
                )
                .order_by(Resource.id.desc())
            )
            .scalars()
            .first()
        )
        if row is None:
            row = (
                self.session.execute(
                    select(Resource).where(
                        Resource.stack_id == stack.id, Resource.physical_resource_id == name
                    )
                )
                .scalars()
                .first()
            )
        if row is None:
            raise errors.EntityNotFound(
                entity="Resource",
                name=name,
                message=f"The Resource ({name}) could not be found in Stack {stack.name}.",
            )
        return row

    def peers_of(self, stack_id: str) -> dict[str, tuple[Any, dict[str, Any]]]:
        """Reference id and attributes of each current resource, by name."""
        rows = self.session.execute(
            select(Resource.name, Resource.reference_id, Resource.attributes)
            .where(Resource.stack_id == stack_id, Resource.replaced_by.is_(None))
            .order_by(Resource.id)
        ).all()
        return {name: (ref, attrs or {}) for name, ref, attrs in rows}

    def data(self, resource_id: int) -> dict[str, str]:
        return dict(
            self.session.execute(
                select(ResourceData.key, ResourceData.value).where(
                    ResourceData.resource_id == resource_id
                )
            ).all()
        )

    def data_of(self, resource_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {rid: {} for rid in resource_ids}
        if resource_ids:
            for rid, key, value in self.session.execute(
                select(ResourceData.resource_id, ResourceData.key, ResourceData.value).where(
                    ResourceData.resource_id.in_(list(resource_ids))
                )
            ):
                out[rid][key] = value
        return out

    def count_in_tree(self, root_stack_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(Resource)
                .where(Resource.root_stack_id == root_stack_id)
            ).scalar_one()
        )

    # Writing -----------------------------------------------------------------------------------

    def add(
        self, stack: Stack, resources: Sequence[Mapping[str, Any]], template_id: int | None
    ) -> None:
        """New rows (INIT_COMPLETE): each needs ``uuid``, ``name``, ``type``, ``requires``."""
        if not resources:
            return
        now = utcnow()
        self.session.execute(
            RESOURCES.insert(),
            [
                {
                    "uuid": r["uuid"],
                    "stack_id": stack.id,
                    "root_stack_id": stack.root_stack_id,
                    "name": r["name"],
                    "type": r["type"],
                    "action": Action.INIT,
                    "status": Status.COMPLETE,
                    "status_reason": "",
                    "requires": r.get("requires", []),
                    "replaces": r.get("replaces"),
                    "template_id": template_id,
                    "needs_replace": False,
                    "signals": 0,
                    "created_at": now,
                    "physical_resource_id": r.get("physical_id"),
                }
                for r in resources
            ],
        )

    def set_requires(self, rows: Mapping[int, Sequence[str]]) -> None:
        if rows:
            self.session.execute(
                update(Resource), [{"id": rid, "requires": list(req)} for rid, req in rows.items()]
            )

    def write(self, writes: Sequence[ResourceWrite]) -> None:
        """Update rows, grouped by the columns each sets (one statement per group)."""
        rows = [
            {"id": w.resource_id, **{COLUMNS[k]: v for k, v in w.values.items()}} for w in writes
        ]
        update_by_key(self.session, RESOURCES, ("id",), rows)

    def remove(self, resource_ids: Sequence[int]) -> None:
        if resource_ids:
            ids = sorted(set(resource_ids))
            self.session.execute(delete(ResourceData).where(ResourceData.resource_id.in_(ids)))
            self.session.execute(delete(Resource).where(Resource.id.in_(ids)))
            # A resource's signal credential goes with it.
            self.session.execute(delete(Ec2Credential).where(Ec2Credential.resource_id.in_(ids)))

    def save_data(self, data: Mapping[int, Mapping[str, str]]) -> None:
        """Insert or update resource data of many resources at once (one upsert)."""
        now = utcnow()
        rows = [
            {"resource_id": rid, "key": key, "value": value, "redact": False, "created_at": now}
            for rid, values in data.items()
            for key, value in values.items()
        ]
        if rows:
            self.session.execute(_upsert_data(self.session.get_bind().dialect.name), rows)

    def delete_data(self, resource_id: int, key: str) -> None:
        self.session.execute(
            delete(ResourceData).where(
                ResourceData.resource_id == resource_id, ResourceData.key == key
            )
        )

    def checkpoint(
        self, resource_id: int, physical_id: str | None, data: Mapping[str, str]
    ) -> None:
        """Record what a handler made before it finishes, so it is never made twice."""
        if physical_id is not None:
            self.session.execute(
                update(Resource)
                .where(Resource.id == resource_id)
                .values(physical_resource_id=physical_id)
            )
        self.save_data({resource_id: data})

    def set_state(self, resource_id: int, **values: Any) -> None:
        self.session.execute(update(Resource).where(Resource.id == resource_id).values(**values))

    def replacements(
        self, nodes: Sequence[ClaimedNode], new_types: Sequence[str]
    ) -> tuple[list[Resource], list[ClaimedNode]]:
        """The rows replacing the nodes' resources: found when a replacement was begun
        before (a resumed node), else made now. Returns them in the nodes' order, and the
        nodes whose replacement is new."""
        ids = [n.resource_id for n in nodes]
        resuming: dict[int, Resource] = {}
        for row in self.session.execute(
            select(Resource)
            .where(Resource.replaces.in_(ids), Resource.status == Status.IN_PROGRESS)
            .order_by(Resource.id)
        ).scalars():
            assert row.replaces is not None
            resuming[row.replaces] = row
        fresh = [n for n in nodes if n.resource_id not in resuming]
        now = utcnow()
        rows = [
            {
                "uuid": str(uuid.uuid4()),
                "stack_id": n.stack_id,
                "root_stack_id": n.root_stack_id,
                "name": n.resource_name,
                "type": new_type,
                "action": Action.CREATE,
                "status": Status.IN_PROGRESS,
                "status_reason": "state changed",
                "requires": n.requires,
                "replaces": n.resource_id,
                "needs_replace": False,
                "signals": 0,
                "created_at": now,
            }
            for n, new_type in zip(nodes, new_types, strict=True)
            if n.resource_id not in resuming
        ]
        if rows:
            self.session.execute(insert(Resource), rows)
            for row in self.session.execute(
                select(Resource).where(Resource.uuid.in_([r["uuid"] for r in rows]))
            ).scalars():
                assert row.replaces is not None
                resuming[row.replaces] = row
        return [resuming[n.resource_id] for n in nodes], fresh

    def fail_abandoned(self, abandoned: Sequence[tuple[int, str]]) -> None:
        """Resources left IN_PROGRESS by an engine that died in a traversal since stopped."""
        for resource_id, action in abandoned:
            self.session.execute(
                update(Resource)
                .where(Resource.id == resource_id, Resource.status == Status.IN_PROGRESS)
                .values(
                    status=Status.FAILED,
                    status_reason=f"Engine went down during resource {action}",
                )
            )

    def count_signal(self, resource_id: int) -> None:
        self.session.execute(COUNT_SIGNAL, {"rid": resource_id})

    # Breakpoints ---------------------------------------------------------------------------------

    def hook_state(self, resource_id: int, hook: str) -> str | None:
        """ "waiting" while a node is paused at the hook, "cleared" once it may go on."""
        return self.session.execute(
            select(ResourceData.value).where(
                ResourceData.resource_id == resource_id, ResourceData.key == HOOK_KEY + hook
            )
        ).scalar()

    def set_hook_state(self, resource_id: int, hook: str, state: str | None) -> None:
        if state is None:
            self.delete_data(resource_id, HOOK_KEY + hook)
        else:
            self.save_data({resource_id: {HOOK_KEY + hook: state}})
