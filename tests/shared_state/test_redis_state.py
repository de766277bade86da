"""RedisState on a real redis-server: one window shared by clients, TTLs, locks, values."""

from __future__ import annotations

import asyncio

from instance.redis_state import PREFIX, RedisState
from tests.helpers.redis_server import RedisServer

# Sharing is what these test: a loaded machine's slow answer must not fall back to memory.
SHARED = 5.0


async def test_a_window_admits_exactly_its_limit_across_clients(redis: RedisServer) -> None:
    """Two clients (two processes' worth) adding at once to one window: exactly `limit`
    hits are counted, never one more, and the window key expires after one window."""
    first, second = RedisState(redis.url, timeout=SHARED), RedisState(redis.url, timeout=SHARED)
    try:
        at = first.now()
        results = await asyncio.gather(
            *(state.window_add("w", 60, at, 10) for state in [first, second] * 25)
        )
        admitted = [count for count, _ in results if count < 10]
        assert len(admitted) == 10
        assert (await second.window_count("w", 60, at))[0] == 10
        ttl = await first.client.pttl(PREFIX + "w")
        assert 0 < ttl <= 60_000
        assert first.failures == second.failures == 0
    finally:
        await first.close()
        await second.close()


async def test_locks_are_exclusive_and_expire(redis: RedisServer) -> None:
    """A lock held by one client is refused to another, survives a wrong token's unlock,
    is released by its own token, and carries a TTL so a dead holder frees it."""
    first, second = RedisState(redis.url, timeout=SHARED), RedisState(redis.url, timeout=SHARED)
    try:
        token = await first.lock("fetch:x", 10)
        assert token is not None
        assert await second.lock("fetch:x", 10) is None
        assert await second.locked("fetch:x")
        await second.unlock("fetch:x", "not-the-token")
        assert await second.locked("fetch:x")
        assert 0 < await first.client.pttl(PREFIX + "fetch:x") <= 10_000
        await first.unlock("fetch:x", token)
        assert not await second.locked("fetch:x")
        assert await second.lock("fetch:x", 10) is not None
    finally:
        await first.close()
        await second.close()


async def test_values_expire_and_are_seen_by_every_client(redis: RedisServer) -> None:
    """A value put by one client is read by another until deleted; it has a TTL."""
    first, second = RedisState(redis.url, timeout=SHARED), RedisState(redis.url, timeout=SHARED)
    try:
        await first.put("key:a", "pem", 30)
        assert await second.get("key:a") == "pem"
        assert 0 < await first.client.pttl(PREFIX + "key:a") <= 30_000
        await second.delete("key:a")
        assert await first.get("key:a") is None
    finally:
        await first.close()
        await second.close()


async def test_redis_down_answers_from_memory_then_comes_back(
    redis: RedisServer, monkeypatch
) -> None:
    """With the server stopped every call is answered from this process's memory, without
    an exception; once it runs again (and the back-off has passed) Redis is used again."""
    import instance.redis_state as module

    monkeypatch.setattr(module, "RETRY_AFTER_FAILURE", 0.0)
    state = RedisState(redis.url)
    try:
        await state.window_add("w", 60, state.now(), 5)
        redis.stop()
        assert await state.window_add("w", 60, state.now(), 5) == (0, None)  # memory: empty
        assert await state.lock("l", 5) is not None
        assert await state.get("v") is None
        assert state.failures >= 3
        redis.start()
        count, _ = await state.window_add("w", 60, state.now(), 5)
        assert count == 0  # a new server: Redis holds nothing that must survive
        assert await state.client.exists(PREFIX + "w")
    finally:
        await state.close()
