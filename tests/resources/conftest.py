"""Resource type tests run a real engine on SQLite, as the engine tests do."""

from tests.engine.conftest import ctx, env  # noqa: F401
