"""Per-key sliding-window rate limits (per address for sign-up and login, per account).

The counters live in a `SharedState` (instance/shared_state.py): this process's memory by
default, so with N worker processes the effective limit is at most N times the setting
(docs/configuration.md); Redis when `GAPO_REDIS_URL` is set, so the limit holds across every
process on every machine (docs/scale-out.md).

Keys (client addresses, account ids) are never kept as given: each is replaced by an HMAC.
In memory the HMAC key is random, made when the limiter is, and never leaves the process.
With Redis every process must file an address under the same hash, so the key is derived
from the instance secret (the data dir's `secret_key`, which Redis never sees): a dump of
Redis then tells nobody which addresses came by, not even by trying every IPv4 address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets

from instance.errors import RateLimited
from instance.shared_state import MemoryState, SharedState


def limiter_secret(instance_secret: str) -> bytes:
    """The HMAC key every process of the instance files addresses under (with Redis)."""
    return hmac.new(instance_secret.encode(), b"gapo rate limits", hashlib.sha256).digest()


class RateLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        max_keys: int = 100_000,
        *,
        name: str = "limit",
        state: SharedState | None = None,
        secret: bytes | None = None,
    ) -> None:
        """`name` keeps this limiter's counters apart from the others' in a shared state."""
        self.limit = limit
        self.window = window_seconds
        self.name = name
        self.state: SharedState = state if state is not None else MemoryState(max_keys)
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def _slot(self, key: str) -> str:
        # 16 bytes of HMAC-SHA256: collisions are out of reach, the key itself is not kept.
        mac = hmac.new(self._secret, key.encode("utf-8", "replace"), hashlib.sha256)
        return f"rl:{self.name}:{mac.hexdigest()[:32]}"

    def _refusal(self, count: int, oldest: float | None, ts: float) -> RateLimited | None:
        if count < self.limit:
            return None
        first = ts if oldest is None else oldest
        return RateLimited(retry_after=max(1, math.ceil(first + self.window - ts)))

    async def hit(self, key: str, at: float | None = None) -> None:
        """Count one attempt; raises RateLimited (with Retry-After) past the limit."""
        ts = self.state.now() if at is None else at
        count, oldest = await self.state.window_add(self._slot(key), self.window, ts, self.limit)
        refused = self._refusal(count, oldest, ts)
        if refused is not None:
            raise refused

    async def check(self, key: str, at: float | None = None) -> None:
        """Raises RateLimited if `key` is at its limit, without counting an attempt."""
        ts = self.state.now() if at is None else at
        count, oldest = await self.state.window_count(self._slot(key), self.window, ts)
        refused = self._refusal(count, oldest, ts)
        if refused is not None:
            raise refused

    async def record(self, key: str, at: float | None = None) -> None:
        """Count one attempt (a failure, say) without refusing it."""
        ts = self.state.now() if at is None else at
        await self.state.window_add(self._slot(key), self.window, ts, None)

    async def forget(self, key: str) -> None:
        """Drop every attempt counted for `key` (after a success that proves who it is)."""
        await self.state.window_clear(self._slot(key))

    def keys_in_memory(self) -> list[str]:
        """What an in-memory limiter holds as keys (for tests: hashes, never the keys given)."""
        return self.state.window_keys() if isinstance(self.state, MemoryState) else []
