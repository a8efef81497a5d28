"""Ember's settings: read once from ``heat.conf`` at the entry point, then passed down.

Only the standard library here; ``ember.cmd.config`` fills a ``Settings`` from the
configuration files with oslo.config.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Listener:
    bind_host: str
    bind_port: int
    workers: int = 1


@dataclass(frozen=True)
class Settings:
    # Where state lives: an SQLAlchemy URL as heat.conf writes it.
    database_url: str = "sqlite:///ember.sqlite"
    # "inproc://" runs engine workers inside the API process; "rabbit://..." uses RabbitMQ.
    transport_url: str = "inproc://"
    # [oslo_messaging_rabbit]: seconds to wait before reconnecting after a broker error, and
    # how to pick the next broker of several ("round-robin" or "shuffle").
    kombu_reconnect_delay: float = 1.0
    kombu_failover_strategy: str = "round-robin"
    host: str = "localhost"
    heat_api: Listener = field(default_factory=lambda: Listener("127.0.0.1", 8004))
    heat_api_cfn: Listener = field(default_factory=lambda: Listener("127.0.0.1", 8000))
    paste_flavor: str | None = None  # "noauth" or None/"keystone"
    # The --config-file/--config-dir arguments that read the same configuration again
    # (keystonemiddleware reads its own [keystone_authtoken] options from them).
    config_args: tuple[str, ...] = field(default=(), compare=False)
    allow_noauth_remote: bool = False
    region_name: str = "RegionOne"
    num_engine_workers: int = 1
    # Concurrent resource actions one engine worker runs.
    executor_batch_size: int = 500
    max_resources_per_stack: int = 1000
    max_template_size: int = 524_288
    max_nested_stack_depth: int = 5
    max_stacks_per_tenant: int = 512
    max_json_body_size: int = 1_048_576
    max_events_per_stack: int = 1000
    event_purge_batch_size: int = 200
    max_snapshots_per_stack: int = 32
    max_software_configs_per_tenant: int = 4096
    max_software_deployments_per_tenant: int = 4096
    stack_action_timeout: int = 3600
    engine_life_check_timeout: int = 2
    rpc_response_timeout: int = 60
    periodic_interval: int = 60
    # How often an engine touches its service row; an engine silent for three beats is dead.
    heartbeat_interval: float = 2.0
    enable_stack_abandon: bool = False
    enable_stack_adopt: bool = False
    hidden_stack_tags: tuple[str, ...] = ()
    heat_revision: str = "unknown"
    debug: bool = False
