"""Where stored files live: one interface, the local filesystem its default backend.

Keys are random names the server chose (never a client's file name), so a key that does not
match `KEY_RE` is refused before it gets near a filesystem or a bucket. Writes stream from a
file the server already has (a processed upload in a work directory), so a 99 MB video never
sits in memory. `instance/media/s3_storage.py` is the other backend (an S3-compatible
bucket); `instance/media/backends.py` picks one from the settings. Callers know only the
`MediaStorage` protocol: they never see a path or a bucket.

What a page links to is always Gapo's own `/media/<key>` (`url_for`): that URL, stored in
rows and sent to peers, stays valid whichever backend holds the file; the route asks
`deliver` how to answer it (a local file, a redirect to the store, or bytes streamed from it).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from instance.errors import N_, GapoError

# The formats Gapo itself writes: processed photos, thumbnails, posters, transcoded videos,
# and cached remote files (kept in the type they were checked to be).
MEDIA_TYPES = {
    "webp": "image/webp",
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "avif": "image/avif",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
}
EXTENSIONS = tuple(MEDIA_TYPES)
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(?:" + "|".join(EXTENSIONS) + r")$")
# An upload waiting for its transcode: `<media id>.<the extension its bytes showed>`.
SOURCE_RE = re.compile(r"^[0-9]{1,20}\.[a-z0-9]{1,8}$")
# How long a browser may keep a file: a key never changes content.
IMMUTABLE = "public, max-age=31536000, immutable"


class StorageUnavailable(GapoError):
    """The media store did not answer (down, unreachable, refusing our credentials)."""

    status = 503
    message = N_("Media storage is not reachable right now. Please try again in a moment.")

    def __init__(self, detail: str = "") -> None:
        super().__init__(retry_after=30)
        self.detail = detail

    def __str__(self) -> str:
        return f"media storage unavailable: {self.detail}" if self.detail else self.message


@dataclass(frozen=True)
class LocalFile:
    """Send this file from the local disk (ranges and conditional requests by the server)."""

    path: Path


@dataclass(frozen=True)
class Redirect:
    """Send the browser to the store; the redirect itself may be cached `max_age` seconds."""

    url: str
    max_age: int


@dataclass(frozen=True)
class Streamed:
    """Bytes read from the store as they are sent (status 200, or 206 for a range)."""

    status: int
    length: int
    content_range: str | None
    chunks: AsyncIterator[bytes]
    # Gives the store's connection back without reading the body (a HEAD request).
    release: Callable[[], Awaitable[None]]


Delivery = LocalFile | Redirect | Streamed


class MediaStorage(Protocol):
    async def save(self, data: bytes, ext: str) -> str:
        """Keep bytes made in memory (a small re-encoded image); returns the new key."""
        ...

    async def save_file(self, source: Path, ext: str) -> str:
        """Keep a file the server made; `source` is consumed (moved or uploaded, then gone)."""
        ...

    def scratch(self) -> Path:
        """A fresh local path for a file being made (a download) before `save_file`."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """The stored size in bytes; None for a malformed key or a missing file."""
        ...

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path | None]:
        """A local file with the key's bytes while the context lasts (an export zips it)."""
        ...

    async def deliver(self, key: str, byte_range: str | None = None) -> Delivery | None:
        """How to answer a GET of the file (None: missing or malformed key)."""
        ...

    def url_for(self, key: str) -> str: ...

    def key_of(self, url: str | None) -> str | None: ...

    async def delete(self, key: str) -> None:
        """Remove the file; removing a missing one is not an error."""
        ...

    async def keep_source(self, path: Path, name: str) -> None:
        """Keep an upload until its transcode job runs, wherever that runs; `path` is
        consumed. Never served: sources are not keys."""
        ...

    def source(self, name: str) -> AbstractAsyncContextManager[Path | None]:
        """The waiting upload as a local file while the context lasts; None when gone."""
        ...

    async def drop_source(self, name: str) -> None: ...

    async def usage(self) -> tuple[int, int]:
        """(bytes, files) stored: the admin dashboard's figure."""
        ...

    async def close(self) -> None: ...


def valid_key(key: str) -> bool:
    return bool(KEY_RE.fullmatch(key))


def valid_source(name: str) -> bool:
    return bool(SOURCE_RE.fullmatch(name))


