"""Uploads of profile images: processed off the event loop, then kept in media storage."""

from __future__ import annotations

from instance.media.images import OUTPUT_EXT, ImageKind, process_image
from instance.media.storage import MediaStorage
from instance.pools import BoundedPool


class MediaService:
    def __init__(self, storage: MediaStorage, pool: BoundedPool) -> None:
        self.storage = storage
        self.pool = pool

    async def profile_image(self, data: bytes, kind: ImageKind) -> str:
        """Validate, resize and strip an upload; returns the public URL of the stored copy."""
        encoded = await self.pool.run(process_image, data, kind)
        key = await self.storage.save(encoded, OUTPUT_EXT)
        return self.storage.url_for(key)

    async def forget(self, url: str | None) -> None:
        """Delete one of our own files by URL (a replaced avatar); other URLs are left alone."""
        key = self.storage.key_of(url)
        if key is not None:
            await self.storage.delete(key)
