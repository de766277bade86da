"""Blocked hosts answered from memory: the inbox asks for two hosts on every activity.

A block is set by an admin (`gapo domain block`, another process) through
`FederationAdmin.block_domain`, which bumps a shared version file after its commit
(`accounts/changes.py` holds the mechanism: one `stat` to compare). An entry is used
while that version is unchanged and for at most `MAX_AGE` seconds, the bound for
processes that do not share the data dir (a PostgreSQL deployment, later). The file is
looked at no more than every `CHECK_EVERY` seconds (two `stat`s per activity were 5 % of
the accept path under a burst); a block made in this process counts at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from instance.accounts.changes import AccountChanges
from instance.db import Database
from instance.db import hosts as hosts_q

MAX_AGE = 60.0
CHECK_EVERY = 0.25
MAX_ENTRIES = 10_000


def host_blocks_path(data_dir: Path) -> Path:
    """The shared version of the block list, beside the account-changes counter."""
    return data_dir / "run" / "host-blocks"


class BlockedHosts:
    """`is_blocked(domain)`, cached per version of the block list."""

    def __init__(self, db: Database, changes: AccountChanges) -> None:
        self.db = db
        self.changes = changes
        self._version = changes.version()
        self._checked_at = time.monotonic()
        self._local = changes.local_bumps
        self._known: dict[str, tuple[bool, float]] = {}

    async def is_blocked(self, domain: str) -> bool:
        domain = domain.lower()
        t = time.monotonic()
        if t - self._checked_at >= CHECK_EVERY or self.changes.local_bumps != self._local:
            # Read before the database: a block committed meanwhile bumps past this version.
            version = self.changes.version()
            self._checked_at, self._local = t, self.changes.local_bumps
            if version != self._version or len(self._known) > MAX_ENTRIES:
                self._known.clear()
                self._version = version
        version = self._version
        hit = self._known.get(domain)
        if hit is not None and hit[1] > t:
            return hit[0]
        blocked = await hosts_q.is_blocked(self.db, domain)
        if self._version == version:
            self._known[domain] = (blocked, t + MAX_AGE)
        return blocked
