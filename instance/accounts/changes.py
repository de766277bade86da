"""A version of "what local accounts look like", shared by every process on the data dir.

Documents built from local accounts (actors, WebFinger answers) are cached in each process
(`instance/federation/document_cache.py`). A writer that changes such an account (a profile
save, a suspension, from a web worker, `gapo worker` or the CLI) calls `bump` after its
commit; a reader compares `version()` with the one its entries were built at.

The shared part is a file that only grows: each bump appends one byte with O_APPEND, which
the kernel makes atomic across processes, so its size is a counter no two writers can
lose an increment of (an mtime alone could not: two bumps in one clock tick look alike).
Reading it is one `stat`, about 1 µs and no thread hop, against the ~100 µs and two GIL
hand-offs of the SQLite read it saves. Past `ROTATE_BYTES` a writer replaces the file
with an empty one: a new inode, hence a new version too. An in-process counter is part of
the version as well, so this process sees its own writes even if the file cannot be written.

Staleness: none on one machine once the writer's commit has returned (the bump follows it
before the writer answers). Processes on other machines (a PostgreSQL deployment, later)
do not share the file; for them the caches' max age is the bound.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

# 64 kB of bumps (one per profile save or suspension) before the file starts again.
ROTATE_BYTES = 64 * 1024

Version = tuple[int, int, int, int]


class AccountChanges:
    """`bump()` after a committed change to a local account; `version()` to compare."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = 0
        self._warned = False

    @property
    def local_bumps(self) -> int:
        """Bumps made by this process (no system call: for callers that look often)."""
        return self._local

    def version(self) -> Version:
        """A value that differs after any bump in any process sharing `path`."""
        try:
            st = os.stat(self.path)
        except OSError:
            return (self._local, 0, 0, 0)
        return (self._local, st.st_ino, st.st_size, st.st_mtime_ns)

    def bump(self) -> None:
        """Mark a change: call once the transaction that made it has committed."""
        self._local += 1
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, b".")
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size >= ROTATE_BYTES:
                self._rotate()
        except OSError as exc:
            # Other processes then see the change only when their entries expire.
            if not self._warned:
                self._warned = True
                log.warning("account changes cannot be shared with other processes: %s", exc)

    def _rotate(self) -> None:
        fresh = self.path.with_name(f"{self.path.name}.{os.getpid()}.new")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        try:
            os.replace(fresh, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                fresh.unlink()
            raise


def changes_path(data_dir: Path) -> Path:
    """Where the shared counter lives: beside the job runners' wake-up sockets."""
    return data_dir / "run" / "account-changes"
