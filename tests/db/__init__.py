"""Persistence tests: engines, migrations, purge, on SQLite, MariaDB and PostgreSQL."""