def new_key(ext: str) -> str:
    if ext not in EXTENSIONS:
        raise ValueError(f"unsupported media extension {ext!r}")
    return f"{secrets.token_urlsafe(18)}.{ext}"


def media_type_of(key: str) -> str:
    """The type of a valid key's file, from the extension Gapo itself chose."""
    return MEDIA_TYPES[key.rsplit(".", 1)[1]]


class MediaUrls:
    """Gapo's own URL of a key, the same for every backend (the route resolves it)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def url_for(self, key: str) -> str:
        return f"{self.base_url}/media/{key}"

    def key_of(self, url: str | None) -> str | None:
        """The key of one of our own media URLs; None for anything else (remote, empty)."""
        prefix = f"{self.base_url}/media/"
        if not url or not url.startswith(prefix):
            return None
        key = url.removeprefix(prefix)
        return key if valid_key(key) else None


class LocalStorage(MediaUrls):
    """Files under `<data_dir>/media/`, served by the app at `/media/<key>`; uploads waiting
    for their transcode in `<data_dir>/media-incoming/` (never served)."""

    def __init__(self, root: Path, base_url: str, incoming: Path | None = None) -> None:
        super().__init__(base_url)
        self.root = root
        self.incoming = incoming if incoming is not None else root.parent / "media-incoming"

    def _write(self, key: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / key
        temp = self.root / f".{key}.tmp"
        # Written aside then renamed: a reader never sees half a file, a crash leaves no key.
        with temp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        temp.replace(final)

    def _store(self, key: str, source: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / key
        temp = self.root / f".{key}.tmp"
        # A rename when the work directory is on the same filesystem, else a streamed copy.
        shutil.move(source, temp)
        with temp.open("rb+") as fh:
            os.fsync(fh.fileno())
        temp.replace(final)

    async def save(self, data: bytes, ext: str) -> str:
        key = new_key(ext)
        await asyncio.to_thread(self._write, key, data)
        return key

    def scratch(self) -> Path:
        """On the storage's own filesystem, so that `save_file` moves it in with one rename."""
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        return incoming / secrets.token_urlsafe(18)

    async def save_file(self, source: Path, ext: str) -> str:
        key = new_key(ext)
        await asyncio.to_thread(self._store, key, source)
        return key

    def path_for(self, key: str) -> Path | None:
        """The file of a key, or None for a malformed key or a missing file."""
        if not valid_key(key):
            return None
        path = self.root / key
        return path if path.is_file() else None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for, key) is not None

    async def size(self, key: str) -> int | None:
        def stat() -> int | None:
            path = self.path_for(key)
            return path.stat().st_size if path is not None else None

        return await asyncio.to_thread(stat)

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path | None]:
        @asynccontextmanager
        async def the_file() -> AsyncIterator[Path | None]:
            yield await asyncio.to_thread(self.path_for, key)  # the file itself: no copy

        return the_file()

    async def deliver(self, key: str, byte_range: str | None = None) -> Delivery | None:
        path = await asyncio.to_thread(self.path_for, key)
        return LocalFile(path) if path is not None else None

    async def delete(self, key: str) -> None:
        if valid_key(key):
            await asyncio.to_thread((self.root / key).unlink, True)

    async def usage(self) -> tuple[int, int]:
        return await asyncio.to_thread(disk_usage, self.root)

    async def keep_source(self, path: Path, name: str) -> None:
        if not valid_source(name):
            raise ValueError(f"not a source name: {name!r}")

        def move() -> None:
            self.incoming.mkdir(parents=True, exist_ok=True)
            shutil.move(path, self.incoming / name)

        await asyncio.to_thread(move)

    def source(self, name: str) -> AbstractAsyncContextManager[Path | None]:
        @asynccontextmanager
        async def the_file() -> AsyncIterator[Path | None]:
            path = self.incoming / name
            found = valid_source(name) and await asyncio.to_thread(path.is_file)
            yield path if found else None

        return the_file()

    async def drop_source(self, name: str) -> None:
        if valid_source(name):
            await asyncio.to_thread((self.incoming / name).unlink, True)

    async def close(self) -> None:
        return None


def disk_usage(root: Path) -> tuple[int, int]:
    """Bytes and count of the files under `root`, as the dashboard shows them."""
    total = files = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
                files += 1
            except OSError:
                continue  # removed while we walked
    return total, files
