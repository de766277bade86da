"""Where uploaded files live: one small interface, the local filesystem behind it for now.

Keys are random names the server chose (never a client's file name), so a key that does not
match `KEY_RE` is refused before it gets near the filesystem. Writes stream from a file the
server already has (a processed upload in a work directory), so a 99 MB video never sits in
memory; an S3-compatible backend (the scale-out issue) implements the same methods with
multipart uploads and ranged GETs.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Protocol

# The formats Gapo itself writes: processed photos, thumbnails, posters, transcoded videos,
# and cached remote files (kept in the type they were checked to be).
EXTENSIONS = ("webp", "png", "jpg", "gif", "mp4", "webm", "avif", "heic", "mp3", "ogg", "m4a")
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(?:" + "|".join(EXTENSIONS) + r")$")


class MediaStorage(Protocol):
    async def save(self, data: bytes, ext: str) -> str: ...
    async def save_file(self, source: Path, ext: str) -> str: ...
    def path_for(self, key: str) -> Path | None: ...
    def url_for(self, key: str) -> str: ...
    async def delete(self, key: str) -> None: ...


def valid_key(key: str) -> bool:
    return bool(KEY_RE.fullmatch(key))


def new_key(ext: str) -> str:
    if ext not in EXTENSIONS:
        raise ValueError(f"unsupported media extension {ext!r}")
    return f"{secrets.token_urlsafe(18)}.{ext}"


class LocalStorage:
    """Files under `<data_dir>/media/`, served by the app at `/media/<key>`."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

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
        """A fresh path on the storage's filesystem for a file being made (a download), so
        that `save_file` can move it in with one rename."""
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        return incoming / secrets.token_urlsafe(18)

    async def save_file(self, source: Path, ext: str) -> str:
        """Keep a file the server made (moved, not copied, when on the same filesystem)."""
        key = new_key(ext)
        await asyncio.to_thread(self._store, key, source)
        return key

    def path_for(self, key: str) -> Path | None:
        """The file of a key, or None for a malformed key or a missing file."""
        if not valid_key(key):
            return None
        path = self.root / key
        return path if path.is_file() else None

    def url_for(self, key: str) -> str:
        return f"{self.base_url}/media/{key}"

    def key_of(self, url: str | None) -> str | None:
        """The key of one of our own media URLs; None for anything else (remote, empty)."""
        prefix = f"{self.base_url}/media/"
        if not url or not url.startswith(prefix):
            return None
        key = url.removeprefix(prefix)
        return key if valid_key(key) else None

    async def delete(self, key: str) -> None:
        if valid_key(key):
            await asyncio.to_thread((self.root / key).unlink, True)
