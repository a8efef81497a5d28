"""The engine API is declared once (``ember.rpc.api``): the client, the engine's handlers
and the server's checks all follow the declaration, and nothing undeclared is served."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from ember.common import errors
from ember.common.settings import Settings
from ember.db import migration
from ember.db.database import Database
from ember.engine.app import Engine
from ember.engine.dispatch import bind_handlers, signature_mismatch
from ember.rpc import api
from ember.rpc import errors as rpc_errors
from ember.rpc.client import EngineClient
from ember.rpc.inproc import InProcTransport

CTX = {"project_id": "demo", "username": "demo", "is_admin": False}


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'contract.sqlite'}"
    migration.db_sync(url)
    db = Database(url)
    transport = InProcTransport()
    running = Engine(Settings(database_url=url, heartbeat_interval=30), db, transport)
    await running.start()
    yield running, EngineClient(transport)
    await running.stop()
    db.close()


def test_every_declared_operation_is_a_client_method_with_the_declared_signature() -> None:
    for name, operation in api.OPERATIONS.items():
        method = getattr(EngineClient, name)
        params = list(inspect.signature(method).parameters.values())[1:]
        assert params == list(operation.signature.parameters.values()), name


def test_the_client_adds_no_operation_of_its_own() -> None:
    own = {n for n, v in vars(EngineClient).items() if inspect.iscoroutinefunction(v)}
    assert own == {"call", "healthy"}
    declared = {n for n, v in vars(api.EngineAPI).items() if inspect.iscoroutinefunction(v)}
    assert declared - {"call"} == set(api.OPERATIONS)


# Asked before any caller is known: the engine's health, and the key pair a CloudFormation
# request's signature is checked with (the signature is what says who the caller is).
CALLERLESS = {"health", "find_ec2_credential", "find_signal_token"}


def test_every_operation_but_the_callerless_ones_takes_the_caller_first() -> None:
    for name, operation in api.OPERATIONS.items():
        first = next(iter(operation.signature.parameters), None)
        assert (first == "ctx") == (name not in CALLERLESS), name


async def test_the_engine_serves_exactly_the_declared_operations(engine: Any) -> None:
    running, _ = engine
    assert set(running.dispatcher.handlers) == set(api.OPERATIONS)
    for name, operation in api.OPERATIONS.items():
        assert signature_mismatch(operation, running.dispatcher.handlers[name]) is None


def test_a_handler_that_differs_from_the_declaration_is_refused() -> None:
    class Stacks:
        async def identify_stack(self, ctx: Any, stack_name: str) -> Any:  # renamed parameter
            return None

    domains: dict[str, object] = dict.fromkeys(
        {op.domain for op in api.OPERATIONS.values()}, Stacks()
    )
    with pytest.raises(TypeError, match=r"identify_stack|does not serve"):
        bind_handlers(domains)


@pytest.mark.parametrize("method", ["on_completion", "_after", "call", "dispatch", "stop"])
async def test_an_undeclared_method_is_refused(engine: Any, method: str) -> None:
    _, client = engine
    with pytest.raises(errors.InvalidRequest, match="Unknown engine operation"):
        await client.transport.call(api.ENGINE_TOPIC, method, api.envelope({"ctx": CTX}), timeout=5)


async def test_arguments_are_checked_against_the_declaration(engine: Any) -> None:
    _, client = engine
    call = client.transport.call
    with pytest.raises(errors.InvalidRequest, match="unexpected keyword argument 'colour'"):
        await call(
            api.ENGINE_TOPIC,
            "identify_stack",
            api.envelope({"ctx": CTX, "stack_identity": "x", "colour": 1}),
            5,
        )
    with pytest.raises(errors.InvalidRequest, match="missing a required argument"):
        await call(api.ENGINE_TOPIC, "identify_stack", api.envelope({"ctx": CTX}), 5)
    with pytest.raises(errors.InvalidRequest, match="stack_identity must be str"):
        await call(
            api.ENGINE_TOPIC, "identify_stack", api.envelope({"ctx": CTX, "stack_identity": 7}), 5
        )
    with pytest.raises(errors.InvalidRequest, match="resolve_outputs must be bool"):
        await client.show_stack(CTX, "x", resolve_outputs="yes")  # type: ignore[arg-type]


async def test_a_request_of_another_major_version_is_refused(engine: Any) -> None:
    _, client = engine
    request = {"version": "2.0", "arguments": {"ctx": CTX, "stack_identity": "x"}}
    with pytest.raises(rpc_errors.IncompatibleVersion):
        await client.transport.call(api.ENGINE_TOPIC, "identify_stack", request, 5)
    with pytest.raises(errors.InvalidRequest, match="no arguments"):
        await client.transport.call(api.ENGINE_TOPIC, "identify_stack", {"ctx": CTX}, 5)


async def test_a_declared_call_reaches_its_handler(engine: Any) -> None:
    _, client = engine
    with pytest.raises(errors.EntityNotFound, match="The Stack \\(nowhere\\) could not be found"):
        await client.identify_stack(CTX, "nowhere")
    assert await client.list_stacks(CTX) == []
    assert await client.healthy() is True


def test_errors_cross_as_their_registered_class_keeping_the_shown_type() -> None:
    class NestedKindOfMissing(errors.EntityNotFound):
        pass

    wire = rpc_errors.serialize(NestedKindOfMissing(entity="Stack", name="x"))
    assert wire["type"] == "EntityNotFound"
    assert wire["shown_type"] == "NestedKindOfMissing"
    assert wire["kwargs"] == {"entity": "Stack", "name": "x"}
    back = rpc_errors.deserialize(wire)
    assert type(back) is errors.EntityNotFound
    assert back.type_name == "NestedKindOfMissing"
    assert back.message == "The Stack (x) could not be found."
    assert back.kwargs == {"entity": "Stack", "name": "x"}


def test_the_registry_lists_every_error_of_the_common_tree() -> None:
    common = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.EmberError)
    }
    assert common <= set(rpc_errors.REGISTRY.values())
    for name, cls in rpc_errors.REGISTRY.items():
        assert cls.__name__ == name


def test_an_unexpected_error_arrives_without_its_text_shown() -> None:
    back = rpc_errors.deserialize(rpc_errors.serialize(RuntimeError("secret path /etc/x")))
    assert isinstance(back, rpc_errors.RemoteError)
    assert back.safe is False
    assert back.remote_type == "RuntimeError"
