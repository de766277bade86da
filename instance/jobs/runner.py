"""Runs due jobs with bounded concurrency, a per-host cap, leases and retries.

A job is a row: it survives restarts and `kill -9` (its lease runs out and another
runner claims it). A slow or dead host can hold at most `per_host` slots, so it
never delays deliveries to healthy hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from activitypub.delivery import MAX_ATTEMPTS, retry_delay
from instance.db import Database
from instance.db import jobs as jobs_q
from instance.db.connection import Row
from instance.ids import now
from instance.jobs.queue import JobQueue
from instance.jobs.routing import resolve

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any], Row], Awaitable[None]]
# How many windows of due jobs one round reads at most.
MAX_LOOKS_PER_ROUND = 8


class RetryLater(Exception):
    """The job failed for now; run it again later (delay from the schedule unless given)."""

    def __init__(self, reason: str, delay: int | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class Defer(Exception):
    """Not tried at all (the host's circuit is open): run it again later, same attempt count.

    Only real attempts count towards the retry schedule; otherwise a host that is down for
    an hour would exhaust its deliveries' days of retries in minutes of waiting.
    """

    def __init__(self, reason: str, delay: int) -> None:
        super().__init__(reason)
        self.delay = delay


class GiveUp(Exception):
    """The job can never succeed (a permanent 4xx, a malformed payload)."""


class Lane(Protocol):
    """Runs every job of its `kinds` its own way (the delivery lane: in batches); the
    runner leaves those kinds to it and drives it from the same loop and wake-ups."""

    kinds: frozenset[str]
    wake: Callable[[], None]

    async def run_once(self) -> int: ...
    def tasks(self) -> list[asyncio.Task[None]]: ...
    async def flush(self) -> None: ...
    async def stop(self) -> None: ...


class JobRunner:
    """`max_attempts` counts the first try too: 1 + MAX_ATTEMPTS retries, as Mastodon does."""

    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        handlers: dict[str, JobHandler],
        *,
        concurrency: int = 16,
        per_host: int = 2,
        lease: int = 300,
        poll_interval: float = 1.0,
        max_attempts: int = MAX_ATTEMPTS + 1,
        stop_grace: float = 10.0,
        recurring: Mapping[str, int] | None = None,
        host_caps: Mapping[str, int] | None = None,
        lanes: Sequence[Lane] = (),
    ) -> None:
        self.db = db
        self.queue = queue
        self.handlers = handlers
        self.concurrency = concurrency
        self.per_host = per_host
        self.lease = lease
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.stop_grace = stop_grace
        # kind -> seconds between runs: one row of each kind is queued or running at a time,
        # so the instance runs it once per interval however many runners there are.
        self.recurring: dict[str, int] = dict(recurring or {})
        # Hosts with a cap of their own: a pseudo-host such as "media:transcode" names local
        # work that must run one at a time however many jobs of it are due.
        self.host_caps: dict[str, int] = dict(host_caps or {})
        self.name = f"{os.uname().nodename}:{os.getpid()}:{random.getrandbits(32):08x}"
        self._running: dict[int, asyncio.Task[None]] = {}
        self._host_load: Counter[str] = Counter()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self.lanes = list(lanes)
        self._lane_kinds = frozenset(kind for lane in self.lanes for kind in lane.kinds)
        # None: every kind. Set by `route` (`gapo worker --kinds`).
        self.kinds: frozenset[str] | None = None
        self._idle_lanes: list[Lane] = []
        for lane in self.lanes:
            lane.wake = self.queue.wakeup.wake_local

    def known_kinds(self) -> frozenset[str]:
        """Every kind this runner can run: its handlers' and its lanes'."""
        return frozenset(self.handlers) | self._lane_kinds

    def route(self, names: Sequence[str]) -> frozenset[str]:
        """Run only the kinds `names` select (`jobs/routing.py`), before `start`; the other
        kinds' jobs are left to other runners. Raises `UnknownJobKind` for a wrong name."""
        kinds = resolve(names, self.known_kinds())
        self.kinds = kinds
        # A lane none of whose kinds is routed here is not driven at all (only stopped).
        self._idle_lanes += [lane for lane in self.lanes if not lane.kinds & kinds]
        self.lanes = [lane for lane in self.lanes if lane.kinds & kinds]
        self.recurring = {k: v for k, v in self.recurring.items() if k in kinds}
        return kinds

    def _generic_kinds(self) -> frozenset[str] | None:
        """The kinds the generic loop runs when routed (None: all but the lanes')."""
        return None if self.kinds is None else self.kinds - self._lane_kinds

    def start(self) -> None:
        self.queue.wakeup.listen()
        self._loop_task = asyncio.create_task(self._loop(), name="job-runner")

    async def stop(self) -> None:
        """Claims nothing more; jobs in flight get `stop_grace` seconds to finish, and the
        rest are cancelled and released at once rather than left leased for `lease` seconds."""
        self._stopping = True
        self.queue.wakeup.wake_local()
        if self._loop_task is not None:
            # Let a round end on its own: cancelled between a claim and its task, the claimed
            # job would stay leased with nothing running it.
            done, _ = await asyncio.wait([self._loop_task], timeout=self.stop_grace)
            if not done:
                self._loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._loop_task
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=self.stop_grace)
        unfinished = list(self._running)
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        for job_id in unfinished:
            await jobs_q.release(self.db, job_id, self.name)
        for lane in [*self.lanes, *self._idle_lanes]:
            await lane.stop()
        self.queue.wakeup.close()

    async def schedule_recurring(self) -> None:
        """Queue each recurring kind unless a run is already queued or running (another
        runner, or an earlier start, scheduled it)."""
        for kind in self.recurring:
            await self.queue.enqueue_once(self.db, kind)

    async def _loop(self) -> None:
        wakeup = self.queue.wakeup
        try:
            await self.schedule_recurring()
        except Exception:  # a busy database: the next start or run schedules it
            log.exception("scheduling recurring jobs failed")
        while not self._stopping:
            # Cleared before the round, so a job enqueued while it runs wakes the next one.
            wakeup.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("job runner round failed")
            if not self._stopping:
                await wakeup.wait(self.poll_interval)

    def _cap(self, host: str) -> int:
        return self.host_caps.get(host, self.per_host)

    async def run_once(self) -> int:
        """Claim and start what is due and fits the limits; returns how many were started."""
        started = 0
        for lane in self.lanes:
            if self._stopping:
                break
            try:
                started += await lane.run_once()
            except Exception:  # a busy database: the lane's jobs wait, the others still run
                log.exception("job lane round failed")
        generic = self._generic_kinds()
        if generic is not None and not generic:
            return started  # routed to lane kinds only
        # A window can be filled by one host's backlog; each further look leaves out the
        # hosts that are now at their cap, so the others' jobs are reached this round.
        for _ in range(MAX_LOOKS_PER_ROUND):
            free = self.concurrency - len(self._running)
            if free <= 0 or self._stopping:
                break
            saturated = [h for h, load in self._host_load.items() if h and load >= self._cap(h)]
            window = await jobs_q.due(
                self.db,
                now(),
                limit=free * 4,
                exclude_hosts=saturated,
                kinds=generic or (),
                exclude_kinds=self._lane_kinds,
            )
            if not window:
                break
            progress = False
            for job in window:
                if self._stopping or len(self._running) >= self.concurrency:
                    break
                if job["id"] in self._running:
                    continue
                host = job["host"]
                if host and self._host_load[host] >= self._cap(host):
                    continue
                if not await jobs_q.claim(self.db, job["id"], self.name, now(), self.lease):
                    continue  # another runner took it
                self._host_load[host] += 1
                task = asyncio.create_task(self._run(job), name=f"job-{job['id']}")
                self._running[job["id"]] = task
                started += 1
                progress = True
            if not progress:
                break
        return started

    async def _run(self, job: Row) -> None:
        try:
            interval = self.recurring.get(job["kind"])
            if interval is None:
                await self._attempt(job)
            else:
                await self._run_recurring(job, interval)
        finally:
            self._host_load[job["host"]] -= 1
            self._running.pop(job["id"], None)
            # A freed slot (or host slot) may let a waiting job start now, not at the next poll.
            self.queue.wakeup.wake_local()

    async def _run_recurring(self, job: Row, interval: int) -> None:
        """A recurring job is never retried: it ends done (or dead, with its error), and its
        next run is queued in the same transaction, so exactly one is always scheduled."""
        error: str | None = None
        try:
            handler = self.handlers[job["kind"]]
            await handler(json.loads(job["payload"]), job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("recurring job %s (%s) failed", job["id"], job["kind"])
            error = repr(exc)
        async with self.db.transaction() as tx:
            await self.queue.enqueue_once(tx, job["kind"], delay=interval, other_than=job["id"])
            if error is None:
                await jobs_q.finish(tx, job["id"], now())
            else:
                await jobs_q.fail(tx, job["id"], attempts=1, error=error, now=now())

    async def _attempt(self, job: Row) -> None:
        attempts = int(job["attempts"]) + 1
        try:
            handler = self.handlers.get(job["kind"])
            if handler is None:
                raise GiveUp(f"no handler for job kind {job['kind']!r}")
            await handler(json.loads(job["payload"]), job)
        except RetryLater as exc:
            if attempts >= self.max_attempts:
                await jobs_q.fail(self.db, job["id"], attempts=attempts, error=str(exc), now=now())
            else:
                delay = exc.delay if exc.delay is not None else int(retry_delay(attempts - 1))
                await jobs_q.retry_later(
                    self.db, job["id"], attempts=attempts, run_at=now() + delay, error=str(exc)
                )
        except Defer as exc:
            await jobs_q.retry_later(
                self.db,
                job["id"],
                attempts=attempts - 1,
                run_at=now() + max(1, exc.delay),
                error=str(exc),
            )
        except GiveUp as exc:
            await jobs_q.fail(self.db, job["id"], attempts=attempts, error=str(exc), now=now())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("job %s (%s) failed", job["id"], job["kind"])
            if attempts >= self.max_attempts:
                await jobs_q.fail(self.db, job["id"], attempts=attempts, error=repr(exc), now=now())
            else:
                await jobs_q.retry_later(
                    self.db,
                    job["id"],
                    attempts=attempts,
                    run_at=now() + int(retry_delay(attempts - 1)),
                    error=repr(exc),
                )
        else:
            await jobs_q.finish(self.db, job["id"], now())

    async def run_until_idle(self, limit_seconds: float = 30.0) -> None:
        """Run every due job, and the jobs they enqueue, until nothing is due (tests, CLI)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_seconds
        while loop.time() < deadline:
            started = await self.run_once()
            lane_tasks = [task for lane in self.lanes for task in lane.tasks()]
            if self._running or lane_tasks:
                await asyncio.wait(
                    [*self._running.values(), *lane_tasks], return_when=asyncio.FIRST_COMPLETED
                )
                continue
            for lane in self.lanes:
                await lane.flush()  # outcomes batched for writing end their jobs now
            if started == 0 and not await jobs_q.due(
                self.db, now(), limit=1, kinds=self.kinds or ()
            ):
                return
        raise TimeoutError("jobs still running after the timeout")
