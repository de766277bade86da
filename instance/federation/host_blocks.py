"""Blocked hosts answered from memory: the inbox asks for two hosts on every activity.

A block is set by an admin (`gapo domain block`, another process) through
`FederationAdmin.block_domain`, which bumps a shared version file after its commit
(`accounts/changes.py` holds the mechanism: one `stat` to compare). An entry is used
while that version is unchanged and for at most `MAX_AGE` seconds, the bound for
processes that do not share the data dir (a PostgreSQL deployment, later). The file is
looked at no more than every `CHECK_EVERY` seconds (two `stat`s per activity were 5 % of
the accept path under a burst); a block made in this process counts at once.

This is the one rule of who is refused: a suspended host always, and in allowlist mode
(`site_settings.federation_mode`, set by `FederationAdmin.set_mode`, which bumps the same
version) every host not on the allowlist. The inbox, the delivery lane, remote media and
the account lookup all ask here.
"""

from __future__ import annotations

import time
from pathlib import Path

from instance.accounts.changes import AccountChanges
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import site_settings as site_q

MAX_AGE = 60.0
CHECK_EVERY = 0.25
MAX_ENTRIES = 10_000
MODE_KEY = "federation_mode"
MODES = ("open", "allowlist")


def host_blocks_path(data_dir: Path) -> Path:
    """The shared version of the block list, beside the account-changes counter."""
    return data_dir / "run" / "host-blocks"


class BlockedHosts:
    """`is_blocked(domain)`, cached per version of the block list and the mode."""

    def __init__(self, db: Database, changes: AccountChanges) -> None:
        self.db = db
        self.changes = changes
        self._version = changes.version()
        self._checked_at = time.monotonic()
        self._local = changes.local_bumps
        self._known: dict[str, tuple[bool, float]] = {}
        self._allowlist: tuple[bool, float] | None = None

    async def is_blocked(self, domain: str) -> bool:
        domain = domain.lower()
        t = time.monotonic()
        if t - self._checked_at >= CHECK_EVERY or self.changes.local_bumps != self._local:
            # Read before the database: a block committed meanwhile bumps past this version.
            version = self.changes.version()
            self._checked_at, self._local = t, self.changes.local_bumps
            if version != self._version or len(self._known) > MAX_ENTRIES:
                self._known.clear()
                self._allowlist = None
                self._version = version
        version = self._version
        hit = self._known.get(domain)
        if hit is not None and hit[1] > t:
            return hit[0]
        allowlist = self._allowlist
        if allowlist is None or allowlist[1] <= t:
            allowlist = (await site_q.get(self.db, MODE_KEY) == "allowlist", t + MAX_AGE)
            if self._version == version:
                self._allowlist = allowlist
        suspended, allowed = await hosts_q.block_state(self.db, domain)
        blocked = suspended or (allowlist[0] and not allowed)
        if self._version == version:
            self._known[domain] = (blocked, t + MAX_AGE)
        return blocked
