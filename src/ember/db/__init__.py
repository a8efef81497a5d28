"""Persistence: SQLAlchemy models, migrations, and the units of work the engine runs."""
