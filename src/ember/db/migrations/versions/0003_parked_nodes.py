"""Nodes that park and wake, resource locks, resource-scoped traversals, structured
failures.

- ``traversal_node``: ``lock_token``, ``wake_key``, ``wake_at``, ``woken_by``, ``progress``;
  the ``(engine_id, state)`` index becomes ``(state, engine_id)`` (finding claimed nodes no
  longer walks every node an engine has finished) and ``wake_key`` is indexed.
- ``resource``: ``locked_by`` (one node acts on a resource at a time) and ``signals``.
- ``traversal``: ``scope`` (``stack`` or ``resource``).
- ``stack``: ``failure``, why the last action failed, as data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("traversal_node") as batch:
        batch.add_column(sa.Column("lock_token", sa.String(36), nullable=True))
        batch.add_column(sa.Column("wake_key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("wake_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("woken_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("progress", sa.String(16), nullable=True))
        batch.drop_index("ix_node_engine")
        batch.create_index("ix_node_state_engine", ["state", "engine_id"])
        batch.create_index("ix_node_wake", ["wake_key"])
    with op.batch_alter_table("resource") as batch:
        batch.add_column(sa.Column("locked_by", sa.String(36), nullable=True))
        batch.add_column(sa.Column("signals", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("traversal") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="stack"))
    with op.batch_alter_table("stack") as batch:
        batch.add_column(sa.Column("failure", sa.JSON(), nullable=True))
    # The server defaults only filled existing rows; the models set the values.
    with op.batch_alter_table("resource") as batch:
        batch.alter_column("signals", server_default=None, existing_type=sa.Integer())
    with op.batch_alter_table("traversal") as batch:
        batch.alter_column("scope", server_default=None, existing_type=sa.String(16))


def downgrade() -> None:
    with op.batch_alter_table("stack") as batch:
        batch.drop_column("failure")
    with op.batch_alter_table("traversal") as batch:
        batch.drop_column("scope")
    with op.batch_alter_table("resource") as batch:
        batch.drop_column("signals")
        batch.drop_column("locked_by")
    with op.batch_alter_table("traversal_node") as batch:
        batch.drop_index("ix_node_wake")
        batch.drop_index("ix_node_state_engine")
        batch.create_index("ix_node_engine", ["engine_id", "state"])
        batch.drop_column("progress")
        batch.drop_column("woken_by")
        batch.drop_column("wake_at")
        batch.drop_column("wake_key")
        batch.drop_column("lock_token")
