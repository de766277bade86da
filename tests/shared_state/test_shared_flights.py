"""Fetch locks and the key cache shared by processes through Redis (two RedisState clients
stand for two processes)."""

from __future__ import annotations

import asyncio

from instance.federation.key_cache import KeyCache
from instance.federation.single_flight import SingleFlight
from instance.redis_state import RedisState
from tests.helpers.redis_server import RedisServer

# Sharing is what these test: a loaded machine's slow answer must not fall back to memory.
SHARED = 5.0


async def _two_processes_fetch(url: str) -> tuple[int, list[str]]:
    """Process A starts a fetch and holds it; process B asks for the same key meanwhile.
    Returns how many fetches ran and what each got."""
    first, second = RedisState(url, timeout=SHARED), RedisState(url, timeout=SHARED)
    stored: dict[str, str] = {}
    calls = 0
    release = asyncio.Event()

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        stored["actor"] = "fetched"
        return "fetched"

    async def settled() -> str | None:
        return stored.get("actor")

    try:
        a = asyncio.ensure_future(SingleFlight("actor", first).run("https://x/a", fetch, settled))
        for _ in range(200):  # until A holds the lock (or its fetch has started)
            if calls:
                break
            await asyncio.sleep(0.01)
        b = asyncio.ensure_future(SingleFlight("actor", second).run("https://x/a", fetch, settled))
        await asyncio.sleep(0.1)  # B is waiting on the lock (or fetching, without Redis)
        release.set()
        return calls, list(await asyncio.gather(a, b))
    finally:
        await first.close()
        await second.close()


async def test_one_fetch_across_processes(redis: RedisServer) -> None:
    """While one process fetches, another waits for its lock and reads what it stored:
    one fetch for both."""
    calls, results = await _two_processes_fetch(redis.url)
    assert results == ["fetched", "fetched"]
    assert calls == 1


async def test_redis_down_each_process_fetches_for_itself(redis: RedisServer) -> None:
    """Without Redis the lock is this process's: both fetch, both get an answer, no error."""
    redis.stop()
    calls, results = await _two_processes_fetch(redis.url)
    assert results == ["fetched", "fetched"]
    assert calls == 2


async def test_key_cache_is_shared_and_forgotten_everywhere(redis: RedisServer) -> None:
    """A key cached by one process is read by another; storing the actor again in either
    drops it for both."""
    first, second = RedisState(redis.url, timeout=SHARED), RedisState(redis.url, timeout=SHARED)
    try:
        one, two = KeyCache(first), KeyCache(second)
        await one.put("https://x/a#main-key", "https://x/a", "PEM")
        assert await two.get("https://x/a#main-key") == ("https://x/a", "PEM")
        await two.forget(["https://x/a#main-key"])
        assert await one.get("https://x/a#main-key") is None
    finally:
        await first.close()
        await second.close()
