"""Resource type tests run a real engine on SQLite, as the engine tests do (``env_any``: on
each backend in turn)."""

from tests.engine.conftest import ctx, env, env_any  # noqa: F401
