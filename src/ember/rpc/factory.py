"""The transport a ``transport_url`` names."""

from __future__ import annotations

from ember.common.settings import Settings
from ember.rpc.inproc import InProcTransport
from ember.rpc.rabbit import RabbitTransport
from ember.rpc.transport import Transport


def is_inproc(settings: Settings) -> bool:
    return settings.transport_url.startswith("inproc:")


def transport_for(settings: Settings) -> Transport:
    if is_inproc(settings):
        return InProcTransport()
    return RabbitTransport(
        settings.transport_url,
        reconnect_delay=settings.kombu_reconnect_delay,
        failover_strategy=settings.kombu_failover_strategy,
    )
