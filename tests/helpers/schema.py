"""A migrated database for a test, copied from one migrated once per test process.

Applying every migration through yoyo costs about 0.3 s (the Python migrations fill their
indexes, and the first run compacts the file), and about 1,500 tests start from an empty,
current schema: 7 minutes of a 15-minute suite. The schema is the same for all of them, so
the migrations run once, into a template file, and each test gets a byte copy of it, which
takes about 2 ms. Tests of the migrations themselves still call `migrate` on their own files.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from pathlib import Path

from instance.config import Settings
from instance.db.migrate import migrate

_template: Path | None = None


def _checkpoint(path: Path) -> None:
    """Moves what the WAL still holds into the file, so that one file is the whole database."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _template_file() -> Path:
    # Tests run one at a time in a process, so the first caller builds it and no lock is needed.
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp(prefix="gapo-schema-")) / "gapo.db"
        await migrate(f"sqlite:///{path}", path)
        await asyncio.to_thread(_checkpoint, path)
        _template = path
    return _template


async def migrated(settings: Settings) -> None:
    """Gives `settings` a database at the current schema, as `gapo migrate` would leave it.

    A database that exists already (made by the CLI, or by an earlier app on the same data
    dir) is migrated for real: its rows are the test's. A PostgreSQL one
    (`tests/helpers/postgres.py`) was copied from a migrated template: migrating it again
    only checks.
    """
    if not settings.database_url.startswith("sqlite:///"):
        await migrate(settings.database_url)
        return
    target = settings.sqlite_path
    if target.exists():
        await migrate(settings.database_url, target)
        return
    template = await _template_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(shutil.copyfile, template, target)
