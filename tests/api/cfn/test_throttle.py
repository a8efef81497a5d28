"""The per-key token bucket behind ``Throttling``."""

from __future__ import annotations

import pytest

from ember.api.cfn import faults
from ember.api.cfn.throttle import MAX_KEYS, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    throttle = Throttle(rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        throttle.admit("k")
    with pytest.raises(faults.Throttling):
        throttle.admit("k")
    throttle.admit("other")  # each key has its own bucket
    clock.now += 0.5  # one more token at 2 a second
    throttle.admit("k")
    with pytest.raises(faults.Throttling):
        throttle.admit("k")


def test_no_rate_is_no_limit() -> None:
    throttle = Throttle(rate=0.0, burst=1)
    for _ in range(1000):
        throttle.admit("k")


def test_the_keys_tracked_are_bounded() -> None:
    throttle = Throttle(rate=1.0, burst=1, clock=Clock())
    for i in range(MAX_KEYS + 10):
        throttle.admit(f"k{i}")
    assert len(throttle._buckets) == MAX_KEYS
