"""SQLAlchemy models of everything Ember keeps.

The database is the truth: stacks, their resources, events, and the traversals that
drive every operation (one row per node, with a count of unfinished prerequisites).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ember.common.timeutils import utcnow

# MySQL needs lengths on indexed strings; text that may be long is Text.
UUID = String(36)
NAME = String(255)
# MySQL's DATETIME drops fractions of a second unless asked to keep them; claims and
# heartbeats compare times closer than that.
TIMESTAMP = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Ids that grow without bound (one per event).
BIG_ID = BigInteger().with_variant(Integer, "sqlite")

# Every constraint gets a predictable name, so migrations can refer to it on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# On MySQL/MariaDB: transactional tables, full Unicode, and names compared exactly as on
# PostgreSQL and SQLite (stack "Web" and stack "web" are two stacks).
TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The table a mapped class is stored in (typed as the Table it is)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _created() -> Mapped[dt.datetime]:
    return mapped_column(TIMESTAMP, default=utcnow, nullable=False)


def _updated() -> Mapped[dt.datetime | None]:
    return mapped_column(TIMESTAMP, default=None, onupdate=utcnow, nullable=True)


def _stack_id() -> Mapped[str]:
    return mapped_column(ForeignKey("stack.id", ondelete="CASCADE"), nullable=False)


class RawTemplate(Base):
    __tablename__ = "raw_template"
    __table_args__ = (TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = _created()


class Stack(Base):
    __tablename__ = "stack"
    __table_args__ = (
        Index("ix_stack_project_name", "project_id", "name"),
        Index("ix_stack_owner", "owner_id"),
        Index("ix_stack_root", "root_stack_id"),
        Index("ix_stack_raw_template", "raw_template_id"),
        Index("ix_stack_prev_raw_template", "prev_raw_template_id"),
        Index("uq_stack_project_idempotency_key", "project_id", "idempotency_key", unique=True),
        TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    username: Mapped[str | None] = mapped_column(NAME)
    stack_user_project_id: Mapped[str | None] = mapped_column(String(64))
    raw_template_id: Mapped[int] = mapped_column(ForeignKey("raw_template.id"), nullable=False)
    # The template of the last successful state, kept for rollback of an update.
    prev_raw_template_id: Mapped[int | None] = mapped_column(ForeignKey("raw_template.id"))
    # Nested stacks: the parent stack, the owning resource and the top of the tree.
    owner_id: Mapped[str | None] = mapped_column(UUID)
    owner_resource: Mapped[str | None] = mapped_column(NAME)
    root_stack_id: Mapped[str | None] = mapped_column(UUID)
    nested_depth: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    disable_rollback: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    timeout_mins: Mapped[int | None] = mapped_column(Integer)
    # Parameters the user gave (strings), kept for PATCH updates.
    user_parameters: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    current_traversal: Mapped[str | None] = mapped_column(UUID)
    created_at: Mapped[dt.datetime] = _created()
    # Set when the stack is updated, as Heat's updated_time (not on every row change).
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP)
    # The tags again, comma-joined (a tag holds no comma): listing reads no second table.
    tags: Mapped[str | None] = mapped_column(Text)
    # A nested stack's ``resource_facade``: its owning resource's metadata and policies.
    facade: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Why the last action failed, as data (``common.failures.Failure``), for the resource
    # that owns this stack to report where it went wrong.
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The key the client gave its create (``X-Idempotency-Key``): the same create sent
    # again answers with this stack instead of making another.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))


class StackTag(Base):
    __tablename__ = "stack_tag"
    __table_args__ = (
        Index("ix_stack_tag_tag", "tag"),
        Index("ix_stack_tag_stack", "stack_id"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stack_id: Mapped[str] = _stack_id()
    tag: Mapped[str] = mapped_column(String(80), nullable=False)


class Resource(Base):
    __tablename__ = "resource"
    __table_args__ = (
        Index("ix_resource_stack_name", "stack_id", "name"),
        Index("ix_resource_physical", "physical_resource_id"),
        Index("ix_resource_root", "root_stack_id"),
        Index("ix_resource_template", "template_id"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True, nullable=False)
    stack_id: Mapped[str] = _stack_id()
    root_stack_id: Mapped[str | None] = mapped_column(UUID)
    name: Mapped[str] = mapped_column(NAME, nullable=False)
    type: Mapped[str] = mapped_column(NAME, nullable=False)
    physical_resource_id: Mapped[str | None] = mapped_column(NAME)
    # What get_resource returns (often the physical id, not always).
    reference_id: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Resolved properties the resource was last created/updated with (for update diffs).
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("rsrc_metadata", JSON)
    requires: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    # Replacement on update: the new resource points at the one it replaces.
    replaces: Mapped[int | None] = mapped_column(Integer)
    replaced_by: Mapped[int | None] = mapped_column(Integer)
    # The raw template whose definition this resource was last brought to.
    template_id: Mapped[int | None] = mapped_column(Integer)
    needs_replace: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    engine_id: Mapped[str | None] = mapped_column(UUID)
    # The claim of the node acting on the resource now: at most one node (of any
    # traversal, a signal included) runs a resource's plugin at a time.
    locked_by: Mapped[str | None] = mapped_column(UUID)
    # Signals handled so far: a node waiting for a signal wakes when this passes what it saw.
    signals: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime | None] = _updated()


class ResourceData(Base):
    __tablename__ = "resource_data"
    __table_args__ = (
        UniqueConstraint("resource_id", "key", name="uq_resource_data_key"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(NAME, nullable=False)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    redact: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime | None] = _updated()


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_stack", "stack_id", "id"),
        Index("ix_event_root", "root_stack_id", "id"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True, nullable=False)
    stack_id: Mapped[str] = _stack_id()
    root_stack_id: Mapped[str | None] = mapped_column(UUID)
    resource_name: Mapped[str] = mapped_column(NAME, nullable=False)
    physical_resource_id: Mapped[str | None] = mapped_column(NAME)
    resource_type: Mapped[str] = mapped_column(NAME, nullable=False)
    resource_action: Mapped[str] = mapped_column(String(16), nullable=False)
    resource_status: Mapped[str] = mapped_column(String(16), nullable=False)
    resource_status_reason: Mapped[str | None] = mapped_column(Text)
    resource_properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = _created()


class Traversal(Base):
    """One stack operation: its graph of nodes is stored, so any engine can carry it on."""

    __tablename__ = "traversal"
    __table_args__ = (
        Index("ix_traversal_state", "state"),
        Index("ix_traversal_stack", "stack_id"),
        TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    stack_id: Mapped[str] = _stack_id()
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    # "stack": the stack's current operation; "resource": work on one resource alone.
    scope: Mapped[str] = mapped_column(String(16), default="stack", nullable=False)
    # RUNNING, COMPLETE, FAILED, CANCELLED or SUPERSEDED (a newer traversal won).
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    remaining: Mapped[int] = mapped_column(Integer, nullable=False)
    failed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    deadline: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP)
    # Operation details: templates involved, rollback flag, what to do when done.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime | None] = _updated()


class TraversalNode(Base):
    __tablename__ = "traversal_node"
    __table_args__ = (
        # State first: finding CLAIMED (or PARKED) nodes must not walk every node an
        # engine ever finished.
        Index("ix_node_state_engine", "state", "engine_id"),
        Index("ix_node_state", "traversal_id", "state"),
        Index("ix_node_wake", "wake_key"),
        TABLE_OPTIONS,
    )

    # Nodes are numbered within their traversal, so a whole graph is written in one batch
    # without waiting for generated keys; messages name (traversal_id, seq).
    traversal_id: Mapped[str] = mapped_column(
        ForeignKey("traversal.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resource_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # CREATE, UPDATE, DELETE, SUSPEND, RESUME, CHECK.
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    # WAITING, READY, CLAIMED, PARKED, DONE, FAILED, CANCELLED.
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    pending: Mapped[int] = mapped_column(Integer, nullable=False)
    # Seqs of the nodes to count down when this one finishes.
    dependents: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    engine_id: Mapped[str | None] = mapped_column(UUID)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # The token this node's claim holds its resource's lock with.
    lock_token: Mapped[str | None] = mapped_column(UUID)
    # A PARKED node: what wakes it ("stack:<id>", "hook:<resource>:<hook>", "lock:<resource>",
    # "signal:<resource>") and when at the latest; woken_by says why it was made READY.
    wake_key: Mapped[str | None] = mapped_column(String(100))
    wake_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP)
    woken_by: Mapped[str | None] = mapped_column(String(16))
    # "acted": the action is done and recorded; only its post- hook remains.
    progress: Mapped[str | None] = mapped_column(String(16))


class Service(Base):
    """One engine process; its heartbeat says it is alive."""

    __tablename__ = "service"
    __table_args__ = (TABLE_OPTIONS,)

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    engine_id: Mapped[str] = mapped_column(UUID, nullable=False, unique=True)
    host: Mapped[str] = mapped_column(NAME, nullable=False)
    hostname: Mapped[str] = mapped_column(NAME, nullable=False)
    binary: Mapped[str] = mapped_column(NAME, nullable=False)
    topic: Mapped[str] = mapped_column(NAME, nullable=False)
    report_interval: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP)


class SoftwareConfig(Base):
    __tablename__ = "software_config"
    __table_args__ = (TABLE_OPTIONS,)

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str | None] = mapped_column(NAME)
    group: Mapped[str] = mapped_column(NAME, nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = _created()


class SoftwareDeployment(Base):
    __tablename__ = "software_deployment"
    __table_args__ = (
        Index("ix_deployment_server", "server_id"),
        Index("ix_deployment_config", "config_id"),
        TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    config_id: Mapped[str] = mapped_column(ForeignKey("software_config.id"), nullable=False)
    server_id: Mapped[str] = mapped_column(NAME, nullable=False)
    input_values: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    output_values: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    action: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    stack_user_project_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime | None] = _updated()


class Snapshot(Base):
    __tablename__ = "snapshot"
    __table_args__ = (Index("ix_snapshot_stack", "stack_id"), TABLE_OPTIONS)

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    stack_id: Mapped[str] = _stack_id()
    name: Mapped[str | None] = mapped_column(NAME)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime | None] = _updated()


class Ec2Credential(Base):
    """An EC2-style key pair heat-api-cfn checks request signatures with, and whose it is.
    ``secret`` is encrypted with ``auth_encryption_key`` (``ember.common.crypt``)."""

    __tablename__ = "ec2_credential"
    __table_args__ = (Index("ix_ec2_credential_owner", "project_id", "user_id"), TABLE_OPTIONS)

    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    access: Mapped[str] = mapped_column(NAME, nullable=False, unique=True)
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    user_name: Mapped[str] = mapped_column(NAME, nullable=False)
    roles: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[dt.datetime] = _created()
    # A signal credential's one resource (a user's own key pair has neither).
    stack_id: Mapped[str | None] = mapped_column(UUID, index=True)
    resource_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Its bearer token, encrypted; looked up by its SHA-256.
    token: Mapped[str | None] = mapped_column(Text)
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
