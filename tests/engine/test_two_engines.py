"""Two engine workers on one database share the nodes of one stack."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ember.db.models import Stack, TraversalNode
from ember.db.session import session_scope
from tests.engine.conftest import flat, start_env, stop_env


async def test_two_engines_both_work_on_one_stack(database_url: str) -> None:
    env = await start_env(database_url, engines=2, executor_batch_size=16)
    try:
        template = flat(100, kind="OS::Heat::TestResource")
        for spec in template["resources"].values():
            spec["properties"] = {"wait_secs": 0.05}
        stack = await env.create("shared", template)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]

        def engines_used(session: Session) -> set[str]:
            traversal = session.execute(
                select(Stack.current_traversal).where(Stack.id == stack["id"])
            ).scalar_one()
            return set(
                session.execute(
                    select(TraversalNode.engine_id).where(TraversalNode.traversal_id == traversal)
                ).scalars()
            )

        with session_scope(env.db.engine, readonly=True) as session:
            used = engines_used(session)
        assert used == {e.engine_id for e in env.engines}
        resources = await env.client.list_resources(env.ctx, "shared")
        assert len({r["physical_resource_id"] for r in resources}) == 100
    finally:
        await stop_env(env)
