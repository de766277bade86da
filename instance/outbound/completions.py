"""Delivery outcomes written in batches (`jobs/completions.py`), with the host rows that
changed in the same transaction (`HostBook`: health and signature standard)."""

from __future__ import annotations

from collections.abc import Callable

from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db.connection import Transaction
from instance.jobs.completions import FLUSH_DELAY, FLUSH_SIZE, JobCompletions
from instance.outbound.host_book import HostBook, HostEntry, Snapshot

__all__ = ["FLUSH_DELAY", "FLUSH_SIZE", "Completions", "HostWrites"]

Dirty = list[tuple[str, HostEntry, Snapshot]]


class HostWrites:
    """The host rows a delivery batch changed (`SideWrites` of `JobCompletions`)."""

    def __init__(self, hosts: HostBook) -> None:
        self.hosts = hosts

    def take(self) -> Dirty:
        return [(host, entry, entry.snapshot()) for host, entry in self.hosts.dirty()]

    async def write(self, tx: Transaction, taken: Dirty, ts: int) -> None:
        for host, _, snap in taken:
            if snap.health_dirty:
                await hosts_q.set_health(tx, host, snap.health_json, ts)
            if snap.scheme_dirty:
                await hosts_q.set_signature_scheme(tx, host, snap.scheme, ts)

    def written(self, taken: Dirty) -> None:
        for _, entry, snap in taken:
            entry.written(snap)

    def restore(self, taken: Dirty) -> None:
        """Nothing to do: entries stay dirty until `written`."""


class Completions(JobCompletions):
    """Collects delivery outcomes and writes them, with dirty host rows, in one transaction."""

    def __init__(
        self,
        db: Database,
        hosts: HostBook,
        *,
        delay: float = FLUSH_DELAY,
        size: int = FLUSH_SIZE,
        on_written: Callable[[list[int]], None] | None = None,
    ) -> None:
        super().__init__(db, HostWrites(hosts), delay=delay, size=size, on_written=on_written)
        self.hosts = hosts
