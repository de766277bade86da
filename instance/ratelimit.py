"""Per-key sliding-window rate limits (per IP for sign-up and login), kept in memory.

Each worker process keeps its own counters, so with N workers the effective limit is
at most N times the setting; that bound is stated in docs/configuration.md.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

from instance.errors import RateLimited


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str, at: float | None = None) -> None:
        """Count one attempt; raises RateLimited (with Retry-After) past the limit."""
        ts = time.monotonic() if at is None else at
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= ts - self.window:
            hits.popleft()
        self._hits[key] = hits  # most recently used last
        if len(hits) >= self.limit:
            retry_after = max(1, math.ceil(hits[0] + self.window - ts))
            raise RateLimited(retry_after=retry_after)
        hits.append(ts)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
