"""What processes may share: sliding-window counters, short-lived values and fetch locks.

One interface, two homes. `MemoryState` keeps everything in this process (the single-machine
default, exactly what the limiters and caches always did); `RedisState`
(instance/redis_state.py) keeps it in Redis when `GAPO_REDIS_URL` is set, so a limit holds
across every web process on every machine. The composition root (instance/services.py)
picks one; the limiters (instance/ratelimit.py), the key cache and the fetch locks
(instance/federation/) only see this protocol.

Nothing here must survive: losing it forgets counters and cached keys, never a post. Keys
given to it are already keyed hashes or public ids (a remote key's id), never an address.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from typing import Protocol


class SharedState(Protocol):
    """Counters, values and locks keyed by strings, each with a time to live."""

    def now(self) -> float:
        """The clock the windows run on (wall time where machines share it)."""
        ...

    async def window_add(
        self, key: str, window: float, at: float, limit: int | None
    ) -> tuple[int, float | None]:
        """Count one hit at `at` unless `limit` hits are already in the last `window`
        seconds (no limit: always counted). Returns the hits in the window before this one
        and the oldest of them (None when there are none)."""
        ...

    async def window_count(self, key: str, window: float, at: float) -> tuple[int, float | None]:
        """As `window_add` without counting: the hits in the window and the oldest."""
        ...

    async def window_clear(self, key: str) -> None:
        """Forget every hit counted under `key`."""
        ...

    async def get(self, key: str) -> str | None:
        """A value `put` less than its ttl ago, else None."""
        ...

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Keep `value` under `key` for `ttl` seconds."""
        ...

    async def delete(self, *keys: str) -> None:
        """Drop values (absent ones are ignored)."""
        ...

    async def lock(self, key: str, ttl: float) -> str | None:
        """A token if the lock was free and is now held (for at most `ttl` seconds), None if
        another process holds it."""
        ...

    async def locked(self, key: str) -> bool:
        """Whether some process holds the lock."""
        ...

    async def unlock(self, key: str, token: str) -> None:
        """Release a lock taken with `token` (a lock since expired and retaken is left)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryState:
    """SharedState in this process only: bounded, least recently used keys dropped first."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()
        self._values: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def now(self) -> float:
        # Monotonic: one process needs no agreement with other machines' clocks.
        return time.monotonic()

    def _recent(self, key: str, window: float, at: float) -> deque[float]:
        hits = self._windows.pop(key, None) or deque()
        while hits and hits[0] <= at - window:
            hits.popleft()
        self._windows[key] = hits  # most recently used last
        while len(self._windows) > self.max_keys:
            self._windows.popitem(last=False)
        return hits

    async def window_add(
        self, key: str, window: float, at: float, limit: int | None
    ) -> tuple[int, float | None]:
        hits = self._recent(key, window, at)
        found = len(hits), (hits[0] if hits else None)
        if limit is None or found[0] < limit:
            hits.append(at)
        return found

    async def window_count(self, key: str, window: float, at: float) -> tuple[int, float | None]:
        hits = self._recent(key, window, at)
        return len(hits), (hits[0] if hits else None)

    async def window_clear(self, key: str) -> None:
        self._windows.pop(key, None)

    def window_keys(self) -> list[str]:
        """The keys counters are kept under (for tests: hashes, never the keys given)."""
        return list(self._windows)

    async def get(self, key: str) -> str | None:
        found = self._values.get(key)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            del self._values[key]
            return None
        return found[0]

    async def put(self, key: str, value: str, ttl: float) -> None:
        self._values.pop(key, None)
        self._values[key] = (value, time.monotonic() + ttl)
        while len(self._values) > self.max_keys:
            self._values.popitem(last=False)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._values.pop(key, None)

    async def lock(self, key: str, ttl: float) -> str | None:
        # One process: its SingleFlight already shares a fetch between its callers, so a
        # lock is never held by "another process".
        return secrets.token_hex(8)

    async def locked(self, key: str) -> bool:
        return False

    async def unlock(self, key: str, token: str) -> None:
        return None

    async def close(self) -> None:
        return None
