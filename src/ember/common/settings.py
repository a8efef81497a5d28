"""Ember's settings: read once from ``heat.conf`` at the entry point, then passed down.

``Settings`` is also the table of heat.conf options (see ``ember.common.options``): each
field names the option it is read from, the options it is derived from, or why it is no
option at all. Options keep Heat's names, groups, defaults and help texts, so an
operator's existing file works unchanged. Only the standard library here;
``ember.cmd.config`` registers the options with oslo.config and fills a ``Settings``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import quote

from ember.common.options import Kind, Opt, Values, derived, internal, option

SQLITE_URL = "sqlite:///ember.sqlite"
INPROC_URL = "inproc://"
DEFAULT_REGION = "RegionOne"
DEFAULT_VHOST = "/"
RABBIT = "oslo_messaging_rabbit"
# Heat's own default; a deployment sets its own (heat-manage warns of this one).
HEAT_DEFAULT_ENCRYPTION_KEY = "notgood but just long enough i t"


@dataclass(frozen=True)
class Listener:
    bind_host: str
    bind_port: int
    workers: int = 1
    # TLS: both set, the listener serves https.
    cert_file: str | None = None
    key_file: str | None = None


def _cores() -> int:
    return os.cpu_count() or 1


def _database_url(values: Values) -> str:
    """``[database] connection``, else the legacy ``[DEFAULT] sql_connection``, else a
    SQLite file in the current directory."""
    return values["connection"] or values["sql_connection"] or SQLITE_URL


def _transport_url(values: Values) -> str:
    """``transport_url``, else the legacy ``rabbit_*`` options, else the in-process
    transport."""
    return values["transport_url"] or legacy_rabbit_url(values) or INPROC_URL


def _region_name(values: Values) -> str:
    return values["region_name_for_services"] or DEFAULT_REGION


def _engine_workers(values: Values) -> int:
    # Heat: one engine process per core, at least four.
    workers: int = values["num_engine_workers"] or max(4, _cores())
    return workers


def _listener(values: Values) -> Listener:
    # workers = 0 means one per core, as in Heat.
    return Listener(
        values["bind_host"],
        values["bind_port"],
        values["workers"] or _cores(),
        values["cert_file"] or None,
        values["key_file"] or None,
    )


def legacy_rabbit_url(values: Values) -> str | None:
    """The ``transport_url`` equivalent to the legacy ``rabbit_*`` options, if any is set."""
    if all(values[opt.name] is None for opt in _LEGACY_RABBIT):
        return None
    port = values["rabbit_port"] or 5672
    hosts = values["rabbit_hosts"] or [values["rabbit_host"] or "localhost"]
    user = quote(values["rabbit_userid"] or "guest", safe="")
    password = quote(values["rabbit_password"] or "guest", safe="")
    netlocs = ",".join(f"{user}:{password}@{_host_port(h.strip(), port)}" for h in hosts)
    vhost = values["rabbit_virtual_host"] or DEFAULT_VHOST
    path = "" if vhost == DEFAULT_VHOST else quote(vhost, safe="")
    return f"rabbit://{netlocs}/{path}"


def _host_port(host: str, port: int) -> str:
    if host.startswith("["):  # [v6]:port or [v6]
        return host if "]:" in host else f"{host}:{port}"
    if host.count(":") > 1:  # a bare IPv6 address
        return f"[{host}]:{port}"
    return host if ":" in host else f"{host}:{port}"


def _rabbit_opt(kind: Kind, name: str, help: str, *, secret: bool = False) -> Opt:
    # These lived in [DEFAULT] before [oslo_messaging_rabbit], and oslo.messaging has
    # since dropped them for transport_url; Ember still turns them into one.
    return Opt(
        kind,
        help,
        name=name,
        group=RABBIT,
        secret=secret,
        deprecated_group="DEFAULT",
        deprecated_for_removal=True,
        deprecated_reason="Replaced by [DEFAULT] transport_url.",
    )


_LEGACY_RABBIT = (
    _rabbit_opt("str", "rabbit_host", "The RabbitMQ broker address where a single node is used."),
    _rabbit_opt("port", "rabbit_port", "The RabbitMQ broker port where a single node is used."),
    _rabbit_opt("list", "rabbit_hosts", "RabbitMQ HA cluster host:port pairs."),
    _rabbit_opt("str", "rabbit_userid", "The RabbitMQ userid."),
    _rabbit_opt("str", "rabbit_password", "The RabbitMQ password.", secret=True),
    _rabbit_opt("str", "rabbit_virtual_host", "The RabbitMQ virtual host."),
)


def _metrics_listener(values: Values) -> Listener | None:
    port: int = values["metrics_bind_port"]
    return Listener(values["metrics_bind_host"], port) if port else None


def _listener_opts(group: str, port: int, workers: int) -> tuple[Opt, ...]:
    # Heat binds 0.0.0.0; Ember listens on loopback unless told otherwise.
    return (
        Opt(
            "host",
            "Address to bind the server. Useful when selecting a particular network interface.",
            name="bind_host",
            group=group,
            default="127.0.0.1",
        ),
        Opt(
            "port",
            "The port on which the server will listen.",
            name="bind_port",
            group=group,
            default=port,
        ),
        Opt(
            "int",
            "Number of workers for Heat service. Value 0 means that the service will "
            "start a number of workers equal to the number of cores on the server.",
            name="workers",
            group=group,
            default=workers,
            min=0,
        ),
        Opt(
            "str",
            "Location of the SSL certificate file to use for SSL mode.",
            name="cert_file",
            group=group,
        ),
        Opt(
            "str",
            "Location of the SSL key file to use for enabling SSL mode.",
            name="key_file",
            group=group,
        ),
    )


@dataclass(frozen=True)
class Settings:
    database_url: str = derived(
        _database_url,
        Opt(
            "str",
            "The SQLAlchemy connection string to use to connect to the database. "
            f"Unset, Ember uses {SQLITE_URL}.",
            name="connection",
            group="database",
            secret=True,
        ),
        Opt(
            "str",
            "The SQLAlchemy connection string to use to connect to the database.",
            name="sql_connection",
            secret=True,
            deprecated_for_removal=True,
            deprecated_reason="Replaced by [database] connection.",
        ),
    )
    database_connect_timeout: float = option(
        10.0,
        Opt(
            "float",
            "Seconds to wait for a connection to the database server before the request "
            "that needs it is answered 503 (Service Unavailable).",
            name="connect_timeout",
            group="database",
            min=1,
        ),
    )
    database_statement_timeout: float = option(
        60.0,
        Opt(
            "float",
            "Seconds one database statement may take, or its answer may be awaited, "
            "before it is given up and the request answered 503 (Service Unavailable). "
            "MySQL/MariaDB: the client's read and write timeouts; PostgreSQL: the "
            "server's statement_timeout and idle_in_transaction_session_timeout, and "
            "the connection's tcp_user_timeout. Values in the connection URL win.",
            name="statement_timeout",
            group="database",
            min=1,
        ),
    )
    database_pool_timeout: float = option(
        30.0,
        Opt(
            "float",
            "If set, use this value for pool_timeout with SQLAlchemy.",
            name="pool_timeout",
            group="database",
            min=1,
        ),
    )
    transport_url: str = derived(
        _transport_url,
        Opt(
            "str",
            "The network address and optional user credentials for connecting to the "
            "messaging backend, in URL format. The expected format is:\n\n"
            "rabbit://[user:pass@]host:port[,[userN:passN@]hostN:portN]/virtual_host\n\n"
            "Unset (and without the legacy [oslo_messaging_rabbit] rabbit_* options), "
            f"Ember runs its engines inside the API process ({INPROC_URL}).",
            name="transport_url",
            secret=True,
        ),
        *_LEGACY_RABBIT,
    )
    kombu_reconnect_delay: float = option(
        1.0,
        Opt(
            "float",
            "How long to wait (in seconds) before reconnecting in response to an AMQP "
            "consumer cancel notification.",
            group=RABBIT,
            deprecated_group="DEFAULT",
        ),
    )
    kombu_failover_strategy: str = option(
        "round-robin",
        Opt(
            "str",
            "Determines how the next RabbitMQ node is chosen in case the one we are "
            "currently connected to becomes unavailable. Takes effect only if more than "
            "one RabbitMQ node is provided in config.",
            group=RABBIT,
            choices=("round-robin", "shuffle"),
        ),
    )
    host: str = option(
        socket.gethostname(),
        Opt(
            "str",
            "Name of the engine node. This can be an opaque identifier. It is not "
            "necessarily a hostname, FQDN, or IP address.",
            sample_default="<Hostname>",
        ),
    )
    # A Listener is frozen, so one default instance is safe to share.
    heat_api: Listener = derived(_listener, *_listener_opts("heat_api", 8004, 0))  # noqa: RUF009
    heat_api_cfn: Listener = derived(  # noqa: RUF009
        _listener, *_listener_opts("heat_api_cfn", 8000, 1)
    )
    engine_metrics: Listener | None = derived(  # noqa: RUF009  # None by default
        _metrics_listener,
        Opt(
            "host",
            "Address heat-engine serves GET /metrics on (Prometheus's text format, the "
            "metrics of all its worker processes), when metrics_bind_port is set.",
            name="metrics_bind_host",
            group="heat_engine",
            default="127.0.0.1",
        ),
        Opt(
            "port",
            "Port heat-engine serves GET /metrics on; 0, the default, serves none. Each "
            "heat-engine on a host needs its own. heat-all serves its metrics on the "
            "API's port instead.",
            name="metrics_bind_port",
            group="heat_engine",
            default=0,
        ),
    )
    enabled_services: tuple[str, ...] = option(
        ("engine", "api", "api_cfn"),
        Opt(
            "list",
            "Specifies the heat services that are enabled when running heat-all. Valid "
            "options are all or any combination of api, engine or api_cfn.",
            group="heat_all",
        ),
    )
    paste_flavor: str | None = option(
        None,
        Opt(
            "str",
            'The flavor to use: "keystone" checks each token with keystonemiddleware\'s '
            'auth_token ([keystone_authtoken]); "noauth" trusts the X-Auth-User and '
            "X-Auth-Project headers. Unset, heat-all serves noauth and heat-api keystone.",
            name="flavor",
            group="paste_deploy",
        ),
    )
    auth_encryption_key: str = option(
        HEAT_DEFAULT_ENCRYPTION_KEY,
        Opt(
            "str",
            "Key used to encrypt authentication info in the database: the secrets of "
            "the EC2-style key pairs heat-api-cfn checks signatures with. Every process "
            "that reads or writes them (heat-api-cfn, heat-engine, heat-manage) must have "
            "the same key. Length of this key must be 32 characters.",
            secret=True,
        ),
    )
    heat_waitcondition_server_url: str | None = option(
        None,
        Opt(
            "str",
            "URL of the Heat waitcondition server (heat-api-cfn's /v1/waitcondition, e.g. "
            "http://cfn.example.com:8000/v1/waitcondition): the base of the pre-signed URLs "
            "wait condition handles and scaling policies give out. Unset, heat-api-cfn's "
            "own bind address.",
        ),
    )
    heat_metadata_server_url: str | None = option(
        None,
        Opt(
            "str",
            "URL of the Heat metadata server (heat-api-cfn, e.g. http://cfn.example.com:8000),"
            " which a signal credential's holder reads its resource's metadata from. Unset, "
            "heat-api-cfn's own bind address.",
        ),
    )
    heat_watch_server_url: str | None = option(
        None,
        Opt(
            "str",
            "URL of the Heat native API (heat-api, e.g. http://heat.example.com:8004/v1), "
            "the base of the signal URLs given to TOKEN_SIGNAL and HEAT_SIGNAL resources. "
            "Unset, heat-api's own bind address.",
        ),
    )
    ec2_auth_uri: str | None = option(
        None,
        Opt(
            "str",
            "Keystone endpoint whose /v3/ec2tokens checks the signatures of "
            "heat-api-cfn requests with the keystone flavor. Unset, [keystone_authtoken] "
            "www_authenticate_uri is used.",
            name="auth_uri",
            group="ec2authtoken",
        ),
    )
    ec2_credential_cache_time: int = option(
        30,
        Opt(
            "int",
            "Seconds heat-api-cfn keeps a key pair it looked up (encrypted, as stored) "
            "before asking an engine again: a deleted key pair still signs requests for "
            "at most this long. 0 looks every request's key up.",
            name="credential_cache_time",
            group="heat_api_cfn",
            min=0,
        ),
    )
    cfn_page_size: int = option(
        100,
        Opt(
            "int",
            "Stacks, events or resources one DescribeStacks, ListStacks, "
            "DescribeStackEvents or ListStackResources answer holds; the rest follow with "
            "its NextToken.",
            name="page_size",
            group="heat_api_cfn",
            min=1,
            max=1000,
        ),
    )
    cfn_max_requests_per_second: float = option(
        0.0,
        Opt(
            "float",
            "Requests per second one key pair may make of one heat-api-cfn process; "
            "more are answered Throttling, which the AWS SDKs retry after a pause. "
            "0 sets no limit.",
            name="max_requests_per_second",
            group="heat_api_cfn",
            min=0,
        ),
    )
    cfn_max_request_burst: int = option(
        50,
        Opt(
            "int",
            "Requests one key pair may make at once above max_requests_per_second "
            "before it is throttled.",
            name="max_request_burst",
            group="heat_api_cfn",
            min=1,
        ),
    )
    template_url_hosts: tuple[str, ...] = option(
        (),
        Opt(
            "list",
            "Hosts (host or host:port) from which heat-api-cfn fetches the templates "
            "named by TemplateURL, over http or https only. Empty: TemplateURL is "
            "refused, and file: URLs always are.",
            group="heat_api_cfn",
        ),
    )
    config_args: tuple[str, ...] = internal(
        (),
        "The --config-file/--config-dir arguments that read the same configuration "
        "again (keystonemiddleware reads its own [keystone_authtoken] options from "
        "them); load_settings fills it in.",
        compare=False,
    )
    allow_noauth_remote: bool = option(
        False,
        Opt(
            "bool",
            "Serve the noauth flavor on an address other than loopback anyway. Anyone "
            "who reaches the port can then act in any project.",
        ),
    )
    forwarded_allow_ips: tuple[str, ...] = option(
        ("127.0.0.1", "::1"),
        Opt(
            "list",
            "Addresses or networks (10.0.0.0/8) of the proxies in front of heat-api whose "
            "X-Forwarded-For and X-Forwarded-Proto headers are believed: the client address "
            "and the scheme of the links heat-api builds. From anyone else these headers are "
            "ignored. '*' believes every caller, which lets any client pose as another "
            "address.",
            group="heat_api",
        ),
    )
    max_header_line: int = option(
        16384,
        Opt(
            "int",
            "Maximum line size of message headers to be accepted. max_header_line may need "
            "to be increased when using large tokens (typically those generated by the "
            "Keystone v3 API with big service catalogs).",
            group="heat_api",
            min=1,
        ),
    )
    region_name: str = derived(
        _region_name,
        Opt(
            "str",
            "Default region name used to get services endpoints. Unset, Ember uses "
            f"{DEFAULT_REGION}.",
            name="region_name_for_services",
        ),
    )
    num_engine_workers: int = derived(
        _engine_workers,
        Opt(
            "int",
            "Number of heat-engine processes to fork and run. Will default to either "
            "4 or number of CPUs on the host, whichever is greater.",
            name="num_engine_workers",
            min=1,
        ),
    )
    executor_batch_size: int = internal(
        500, "Concurrent resource actions one engine worker runs; fixed in code."
    )
    max_resources_per_stack: int = option(
        1000,
        Opt("int", "Maximum resources allowed per top-level stack. -1 stands for unlimited."),
    )
    max_template_size: int = option(524_288, Opt("int", "Maximum raw byte size of any template."))
    max_function_result_items: int = option(
        200_000,
        Opt(
            "int",
            "Maximum number of list items, map entries and values that the template "
            "functions of one evaluation (the outputs of a stack shown, the properties of a "
            "resource, a validation) may make; a function that would make more fails with "
            "an error naming it. -1 stands for unlimited.",
            min=-1,
        ),
    )
    max_function_result_chars: int = option(
        4_194_304,
        Opt(
            "int",
            "Maximum number of characters that the template functions of one evaluation "
            "may make (see max_function_result_items). -1 stands for unlimited.",
            min=-1,
        ),
    )
    yaql_limit_iterators: int = option(
        200,
        Opt(
            "int",
            "The maximum number of elements in collection expression can take for its evaluation.",
            name="limit_iterators",
            group="yaql",
        ),
    )
    yaql_memory_quota: int = option(
        10_000,
        Opt(
            "int",
            "The maximum size of memory in bytes that expression can take for its evaluation.",
            name="memory_quota",
            group="yaql",
        ),
    )
    max_nested_stack_depth: int = option(
        5, Opt("int", "Maximum depth allowed when using nested stacks.")
    )
    max_stacks_per_tenant: int = option(
        512,
        Opt(
            "int",
            "Maximum number of stacks any one tenant may have active at one time. -1 "
            "stands for unlimited.",
        ),
    )
    max_json_body_size: int = option(
        1_048_576,
        Opt(
            "int",
            "Maximum raw byte size of JSON request body. Should be larger than max_template_size.",
        ),
    )
    client_socket_timeout: int = option(
        900,
        Opt(
            "int",
            "Timeout for client connections' socket operations. If an incoming connection "
            "is idle for this number of seconds it will be closed. A value of '0' means "
            "wait forever.",
            min=0,
        ),
    )
    max_events_per_stack: int = option(
        1000,
        Opt(
            "int",
            "Rough number of maximum events that will be available per stack. Older "
            "events are deleted when events are purged. Set to 0 for unlimited events "
            "per stack.",
        ),
    )
    event_purge_batch_size: int = option(
        200,
        Opt(
            "int",
            "Controls how many events will be pruned whenever a stack's events are "
            "purged. Set this lower to keep more events at the expense of more frequent "
            "purges.",
            min=1,
        ),
    )
    max_snapshots_per_stack: int = option(
        32,
        Opt(
            "int",
            "Maximum number of snapshot any one stack may have active at one time. -1 "
            "stands for unlimited.",
        ),
    )
    max_software_configs_per_tenant: int = option(
        4096,
        Opt(
            "int",
            "Maximum number of software configs any one tenant may have active at one "
            "time. -1 stands for unlimited.",
        ),
    )
    max_software_deployments_per_tenant: int = option(
        4096,
        Opt(
            "int",
            "Maximum number of software deployments any one tenant may have active at "
            "one time. -1 stands for unlimited.",
        ),
    )
    stack_action_timeout: int = option(
        3600, Opt("int", "Timeout in seconds for stack action (ie. create or update).")
    )
    engine_life_check_timeout: int = option(
        2,
        Opt("int", "RPC timeout for the engine liveness check that is used for stack locking."),
    )
    rpc_response_timeout: int = option(
        60, Opt("int", "Seconds to wait for a response from a call.")
    )
    periodic_interval: int = option(60, Opt("int", "Seconds between running periodic tasks."))
    heartbeat_interval: float = internal(
        2.0,
        "Seconds between an engine's touches of its service row; an engine silent for "
        "three beats is dead. Fixed in code (tests shorten it).",
    )
    enable_stack_abandon: bool = option(
        False, Opt("bool", "Enable the preview Stack Abandon feature.")
    )
    enable_stack_adopt: bool = option(False, Opt("bool", "Enable the preview Stack Adopt feature."))
    hidden_stack_tags: tuple[str, ...] = option(
        ("data-processing-cluster",),
        Opt(
            "list",
            "Stacks containing these tag names will be hidden. Multiple tags should be "
            "given in a comma-delimited list (eg. hidden_stack_tags=hide_me,me_too).",
        ),
    )
    heat_revision: str = option(
        "unknown",
        Opt(
            "str",
            "Heat build revision. If you would prefer to manage your build revision "
            "separately, you can move this section to a different file and add it as "
            "another config option.",
            group="revision",
        ),
    )
    debug: bool = option(
        False,
        Opt(
            "bool",
            "If set to true, the logging level will be set to DEBUG instead of the "
            "default INFO level.",
            cli=True,
            short="d",
        ),
    )
