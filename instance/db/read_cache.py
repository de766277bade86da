"""Reads kept while the database has not changed: a small LRU keyed by the database version.

`Database.version()` (one `PRAGMA data_version`, a trip to a thread of its own) changes
whenever anything commits to the file, from this process or another worker. An entry is
answered only under the version it was read at, so it is exactly what a fresh read would
give: a new post, like, share, follow, block, mute, deletion, edit, suspension or login
anywhere moves the version, and every entry read before it is stale at once. Nothing is
invalidated by hand, so a writer added later (account silencing, say) cannot be missed.

The price is the hit rate, not correctness: while writes arrive continuously (a busy
inbox), entries live only until the next commit. Values must be treated as read-only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class VersionedCache(Generic[K, V]):
    """At most `max_entries` values, each answered only under the version it was read at."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[int, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, version: int) -> V | None:
        found = self._entries.get(key) if self.max_entries > 0 else None
        if found is None or found[0] != version:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: K, version: int, value: V) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = (version, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
