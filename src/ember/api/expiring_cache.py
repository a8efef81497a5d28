"""What an API looked up through the engine, kept a while: each entry until its own expiry,
at most ``max_entries`` at once, the least recently used going first."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> tuple[bool, V | None]:
        """``(True, value)`` for an entry not yet expired, else ``(False, None)``."""
        held = self._entries.get(key)
        if held is None or held[0] <= self.clock():
            return False, None
        self._entries.move_to_end(key)
        return True, held[1]

    def put(self, key: str, value: V, seconds: float) -> None:
        """Keep ``value`` for ``seconds`` (none: forget ``key``)."""
        if seconds <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self.clock() + seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
