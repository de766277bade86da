"""Admission by estimated wait: take a job only if it would finish within a bound.

A pool that admits up to a fixed number of jobs lets each of them wait as long as that
queue takes to drain: with 66 places and a sign-up costing 65 ms of CPU on 2 cores, that was
up to 10 s (docs/overload.md), and a request refused at the end of such a wait had been
kept for nothing. Here a pool keeps a moving estimate of how long one of its jobs runs (a
job's own run time on its thread, measured, not its time in the queue) and admits a new job
only when the jobs ahead of it and the job itself would be done within `max_wait`; the rest
are told at once, with a Retry-After of the time the queue ahead needs to drain.

The estimate follows the machine: when other work takes the cores (the event loop under a
surge, other processes) each hash takes longer and fewer are admitted.

Per process on purpose, with or without Redis: the resource admitted to is this machine's
cores, so a count shared by all machines would refuse sign-ups on an idle machine because
another is busy (docs/scale-out.md, "What stays in each process").
"""

from __future__ import annotations

import math

# Weight of the newest measurement. With 0.2 the estimate follows a change of speed within
# about 10 jobs (a tenth of a second of hashing at 100 a second) while one job slowed by a
# descheduled thread moves it by a fifth of the difference only.
WEIGHT = 0.2


class JobTime:
    """A moving (exponentially weighted) average of how long one job runs, in seconds."""

    def __init__(self, initial: float, weight: float = WEIGHT) -> None:
        if initial <= 0:
            raise ValueError("the first estimate must be positive")
        self._seconds = initial
        self._weight = weight

    @property
    def seconds(self) -> float:
        return self._seconds

    def observe(self, seconds: float) -> None:
        """Folds in the run time of one finished job."""
        self._seconds += self._weight * (max(seconds, 0.0) - self._seconds)

    def reset(self, seconds: float) -> None:
        """Replaces the estimate (a calibration at start-up)."""
        if seconds > 0:
            self._seconds = seconds


def expected_wait(in_flight: int, workers: int, job_seconds: float) -> float:
    """Seconds until a job admitted now would be done, `in_flight` jobs being ahead of it.

    The jobs ahead and this one share `workers` threads: (in_flight + 1) / workers jobs'
    time each. (A thread is a core's worth only while the cores are free; the measured job
    time already includes whatever slowed the threads down.)
    """
    return (in_flight + 1) * job_seconds / workers


def refusal(in_flight: int, workers: int, job_seconds: float, max_wait: float) -> int | None:
    """None to admit a job now; else the Retry-After (whole seconds, at least 1) to answer.

    A job that finds a thread free is always admitted: refusing it would shorten nobody's
    wait, and it keeps the estimate learning (a pool that refused everything after a few
    slow jobs would otherwise never measure a fast one again). Retry-After is the time the
    jobs already admitted need to finish: a client that waits that long finds the queue
    drained by then, unless others arrived meanwhile.
    """
    if in_flight < workers or expected_wait(in_flight, workers, job_seconds) <= max_wait:
        return None
    return max(1, math.ceil(in_flight * job_seconds / workers))
