"""Stack tags also kept on the stack row (comma-joined), so listing stacks takes one query.

The ``stack_tag`` table stays the source for tag filters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.add_column(sa.Column("tags", sa.Text(), nullable=True))
    stack = sa.table("stack", sa.column("id", sa.String(36)), sa.column("tags", sa.Text()))
    stack_tag = sa.table(
        "stack_tag",
        sa.column("id", sa.Integer()),
        sa.column("stack_id", sa.String(36)),
        sa.column("tag", sa.String(80)),
    )
    connection = op.get_bind()
    tags: dict[str, list[str]] = {}
    for stack_id, tag in connection.execute(
        sa.select(stack_tag.c.stack_id, stack_tag.c.tag).order_by(stack_tag.c.id)
    ):
        tags.setdefault(stack_id, []).append(tag)
    for stack_id, values in tags.items():
        connection.execute(
            stack.update().where(stack.c.id == stack_id).values(tags=",".join(values))
        )


def downgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.drop_column("tags")
