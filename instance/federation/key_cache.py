"""Remote public keys kept for a minute: the inbox looks one up per activity.

In memory by default (per process, emptied whole whenever an actor is stored here). Given a
`SharedState` on Redis, the cache is shared: a key read or fetched by one process serves
every process, and storing an actor drops its keys for all of them at once. A key is public:
caching it in Redis reveals nothing (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable

from instance.shared_state import SharedState

# A key changes only through `RemoteActors.store` (which drops it here) or in another process
# without Redis; a signature that fails with a stale key re-fetches it, so the age bounds only
# how long a key removed elsewhere still verifies.
KEY_CACHE_SECONDS = 60.0
KEY_CACHE_ENTRIES = 10_000


def _name(key_id: str) -> str:
    return f"key:{hashlib.sha256(key_id.encode()).hexdigest()[:32]}"


class KeyCache:
    def __init__(self, shared: SharedState | None = None) -> None:
        self.shared = shared
        self._local: dict[str, tuple[str, str, float]] = {}

    async def get(self, key_id: str) -> tuple[str, str] | None:
        """(owner actor id, public PEM) when cached and fresh."""
        if self.shared is not None:
            found = await self.shared.get(_name(key_id))
            if found is None:
                return None
            owner, pem = json.loads(found)
            return str(owner), str(pem)
        hit = self._local.get(key_id)
        if hit is not None and hit[2] > time.monotonic():
            return hit[0], hit[1]
        return None

    async def put(self, key_id: str, owner: str, pem: str) -> None:
        if self.shared is not None:
            await self.shared.put(_name(key_id), json.dumps([owner, pem]), KEY_CACHE_SECONDS)
            return
        if len(self._local) >= KEY_CACHE_ENTRIES:
            self._local.clear()
        self._local[key_id] = (owner, pem, time.monotonic() + KEY_CACHE_SECONDS)

    async def forget(self, key_ids: Iterable[str]) -> None:
        """Keys of an actor just stored may have changed (rotation, a new actor)."""
        if self.shared is not None:
            await self.shared.delete(*(_name(key_id) for key_id in key_ids))
            return
        self._local.clear()  # in memory, all of them: cheap, and nothing stale survives
