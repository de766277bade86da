"""Ready-to-send bytes of the documents peers fetch most: actors, WebFinger, NodeInfo.

Peers fetch an actor (and its key, the same URL) for nearly every activity they verify and
a WebFinger answer for every mention they resolve; under a surge that is thousands of GETs
a second for a handful of accounts. Built fresh, each costs one SQLite read on a thread
(two GIL hand-offs that, with one worker on two cores, cost more than the read itself),
JSON encoding and a digest. Here the encoded document is kept with its ETag.

An entry is served while both hold:
- the account version (`instance/accounts/changes.py`) is the one it was built at: a profile
  save or a suspension anywhere on this data dir empties every process's cache before the
  next request (checked by one `stat` per request);
- it is younger than its max age (2 s for account documents: the bound for writers that
  do not share the version file; longer for NodeInfo, whose counts move with every post).

Only documents are cached, never "not found": an account created a moment ago is found at
once, and a miss costs what it cost before. Nothing here decides who may see what: the
builders apply the same checks as before (suspended or non-Person accounts raise NotFound).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from instance.accounts.changes import AccountChanges, Version

# Each entry is one actor (~2.5 kB with its key) or JRD (~0.5 kB): 2,048 of them is a few MB.
MAX_ENTRIES = 2048
ACCOUNT_MAX_AGE = 2.0


@dataclass(frozen=True, slots=True)
class CachedDocument:
    body: bytes
    # A strong validator: a digest of the body, so every process gives the same one.
    etag: str


def document_of(body: bytes) -> CachedDocument:
    """The body with its ETag (blake2b of 3 kB: about 2 µs, once per build)."""
    return CachedDocument(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


@dataclass(slots=True)
class _Entry:
    document: CachedDocument
    expires: float


class DocumentCache:
    """A small LRU of `CachedDocument`s, emptied when the account version changes."""

    def __init__(
        self,
        changes: AccountChanges,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.changes = changes
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._version: Version | None = None
        # One build per key and version at a time: when an entry expires under load, the
        # requests that arrive during its rebuild wait for it rather than each reading the
        # database (64 connections at ~1,000 req/s made ~60 reads per expiry before).
        self._building: dict[tuple[Hashable, Version], asyncio.Future[CachedDocument]] = {}
        self.builds = 0  # how many times a builder ran (for tests and benchmarks)

    def _current(self) -> Version:
        version = self.changes.version()
        if version != self._version:
            self._entries.clear()
            self._version = version
        return version

    def peek(self, key: Hashable) -> CachedDocument | None:
        """The document `get` would answer from memory now, or None (nothing is built).

        The same version check and max age as `get`: what the fast path in front of the web
        app (`instance/web/document_fast_path.py`) serves is what the route would serve.
        """
        self._current()
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self.clock():
            return None
        self._entries.move_to_end(key)
        return entry.document

    async def get(
        self,
        key: Hashable,
        build: Callable[[], Awaitable[bytes]],
        *,
        max_age: float = ACCOUNT_MAX_AGE,
    ) -> CachedDocument:
        """The cached document for `key`, or `build()`'s (kept unless it raised)."""
        # Read before building: a change committed during the build moves the version, so
        # what was built from older rows is never kept under the newer version.
        version = self._current()
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and entry.expires > now:
            self._entries.move_to_end(key)
            return entry.document
        flight = (key, version)
        while (pending := self._building.get(flight)) is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled
                # The building request was (its client left): build here instead.
        future: asyncio.Future[CachedDocument] = asyncio.get_running_loop().create_future()
        self._building[flight] = future
        try:
            self.builds += 1
            document = document_of(await build())
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            # Waiters get the same answer (NotFound for a suspended account, say).
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._building[flight]
        future.set_result(document)
        if self._version == version:
            self._entries[key] = _Entry(document, now + max_age)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return document

    def clear(self) -> None:
        self._entries.clear()
