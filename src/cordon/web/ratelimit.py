"""A sliding-window request brake per client address, kept in the server process.

Used where every request would otherwise cost a database write to count (residents' code
lookups): the count lives in memory, so a burst is refused before any query runs. Each
server process keeps its own window; behind several workers the limit applies per worker.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindow:
    def __init__(self, *, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count one request; None when allowed, else the seconds until the next is."""
        at = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= at - self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.seconds - at, 0.001)
            hits.append(at)
            if len(self._hits) > 100_000:  # forget idle addresses so memory stays bounded
                self._hits = {
                    k: v for k, v in self._hits.items() if v and v[-1] > at - self.seconds
                }
            return None
