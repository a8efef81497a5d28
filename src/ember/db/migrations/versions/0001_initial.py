"""Initial schema: stacks, resources, events, traversals, services, software configs.

Revision ID: 0001
Revises:
Create Date: 2025-11-25 00:00:00

Written out in full rather than importing the models, so that this revision creates the
same schema whatever the models later become.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.String(36)
NAME = sa.String(255)
PROJECT = sa.String(64)
ACTION = sa.String(16)
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _int_id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _created() -> sa.Column[object]:
    return sa.Column("created_at", TIMESTAMP, nullable=False)


def _updated() -> sa.Column[object]:
    return sa.Column("updated_at", TIMESTAMP, nullable=True)


def _stack_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["stack_id"], ["stack.id"], name=f"fk_{table}_stack_id_stack", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "raw_template",
        _int_id(),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("environment", sa.JSON(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name="pk_raw_template"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "stack",
        sa.Column("id", UUID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("project_id", PROJECT, nullable=False),
        sa.Column("username", NAME, nullable=True),
        sa.Column("stack_user_project_id", PROJECT, nullable=True),
        sa.Column("raw_template_id", sa.Integer(), nullable=False),
        sa.Column("prev_raw_template_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", UUID, nullable=True),
        sa.Column("owner_resource", NAME, nullable=True),
        sa.Column("root_stack_id", UUID, nullable=True),
        sa.Column("nested_depth", sa.Integer(), nullable=False),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("status", ACTION, nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("disable_rollback", sa.Boolean(), nullable=False),
        sa.Column("timeout_mins", sa.Integer(), nullable=True),
        sa.Column("user_parameters", sa.JSON(), nullable=False),
        sa.Column("current_traversal", UUID, nullable=True),
        _created(),
        _updated(),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stack"),
        sa.ForeignKeyConstraint(
            ["raw_template_id"],
            ["raw_template.id"],
            name="fk_stack_raw_template_id_raw_template",
        ),
        sa.ForeignKeyConstraint(
            ["prev_raw_template_id"],
            ["raw_template.id"],
            name="fk_stack_prev_raw_template_id_raw_template",
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_stack_project_name", "stack", ["project_id", "name"])
    op.create_index("ix_stack_owner", "stack", ["owner_id"])
    op.create_index("ix_stack_root", "stack", ["root_stack_id"])
    op.create_index("ix_stack_raw_template", "stack", ["raw_template_id"])
    op.create_index("ix_stack_prev_raw_template", "stack", ["prev_raw_template_id"])

    op.create_table(
        "stack_tag",
        _int_id(),
        sa.Column("stack_id", UUID, nullable=False),
        sa.Column("tag", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stack_tag"),
        _stack_fk("stack_tag"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_stack_tag_tag", "stack_tag", ["tag"])
    op.create_index("ix_stack_tag_stack", "stack_tag", ["stack_id"])

    op.create_table(
        "resource",
        _int_id(),
        sa.Column("uuid", UUID, nullable=False),
        sa.Column("stack_id", UUID, nullable=False),
        sa.Column("root_stack_id", UUID, nullable=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("type", NAME, nullable=False),
        sa.Column("physical_resource_id", NAME, nullable=True),
        sa.Column("reference_id", sa.Text(), nullable=True),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("status", ACTION, nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("rsrc_metadata", sa.JSON(), nullable=True),
        sa.Column("requires", sa.JSON(), nullable=False),
        sa.Column("replaces", sa.Integer(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("needs_replace", sa.Boolean(), nullable=False),
        sa.Column("engine_id", UUID, nullable=True),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="pk_resource"),
        sa.UniqueConstraint("uuid", name="uq_resource_uuid"),
        _stack_fk("resource"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_resource_stack_name", "resource", ["stack_id", "name"])
    op.create_index("ix_resource_physical", "resource", ["physical_resource_id"])
    op.create_index("ix_resource_root", "resource", ["root_stack_id"])
    op.create_index("ix_resource_template", "resource", ["template_id"])

    op.create_table(
        "resource_data",
        _int_id(),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("key", NAME, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("redact", sa.Boolean(), nullable=False),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="pk_resource_data"),
        sa.UniqueConstraint("resource_id", "key", name="uq_resource_data_key"),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name="fk_resource_data_resource_id_resource",
            ondelete="CASCADE",
        ),
        **TABLE_OPTIONS,
    )

    op.create_table(
        "event",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("uuid", UUID, nullable=False),
        sa.Column("stack_id", UUID, nullable=False),
        sa.Column("root_stack_id", UUID, nullable=True),
        sa.Column("resource_name", NAME, nullable=False),
        sa.Column("physical_resource_id", NAME, nullable=True),
        sa.Column("resource_type", NAME, nullable=False),
        sa.Column("resource_action", ACTION, nullable=False),
        sa.Column("resource_status", ACTION, nullable=False),
        sa.Column("resource_status_reason", sa.Text(), nullable=True),
        sa.Column("resource_properties", sa.JSON(), nullable=True),
        _created(),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
        sa.UniqueConstraint("uuid", name="uq_event_uuid"),
        _stack_fk("event"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_event_stack", "event", ["stack_id", "id"])
    op.create_index("ix_event_root", "event", ["root_stack_id", "id"])

    op.create_table(
        "traversal",
        sa.Column("id", UUID, nullable=False),
        sa.Column("stack_id", UUID, nullable=False),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("state", ACTION, nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("deadline", TIMESTAMP, nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="pk_traversal"),
        _stack_fk("traversal"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_traversal_state", "traversal", ["state"])
    op.create_index("ix_traversal_stack", "traversal", ["stack_id"])

    op.create_table(
        "traversal_node",
        sa.Column("traversal_id", UUID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("state", ACTION, nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("dependents", sa.JSON(), nullable=False),
        sa.Column("engine_id", UUID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("traversal_id", "seq", name="pk_traversal_node"),
        sa.ForeignKeyConstraint(
            ["traversal_id"],
            ["traversal.id"],
            name="fk_traversal_node_traversal_id_traversal",
            ondelete="CASCADE",
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_node_engine", "traversal_node", ["engine_id", "state"])
    op.create_index("ix_node_state", "traversal_node", ["traversal_id", "state"])

    op.create_table(
        "service",
        sa.Column("id", UUID, nullable=False),
        sa.Column("engine_id", UUID, nullable=False),
        sa.Column("host", NAME, nullable=False),
        sa.Column("hostname", NAME, nullable=False),
        sa.Column("binary", NAME, nullable=False),
        sa.Column("topic", NAME, nullable=False),
        sa.Column("report_interval", sa.Integer(), nullable=False),
        _created(),
        _updated(),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service"),
        sa.UniqueConstraint("engine_id", name="uq_service_engine_id"),
        **TABLE_OPTIONS,
    )

    op.create_table(
        "software_config",
        sa.Column("id", UUID, nullable=False),
        sa.Column("name", NAME, nullable=True),
        sa.Column("group", NAME, nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("project_id", PROJECT, nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name="pk_software_config"),
        **TABLE_OPTIONS,
    )

    op.create_table(
        "software_deployment",
        sa.Column("id", UUID, nullable=False),
        sa.Column("config_id", UUID, nullable=False),
        sa.Column("server_id", NAME, nullable=False),
        sa.Column("input_values", sa.JSON(), nullable=False),
        sa.Column("output_values", sa.JSON(), nullable=False),
        sa.Column("action", ACTION, nullable=True),
        sa.Column("status", ACTION, nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("project_id", PROJECT, nullable=False),
        sa.Column("stack_user_project_id", PROJECT, nullable=True),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="pk_software_deployment"),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["software_config.id"],
            name="fk_software_deployment_config_id_software_config",
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_deployment_server", "software_deployment", ["server_id"])
    op.create_index("ix_deployment_config", "software_deployment", ["config_id"])

    op.create_table(
        "snapshot",
        sa.Column("id", UUID, nullable=False),
        sa.Column("stack_id", UUID, nullable=False),
        sa.Column("name", NAME, nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("status", ACTION, nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("project_id", PROJECT, nullable=False),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="pk_snapshot"),
        _stack_fk("snapshot"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_snapshot_stack", "snapshot", ["stack_id"])


def downgrade() -> None:
    """Downgrade schema: drop every table, dependents first."""
    for table in (
        "snapshot",
        "software_deployment",
        "software_config",
        "service",
        "traversal_node",
        "traversal",
        "event",
        "resource_data",
        "resource",
        "stack_tag",
        "stack",
        "raw_template",
    ):
        op.drop_table(table)
