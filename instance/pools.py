"""Bounded thread pools for blocking work (hashing, key generation) kept off the event loop.

A pool admits at most `workers + queue` jobs; past that it refuses at once with
`Overloaded` (503 + Retry-After) rather than letting requests pile up without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from instance.errors import Overloaded

T = TypeVar("T")


class Slot:
    """A place held in a BoundedPool; its job runs on the pool's threads."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)


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
        with self.slot() as place:
            return await place.run(fn, *args)

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Hold one place in the pool now; run the job on it later.

        A request that needs several pools (a sign-up: a hash, then a key pair) takes all
        its places before starting any work, so it is refused at once, not after a hash
        whose result it would throw away.
        """
        if self._in_flight >= self.capacity:
            raise Overloaded(retry_after=5)
        self._in_flight += 1
        try:
            yield Slot(self._executor)
        finally:
            self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
