"""Signal credentials: key pairs (and bearer tokens) scoped to one resource.

- ``ec2_credential.stack_id``/``resource_id``: the one resource a signal credential may
  signal and read the metadata of (both empty for a user's own key pair);
- ``ec2_credential.token``: the bearer token of the same credential, encrypted with
  ``auth_encryption_key``; ``token_digest`` its SHA-256, which a request is looked up by.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ec2_credential") as batch:
        batch.add_column(sa.Column("stack_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("resource_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("token", sa.Text(), nullable=True))
        batch.add_column(sa.Column("token_digest", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_ec2_credential_token_digest", ["token_digest"])
    op.create_index("ix_ec2_credential_resource_id", "ec2_credential", ["resource_id"])
    op.create_index("ix_ec2_credential_stack_id", "ec2_credential", ["stack_id"])


def downgrade() -> None:
    op.drop_index("ix_ec2_credential_stack_id", table_name="ec2_credential")
    op.drop_index("ix_ec2_credential_resource_id", table_name="ec2_credential")
    with op.batch_alter_table("ec2_credential") as batch:
        batch.drop_constraint("uq_ec2_credential_token_digest", type_="unique")
        batch.drop_column("token_digest")
        batch.drop_column("token")
        batch.drop_column("resource_id")
        batch.drop_column("stack_id")
