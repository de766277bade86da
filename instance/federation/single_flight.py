"""One fetch in flight per key: concurrent callers asking for the same thing share it.

A burst of first contact (200 activities from 20 new actors at once) would otherwise
fetch each actor and key once per activity (184 fetches were counted). In one process the
callers share one task, which runs to its end even if the caller that started it is
cancelled. Given a `SharedState` on Redis, processes share too: the process that takes the
flight's lock fetches; the others wait for the lock to go, then read what it stored
(`settled`), and fetch only if that found nothing (its fetch failed, or took past the lock's
TTL). Redis down: the lock is taken in memory, so each process fetches for itself, as
without Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from instance.shared_state import SharedState

T = TypeVar("T")

# Longer than a signed fetch is allowed to take (activitypub/fetch.py's timeouts), so the
# lock outlives a slow fetch; a dead holder frees it after this.
LOCK_SECONDS = 15.0
POLL_SECONDS = 0.05


class SingleFlight(Generic[T]):
    def __init__(self, name: str = "flight", shared: SharedState | None = None) -> None:
        """`name` keeps this flight's locks apart from others' in a shared state."""
        self.name = name
        self.shared = shared
        self._running: dict[str, asyncio.Task[T]] = {}

    def running(self, key: str) -> bool:
        return key in self._running

    async def run(
        self,
        key: str,
        work: Callable[[], Awaitable[T]],
        settled: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """`work()`'s result, shared with every caller that asks for `key` meanwhile; with a
        shared state, `settled()` reads what another process's `work()` left (None: nothing)."""
        task = self._running.get(key)
        if task is None:

            async def wrapped() -> T:
                if self.shared is None:
                    return await work()
                return await self._across_processes(self.shared, key, work, settled)

            task = asyncio.ensure_future(wrapped())
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    async def _across_processes(
        self,
        shared: SharedState,
        key: str,
        work: Callable[[], Awaitable[T]],
        settled: Callable[[], Awaitable[T | None]] | None,
    ) -> T:
        # The key is an id or URL: hashed to bound its length, not to hide it.
        lock = f"flight:{self.name}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
        token = await shared.lock(lock, LOCK_SECONDS)
        if token is not None:
            try:
                return await work()
            finally:
                await shared.unlock(lock, token)
        # Polled: the holder is another process, which no asyncio.Event of ours can hear.
        for _ in range(int(LOCK_SECONDS / POLL_SECONDS)):
            if not await shared.locked(lock):
                break
            await asyncio.sleep(POLL_SECONDS)
        if settled is not None:
            found = await settled()
            if found is not None:
                return found
        return await work()

    def _finished(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited any more is not logged
