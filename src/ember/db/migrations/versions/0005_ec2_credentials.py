"""EC2-style key pairs, which heat-api-cfn checks request signatures with.

- ``ec2_credential``: the access key (unique), the secret encrypted with
  ``auth_encryption_key``, the project, user and roles it acts as.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def upgrade() -> None:
    op.create_table(
        "ec2_credential",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("access", sa.String(255), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ec2_credential"),
        sa.UniqueConstraint("access", name="uq_ec2_credential_access"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_ec2_credential_owner", "ec2_credential", ["project_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_ec2_credential_owner", table_name="ec2_credential")
    op.drop_table("ec2_credential")
