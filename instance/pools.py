"""Bounded thread pools for blocking work (hashing, key generation) kept off the event loop.

A pool admits at most `workers + queue` jobs; past that it refuses at once with
`Overloaded` (503 + Retry-After) rather than letting requests pile up without bound. A pool
given `max_wait` also refuses a job that, by its moving estimate of a job's run time, would
not be done within that many seconds (instance/admission.py): the password pool sheds a
sign-up or login surge at once instead of queueing requests for seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from instance.admission import JobTime, expected_wait, refusal
from instance.errors import Overloaded

T = TypeVar("T")

# Retry-After of a pool that has no wait bound and is full (the historical answer).
FULL_RETRY_AFTER = 5


def _timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    """fn(*args) and its run time on this thread: the queue wait is not part of a job's cost."""
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


class Slot:
    """A place held in a BoundedPool; its job runs on the pool's threads."""

    def __init__(self, pool: BoundedPool) -> None:
        self._pool = pool
        self._held = True

    def release(self) -> None:
        """Gives the place back (once; later calls do nothing)."""
        if self._held:
            self._held = False
            self._pool._in_flight -= 1

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        result, seconds = await loop.run_in_executor(self._pool.executor, _timed, fn, *args)
        self._pool.job_time.observe(seconds)
        return result


class BoundedPool:
    def __init__(
        self,
        name: str,
        workers: int,
        queue: int,
        *,
        max_wait: float | None = None,
        job_seconds: float = 0.05,
    ) -> None:
        """`job_seconds` is the first estimate of one job's run time, until jobs are timed."""
        self.name = name
        self.workers = workers
        self.capacity = workers + queue
        self.max_wait = max_wait
        self.job_time = JobTime(job_seconds)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._in_flight = 0
        # The place the current request holds (`for_request`), seen by `slot()`.
        self._held: ContextVar[Slot | None] = ContextVar(f"{name}-place", default=None)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def expected_wait(self) -> float:
        """Seconds a job admitted now would take to be done, by the current estimate."""
        return expected_wait(self._in_flight, self.workers, self.job_time.seconds)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        with self.slot() as place:
            return await place.run(fn, *args)

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Hold one place in the pool now; run the job on it later.

        A request takes its place before its other work (database reads, a strength
        estimate), so it is refused at once, not after work whose result it would throw
        away. Refused: `Overloaded` with a Retry-After from the estimate. Inside
        `for_request`, the request's place is used (no second one is taken), and it is given
        back when this block ends: the rest of the request (its write transaction, the
        answer) is not hashing, and the requests behind it need not wait for it.
        """
        held = self._held.get()
        if held is not None:
            try:
                yield held
            finally:
                held.release()
            return
        with self._place() as place:
            yield place

    @contextmanager
    def for_request(self) -> Iterator[Slot]:
        """A place held for all of one request, before it is parsed (HTTP middleware).

        Taken before the request is read, so the decision counts every request already
        admitted, not only those that reached their hash: otherwise 200 requests arriving
        together all pass a look at a pool that has not seen any of them yet. Code running
        for the request (its task and the tasks it starts) gets this place from `slot()`.
        """
        with self._place() as place:
            token = self._held.set(place)
            try:
                yield place
            finally:
                self._held.reset(token)

    @contextmanager
    def _place(self) -> Iterator[Slot]:
        self._admit()
        self._in_flight += 1
        place = Slot(self)
        try:
            yield place
        finally:
            place.release()

    def refusal_now(self) -> int | None:
        """None if a job would be admitted now; else the Retry-After it would be refused with."""
        estimate = self.job_time.seconds
        if self._in_flight >= self.capacity:
            if self.max_wait is None:
                return FULL_RETRY_AFTER
            return refusal(self._in_flight, self.workers, estimate, 0.0)
        if self.max_wait is None:
            return None
        return refusal(self._in_flight, self.workers, estimate, self.max_wait)

    def _admit(self) -> None:
        wait = self.refusal_now()
        if wait is not None:
            raise Overloaded(retry_after=wait)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
