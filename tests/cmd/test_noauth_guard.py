"""noauth trusts every caller, so it is only served on loopback unless explicitly allowed."""

from __future__ import annotations

import pytest

from ember.api.rest.server import check_noauth, is_loopback
from ember.common.settings import Listener


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("example.org", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_noauth_on_a_public_address_is_refused() -> None:
    with pytest.raises(SystemExit, match=r"refusing to serve the noauth flavor on 0\.0\.0\.0"):
        check_noauth("noauth", Listener("0.0.0.0", 8004), False, "heat-all")


def test_noauth_on_a_public_address_when_allowed() -> None:
    check_noauth("noauth", Listener("0.0.0.0", 8004), True, "heat-all")


@pytest.mark.parametrize("flavor", ["keystone", None])
def test_keystone_flavor_may_listen_anywhere(flavor: str | None) -> None:
    check_noauth(flavor, Listener("0.0.0.0", 8004), False, "heat-all")
