"""Closing the SQLite database leaves no connection behind: none for the garbage collector
(an aiosqlite connection finalised unclosed warns, a ResourceWarning, in whatever runs when
the collector gets to it) and none still queued for a reader after it is opened again."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from instance.db.sqlite import SqliteDatabase


def unclosed_connection_warnings() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    return [str(w.message) for w in caught if "was deleted before being closed" in str(w.message)]


async def test_a_database_closed_and_opened_again_reads(tmp_path: Path) -> None:
    """Reopened, the database reads through its new connections only (none of the closed
    ones is still queued for a reader)."""
    db = SqliteDatabase(tmp_path / "gapo.sqlite3", readers=2)
    await db.open()
    await db.execute("CREATE TABLE t (x INTEGER)")
    await db.close()
    await db.open()
    try:
        for _ in range(6):  # more reads than readers: every queued one is used
            assert await db.fetch_all("SELECT x FROM t") == []
    finally:
        await db.close()
    assert unclosed_connection_warnings() == []
