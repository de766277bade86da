"""What an operator's tools ask of a process: can it serve (`/health`), and the figures of the
queue and of federation for `/metrics` (instance/web/ops_endpoints.py renders them).

The figures come from the database, so every process shows the same ones whichever the load
balancer or Prometheus reaches (a `gapo worker` serves no HTTP, yet its deliveries count).
They are read at most once per `FIGURES_SECONDS` per process: a scrape every few seconds
from several Prometheus servers costs one set of queries.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from activitypub.delivery import HostHealth
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import stats as stats_q
from instance.ids import now

HEALTH_TIMEOUT = 2.0
FIGURES_SECONDS = 10.0
# Hosts whose health is read for the failing-hosts gauge: those heard from last.
HOSTS_READ = 10_000
DELIVER = "deliver"  # instance/outbound/outbox.py's kind (outbound is a room below admin's)


@dataclass(frozen=True)
class Figures:
    """The database's side of `/metrics`."""

    # (kind, state) → jobs waiting ('queued') or held by a runner ('running').
    queue: dict[tuple[str, str], int] = field(default_factory=dict)
    # outcome → deliveries in the job table (done, dead, retrying, queued, running).
    deliveries: dict[str, int] = field(default_factory=dict)
    # breaker state (open, half-open, unavailable, closed with failures) → hosts.
    failing_hosts: dict[str, int] = field(default_factory=dict)


class Operations:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._figures: tuple[float, Figures] | None = None
        self._lock = asyncio.Lock()

    async def ready(self) -> bool:
        """Whether the database answers a read within HEALTH_TIMEOUT seconds."""
        try:
            return await asyncio.wait_for(stats_q.ping(self.db), HEALTH_TIMEOUT)
        # Whatever the backend raises when it cannot answer: the answer is "not ready".
        except Exception:
            return False

    async def figures(self) -> Figures:
        """The queue, delivery and host figures, at most FIGURES_SECONDS old."""
        async with self._lock:
            cached = self._figures
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            figures = await self._read()
            self._figures = (time.monotonic() + FIGURES_SECONDS, figures)
            return figures

    async def _read(self) -> Figures:
        queue = {
            (row["kind"], row["state"]): int(row["n"])
            for row in await stats_q.pending_jobs_by_kind(self.db)
        }
        deliveries = await stats_q.jobs_of_kind_by_outcome(self.db, DELIVER)
        ts = float(now())
        failing: dict[str, int] = {}
        for row in await hosts_q.health_list(self.db, limit=HOSTS_READ):
            health = HostHealth.from_dict(json.loads(row["health_json"] or "{}"))
            state = "unavailable" if health.unavailable(ts) else str(health.state(ts))
            if state != "closed" or health.consecutive_failures > 0:
                failing[state] = failing.get(state, 0) + 1
        return Figures(queue=queue, deliveries=deliveries, failing_hosts=failing)
