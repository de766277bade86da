"""The admin dashboard: sign-ups and posts over the last 30 days, active people, the job
queue's depth by kind, failing hosts and the disk used by media files."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from instance.admin.charts import Chart, bar_chart
from instance.admin.federation import FederationAdmin, HostHealthView
from instance.admin.moderation import Staff, require
from instance.db import Database
from instance.db import jobs as jobs_q
from instance.db import stats as stats_q
from instance.db.rows import DayCountRow
from instance.ids import first_id_at, now
from instance.media.storage import StorageUnavailable

DAYS = 30
# Walking the media folder (or listing the bucket) reads every file's size: once every few minutes at most.
DISK_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Dashboard:
    signups: Chart
    local_posts: Chart
    remote_posts: Chart
    active: tuple[tuple[str, int], ...]  # (period, people seen in it)
    queue: Chart
    failing_hosts: tuple[HostHealthView, ...]
    media_bytes: int
    media_files: int
    totals: dict[str, int]


def _days(rows: list[DayCountRow], first_day: int) -> list[tuple[str, int]]:
    counts = {int(r["day"]): int(r["n"]) for r in rows}
    points = []
    for day in range(first_day, first_day + DAYS):
        label = datetime.fromtimestamp(day * stats_q.DAY, tz=UTC).strftime("%m-%d")
        points.append((label, counts.get(day, 0)))
    return points


class DashboardService:
    def __init__(
        self,
        db: Database,
        federation: FederationAdmin,
        media_usage: Callable[[], Awaitable[tuple[int, int]]],
    ) -> None:
        self.db = db
        self.federation = federation
        # `MediaStorage.usage`: a walk of the media folder, or a listing of the bucket.
        self.media_usage = media_usage
        self._disk: tuple[float, tuple[int, int]] | None = None

    async def _media(self) -> tuple[int, int]:
        if self._disk is not None and time.monotonic() - self._disk[0] < DISK_CACHE_SECONDS:
            return self._disk[1]
        try:
            usage = await self.media_usage()
        except StorageUnavailable:
            # A bucket that does not answer leaves the figure as it last was, not the page.
            return self._disk[1] if self._disk is not None else (0, 0)
        self._disk = (time.monotonic(), usage)
        return usage

    async def build(self, staff: Staff | None) -> Dashboard:
        require(staff, "view")
        ts = now()
        first_day = ts // stats_q.DAY - DAYS + 1
        since = first_day * stats_q.DAY
        signups = await stats_q.signups_by_day(self.db, since)
        local = await stats_q.posts_by_day(self.db, first_id_at(since), local=True)
        remote = await stats_q.posts_by_day(self.db, first_id_at(since), local=False)
        active: list[tuple[str, int]] = []
        for period, seconds in (("day", 86400), ("week", 7 * 86400), ("month", 30 * 86400)):
            active.append((period, await stats_q.active_since(self.db, ts - seconds)))
        queue = [(r["key"], int(r["n"])) for r in await jobs_q.queued_by_kind(self.db)]
        hosts = await self.federation.health(staff)
        media_bytes, media_files = await self._media()
        return Dashboard(
            signups=bar_chart("signups", _days(signups, first_day)),
            local_posts=bar_chart("local_posts", _days(local, first_day)),
            remote_posts=bar_chart("remote_posts", _days(remote, first_day)),
            active=tuple(active),
            queue=bar_chart("queue", queue),
            failing_hosts=tuple(h for h in hosts if h.failing)[:20],
            media_bytes=media_bytes,
            media_files=media_files,
            totals=await stats_q.totals(self.db),
        )
