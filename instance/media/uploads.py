"""Attachments uploaded by local people: processed, stored, and cleaned up.

A photo is processed during its upload request, in the image thread pool (~0.1-0.3 s for a
12 MP JPEG, see docs/performance.md), and is ready when the answer comes. A video, or an
animated GIF (which becomes a silent looping MP4 as on Mastodon), is probed at once, so a
file that only claims to be a video is refused in the answer, and then transcoded by a
`media_transcode` job: those run one at a time (`transcode_workers`) under the job runner's
cap for the pseudo-host `media:transcode`, so a burst of uploads queues instead of taking
every core from web requests. The upload is kept by the storage until then (`keep_source`:
`<data_dir>/media-incoming/`, or the bucket's `incoming/` so a worker on another machine can
transcode it): never served, never a client's file name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from instance.db import Database
from instance.db import media as media_q
from instance.db.connection import Row
from instance.db.rows import MediaRow
from instance.errors import N_, GapoError, NotFound
from instance.ids import IdGenerator, now
from instance.jobs.queue import JobQueue
from instance.jobs.runner import RetryLater
from instance.media import blurhash
from instance.media.photos import process_photo
from instance.media.sniff import Sniffed
from instance.media.storage import MediaStorage, StorageUnavailable, valid_source
from instance.media.video import probe, transcode
from instance.media.views import MediaView, media_view
from instance.pools import BoundedPool
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

MEDIA_TRANSCODE = "media_transcode"
MEDIA_PURGE = "media_purge"  # same kind as instance.posts.attachments.MEDIA_PURGE
MEDIA_UNATTACHED = "media_unattached"
TRANSCODE_HOST = "media:transcode"
# Uploads never attached to a post are removed after a day, checked hourly.
UNATTACHED_AFTER = 86400
UNATTACHED_INTERVAL = 3600
BATCH = 200


class ProcessingFailed(GapoError):
    status = 422
    message = N_("That file could not be processed. Try another file.")


class MediaUploads:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        storage: MediaStorage,
        urls: LocalUrls,
        queue: JobQueue,
        *,
        image_pool: BoundedPool,
        video_pool: BoundedPool,
        incoming: Path,
        max_video_seconds: int,
    ) -> None:
        self.db = db
        self.ids = ids
        self.storage = storage
        self.urls = urls
        self.queue = queue
        self.image_pool = image_pool
        self.video_pool = video_pool
        self.incoming = incoming
        self.max_video_seconds = max_video_seconds

    # --- uploads ---

    async def upload(
        self,
        account_id: int,
        path: Path,
        sniffed: Sniffed,
        *,
        description: str = "",
        focus: tuple[float, float] = (0.0, 0.0),
    ) -> MediaView:
        """Store one uploaded file (already on disk, type sniffed); the caller removes `path`."""
        media_id = self.ids.next_id()
        values: dict[str, Any] = {
            "id": media_id,
            "account_id": account_id,
            "description": description.strip()[:1500],
            "focus_x": focus[0],
            "focus_y": focus[1],
            "created_at": now(),
        }
        if sniffed.kind == "image":
            workdir = await asyncio.to_thread(tempfile.mkdtemp, None, None, path.parent)
            try:
                photo = await self.image_pool.run(process_photo, path, Path(workdir))
                if photo.animated:
                    values |= {"kind": "gifv", "width": photo.width, "height": photo.height}
                    values["blurhash"] = photo.blurhash
                    return await self._queue_transcode(values, path, sniffed)
                # Measured here: the store consumes the file, and asking it costs a trip.
                size = await asyncio.to_thread(os.path.getsize, photo.original)
                original = await self.storage.save_file(photo.original, photo.original_ext)
                try:
                    thumb = await self.storage.save_file(photo.thumbnail, photo.thumbnail_ext)
                except BaseException:
                    with contextlib.suppress(GapoError):
                        await self.storage.delete(original)  # no file without its row
                    raise
            finally:
                await asyncio.to_thread(shutil.rmtree, workdir, True)
            values |= {
                "kind": "image",
                "state": "ready",
                "media_type": photo.original_media_type,
                "file_key": original,
                "thumb_key": thumb,
                "width": photo.width,
                "height": photo.height,
                "blurhash": photo.blurhash,
                "size": size,
            }
            await media_q.insert(self.db, values)
            return await self._view(media_id)
        # A video is looked at before it is queued: what is not one is refused now.
        found = await self.image_pool.run(_probe, path, float(self.max_video_seconds))
        values |= {
            "kind": "video",
            "width": found.width,
            "height": found.height,
            "duration": found.duration,
        }
        return await self._queue_transcode(values, path, sniffed)

    async def _queue_transcode(
        self, values: dict[str, Any], path: Path, sniffed: Sniffed
    ) -> MediaView:
        source = f"{values['id']}.{sniffed.ext}"
        # Kept by the storage (the bucket, with S3), so a worker on another machine has it.
        await self.storage.keep_source(path, source)
        values |= {"state": "processing", "media_type": "video/mp4", "source_key": source}
        async with self.db.transaction() as tx:
            await media_q.insert(tx, values)
            await self.queue.enqueue(
                tx, MEDIA_TRANSCODE, {"media_id": values["id"]}, host=TRANSCODE_HOST
            )
        return await self._view(int(values["id"]))

    async def _view(self, media_id: int) -> MediaView:
        row = await media_q.get(self.db, media_id)
        assert row is not None
        return media_view(row, self.urls)

    async def state(self, account_id: int, media_id: int) -> tuple[MediaView, str | None]:
        """One's own upload as it is now, and why it failed (a message id) if it did."""
        row = await media_q.get(self.db, media_id)
        if row is None or row["account_id"] != account_id:
            raise NotFound()
        return media_view(row, self.urls), row["error"]

    async def wait_ready(self, media_ids: list[int], *, patience: float = 120.0) -> None:
        """Wait for uploads still processing (a video sent with a form, without JavaScript,
        whose page has nothing to poll with); returns at once when none is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        pending = list(media_ids)
        while pending and loop.time() < deadline:
            rows = [await media_q.get(self.db, media_id) for media_id in pending]
            pending = [r["id"] for r in rows if r is not None and r["state"] == "processing"]
            if pending:
                await asyncio.sleep(0.5)

    # --- jobs ---

    async def transcode_job(self, payload: dict[str, Any], job: Row) -> None:
        try:
            await self._transcode_job(payload)
        except StorageUnavailable as exc:
            # The store is down: the job waits its turn on the retry schedule, the source
            # stays where it is, and the log says why without a traceback.
            raise RetryLater(str(exc)) from exc

    async def _transcode_job(self, payload: dict[str, Any]) -> None:
        row = await media_q.get(self.db, int(payload["media_id"]))
        if row is None or row["state"] != "processing" or not row["source_key"]:
            return  # removed meanwhile, or done by an earlier attempt
        async with self.storage.source(row["source_key"]) as source:
            if source is None:
                await media_q.update(
                    self.db, row["id"], {"state": "failed", "error": ProcessingFailed.message}
                )
                return
            await asyncio.to_thread(self.incoming.mkdir, parents=True, exist_ok=True)
            workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, None, None, self.incoming))
            try:
                await self._transcode(row, source, workdir)
            finally:
                await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _transcode(self, row: MediaRow, source: Path, workdir: Path) -> None:
        try:
            video = await self.video_pool.run(
                _transcode_with_blurhash,
                source,
                workdir,
                row["kind"] == "gifv",
                float(self.max_video_seconds),
            )
        except GapoError as exc:
            log.info("media %s refused: %s", row["id"], type(exc).__name__)
            await media_q.update(
                self.db, row["id"], {"state": "failed", "error": exc.message, "source_key": None}
            )
            await self.storage.drop_source(str(row["source_key"]))
            return
        size = await asyncio.to_thread(os.path.getsize, video.video)
        file_key = await self.storage.save_file(video.video, "mp4")
        try:
            poster = await self.storage.save_file(video.poster, "jpg")
        except BaseException:
            with contextlib.suppress(GapoError):
                await self.storage.delete(file_key)  # the job's retry transcodes again
            raise
        await media_q.update(
            self.db,
            row["id"],
            {
                "state": "ready",
                "media_type": "video/mp4",
                "file_key": file_key,
                "thumb_key": poster,
                "source_key": None,
                "width": video.width,
                "height": video.height,
                "duration": video.duration,
                "blurhash": video.blurhash or row["blurhash"],
                "size": size,
            },
        )
        await self.storage.drop_source(str(row["source_key"]))

    async def purge_job(self, payload: dict[str, Any], job: Row) -> None:
        """Delete the files of a deleted post, or of attachments an edit removed."""
        try:
            for key in payload.get("keys", []):
                await self.delete_key(str(key))  # deleting twice is fine: a retry redoes all
        except StorageUnavailable as exc:
            raise RetryLater(str(exc)) from exc

    async def delete_key(self, key: str) -> None:
        # A stored file, or a source still waiting for its transcode (its own name form).
        if valid_source(key):
            await self.storage.drop_source(key)
        else:
            await self.storage.delete(key)

    async def unattached_job(self, payload: dict[str, Any], job: Row) -> None:
        """Remove uploads that no post took within a day (a recurring job)."""
        removed = await self.remove_unattached(now() - UNATTACHED_AFTER)
        if removed:
            log.info("removed %d unattached upload(s)", removed)

    async def remove_unattached(self, cutoff: int) -> int:
        removed = 0
        while rows := await media_q.unattached_before(self.db, cutoff, BATCH):
            for row in rows:
                for key in (row["file_key"], row["thumb_key"], row["source_key"]):
                    if key:
                        await self.delete_key(key)
            await media_q.delete(self.db, [row["id"] for row in rows])
            removed += len(rows)
        return removed


def _probe(path: Path, max_seconds: float) -> Any:
    return probe(path, max_duration=max_seconds)


def _transcode_with_blurhash(source: Path, workdir: Path, gifv: bool, max_seconds: float) -> Any:
    """Runs in the video pool's thread: the transcode, and the poster's blurhash."""

    def poster_hash(path: Path) -> str:
        with Image.open(path) as image:
            return blurhash.encode(image)

    return transcode(source, workdir, gifv=gifv, max_duration=max_seconds, blurhash_of=poster_hash)
