"""Remote files served from this origin: fetched once, checked, cleaned, cached.

A reader's browser never loads a remote attachment, avatar or header from its server
(that would hand the reader's address and the page they read to every peer in their
timeline). It loads `/media/proxy/<sha256 of the URL>`, and this service answers it:

- only URLs learnt from a stored post or actor (`remote_files` rows) are served, so the
  route is no open proxy;
- the file is fetched through the federation `Fetcher` (address guard on every hop,
  bounded redirects and time), capped at `MAX_VIDEO_BYTES`, and at `MAX_IMAGE_BYTES` once
  it turns out to be an image;
- what it is comes from its bytes (`sniff`), never from the URL or the peer's
  Content-Type: anything but an image or a video (HTML, SVG, JSON, scripts) is refused;
- images are re-encoded from their pixels (`remote_images.reencode`, in the image pool),
  which strips every byte of metadata; videos are kept as fetched (re-encoding them is
  a transcode, far past what a page view should cost);
- fifty readers of the same new file cause one fetch (one task per URL in flight);
- a failure is remembered (`failed_at`) and answered as missing for `RETRY_AFTER`
  seconds, so a dead file is not fetched again on every view.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from activitypub.fetch import Fetcher, FetchError
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import media as media_q
from instance.db.rows import RemoteFileRow
from instance.ids import now
from instance.media.remote_images import OUTPUT_EXT, OUTPUT_TYPE, NotAnImage, reencode
from instance.media.sniff import sniff
from instance.media.storage import MediaStorage
from instance.pools import BoundedPool

log = logging.getLogger(__name__)

HASH_RE = re.compile(r"[0-9a-f]{64}")
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_VIDEO_BYTES = 99 * 1024 * 1024
# A failed fetch is not tried again for this long: readers get a 404 meanwhile.
RETRY_AFTER = 600
# `last_used_at` (what pruning goes by) is written at most this often per file: a write per
# page view would make every timeline scroll a write transaction.
TOUCH_EVERY = 3600
# A 99 MB video over a slow link needs more than the 30 s a document gets.
DOWNLOAD_SECONDS = 300
ACCEPT = "image/*, video/*;q=0.9"
# What the sniffer is shown: every signature it knows sits in the first few dozen bytes.
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Served:
    """A cached file to send: its storage key and what it is (from its bytes)."""

    key: str
    media_type: str


class RemoteMedia:
    def __init__(
        self,
        db: Database,
        storage: MediaStorage,
        fetcher: Fetcher,
        pool: BoundedPool,
        *,
        retry_after: int = RETRY_AFTER,
        touch_every: int = TOUCH_EVERY,
        refused: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.db = db
        # `BlockedHosts.is_blocked`: in allowlist mode a host not on the list is not fetched.
        self.refused = refused
        self.storage = storage
        self.fetcher = fetcher
        self.pool = pool
        self.retry_after = retry_after
        self.touch_every = touch_every
        self._in_flight: dict[str, asyncio.Task[Served | None]] = {}

    async def open(self, url_hash: str) -> Served | None:
        """The cached copy of a known remote file, fetched now if need be; None when the
        hash is unknown, the file was refused, or it failed a moment ago."""
        if not HASH_RE.fullmatch(url_hash):
            return None
        row = await media_q.remote_file(self.db, url_hash)
        if row is None:
            return None
        ts = now()
        served = await self._cached(row)
        if served is not None:
            if (row["last_used_at"] or 0) < ts - self.touch_every:
                await media_q.update_remote_file(self.db, url_hash, {"last_used_at": ts})
            return served
        if row["failed_at"] is not None and row["failed_at"] > ts - self.retry_after:
            return None
        task = self._in_flight.get(url_hash)
        if task is None:
            task = asyncio.create_task(self._fetch(row))
            self._in_flight[url_hash] = task
            task.add_done_callback(lambda _: self._in_flight.pop(url_hash, None))
        # Shielded: a reader who goes away does not cancel the fetch the others wait on.
        return await asyncio.shield(task)

    async def _cached(self, row: RemoteFileRow) -> Served | None:
        if not row["file_key"] or not row["media_type"]:
            return None
        # Checked, not trusted: a copy whose file went missing is fetched again.
        if not await self.storage.exists(row["file_key"]):
            return None
        return Served(row["file_key"], row["media_type"])

    async def _fetch(self, row: RemoteFileRow) -> Served | None:
        url_hash = row["url_hash"]
        # Read again: a reader who read the row just before another's fetch finished comes
        # here after that fetch left `_in_flight`, and must not fetch a second time.
        fresh = await media_q.remote_file(self.db, url_hash)
        if fresh is None:
            return None
        if (served := await self._cached(fresh)) is not None:
            return served
        if fresh["failed_at"] is not None and fresh["failed_at"] > now() - self.retry_after:
            return None
        row = fresh
        host = urlsplit(row["url"]).hostname or ""
        if await hosts_q.rejects_media(self.db, host) or (
            self.refused is not None and await self.refused(host)
        ):
            # A domain blocked with reject_media (or suspended, or not allowed): nothing of
            # theirs is fetched.
            return None
        scratch = self.storage.scratch()
        try:
            key, media_type, size = await self._download(row["url"], scratch)
        except (FetchError, NotAnImage, Refused) as exc:
            log.info("remote file %s not cached: %s", url_hash[:12], exc)
            await media_q.update_remote_file(self.db, url_hash, {"failed_at": now()})
            return None
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(os.unlink, scratch)
        ts = now()
        old_key = row["file_key"]
        await media_q.update_remote_file(
            self.db,
            url_hash,
            {
                "file_key": key,
                "media_type": media_type,
                "size": size,
                "fetched_at": ts,
                "last_used_at": ts,
                "failed_at": None,
            },
        )
        if old_key and old_key != key:
            await self.storage.delete(old_key)  # a copy whose file had gone missing
        return Served(key, media_type)

    async def _download(self, url: str, scratch: Path) -> tuple[str, str, int]:
        """Fetch, check and store one file; returns (key, media type, size)."""
        await self.fetcher.download(
            url,
            scratch,
            max_bytes=MAX_VIDEO_BYTES,
            accept=ACCEPT,
            total_timeout=DOWNLOAD_SECONDS,
        )
        head, size = await asyncio.to_thread(_head_and_size, scratch)
        found = sniff(head)
        if found is None:
            raise Refused("not an image or a video")
        if found.kind == "image":
            if size > MAX_IMAGE_BYTES:
                raise Refused("image over the size cap")
            data = await self.pool.run(reencode, scratch)
            key = await self.storage.save(data, OUTPUT_EXT)
            return key, OUTPUT_TYPE, len(data)
        if found.kind == "video" and found.ext in ("mp4", "webm"):
            key = await self.storage.save_file(scratch, found.ext)
            return key, found.media_type, size
        raise Refused(f"{found.media_type} is not served")

    async def prune(self, cutoff: int, *, batch: int = 500) -> int:
        """Drop the cached copies of files last used before `cutoff`; rows stay (a later
        view fetches the file again). Returns how many copies went."""
        dropped = 0
        while True:
            rows = await media_q.remote_files_fetched_before(self.db, cutoff, batch)
            if not rows:
                return dropped
            # One transaction a batch (SQLite has one writer); files go after the commit,
            # so a crash in between leaves an orphan file, never a row naming no file.
            async with self.db.transaction() as tx:
                for row in rows:
                    await media_q.update_remote_file(
                        tx, row["url_hash"], {"file_key": None, "size": 0, "fetched_at": None}
                    )
            for row in rows:
                if row["file_key"]:
                    await self.storage.delete(row["file_key"])
            dropped += len(rows)


class Refused(Exception):
    """The fetched file is not something Gapo serves."""


def _head_and_size(path: Path) -> tuple[bytes, int]:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES), os.fstat(fh.fileno()).st_size
