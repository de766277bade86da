"""`gapo media migrate --to s3`: every local media file copied into the bucket, same keys.

Idempotent and resumable: the bucket is listed first and a key already there with the same
size is skipped, so a second run (after a failure, or after the switch to catch files
written meanwhile) copies only what is missing. Every copied object's size is read back
from the store and compared with the local file's. Local files are left in place: the
admin removes `data/media` once the instance has run on the bucket for a while. Stored
files move (the keys rows name), and so do videos waiting for their transcode
(`media-incoming/`, to the bucket's `incoming/`); work files stay.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from instance.errors import GapoError
from instance.media.s3_storage import SOURCES, S3Storage
from instance.media.storage import valid_key, valid_source

# Uploads in flight at once: enough to hide the store's latency, few enough for a small VM.
CONCURRENCY = 4


@dataclass
class MigrationReport:
    found: int = 0
    copied: int = 0
    already: int = 0
    bytes_copied: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed


def local_files(root: Path, incoming: Path | None = None) -> list[tuple[str, Path, int]]:
    """(bucket key, local path, size) of every stored file and waiting source, in key order."""
    found: list[tuple[str, Path, int]] = []
    for folder, valid, prefix in ((root, valid_key, ""), (incoming, valid_source, SOURCES)):
        if folder is None:
            continue
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            if valid(entry.name) and entry.is_file(follow_symlinks=False):
                found.append((prefix + entry.name, Path(entry.path), entry.stat().st_size))
    return sorted(found)


async def migrate_to_s3(
    root: Path,
    target: S3Storage,
    progress: Callable[[str], None] | None = None,
    *,
    incoming: Path | None = None,
) -> MigrationReport:
    report = MigrationReport()
    files = await asyncio.to_thread(local_files, root, incoming)
    report.found = len(files)
    present = await target.sizes()
    todo = []
    for key, path, size in files:
        if present.get(key) == size:
            report.already += 1
        else:
            todo.append((key, path, size))
    pending = iter(todo)

    async def copier() -> None:
        # A few copiers share one iterator: a million files are never a million tasks.
        for key, path, size in pending:
            await copy(key, path, size)

    async def copy(key: str, path: Path, size: int) -> None:
        try:
            await target.put_file(key, path)
            stored = await target.size(key)
        except (GapoError, OSError) as exc:
            report.failed.append(key)
            if progress:
                progress(f"{key}: not copied ({exc})")
            return
        if stored != size:
            report.failed.append(key)
            if progress:
                progress(f"{key}: {stored} bytes in the bucket, {size} here")
            return
        report.copied += 1
        report.bytes_copied += size
        if progress and report.copied % 100 == 0:
            progress(f"{report.copied} of {len(todo)} copied")

    await asyncio.gather(*(copier() for _ in range(CONCURRENCY)))
    report.failed.sort()
    return report
