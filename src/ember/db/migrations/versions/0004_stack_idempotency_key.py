"""A stack create's idempotency key, so that a retried create answers with the first one.

- ``stack``: ``idempotency_key``, unique per project (several stacks without one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(255), nullable=True))
        batch.create_index(
            "uq_stack_project_idempotency_key", ["project_id", "idempotency_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.drop_index("uq_stack_project_idempotency_key")
        batch.drop_column("idempotency_key")
