"""``GET /healthcheck`` of a stand-alone heat-api follows the engines: down while no engine
answers, up once one does. heat-api and heat-manage run from the checkout here
(``python bin/heat-api``), one process each (no supervisor)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.api.conftest import free_port
from tests.api.helpers import need
from tests.deploy.conftest import (
    Launcher,
    changed,
    checkout_command,
    heat_conf,
    module_command,
    reset_broker,
    wait_health,
)

httpx = need("httpx")

# The engine ping of /healthcheck gives up after five seconds.
PING_TIMEOUT = 5.0


def test_health_follows_the_engine(launcher: Launcher, tmp_path: Path) -> None:
    reset_broker()
    port = free_port()
    sections = heat_conf(
        database_url=f"sqlite:///{tmp_path / 'ember.sqlite'}",
        port=port,
        engine_workers=1,
        api_workers=1,
    )
    # API calls give up on a missing engine after three seconds instead of sixty.
    conf = launcher.conf("heat.conf", changed(sections, DEFAULT={"rpc_response_timeout": 3}))
    launcher.manage(conf, "db_sync", command=checkout_command("heat-manage", conf))

    api = launcher.start("heat-api", checkout_command("heat-api", conf), port)
    api.wait_ready(1)
    assert api.children() == [], "one worker runs in the heat-api process itself"
    begun = time.monotonic()
    health = httpx.get(f"{api.url}/healthcheck", timeout=3 * PING_TIMEOUT)
    took = time.monotonic() - begun
    assert (health.status_code, health.text) == (503, "DOWN"), api.describe()
    assert took < 2 * PING_TIMEOUT
    listing = httpx.get(f"{api.url}/v1/health/stacks", timeout=30.0)
    assert listing.status_code == 503, listing.text
    assert "Timed out waiting for a reply from the engine" in listing.text

    engine = launcher.start("heat-engine", module_command("ember.cmd.engine", conf))
    engine.wait_ready(1)
    wait_health(api.url, 200, timeout=30.0)
    assert httpx.get(f"{api.url}/healthcheck", timeout=10.0).text == "OK"
    listing = httpx.get(f"{api.url}/v1/health/stacks", timeout=30.0)
    assert (listing.status_code, listing.json()) == (200, {"stacks": []})

    engine.stop()
    wait_health(api.url, 503, timeout=4 * PING_TIMEOUT)
    api.stop()
    assert "heat-api listening on 127.0.0.1" in api.output()
