"""SharedState in Redis (`GAPO_REDIS_URL`): limits, cached keys and fetch locks for every process.

A sliding window is a sorted set of hit times with a TTL of one window, counted and added to
by one Lua script so two processes cannot both take the last place. Values and locks are
plain keys with a TTL (`SET … PX`, `SET … NX PX`). Every key starts with `gapo:`; what is
after it is a keyed hash or a public id, never a client address (docs/privacy.md).

When Redis cannot be reached the limits fail *open to this process*: the call is answered
from a `MemoryState` of this process, as if there were no Redis, and Redis is tried again
after `RETRY_AFTER_FAILURE` seconds. A request is never refused, delayed past the short
socket timeouts or answered 500 because Redis is down; the limits then hold per process, as
on a single machine (docs/scale-out.md says why open rather than closed).
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from instance.shared_state import MemoryState

log = logging.getLogger(__name__)

T = TypeVar("T")

PREFIX = "gapo:"
# Short: a limit is checked inside a request, and a dead Redis must not hold it up.
SOCKET_TIMEOUT = 0.5
RETRY_AFTER_FAILURE = 5.0

# KEYS[1]: the window. ARGV: now, window (s), limit (-1: none), member, add (1/0).
# Returns {hits before this one, oldest hit as a string or ""}.
_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if ARGV[5] == '1' and (limit < 0 or n < limit) then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
end
return {n, oldest[2] or ''}
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisState:
    """SharedState on one Redis server, falling back to this process's memory when it is down."""

    def __init__(
        self, url: str, *, fallback: MemoryState | None = None, timeout: float = SOCKET_TIMEOUT
    ) -> None:
        self.client: Any = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # No retries: the fallback answers at once, and Redis is tried again later.
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        self.fallback = fallback or MemoryState()
        self._window = self.client.register_script(_WINDOW)
        self._unlock = self.client.register_script(_UNLOCK)
        self._down_until = 0.0
        self.failures = 0  # calls answered by the fallback (a metric, and for tests)

    @property
    def available(self) -> bool:
        """False while Redis is being left alone after a failure."""
        return time.monotonic() >= self._down_until

    async def _call(
        self, redis: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        if not self.available:
            self.failures += 1
            return await local()
        try:
            return await redis()
        except (RedisError, OSError) as exc:
            self.failures += 1
            self._down_until = time.monotonic() + RETRY_AFTER_FAILURE
            log.warning("redis unavailable, limits and caches held in this process: %s", exc)
            return await local()

    def now(self) -> float:
        # Wall time: the windows are shared by machines, whose monotonic clocks differ.
        return time.time()

    async def window_add(
        self, key: str, window: float, at: float, limit: int | None
    ) -> tuple[int, float | None]:
        async def remote() -> tuple[int, float | None]:
            member = f"{at!r}:{secrets.token_hex(4)}"
            args = [at, window, -1 if limit is None else limit, member, 1]
            return _window_result(await self._window(keys=[PREFIX + key], args=args))

        return await self._call(remote, lambda: self.fallback.window_add(key, window, at, limit))

    async def window_count(self, key: str, window: float, at: float) -> tuple[int, float | None]:
        async def remote() -> tuple[int, float | None]:
            args = [at, window, -1, "", 0]
            return _window_result(await self._window(keys=[PREFIX + key], args=args))

        return await self._call(remote, lambda: self.fallback.window_count(key, window, at))

    async def window_clear(self, key: str) -> None:
        async def remote() -> None:
            await self.client.delete(PREFIX + key)

        await self._call(remote, lambda: self.fallback.window_clear(key))

    async def get(self, key: str) -> str | None:
        async def remote() -> str | None:
            value = await self.client.get(PREFIX + key)
            return None if value is None else str(value)

        return await self._call(remote, lambda: self.fallback.get(key))

    async def put(self, key: str, value: str, ttl: float) -> None:
        async def remote() -> None:
            await self.client.set(PREFIX + key, value, px=_ms(ttl))

        await self._call(remote, lambda: self.fallback.put(key, value, ttl))

    async def delete(self, *keys: str) -> None:
        if not keys:
            return

        async def remote() -> None:
            await self.client.delete(*(PREFIX + key for key in keys))

        # Also here: a value cached while Redis was down must not outlive a change.
        await self.fallback.delete(*keys)
        await self._call(remote, lambda: self.fallback.delete(*keys))

    async def lock(self, key: str, ttl: float) -> str | None:
        token = secrets.token_hex(8)

        async def remote() -> str | None:
            taken = await self.client.set(PREFIX + key, token, nx=True, px=_ms(ttl))
            return token if taken else None

        return await self._call(remote, lambda: self.fallback.lock(key, ttl))

    async def locked(self, key: str) -> bool:
        async def remote() -> bool:
            return bool(await self.client.exists(PREFIX + key))

        return await self._call(remote, lambda: self.fallback.locked(key))

    async def unlock(self, key: str, token: str) -> None:
        async def remote() -> None:
            await self._unlock(keys=[PREFIX + key], args=[token])

        await self._call(remote, lambda: self.fallback.unlock(key, token))

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.client.aclose()


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _window_result(reply: Any) -> tuple[int, float | None]:
    count, oldest = reply
    return int(count), (float(oldest) if oldest not in ("", None) else None)
