"""The database's own errors, as the rest of Ember names them (no SQLAlchemy outside
``db/``)."""

from __future__ import annotations

from alembic.util import CommandError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

# Anything the database layer raised that is not one of Ember's errors.
DatabaseError = SQLAlchemyError
# A row that a unique index refuses (a concurrent writer stored the same key first).
DuplicateEntry = IntegrityError
# A schema migration that cannot be done (an unknown revision, say).
MigrationError = CommandError

__all__ = ["DatabaseError", "DuplicateEntry", "MigrationError"]
