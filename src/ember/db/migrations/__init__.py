"""Alembic migrations of Ember's schema; run them with ``ember.db.migration.db_sync``."""
