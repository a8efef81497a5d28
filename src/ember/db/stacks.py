"""The stack aggregate: the stack row, its tags and the templates it was made from."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from ember.common import errors
from ember.common.states import Action, Status
from ember.common.timeutils import utcnow
from ember.db import stack_queries
from ember.db.events import EventRepository, stack_event
from ember.db.models import Ec2Credential, RawTemplate, Resource, Stack, StackTag

ARN = re.compile(r"^arn:openstack:heat::(?P<tenant>[^:]*):stacks/(?P<name>[^/]+)/(?P<id>[^/]+)")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def names_an_id(identity: str, stack_id: str | None = None) -> bool:
    """Whether a stack look-up is by id (a name and id, an id, or an ARN), not by name."""
    return stack_id is not None or bool(UUID.match(identity) or ARN.match(identity))


def not_found(name: str) -> errors.EntityNotFound:
    return errors.EntityNotFound(entity="Stack", name=name)


class StackRepository:
    def __init__(self, session: Session, events: EventRepository) -> None:
        self.session = session
        self.events = events

    # Finding ---------------------------------------------------------------------------------

    def get(self, stack_id: str) -> Stack | None:
        return self.session.get(Stack, stack_id)

    def created_with(self, project_id: str, idempotency_key: str) -> Stack | None:
        """The stack a create with this key made in the project (deleted or not)."""
        return self.session.execute(
            select(Stack).where(
                Stack.project_id == project_id, Stack.idempotency_key == idempotency_key
            )
        ).scalar_one_or_none()

    def lock(self, stack_id: str) -> Stack:
        stack = self.session.get(Stack, stack_id, with_for_update=True)
        if stack is None:
            raise not_found(stack_id)
        return stack

    def find(
        self,
        project_id: str | None,
        identity: str,
        stack_id: str | None = None,
        *,
        show_deleted: bool = False,
    ) -> Stack:
        """By name, UUID or ARN (and, when both are given, name and id must agree), within
        ``project_id`` (None: any project)."""
        match = ARN.match(identity)
        if match:
            identity, stack_id = match.group("name"), match.group("id")
        query = select(Stack)
        if project_id is not None:
            query = query.where(Stack.project_id == project_id)
        if stack_id is not None:
            stack = self.session.execute(query.where(Stack.id == stack_id)).scalar_one_or_none()
            if stack is None or stack.name != identity:
                raise not_found(identity)
            return stack
        if UUID.match(identity):
            stack = self.session.execute(query.where(Stack.id == identity)).scalar_one_or_none()
            if stack is not None:
                return stack
        named = query.where(Stack.name == identity, Stack.owner_id.is_(None))
        if not show_deleted:
            named = named.where(Stack.deleted_at.is_(None))
        stack = self.session.execute(named.order_by(Stack.created_at.desc())).scalars().first()
        if stack is None:
            stack = (
                self.session.execute(
                    query.where(Stack.name == identity, Stack.deleted_at.is_(None)).order_by(
                        Stack.created_at.desc()
                    )
                )
                .scalars()
                .first()
            )
        if stack is None:
            raise not_found(identity)
        return stack

    def summaries(
        self, project_id: str | None, params: Mapping[str, Any], hidden: Sequence[str]
    ) -> tuple[list[tuple[Any, ...]], int | None]:
        """Summary rows (``stack_queries.SUMMARY_COLUMNS``) as Heat's list filters them."""
        return stack_queries.list_stacks(self.session, project_id, params, hidden)

    def nested(self, parent_id: str) -> list[Stack]:
        return list(
            self.session.execute(
                select(Stack).where(Stack.owner_id == parent_id, Stack.deleted_at.is_(None))
            ).scalars()
        )

    def nested_by_owner(self, parent_id: str) -> dict[str, tuple[str, str]]:
        """The name and id of each nested stack of ``parent_id``, by the resource that
        owns it."""
        return {
            c.owner_resource: (c.name, c.id) for c in self.nested(parent_id) if c.owner_resource
        }

    def tree(self, stack: Stack, depth: int) -> list[tuple[Stack, str | None]]:
        """The stack and its nested stacks to ``depth`` levels, with the name of the
        resource each one belongs to (the first's too, when it is itself nested)."""
        out: list[tuple[Stack, str | None]] = [(stack, stack.owner_resource)]
        frontier = [stack]
        for _ in range(depth):
            if not frontier:
                break
            children: list[Stack] = []
            for parent in frontier:
                for child in self.nested(parent.id):
                    out.append((child, child.owner_resource))
                    children.append(child)
            frontier = children
        return out

    def root_of(self, stack_id: str) -> str:
        root = self.session.execute(
            select(Stack.root_stack_id).where(Stack.id == stack_id)
        ).scalar()
        return root or stack_id

    def child_named(self, owner_id: str, name: str) -> str | None:
        """The live nested stack of that name under ``owner_id``, if there is one."""
        found = self.session.execute(
            select(Stack.id).where(
                Stack.owner_id == owner_id, Stack.name == name, Stack.deleted_at.is_(None)
            )
        ).scalar()
        return str(found) if found is not None else None

    def count_top_level(self, project_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(Stack)
                .where(
                    Stack.project_id == project_id,
                    Stack.deleted_at.is_(None),
                    Stack.owner_id.is_(None),
                )
            ).scalar_one()
        )

    def tags_of(self, stack_ids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {sid: [] for sid in stack_ids}
        if stack_ids:
            for sid, tag in self.session.execute(
                select(StackTag.stack_id, StackTag.tag)
                .where(StackTag.stack_id.in_(stack_ids))
                .order_by(StackTag.id)
            ):
                out[sid].append(tag)
        return out

    # Templates -------------------------------------------------------------------------------

    def add_template(
        self, template: Mapping[str, Any], files: Mapping[str, Any], environment: Mapping[str, Any]
    ) -> int:
        raw = RawTemplate(template=dict(template), files=dict(files), environment=dict(environment))
        self.session.add(raw)
        self.session.flush()
        return raw.id

    def template(self, raw_template_id: int) -> RawTemplate:
        raw = self.session.get(RawTemplate, raw_template_id)
        if raw is None:
            raise errors.EntityNotFound(entity="Template", name=str(raw_template_id))
        return raw

    # Changing ----------------------------------------------------------------------------------

    def create(
        self,
        *,
        values: dict[str, Any],
        raw_template: tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]],
        tags: Sequence[str],
        action: str = Action.CREATE,
    ) -> Stack:
        """Insert a stack (IN_PROGRESS), its template and tags; refuse a second live stack
        of the same name in the project (or under the same owner)."""
        existing = self.session.execute(
            select(Stack.id).where(
                Stack.project_id == values["project_id"],
                Stack.name == values["name"],
                Stack.deleted_at.is_(None),
                Stack.owner_id.is_(None)
                if values.get("owner_id") is None
                else Stack.owner_id == values["owner_id"],
            )
        ).first()
        if existing is not None:
            raise errors.StackExists(stack_name=values["name"])
        raw_id = self.add_template(*raw_template)
        stack = Stack(
            raw_template_id=raw_id,
            action=action,
            status=Status.IN_PROGRESS,
            status_reason=f"Stack {action} started",
            **values,
        )
        if stack.root_stack_id is None:
            stack.root_stack_id = stack.id
        self.session.add(stack)
        self.session.flush()
        if tags:
            self.session.execute(insert(StackTag), [{"stack_id": stack.id, "tag": t} for t in tags])
            stack.tags = ",".join(tags)
        self.events.add([stack_event(stack, action, Status.IN_PROGRESS, f"Stack {action} started")])
        return stack

    def set_state(
        self,
        stack: Stack,
        action: str,
        status: str,
        reason: str,
        failure: Mapping[str, Any] | None = None,
    ) -> None:
        """Move the stack to ``action``/``status`` and record the stack event."""
        stack.action, stack.status, stack.status_reason = action, status, reason
        stack.failure = dict(failure) if failure is not None else None
        if (
            action in (Action.UPDATE, Action.ROLLBACK, Action.RESTORE)
            and status == Status.IN_PROGRESS
        ):
            stack.updated_at = utcnow()
        self.events.add([stack_event(stack, action, status, reason)])

    def set_tags(self, stack: Stack, tags: Sequence[str]) -> None:
        self.session.execute(delete(StackTag).where(StackTag.stack_id == stack.id))
        if tags:
            self.session.execute(insert(StackTag), [{"stack_id": stack.id, "tag": t} for t in tags])
        stack.tags = ",".join(tags) or None

    def set_options(self, stack: Stack, **fields: Any) -> None:
        """Operation options kept on the stack (``disable_rollback``, ``timeout_mins``,
        ``prev_raw_template_id``, ``raw_template_id``, a nested stack's ``facade``)."""
        allowed = {
            "disable_rollback",
            "timeout_mins",
            "prev_raw_template_id",
            "raw_template_id",
            "facade",
        }
        for name, value in fields.items():
            if name not in allowed:
                raise ValueError(f"{name} is not a stack option")
            setattr(stack, name, value)

    def mark_deleted(self, stack: Stack, *, forget_traversal: bool = False) -> None:
        """The stack is gone: soft-deleted, its resource rows removed."""
        stack.deleted_at = utcnow()
        if forget_traversal:
            stack.current_traversal = None
        self.session.execute(delete(Resource).where(Resource.stack_id == stack.id))
        self.session.execute(delete(Ec2Credential).where(Ec2Credential.stack_id == stack.id))
