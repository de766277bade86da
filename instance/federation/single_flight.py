"""One fetch in flight per key: concurrent callers asking for the same thing share it.

A burst of first contact (200 activities from 20 new actors at once) would otherwise
fetch each actor and key once per activity (184 fetches were counted). Per process;
the shared task runs to its end even if the caller that started it is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    def running(self, key: str) -> bool:
        return key in self._running

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`'s result, shared with every caller that asks for `key` meanwhile."""
        task = self._running.get(key)
        if task is None:

            async def wrapped() -> T:
                return await work()

            task = asyncio.ensure_future(wrapped())
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited any more is not logged
