"""The backend fixtures themselves: unreachable servers skip locally and fail under CI."""

from __future__ import annotations

import pytest

from tests import backends
from tests.backends import open_scratch, unavailable


def test_unreachable_server_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="down"):
        unavailable("server down")


def test_unreachable_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="down"):
        unavailable("server down")


def test_a_closed_port_counts_as_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setitem(backends.SERVER_URLS, "mysql", "mysql+pymysql://root@127.0.0.1:1/")
    with pytest.raises(pytest.fail.Exception, match="unreachable"):
        open_scratch("mysql")
