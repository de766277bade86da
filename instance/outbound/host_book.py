"""What a delivery lane knows of each remote host: health, signature standard, block, depth.

The row in `hosts` is shared by every runner, so the breaker works across processes; this
book is the lane's copy of it. It is written back only when something that decides a
delivery changes (a failure, a breaker opening or closing, a probe claimed), not after
every success: on a healthy host a success only moves `last_success_at`, and writing that
2,000 times for one post was 17 % of a fan-out's time (issue 15). `last_success_at` is
still refreshed once per `SUCCESS_REFRESH` seconds so the admin's view stays roughly
current.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from activitypub.delivery import HostHealth
from instance.db.rows import HostRow

# Seconds between writes of a healthy host's `last_success_at`.
SUCCESS_REFRESH = 3600.0
# A host that answered within this many seconds, and quickly, may have more jobs claimed
# at once. "Quickly": 32 claimed jobs on 2 connections at 1 s each are sent within 16 s,
# far inside their 300 s lease; a slow host's jobs stay in the queue, not in our memory.
WARM_SECONDS = 60.0
FAST_ANSWER = 1.0
# Fields that never decide whether or when a delivery goes out.
_INFORMATIVE = ("last_success_at", "last_failure_at")


def decisive(health: HostHealth) -> dict[str, Any]:
    """The part of a host's health that changes what the next delivery does."""
    data = health.to_dict()
    for name in _INFORMATIVE:
        data.pop(name, None)
    return data


@dataclass
class HostEntry:
    """One host: its health as this lane sees it and what the database last held."""

    health: HostHealth = field(default_factory=HostHealth)
    scheme: str = "cavage"
    blocked: bool = False
    # The decisive health and the success time the row holds, as far as this lane knows.
    stored: dict[str, Any] = field(default_factory=dict)
    stored_success_at: float | None = None
    # Monotonic time of the last success seen by this lane (0: none yet).
    warm_until: float = 0.0
    # Changes to write with the next batch of completions.
    dirty: bool = False
    scheme_dirty: bool = False

    def warm(self) -> bool:
        """Has the host answered lately? Only then may it have a deeper batch claimed."""
        return time.monotonic() < self.warm_until

    def note_success(self, now: float, took: float = 0.0) -> None:
        """A delivery succeeded; `took` is how long the host took to answer, in seconds."""
        self.health.success(now)
        self.warm_until = time.monotonic() + WARM_SECONDS if took < FAST_ANSWER else 0.0
        self._mark(now)

    def note_failure(self, now: float) -> None:
        self.health.failure(now)
        self.warm_until = 0.0
        self._mark(now)

    def _mark(self, now: float) -> None:
        stale = (self.stored_success_at or 0.0) + SUCCESS_REFRESH < now
        if stale or decisive(self.health) != self.stored:
            self.dirty = True

    def health_json(self) -> str:
        return json.dumps(self.health.to_dict())

    def snapshot(self) -> Snapshot:
        """What to write now; changes made while it is written stay dirty."""
        return Snapshot(
            self.health_json(),
            decisive(self.health),
            self.health.last_success_at,
            self.scheme,
            self.dirty,
            self.scheme_dirty,
        )

    def written(self, snap: Snapshot) -> None:
        """The row now holds `snap` (called after its transaction committed)."""
        self.stored = snap.decisive
        self.stored_success_at = snap.success_at
        self.dirty = decisive(self.health) != snap.decisive
        self.scheme_dirty = self.scheme != snap.scheme


@dataclass(frozen=True)
class Snapshot:
    """A host entry as it is being written."""

    health_json: str
    decisive: dict[str, Any]
    success_at: float | None
    scheme: str
    health_dirty: bool
    scheme_dirty: bool


class HostBook:
    """The lane's hosts, refreshed from their rows whenever jobs for them are claimed."""

    def __init__(self) -> None:
        self.entries: dict[str, HostEntry] = {}

    def get(self, host: str) -> HostEntry:
        entry = self.entries.get(host)
        if entry is None:
            entry = self.entries[host] = HostEntry()
        return entry

    def refresh(self, host: str, row: HostRow | None) -> HostEntry:
        """Take the row's view (another runner may have opened the breaker), unless this
        lane has changes of its own not yet written: those are newer."""
        entry = self.get(host)
        if entry.dirty or entry.scheme_dirty:
            return entry
        if row is None:
            entry.health = HostHealth()
            entry.scheme = "cavage"
            entry.blocked = False
        else:
            try:
                entry.health = HostHealth.from_dict(json.loads(row["health_json"] or "{}"))
            except ValueError:
                # A corrupt row is rewritten with a fresh health rather than block the host.
                entry.health = HostHealth()
                entry.dirty = True
            entry.scheme = row["signature_scheme"] or "cavage"
            entry.blocked = bool(row["blocked"])
        if not entry.dirty:
            entry.stored = decisive(entry.health)
            entry.stored_success_at = entry.health.last_success_at
        return entry

    def dirty(self) -> list[tuple[str, HostEntry]]:
        return [(h, e) for h, e in self.entries.items() if e.dirty or e.scheme_dirty]
