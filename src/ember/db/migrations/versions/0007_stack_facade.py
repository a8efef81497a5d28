"""What a nested stack's templates read with ``resource_facade``: the owning resource's
metadata, deletion policy and update policy (``stack.facade``), as the owner resolved them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.add_column(sa.Column("facade", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.drop_column("facade")
