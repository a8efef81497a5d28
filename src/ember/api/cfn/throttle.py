"""How fast one key pair may call: a token bucket per access key, refilled at
``[heat_api_cfn] max_requests_per_second`` and holding ``max_request_burst`` requests.

A request over the rate is answered ``Throttling`` (400), which the AWS SDKs retry with
back-off. The buckets live in each API process, so behind a balancer a key's rate is the
sum over the processes it reaches. At most ``MAX_KEYS`` keys are tracked; the least
recently seen is forgotten first (it starts again with a full bucket).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from ember.api.cfn import faults

MAX_KEYS = 4096


class Throttle:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        # access key -> (tokens left, when counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def admit(self, access: str) -> None:
        """Count one request of ``access``; raise ``Throttling`` when it is over the rate."""
        if self.rate <= 0:
            return
        now = self.clock()
        tokens, then = self._buckets.pop(access, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens < 1.0:
            self._buckets[access] = (tokens, now)
            raise faults.Throttling("Rate exceeded")
        self._buckets[access] = (tokens - 1.0, now)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
