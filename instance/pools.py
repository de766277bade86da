"""Bounded thread pools for blocking work (hashing, key generation) kept off the event loop.

A pool admits at most `workers + queue` jobs; past that it refuses at once with
`Overloaded` (503 + Retry-After) rather than letting requests pile up without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from instance.errors import Overloaded

T = TypeVar("T")


class BoundedPool:
    def __init__(self, name: str, workers: int, queue: int) -> None:
        self.name = name
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self._in_flight >= self.capacity:
            raise Overloaded(retry_after=5)
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
