"""This process's request counters: answers by status and a latency histogram.

Kept in memory and per process: with `gapo serve --workers N` each worker counts what it
answered, and Prometheus adds the series up (docs/scale-out.md). Nothing about a request is
kept but its status and how long it took.
"""

from __future__ import annotations

from bisect import bisect_left

from instance.web.prometheus_text import Exposition

# Seconds; Prometheus' default buckets, which span a cached document to a slow sign-up.
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    def __init__(self) -> None:
        self.by_status: dict[int, int] = {}
        self._buckets = [0] * len(BOUNDS)  # per bucket, not cumulative
        self._sum = 0.0
        self._count = 0

    def observe(self, status: int, seconds: float) -> None:
        """One answered request."""
        self.by_status[status] = self.by_status.get(status, 0) + 1
        index = bisect_left(BOUNDS, seconds)
        if index < len(BOUNDS):
            self._buckets[index] += 1
        self._sum += seconds
        self._count += 1

    def write(self, out: Exposition) -> None:
        out.family(
            "gapo_http_requests_total",
            "counter",
            "HTTP requests answered by this process, by status (not /health or /metrics).",
            (({"status": str(status)}, n) for status, n in sorted(self.by_status.items())),
        )
        cumulative, running = [], 0
        for n in self._buckets:
            running += n
            cumulative.append(running)
        out.histogram(
            "gapo_http_request_duration_seconds",
            "Time from a request's arrival in this process to its last body byte sent.",
            BOUNDS,
            cumulative,
            self._sum,
            self._count,
        )
