"""Per-key sliding-window rate limits (per IP for sign-up and login), kept in memory.

Each worker process keeps its own counters, so with N workers the effective limit is
at most N times the setting; that bound is stated in docs/configuration.md.

Keys (client addresses, account ids) are never kept as given: each is replaced by an
HMAC under a random key made when the limiter is, which never leaves the process. A
memory dump then tells nobody which addresses came by, and nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import OrderedDict, deque

from instance.errors import RateLimited


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._secret = secrets.token_bytes(32)

    def _slot(self, key: str) -> bytes:
        # 16 bytes of HMAC-SHA256: collisions are out of reach, the key itself is not kept.
        return hmac.new(self._secret, key.encode("utf-8", "replace"), hashlib.sha256).digest()[:16]

    def _recent(self, slot: bytes, ts: float) -> deque[float]:
        hits = self._hits.pop(slot, None) or deque()
        while hits and hits[0] <= ts - self.window:
            hits.popleft()
        self._hits[slot] = hits  # most recently used last
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return hits

    def _refuse_if_full(self, hits: deque[float], ts: float) -> None:
        if len(hits) >= self.limit:
            retry_after = max(1, math.ceil(hits[0] + self.window - ts))
            raise RateLimited(retry_after=retry_after)

    def hit(self, key: str, at: float | None = None) -> None:
        """Count one attempt; raises RateLimited (with Retry-After) past the limit."""
        ts = time.monotonic() if at is None else at
        hits = self._recent(self._slot(key), ts)
        self._refuse_if_full(hits, ts)
        hits.append(ts)

    def check(self, key: str, at: float | None = None) -> None:
        """Raises RateLimited if `key` is at its limit, without counting an attempt."""
        ts = time.monotonic() if at is None else at
        self._refuse_if_full(self._recent(self._slot(key), ts), ts)

    def record(self, key: str, at: float | None = None) -> None:
        """Count one attempt (a failure, say) without refusing it."""
        ts = time.monotonic() if at is None else at
        self._recent(self._slot(key), ts).append(ts)

    def forget(self, key: str) -> None:
        """Drop every attempt counted for `key` (after a success that proves who it is)."""
        self._hits.pop(self._slot(key), None)

    def keys_in_memory(self) -> list[bytes]:
        """What the limiter holds as keys (for tests: hashes, never the keys given)."""
        return list(self._hits)
